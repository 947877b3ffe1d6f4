// The commands (category "vCPU Lens"): Simulate… (the dashboard, sim-dashboard.ts), Pair Host and Guest Traces…, Analyze, Show
// Advice, Restart Server. Heavy work is a request to the language server; the extension host
// only asks, shows progress and opens the results.

import * as vscode from 'vscode';
import { ANALYZE, AnalyzeResult, EXPORT, SET_PAIR, SimulateParams } from '../protocol/lsp-ext';
import { Ctx, TRACE_LANGUAGES } from './ctx';
import { SimDashboard } from './sim-dashboard';
import type { Timelines } from './timeline-panel';

/** Analysis texts shown as read-only documents (`vcpu-lens-report:/host.txt analysis.md`). */
export const REPORT_SCHEME = 'vcpu-lens-report';

export class ReportDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  async show(name: string, text: string): Promise<void> {
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${name}.md` });
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    await vscode.window.showTextDocument(doc, {
      preview: true,
      viewColumn: vscode.ViewColumn.Beside,
    });
  }
}

/**
 * A URI from a command argument: a Uri, its string form, or a Uri-shaped object (arguments from
 * another extension host context, e.g. a test runner, need not be instances of our Uri class).
 */
export function asUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && /^[a-z][\w+.-]*:/i.test(arg)) return vscode.Uri.parse(arg);
  const u = arg as Partial<Record<'scheme' | 'authority' | 'path' | 'query' | 'fragment', unknown>>;
  if (
    typeof u === 'object' &&
    u !== null &&
    typeof u.scheme === 'string' &&
    typeof u.path === 'string'
  )
    return vscode.Uri.from({
      scheme: u.scheme,
      path: u.path,
      ...(typeof u.authority === 'string' ? { authority: u.authority } : {}),
      ...(typeof u.query === 'string' ? { query: u.query } : {}),
      ...(typeof u.fragment === 'string' ? { fragment: u.fragment } : {}),
    });
  return undefined;
}

/** A trace document's URI: the argument (CodeLens, explorer) or the active editor. */
function traceUri(arg: unknown): vscode.Uri | undefined {
  const given = asUri(arg);
  if (given !== undefined) return given;
  const ed = vscode.window.activeTextEditor;
  if (ed !== undefined && (TRACE_LANGUAGES as readonly string[]).includes(ed.document.languageId))
    return ed.document.uri;
  return undefined;
}

/**
 * The file of the active tab: a `.dat` custom editor, or a text tab whose editor is still loading
 * (a big trace, read by the server from disk already) and so is no active text editor yet.
 */
function activeTabUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText
    ? input.uri
    : undefined;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  return vscode.workspace.fs.stat(uri).then(
    () => true,
    () => false,
  );
}

async function ensureOpen(uri: vscode.Uri): Promise<void> {
  // The server analyses open documents; opening one in the background is enough.
  if (!vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString()))
    await vscode.workspace.openTextDocument(uri);
}

export function registerCommands(
  ctx: Ctx,
  reports: ReportDocuments,
  timelines: Timelines,
): vscode.Disposable[] {
  let dashboard: SimDashboard | undefined;
  const analyze = async (arg: unknown, adviceOnly: boolean): Promise<void> => {
    const uri = traceUri(arg);
    if (uri === undefined) {
      void vscode.window.showInformationMessage(
        'Open a host or guest trace first (trace-cmd report, ftrace or perf script text).',
      );
      return;
    }
    // A big trace is analysed from its file, without loading its text into an editor.
    const size = await vscode.workspace.fs.stat(uri).then(
      (s) => s.size,
      () => 0,
    );
    if (uri.scheme !== 'file' || size < ctx.largeFileBytes()) await ensureOpen(uri);
    const r = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'vCPU Lens: analysing' },
      () => ctx.request(ANALYZE, { uri: uri.toString() }),
    );
    if (r === undefined) return;
    if (!r.ok) {
      // Not awaited: a command that called this one (Simulate) goes on.
      void ctx.notify('warning', `vCPU Lens: ${r.message}`, 'Pair Traces…').then((pick) => {
        if (pick !== undefined) void vscode.commands.executeCommand('vcpuLens.pairTraces', uri);
      });
      return;
    }
    await reports.show(
      `${uri.path.replace(/^.*\//, '')} ${adviceOnly ? 'advice' : 'analysis'}`,
      renderReport(r, adviceOnly),
    );
  };

