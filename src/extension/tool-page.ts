// A vCPU Lens tool page (the simulator dashboard, the runs table): one webview panel whose page is
// a single script bundle from dist/, under a strict CSP with a nonce, restricted to dist/. The
// panels own what the page shows; this owns how it is made.

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export interface ToolPageSpec<FromPage> {
  viewType: string;
  /** The tab's title and the page's <title>. */
  title: string;
  pageTitle: string;
  /** The bundle in dist/ (e.g. 'fleet.js') and the id of the element it renders into. */
  script: string;
  rootId: string;
  /** Extra CSP sources for images (the dashboard draws data: PNGs). */
  images?: boolean;
  onMessage(m: FromPage): void;
  onDispose(): void;
}

/** Creates the panel in the active column, its page loaded. */
export function createToolPage<FromPage>(
  extensionUri: vscode.Uri,
  spec: ToolPageSpec<FromPage>,
): vscode.WebviewPanel {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist');
  const panel = vscode.window.createWebviewPanel(
    spec.viewType,
    spec.title,
    vscode.ViewColumn.Active,
    {
      enableScripts: true,
      localResourceRoots: [dist],
      retainContextWhenHidden: true,
    },
  );
  panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'trace.svg');
  panel.webview.html = toolPageHtml(panel.webview, dist, spec);
  const sub = panel.webview.onDidReceiveMessage((m: FromPage) => spec.onMessage(m));
  panel.onDidDispose(() => {
    sub.dispose();
    spec.onDispose();
  });
  return panel;
}

function toolPageHtml(
  webview: vscode.Webview,
  dist: vscode.Uri,
  spec: Pick<ToolPageSpec<unknown>, 'pageTitle' | 'script' | 'rootId' | 'images'>,
): string {
  const n = randomBytes(18).toString('base64');
  const js = webview.asWebviewUri(vscode.Uri.joinPath(dist, spec.script));
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${n}'`,
    `style-src 'nonce-${n}'`,
    ...(spec.images === true ? [`img-src ${webview.cspSource} data:`] : []),
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${spec.pageTitle}</title>
</head>
<body>
<main id="${spec.rootId}"></main>
<script nonce="${n}" src="${js.toString().replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"></script>
</body>
</html>`;
}
