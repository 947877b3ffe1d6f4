// The standalone HTML report: one self-contained file with the timeline webview's bundle and CSS
// inlined under a strict CSP (a per-file nonce, no network), and the timeline model embedded as
// JSON in a non-executable script block with every `<` escaped.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromeTrace } from '../core/export/chrome-trace';
import { encodeModel } from '../core/view/codec';
import type { TimelineModel } from '../core/view/model';
import { ExitCode } from './exit-codes';
import { log, safeText } from './terminal';

/** The built webview bundle next to this file (dist/), or from the source tree after a build. */
export function webviewAssets(): { js: string; css: string } {
  const dirs = [__dirname, path.join(__dirname, '..', '..', 'dist')];
  for (const d of dirs) {
    const js = path.join(d, 'webview.js');
    const css = path.join(d, 'webview.css');
    if (existsSync(js) && existsSync(css))
      return { js: readFileSync(js, 'utf8'), css: readFileSync(css, 'utf8') };
  }
  throw new Error(
    'the timeline webview bundle (dist/webview.js, dist/webview.css) is missing: run `npm run build`',
  );
}

/** Text safe inside a <script> element: no `</script`, no `<!--` can end or confuse it. */
function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

export function htmlReport(model: TimelineModel, assets = webviewAssets()): string {
  const nonce = randomBytes(18).toString('base64');
  const data = JSON.stringify(encodeModel(model)).replace(/</g, '\\u003c');
  const title = model.meta.title.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    'img-src data: blob:',
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vCPU Lens: ${title}</title>
<style nonce="${nonce}">${assets.css.replace(/<\/(style)/gi, '<\\/$1')}</style>
</head>
<body class="vl-standalone">
<div id="vl-root"></div>
<script type="application/json" id="vcpu-lens-model">${data}</script>
<script nonce="${nonce}">${scriptSafe(assets.js)}</script>
</body>
</html>
`;
}

/**
 * Writes the HTML report and/or the Chrome trace-event JSON, saying where and how big on stderr.
 * Returns an exit code when something could not be written.
 */
export function writeReportFiles(
  model: TimelineModel,
  html: string | undefined,
  trace: string | undefined,
): ExitCode | undefined {
  const jobs: [string, () => string][] = [];
  if (html !== undefined) {
    let assets: { js: string; css: string };
    try {
      assets = webviewAssets();
    } catch (e) {
      log(`vcpu-lens: ${(e as Error).message}`);
      return ExitCode.internal;
    }
    jobs.push([html, () => htmlReport(model, assets)]);
  }
  if (trace !== undefined) jobs.push([trace, () => JSON.stringify(chromeTrace(model))]);
  for (const [file, make] of jobs) {
    const text = make();
    try {
      writeFileSync(file, text);
    } catch (e) {
      log(`vcpu-lens: cannot write ${safeText(file)}: ${(e as Error).message}`);
      return ExitCode.usage;
    }
    const bytes = Buffer.byteLength(text);
    log(`wrote ${safeText(path.resolve(file))} (${(bytes / 1e6).toFixed(2)} MB)`);
  }
  return undefined;
}
