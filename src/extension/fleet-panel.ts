// "Analyze Folder of Traces…": one webview with the runs of a folder's host + guest pairs as a
// sortable table (webview/fleet/). The language server finds and analyses the pairs, with
// progress the user can cancel; a row's click pairs its two files and opens their timeline.

import * as vscode from 'vscode';
import { createToolPage } from './tool-page';
import type { FleetFromWebview, FleetRow, FleetToWebview } from '../core/view/fleet-table';
import { ANALYZE_FOLDER, SET_PAIR } from '../protocol/lsp-ext';
import type { Ctx } from './ctx';
import type { Timelines } from './timeline-panel';

export const FLEET_VIEW = 'vcpuLens.fleet';

export class FleetPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private folders: string[] = [];
  private rows: FleetRow[] = [];
  private cancelled = false;
  /** The analysis in progress (a new one cancels it). */
  private running: vscode.CancellationTokenSource | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly timelines: Timelines,
  ) {}

  /** Shows the panel and analyses the folders' pairs; the rows once shown, else undefined. */
  async show(folders: string[]): Promise<FleetRow[] | undefined> {
    this.folders = folders;
    this.ensurePanel().reveal(undefined, false);
    return this.run();
  }

  private ensurePanel(): vscode.WebviewPanel {
    if (this.panel !== undefined) return this.panel;
    const panel: vscode.WebviewPanel = createToolPage<FleetFromWebview>(this.ctx.ext.extensionUri, {
      viewType: FLEET_VIEW,
      title: 'vCPU Lens Runs',
      pageTitle: 'vCPU Lens runs',
      script: 'fleet.js',
      rootId: 'vl-fleet',
      onMessage: (m) => void this.handle(m),
      onDispose: () => {
        this.running?.cancel();
        if (this.panel === panel) this.panel = undefined;
      },
    });
    this.panel = panel;
    return panel;
  }

  private post(m: FleetToWebview): void {
    void this.panel?.webview.postMessage(m);
  }

  private async handle(m: FleetFromWebview): Promise<void> {
    if (m === null || typeof m !== 'object') return;
    switch (m.kind) {
      case 'ready':
        // A (re)loaded page gets what it showed, or that the analysis is under way.
        if (this.running !== undefined)
          this.post({ kind: 'busy', text: `analysing the pairs in ${this.folders.join(', ')}…` });
        else if (this.rows.length > 0 || this.cancelled)
          this.post({
            kind: 'rows',
            folders: this.folders,
            rows: this.rows,
            cancelled: this.cancelled,
          });
        return;
      case 'rerun':
        await this.run();
        return;
      case 'open':
        await this.openRun(m.hostFile, m.guestFile);
        return;
    }
  }

  private async run(): Promise<FleetRow[] | undefined> {
    this.running?.cancel();
    const cts = new vscode.CancellationTokenSource();
    this.running = cts;
    const token = cts.token;
    this.post({ kind: 'busy', text: `analysing the pairs in ${this.folders.join(', ')}…` });
    // The server's own work-done progress (with Cancel) shows how far it is.
    let r;
    try {
      r = await this.ctx.request(ANALYZE_FOLDER, { folders: this.folders }, token);
    } catch (e) {
      // Cancelled by a newer run or the panel's closing (the client rejects), or the server failed.
      if (token.isCancellationRequested) return undefined;
      this.post({ kind: 'error', message: (e as Error).message });
      return undefined;
    } finally {
      if (this.running === cts) this.running = undefined;
      cts.dispose();
    }
    // A newer run owns the page now.
    if (token.isCancellationRequested) return undefined;
    if (r === undefined) {
      this.post({ kind: 'error', message: 'the vCPU Lens language server is not running' });
      return undefined;
    }
    if (!r.ok) {
      this.post({ kind: 'error', message: r.message });
      return undefined;
    }
    this.rows = r.rows;
    this.cancelled = r.cancelled;
    const failed = r.rows.filter((x) => !x.ok).length;
    this.ctx.log.info(
      `analysed ${r.rows.length - failed} pairs (${failed} failed${r.cancelled ? ', then cancelled' : ''}) in ${this.folders.join(', ')}`,
    );
    this.post({ kind: 'rows', folders: this.folders, rows: r.rows, cancelled: r.cancelled });
    return r.rows;
  }

  /** A row's timeline: its two files paired, the timeline opened on the host trace. */
  async openRun(hostFile: string, guestFile: string): Promise<vscode.Uri | undefined> {
    // Only the pairs this panel listed (the page is not trusted to name files).
    if (!this.rows.some((r) => r.hostFile === hostFile && r.guestFile === guestFile))
      return undefined;
    const host = vscode.Uri.file(hostFile);
    const guest = vscode.Uri.file(guestFile);
    await this.ctx.rememberPair(host.toString(), guest.toString());
    await this.ctx.request(SET_PAIR, { uri: host.toString(), pairUri: guest.toString() });
    this.timelines.open(host);
    return host;
  }

  dispose(): void {
    this.running?.cancel();
    this.panel?.dispose();
  }
}
