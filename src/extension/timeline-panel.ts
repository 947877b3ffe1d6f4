// The timeline in VS Code: a webview panel (or the read-only custom editor of a `.dat`) running
// the same bundle as the HTML report. The extension host only forwards the webview's requests to
// the language server, which answers from its level-of-detail index; it saves the files the
// webview exports (after the save dialog, which asks before replacing a file).

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { PREPARE_TIMELINE, RevealTarget, TIMELINE, TRACE_LINE } from '../protocol/lsp-ext';
import type { FromWebviewMessage, ToWebview, ToWebviewMessage } from '../protocol/webview';
import type { Ctx } from './ctx';

export const TIMELINE_VIEW = 'vcpuLens.timeline';
export const DAT_EDITOR = 'vcpuLens.datTrace';
/** "Open With… vCPU Lens Timeline" for text traces: the timeline alone, no text editor. */
export const TEXT_TRACE_EDITOR = 'vcpuLens.traceTimeline';

const baseName = (uri: vscode.Uri): string => uri.path.replace(/^.*\//, '');

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function nonce(): string {
  return randomBytes(18).toString('base64');
}

/** `.dat` traces as `trace-cmd report` text: read-only documents Reveal in Trace opens. */
export const DAT_TEXT_SCHEME = 'vcpu-lens-dat';

/** The read-only text of a `.dat`: `vcpu-lens-dat:/dir/host.dat.report?<the .dat's uri>`. */
export function datTextUri(dat: vscode.Uri): vscode.Uri {
  return vscode.Uri.from({
    scheme: DAT_TEXT_SCHEME,
    path: `${dat.path}.report`,
    query: dat.toString(),
  });
}

/** What a restored panel's state carries besides the view (transport.ts adds it). */
interface SavedState {
  traceUri?: string;
}

export class Timelines implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();
  /** Every attached webview (panels and custom editors), with the trace it shows. */
  private readonly views = new Map<vscode.WebviewPanel, vscode.Uri>();
  private readonly subs: vscode.Disposable[] = [];
  /** Views whose page asked for its first data (`ready`): they take `reveal` from then on. */
  private readonly ready = new WeakSet<vscode.WebviewPanel>();
  /** A reveal waiting for its view's page to be ready. */
  private readonly pending = new Map<vscode.WebviewPanel, ToWebview>();
  /** The webview bundle (dist/webview.js and .css), read once for every page. */
  private assets: { js: string; css: string } | undefined;

  constructor(private readonly ctx: Ctx) {
    const readonlyEditor = {
      openCustomDocument: (uri: vscode.Uri) => {
        // Before VS Code makes the view (a second, under load): the server starts on the pair.
        // bench-extension reads this line.
        this.ctx.log.info(`timeline of ${baseName(uri)}: its document opened, the pair asked for`);
        this.prepare(uri);
        return { uri, dispose: () => {} };
      },
      resolveCustomEditor: (doc: vscode.CustomDocument, panel: vscode.WebviewPanel) => {
        this.attach(panel, doc.uri);
      },
    } satisfies vscode.CustomReadonlyEditorProvider;
    this.subs.push(
      // A trace read again after it changed on disk (a view shows a pair, so any view may use
      // it), or another theme: the views start over.
      ctx.onDidChangeFile(() => {
        for (const [panel, uri] of this.views) this.reload(panel, uri);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('vcpuLens.timeline.theme'))
          for (const [panel, uri] of this.views) this.reload(panel, uri);
      }),
      vscode.window.registerCustomEditorProvider(TEXT_TRACE_EDITOR, readonlyEditor, {
        webviewOptions: { retainContextWhenHidden: false },
        supportsMultipleEditorsPerDocument: true,
      }),
      vscode.window.registerWebviewPanelSerializer(TIMELINE_VIEW, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const uri = (state as SavedState | undefined)?.traceUri;
          if (uri === undefined) {
            panel.dispose();
            return;
          }
          this.attach(panel, vscode.Uri.parse(uri));
        },
      }),
      vscode.window.registerCustomEditorProvider(DAT_EDITOR, readonlyEditor, {
        webviewOptions: { retainContextWhenHidden: false },
        supportsMultipleEditorsPerDocument: true,
      }),
    );
  }

  /** Opens (or reveals) the timeline of a trace and its pair. */
  open(uri: vscode.Uri): vscode.WebviewPanel {
    const key = uri.toString();
    const existing = this.panels.get(key);
    if (existing !== undefined) {
      existing.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      TIMELINE_VIEW,
      `Timeline: ${uri.path.replace(/^.*\//, '')}`,
      vscode.ViewColumn.Active,
      {},
    );
    this.attach(panel, uri);
    return panel;
  }

  /**
   * "Show in Timeline": the pair's timeline (a view of either of its traces, else a new panel on
   * `uri`), zoomed to the target's interval with it selected once its page is ready.
   */
  reveal(uri: vscode.Uri, target: RevealTarget): vscode.WebviewPanel {
    const mine = new Set([target.hostUri, target.guestUri, uri.toString()]);
    let panel: vscode.WebviewPanel | undefined;
    for (const [p, u] of this.views) if (mine.has(u.toString())) panel = p;
    if (panel !== undefined) panel.reveal();
    else panel = this.open(uri);
    const body: ToWebview = {
      kind: 'reveal',
      startNs: target.startNs,
      endNs: target.endNs,
      ...(target.lane !== undefined ? { lane: target.lane } : {}),
    };
    if (this.ready.has(panel))
      void panel.webview.postMessage({ id: 0, body } satisfies ToWebviewMessage);
    else this.pending.set(panel, body);
    return panel;
  }

  private attach(panel: vscode.WebviewPanel, uri: vscode.Uri): void {
    this.ctx.log.info(`timeline of ${baseName(uri)}: view opened, its page loading`);
    this.prepare(uri);
    panel.webview.options = { enableScripts: true, localResourceRoots: [] };
    panel.iconPath = vscode.Uri.joinPath(this.ctx.ext.extensionUri, 'media', 'trace.svg');
    panel.webview.html = this.html(uri);
    const key = uri.toString();
    if (panel.viewType.endsWith(TIMELINE_VIEW)) this.panels.set(key, panel);
    this.views.set(panel, uri);
    const sub = panel.webview.onDidReceiveMessage(
      (m: FromWebviewMessage) => void this.handle(panel, uri, m),
    );
    // The status bar follows the active timeline as it follows the active trace editor.
    const viewState = panel.onDidChangeViewState((e) =>
      this.ctx.setActiveTimeline(e.webviewPanel.active ? uri : undefined),
    );
    if (panel.active) this.ctx.setActiveTimeline(uri);
    panel.onDidDispose(() => {
      viewState.dispose();
      this.ctx.timelineClosed(uri);
      sub.dispose();
      this.pending.delete(panel);
      this.views.delete(panel);
      if (this.panels.get(key) === panel) this.panels.delete(key);
    });
  }

  /**
   * The server reads and indexes the pair while the view and its page load (the page's `ready`
   * then finds it done or under way; asked twice, the work is still done once).
   */
  private prepare(uri: vscode.Uri): void {
    void this.ctx.tell(PREPARE_TIMELINE, { uri: uri.toString() });
  }

  /** Loads a view's page again (its state, as VS Code keeps it, restores the span). */
  private reload(panel: vscode.WebviewPanel, uri: vscode.Uri): void {
    this.ready.delete(panel);
    panel.webview.html = this.html(uri);
  }

  private async handle(
    panel: vscode.WebviewPanel,
    uri: vscode.Uri,
    m: FromWebviewMessage,
  ): Promise<void> {
    if (
      m === null ||
      typeof m !== 'object' ||
      typeof m.id !== 'number' ||
      typeof m.body !== 'object'
    )
      return;
    if (m.body.kind === 'revealInTrace') {
      await this.revealInTrace(uri, m.body);
      return;
    }
    let body: ToWebview;
    const asked = Date.now();
    // The first paint's steps, in the log (bench-extension reads them): the page loaded, its data
    // from the server, its data at the page.
    if (m.body.kind === 'ready')
      this.ctx.log.info(`timeline of ${baseName(uri)}: its page is loaded and asks for its data`);
    if (m.body.kind === 'saveFile') body = await this.save(uri, m.body.name, m.body.base64);
    else {
      try {
        body = (await this.ctx.request(TIMELINE, {
          uri: uri.toString(),
          body: m.body,
        })) ?? {
          kind: 'error',
          message: 'the vCPU Lens language server is not running',
        };
      } catch (e) {
        body = { kind: 'error', message: (e as Error).message };
      }
    }
    const reply: ToWebviewMessage = { id: 0, inReplyTo: m.id, body };
    if (m.body.kind === 'ready')
      this.ctx.log.info(
        `timeline of ${baseName(uri)}: the server answered its data request in ${Date.now() - asked} ms`,
      );
    await panel.webview.postMessage(reply);
    if (m.body.kind === 'ready') {
      this.ctx.log.info(
        `timeline of ${baseName(uri)}: its data sent to the page ${Date.now() - asked} ms after it asked`,
      );
      // Its page has its data: a reveal that waited for it goes now.
      this.ready.add(panel);
      const waiting = this.pending.get(panel);
      this.pending.delete(panel);
      if (waiting !== undefined) void panel.webview.postMessage({ id: 0, body: waiting });
    }
  }

  /** Details' "Reveal in Trace": the host or guest trace at the line of that event, cursor on it. */
  private async revealInTrace(
    uri: vscode.Uri,
    m: { lane: string; startNs: number; endNs: number },
  ): Promise<void> {
    const r = await this.ctx.request(TRACE_LINE, { uri: uri.toString(), ...m });
    if (r === undefined) return;
    if (!r.ok) {
      void this.ctx.notify('warning', `vCPU Lens: cannot reveal this in the trace: ${r.message}`);
      return;
    }
    const trace = vscode.Uri.parse(r.uri);
    const doc = await vscode.workspace.openTextDocument(r.dat ? datTextUri(trace) : trace);
    const at = new vscode.Position(r.line, 0);
    await vscode.window.showTextDocument(doc, {
      viewColumn: vscode.ViewColumn.Beside,
      selection: new vscode.Range(at, at),
      preview: true,
    });
    this.ctx.log.info(`revealed ${m.lane} at line ${r.line + 1} of ${baseName(trace)}`);
  }

  /** An export from the webview (PNG, SVG, Perfetto JSON): where the user says, never silently over a file. */
  private async save(trace: vscode.Uri, name: string, base64: string): Promise<ToWebview> {
    const safe = name.replace(/[^\w.+-]/g, '_').slice(0, 100) || 'timeline';
    const target = await vscode.window.showSaveDialog({
      title: 'vCPU Lens: save the export',
      defaultUri: vscode.Uri.joinPath(trace, '..', safe),
    });
    if (target === undefined) return { kind: 'error', message: 'not saved' };
    await vscode.workspace.fs.writeFile(target, Buffer.from(base64, 'base64'));
    this.ctx.log.info(`saved ${target.fsPath}`);
    return { kind: 'error', message: `saved ${target.fsPath}` };
  }

  /**
   * The page with the webview bundle inlined (the build checks that nothing in it ends its
   * element): its load never waits on resource requests, which go through the webview's service
   * worker and the workbench (0.1-0.6 s after a window reload, measured under code-server). It
   * loads nothing else (no local resource roots).
   */
  private html(trace: vscode.Uri): string {
    const n = nonce();
    let assets: { js: string; css: string };
    try {
      assets = this.assets ??= {
        js: readFileSync(path.join(this.ctx.ext.extensionPath, 'dist', 'webview.js'), 'utf8'),
        css: readFileSync(path.join(this.ctx.ext.extensionPath, 'dist', 'webview.css'), 'utf8'),
      };
    } catch (e) {
      const why = escapeHtml((e as Error).message);
      return `<!DOCTYPE html><html lang="en"><body><p>vCPU Lens: the timeline's page cannot load: ${why} (reinstall the extension).</p></body></html>`;
    }
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${n}'`,
      `style-src 'nonce-${n}'`,
      'img-src data: blob:',
    ].join('; ');
    const theme = vscode.workspace
      .getConfiguration('vcpuLens')
      .get<string>('timeline.theme', 'auto');
    const themeAttr = theme === 'light' || theme === 'dark' ? ` data-vl-theme="${theme}"` : '';
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${n}">${assets.css}</style>
<title>vCPU Lens timeline</title>
</head>
<body data-trace-uri="${escapeHtml(trace.toString())}"${themeAttr}>
<div id="vl-root"></div>
<script nonce="${n}">${assets.js}</script>
</body>
</html>`;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    for (const p of this.panels.values()) p.dispose();
  }
}
