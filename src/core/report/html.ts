// The standalone HTML report as text: the timeline webview's bundle and CSS inlined under a
// strict CSP (a per-file nonce, no network), and the timeline model embedded as JSON in a
// non-executable script block with every `<` escaped. Pure: the caller supplies the bundle and a
// fresh random nonce (the CLI and the language server).

import { encodeModel } from '../view/codec';
import type { TimelineModel } from '../view/model';

/** Text safe inside a <script> element: no `</script`, no `<!--` can end or confuse it. */
function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

export function renderHtmlReport(
  model: TimelineModel,
  assets: { js: string; css: string },
  nonce: string,
): string {
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
