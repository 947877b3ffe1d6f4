// Test-only extension for bench-extension: its command opens a blank webview panel made as the
// timeline's is (scripts on, resources limited to one folder, a strict CSP with a nonce) whose
// page does nothing but mark its first frame, so the bench can show VS Code's own webview load
// (frame start -> document -> first paint) beside ours, in the same window. Never shipped.

/* global require, exports -- CommonJS, as VS Code loads an extension's main. */
/* eslint-disable @typescript-eslint/no-require-imports */
const vscode = require('vscode');
const { randomBytes } = require('node:crypto');

exports.activate = (ext) => {
  let opened = 0;
  ext.subscriptions.push(
    vscode.commands.registerCommand('vcpuLensBench.blankWebview', () => {
      // Which open this is (the bench finds its frame by it) and when its HTML was set.
      const n = ++opened;
      const panel = vscode.window.createWebviewPanel(
        'vcpuLensBench.blank',
        `Blank webview ${n}`,
        vscode.ViewColumn.Active,
        { enableScripts: true, localResourceRoots: [ext.extensionUri] },
      );
      const nonce = randomBytes(18).toString('base64');
      const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${panel.webview.cspSource}`;
      // The first frame as the timeline's page times it (webview/app.ts): in the
      // requestAnimationFrame callback that drew it, on the page's clock.
      panel.webview.html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<title>Blank webview</title>
</head>
<body data-open="${n}" data-created-at="${Date.now()}">
<div id="blank"></div>
<script nonce="${nonce}">
requestAnimationFrame(() => {
  document.getElementById('blank').textContent = 'blank webview';
  document.body.dataset.paintedAt = String(performance.timeOrigin + performance.now());
});
</script>
</body>
</html>`;
    }),
  );
};

exports.deactivate = () => {};
