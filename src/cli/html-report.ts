// Writes the standalone HTML report (core/report/html.ts) and the Perfetto JSON for the CLI: finds
// the built webview bundle, makes the nonce, says where and how big on stderr.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromeTrace } from '../core/view/chrome-trace';
import { renderHtmlReport } from '../core/report/html';
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

/** The report for `model` with a fresh nonce (one per file). */
export function htmlReport(model: TimelineModel, assets = webviewAssets()): string {
  return renderHtmlReport(model, assets, randomBytes(18).toString('base64'));
}

/**
 * Writes the HTML report and/or the Chrome trace-event JSON, saying where and how big on stderr.
 * Returns an exit code when something could not be written.
 */
export function writeReportFiles(
  model: TimelineModel,
  html: string | undefined,
  trace: string | undefined,
  /** Overwrite files that exist; otherwise such a file is refused (never half-written). */
  force = false,
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
  // `<` escaped: the JSON stays inert wherever it is pasted or embedded (an HTML page).
  if (trace !== undefined)
    jobs.push([trace, () => JSON.stringify(chromeTrace(model)).replace(/</g, '\\u003c')]);
  for (const [file, make] of jobs) {
    const text = make();
    try {
      // 'wx': created here, or refused if it exists (no check-then-write race).
      writeFileSync(file, text, { flag: force ? 'w' : 'wx' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      log(
        code === 'EEXIST'
          ? `vcpu-lens: ${safeText(file)} exists; give --force to overwrite`
          : `vcpu-lens: cannot write ${safeText(file)}: ${(e as Error).message}`,
      );
      return ExitCode.usage;
    }
    const bytes = Buffer.byteLength(text);
    log(`wrote ${safeText(path.resolve(file))} (${(bytes / 1e6).toFixed(2)} MB)`);
  }
  return undefined;
}
