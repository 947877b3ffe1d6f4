// The simulator dashboard: one webview in the active editor group with the form, the talk's five
// runs as a bar chart, the sweep as a line chart and the advice (webview/dashboard/). The language
// server simulates; the run the user picks becomes two read-only `vcpu-lens-sim:` documents
// (sim-files.ts), paired, and its timeline opens as a tab in the same group.

import * as vscode from 'vscode';
import { createToolPage } from './tool-page';
import type {
  DashboardFromWebview,
  DashboardToWebview,
  SimDashboardData,
  SimDashboardForm,
} from '../core/report/sim-dashboard';
import { ANALYZE, SET_PAIR, SIM_DASHBOARD, SIM_RUN_TRACES } from '../protocol/lsp-ext';
import type { Ctx } from './ctx';
import { SIM_SCHEME, SimulatedTraces, simTraceUri } from './sim-files';
import type { Timelines } from './timeline-panel';

export const SIM_DASHBOARD_VIEW = 'vcpuLens.simDashboard';

const DEFAULT_FORM: SimDashboardForm = {
  preset: 'small',
  policies: ['spin', 'block'],
  dop: 'fixed',
  seed: 1,
  sweep: '',
};

/** What a run is called in its documents and tabs: "small spin-preempted", "small spin, DoP pvsched". */
function runName(form: SimDashboardForm, data: SimDashboardData | undefined, run: string): string {
  const label = data?.own?.find((r) => r.id === run)?.label ?? run;
  return `${form.preset} ${label}${form.seed !== 1 ? ` seed ${form.seed}` : ''}`;
}

export class SimDashboard implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private form: SimDashboardForm = DEFAULT_FORM;
  private data: SimDashboardData | undefined;
  /** The run in progress (a new one cancels it). */
  private running: vscode.CancellationTokenSource | undefined;
  private readonly traces = new SimulatedTraces();
  private readonly subs: vscode.Disposable[];

  constructor(
    private readonly ctx: Ctx,
    private readonly timelines: Timelines,
  ) {
    this.subs = [
      vscode.workspace.registerFileSystemProvider(SIM_SCHEME, this.traces, {
        isReadonly: true,
        isCaseSensitive: true,
      }),
    ];
  }

  /**
   * Opens (or reveals) the dashboard and simulates `form` (the last one, or the defaults). True
   * once the results are shown.
   */
  async show(form?: SimDashboardForm): Promise<boolean> {
    if (form !== undefined) this.form = form;
    const panel = this.ensurePanel();
    panel.reveal(undefined, false);
    return this.run(this.form);
  }

  private ensurePanel(): vscode.WebviewPanel {
    if (this.panel !== undefined) return this.panel;
    const panel: vscode.WebviewPanel = createToolPage<DashboardFromWebview>(
      this.ctx.ext.extensionUri,
      {
        viewType: SIM_DASHBOARD_VIEW,
        title: 'vCPU Lens Simulator',
        pageTitle: 'vCPU Lens simulator',
        script: 'sim-dashboard.js',
        rootId: 'vl-dashboard',
        images: true,
        onMessage: (m) => void this.handle(m),
        onDispose: () => {
          this.running?.cancel();
          if (this.panel === panel) this.panel = undefined;
        },
      },
    );
    this.panel = panel;
    return panel;
  }

  private post(m: DashboardToWebview): void {
    void this.panel?.webview.postMessage(m);
  }

  private async handle(m: DashboardFromWebview): Promise<void> {
    if (m === null || typeof m !== 'object') return;
    switch (m.kind) {
      case 'ready':
        // A (re)loaded page gets the form and what it showed.
        this.post({ kind: 'init', form: this.form });
        if (this.data !== undefined) this.post({ kind: 'result', data: this.data });
        return;
      case 'run':
        await this.run(m.form);
        return;
      case 'open':
        if (typeof m.run === 'string') await this.openRun(m.run);
        return;
    }
  }

  /** Simulates the form in the server; the results go to the page. True when shown. */
  async run(form: SimDashboardForm): Promise<boolean> {
    this.form = form;
    this.running?.cancel();
    const cts = new vscode.CancellationTokenSource();
    this.running = cts;
    this.post({ kind: 'init', form });
    this.post({ kind: 'busy', text: `simulating ${form.preset}…` });
    const r = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `vCPU Lens: simulating ${form.preset}`,
        cancellable: true,
      },
      (_, token) => {
        token.onCancellationRequested(() => cts.cancel());
        return this.ctx.request(SIM_DASHBOARD, form, cts.token);
      },
    );
    if (this.running === cts) this.running = undefined;
    cts.dispose();
    if (r === undefined) {
      this.post({ kind: 'error', message: 'the vCPU Lens language server is not running' });
      return false;
    }
    if (!r.ok) {
      this.post({ kind: 'error', message: r.cancelled === true ? 'cancelled' : r.message });
      return false;
    }
    this.data = r.data;
    this.ctx.log.info(
      `simulated ${form.preset}: ${r.data.runs.map((x) => `${x.name} ${x.wallS.toFixed(3)} s`).join(', ')}`,
    );
    this.post({ kind: 'result', data: r.data });
    return true;
  }

  /**
   * The timeline of one run: its traces from the server as `vcpu-lens-sim:` documents, paired,
   * the timeline in this group, and the run's advice on the dashboard. Resolves with the host URI.
   */
  async openRun(run: string): Promise<vscode.Uri | undefined> {
    const form = this.form;
    const name = runName(form, this.data, run);
    const r = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `vCPU Lens: simulating ${name}`,
        cancellable: true,
      },
      (_, token) => this.ctx.request(SIM_RUN_TRACES, { form, run }, token),
    );
    if (r === undefined) return undefined;
    if (!r.ok) {
      if (r.cancelled !== true) this.post({ kind: 'error', message: r.message });
      return undefined;
    }
    const host = simTraceUri(name, 'host');
    const guest = simTraceUri(name, 'guest');
    this.traces.set(host, r.host);
    this.traces.set(guest, r.guest);
    // The server analyses open documents: both open (in the background), then paired.
    for (const uri of [host, guest]) {
      const doc = await vscode.workspace.openTextDocument(uri);
      if (doc.languageId !== 'trace-cmd-report')
        await vscode.languages.setTextDocumentLanguage(doc, 'trace-cmd-report');
    }
    await this.ctx.request(SET_PAIR, { uri: host.toString(), pairUri: guest.toString() });
    this.timelines.open(host);
    const a = await this.ctx.request(ANALYZE, { uri: host.toString() });
    if (a?.ok === true) this.post({ kind: 'advice', run: name, advice: a.report.advice });
    else if (a !== undefined) this.post({ kind: 'error', message: a.message });
    return host;
  }

  /** Opens the timeline of the form's run with `policy` (scripts and tests). */
  async openOwnRun(policy: string): Promise<vscode.Uri | undefined> {
    const own = this.data?.own?.find((r) => r.label.startsWith(`${policy},`));
    return own === undefined ? undefined : this.openRun(own.id);
  }

  dispose(): void {
    this.running?.cancel();
    this.panel?.dispose();
    for (const s of this.subs) s.dispose();
  }
}