  /** A trace from the argument, the active editor or the active .dat editor; else a file picker. */
  const pickTrace = async (arg: unknown): Promise<vscode.Uri | undefined> => {
    const uri = traceUri(arg) ?? activeTabUri();
    if (uri !== undefined) return uri;
    const picked = await vscode.window.showOpenDialog({
      title: 'vCPU Lens: a host or guest trace',
      canSelectMany: false,
    });
    return picked?.[0];
  };
  // `to`: scripts and tests give the target; people get the save dialog (which asks before replacing).
  const exportAs = async (
    arg: unknown,
    kind: 'html' | 'chrome-trace',
    to?: unknown,
  ): Promise<void> => {
    const uri = await pickTrace(arg);
    if (uri === undefined) return;
    const base = uri.path.replace(/^.*\//, '').replace(/\.(txt|dat|gz|report|ftrace)$/g, '');
    const target =
      asUri(to) ??
      (await vscode.window.showSaveDialog({
        title:
          kind === 'html'
            ? 'vCPU Lens: save the HTML report'
            : 'vCPU Lens: save the Perfetto (Chrome trace) JSON',
        defaultUri: vscode.Uri.joinPath(
          uri,
          '..',
          `${base}.${kind === 'html' ? 'report.html' : 'perfetto.json'}`,
        ),
        filters: kind === 'html' ? { 'HTML report': ['html'] } : { 'Chrome trace JSON': ['json'] },
      }));
    if (target === undefined) return;
    // The save dialog asked before replacing a file; a target given by a script is asked here.
    let overwrite = asUri(to) === undefined;
    if (!overwrite && (await exists(target))) {
      const pick = await vscode.window.showWarningMessage(
        `${target.fsPath} exists. Replace it?`,
        { modal: true },
        'Replace',
      );
      if (pick !== 'Replace') return;
      overwrite = true;
    }
    const r = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'vCPU Lens: exporting' },
      () =>
        ctx.request(EXPORT, {
          uri: uri.toString(),
          kind,
          path: target.fsPath,
          overwrite,
        }),
    );
    if (r === undefined) return;
    if (!r.ok) {
      void ctx.notify('error', `vCPU Lens: ${r.message}`);
      return;
    }
    ctx.log.info(`wrote ${r.path} (${(r.bytes / 1e6).toFixed(2)} MB)`);
    void vscode.window.showInformationMessage(`vCPU Lens: wrote ${r.path}`);
  };

  return [
    vscode.commands.registerCommand('vcpuLens.openTimeline', async (arg: unknown) => {
      const uri = await pickTrace(arg);
      if (uri !== undefined) timelines.open(uri);
    }),
    vscode.commands.registerCommand('vcpuLens.exportHtmlReport', (arg: unknown, to?: unknown) =>
      exportAs(arg, 'html', to),
    ),
    vscode.commands.registerCommand('vcpuLens.exportPerfetto', (arg: unknown, to?: unknown) =>
      exportAs(arg, 'chrome-trace', to),
    ),
    vscode.commands.registerCommand('vcpuLens.analyze', (arg: unknown) => analyze(arg, false)),
    vscode.commands.registerCommand('vcpuLens.showAdvice', (arg: unknown) => analyze(arg, true)),
    vscode.commands.registerCommand('vcpuLens.restartServer', () => ctx.restart()),
    vscode.commands.registerCommand('vcpuLens.pairTraces', async (arg: unknown) => {
      const uri = traceUri(arg);
      if (uri === undefined) {
        void vscode.window.showInformationMessage('Open the host or the guest trace first.');
        return;
      }
      const picked = await vscode.window.showOpenDialog({
        title: 'vCPU Lens: the other machine’s trace (host ↔ guest)',
        defaultUri: vscode.Uri.joinPath(uri, '..'),
        canSelectMany: false,
        openLabel: 'Pair',
      });
      const other = picked?.[0];
      if (other === undefined) return;
      if (other.toString() === uri.toString()) {
        void vscode.window.showWarningMessage('A trace cannot be paired with itself.');
        return;
      }
      await ctx.rememberPair(uri.toString(), other.toString());
      await ctx.request(SET_PAIR, { uri: uri.toString(), pairUri: other.toString() });
      ctx.log.info(`paired ${uri.fsPath} with ${other.fsPath}`);
      await ctx.refreshStatus();
    }),
    vscode.commands.registerCommand('vcpuLens.simulate', async (arg?: Partial<SimulateChoice>) => {
      // People get the dashboard (its form, run with the last or default values at once); scripts
      // and tests may pass one run, whose timeline then opens beside the results.
      dashboard ??= new SimDashboard(ctx, timelines);
      if (!isChoice(arg)) {
        await dashboard.show();
        return undefined;
      }
      const { preset, policy, dop, seed } = arg;
      if (!(await dashboard.show({ preset, policies: [policy], dop, seed, sweep: '' })))
        return undefined;
      // Scripts get the run's host trace URI.
      return (await dashboard.openOwnRun(policy))?.toString();
    }),
    new vscode.Disposable(() => dashboard?.dispose()),
  ];
}

interface SimulateChoice {
  preset: string;
  policy: SimulateParams['policy'];
  dop: SimulateParams['dop'];
  seed: number;
}

function isChoice(a: unknown): a is SimulateChoice {
  const c = a as Partial<SimulateChoice> | undefined;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.preset === 'string' &&
    ['spin', 'block', 'spin-then-block'].includes(c.policy ?? '') &&
    ['fixed', 'dynamic', 'pvsched', 'oracle'].includes(c.dop ?? '') &&
    Number.isSafeInteger(c.seed)
  );
}

/** The analysis as markdown: vCPU map, clock, vCPU time, findings, advice. */
function renderReport(r: Extract<AnalyzeResult, { ok: true }>, adviceOnly: boolean): string {
  const rep = r.report;
  const dur = (v: number): string =>
    rep.unit === 'ns' ? `${(v / 1e9).toFixed(3)} s` : `${Math.round(v)} ticks`;
  const out: string[] = [
    `# vCPU Lens ${adviceOnly ? 'advice' : 'analysis'}`,
    '',
    `host: ${rep.host.name}, guest: ${rep.guest.name}`,
    '',
  ];
  if (rep.advice !== null) {
    const a = rep.advice;
    out.push(
      '## Advice',
      '',
      `- threads: ${a.threads} → **${a.dop}** (OMP_NUM_THREADS), wait policy **${a.waitPolicy}**${a.spinCount !== undefined ? ` (GOMP_SPINCOUNT=${a.spinCount})` : ''}`,
      `- predicted: **${a.predictedSpeedup.toFixed(2)}x**`,
      ...a.reasoning.map((l) => `- ${l}`),
      '',
    );
  }
  out.push(
    '## Findings',
    '',
    ...(rep.findings.length > 0
      ? rep.findings.map((f) => `- (${f.severity}) ${f.message}`)
      : ['- none']),
    '',
  );
  if (adviceOnly) return out.join('\n');
  out.push(
    '## vCPUs',
    '',
    '| vCPU | host thread | running | preempted | waiting | idle | preemptions |',
    '|---:|---|---:|---:|---:|---:|---:|',
  );
  for (const v of rep.vcpuTime) {
    const m = rep.vcpus.find((x) => x.vcpu === v.vcpu);
    out.push(
      `| ${v.vcpu} | ${m?.hostComm ?? '?'} (${m?.hostTid ?? '?'}) | ${dur(v.running)} | ${dur(v.preempted)} | ${dur(v.waiting)} | ${dur(v.idle)} | ${v.preemptions} |`,
    );
  }
  out.push('', '## Clock map', '');
  if (rep.clock !== null)
    out.push(
      `- ${rep.clock.method}: host − guest = ${BigInt(rep.clock.hostRef) - BigInt(rep.clock.guestRef)} ± ${dur(rep.clock.bound)}`,
      ...rep.clock.reasoning.map((l) => `- ${l}`),
    );
  out.push('', '## Guest threads that lost time', '');
  for (const t of rep.stallsByThread.slice(0, 20))
    out.push(`- ${t.comm}-${t.pid}: ${dur(t.lost)} in ${t.episodes} episodes`);
  out.push('', '## Reasoning', '', ...r.summary.map((l) => `- ${l}`));
  return out.join('\n');
}
