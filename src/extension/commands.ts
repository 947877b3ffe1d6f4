// The commands (category "vCPU Lens"): one factory each, registered from one list (`COMMANDS`).
// Heavy work is a request to the language server; the extension host only asks, shows progress
// and opens the results.

import * as vscode from 'vscode';
import { ANALYZE, EXPORT, SET_PAIR, SHOW_IN_TIMELINE, SimulateParams } from '../protocol/lsp-ext';
import { Ctx, TRACE_LANGUAGES } from './ctx';
import { FleetPanel } from './fleet-panel';
import { ReportDocuments } from './report-view';
import { SimDashboard } from './sim-dashboard';
import type { Timelines } from './timeline-panel';

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

/** A range from a command argument: an LSP or vscode range (`{start: {line, character}, end}`). */
function asRange(arg: unknown): vscode.Range | undefined {
  const r = arg as
    | {
        start?: { line?: unknown; character?: unknown };
        end?: { line?: unknown; character?: unknown };
      }
    | undefined;
  const ok = (
    p: { line?: unknown; character?: unknown } | undefined,
  ): p is { line: number; character: number } =>
    typeof p?.line === 'number' && typeof p.character === 'number';
  if (typeof r !== 'object' || r === null || !ok(r.start) || !ok(r.end)) return undefined;
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
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

/** What the commands use: the one Ctx, the report documents and the timeline panels. */
export interface CommandDeps {
  ctx: Ctx;
  reports: ReportDocuments;
  timelines: Timelines;
}

/** One command: its id (package.json `contributes.commands`) and what it does. */
export interface Command {
  id: string;
  run: (...args: never[]) => unknown;
  /** What the command holds beyond its registration (a panel), released with the extension. */
  dispose?: () => void;
}

/** A command made from its dependencies (rust-analyzer's `commands.ts` shape). */
type CommandFactory = (d: CommandDeps) => Command;

const openTimeline: CommandFactory = ({ timelines }) => ({
  id: 'vcpuLens.openTimeline',
  run: async (arg: unknown) => {
    const uri = await pickTrace(arg);
    if (uri !== undefined) timelines.open(uri);
  },
});

const exportHtmlReport: CommandFactory = ({ ctx }) => ({
  id: 'vcpuLens.exportHtmlReport',
  run: (arg: unknown, to?: unknown) => exportAs(ctx, arg, 'html', to),
});

const exportPerfetto: CommandFactory = ({ ctx }) => ({
  id: 'vcpuLens.exportPerfetto',
  run: (arg: unknown, to?: unknown) => exportAs(ctx, arg, 'chrome-trace', to),
});

const analyzeCommand: CommandFactory = (d) => ({
  id: 'vcpuLens.analyze',
  run: (arg: unknown) => analyze(d, arg, false),
});

const showAdvice: CommandFactory = (d) => ({
  id: 'vcpuLens.showAdvice',
  run: (arg: unknown) => analyze(d, arg, true),
});

const restartServer: CommandFactory = ({ ctx }) => ({
  id: 'vcpuLens.restartServer',
  run: () => ctx.restart(),
});

const pairTraces: CommandFactory = ({ ctx }) => ({
  id: 'vcpuLens.pairTraces',
  run: async (arg: unknown) => {
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
  },
});

const simulateCommand: CommandFactory = ({ ctx, timelines }) => {
  let dashboard: SimDashboard | undefined;
  return {
    id: 'vcpuLens.simulate',
    run: async (arg?: Partial<SimulateChoice>) => {
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
    },
    dispose: () => dashboard?.dispose(),
  };
};

/**
 * From a diagnostic to the moment it happened: the vCPU Lens diagnostic at `range` of the
 * document (the code action passes both; without them, the active editor's cursor), its pair's
 * timeline opened or revealed, zoomed to that interval with it selected.
 */
const showInTimeline: CommandFactory = ({ ctx, timelines }) => ({
  id: 'vcpuLens.showInTimeline',
  run: async (arg?: unknown, range?: unknown) => {
    const ed = vscode.window.activeTextEditor;
    const uri = asUri(arg) ?? ed?.document.uri;
    const r = asRange(range) ?? ed?.selection;
    if (uri === undefined || r === undefined) {
      void vscode.window.showInformationMessage('Put the cursor on a vCPU Lens finding first.');
      return;
    }
    const target = await ctx.request(SHOW_IN_TIMELINE, {
      uri: uri.toString(),
      range: {
        start: { line: r.start.line, character: r.start.character },
        end: { line: r.end.line, character: r.end.character },
      },
    });
    if (target === undefined) return;
    if (target === null) {
      void ctx.notify('info', 'vCPU Lens: no finding with a place in the timeline here.');
      return;
    }
    timelines.reveal(uri, target);
  },
});

/**
 * The runs of a folder's host + guest pairs as one sortable table: the folder from the argument
 * (the explorer's context menu, scripts), else the workspace's folders, else one the user picks.
 * Scripts get the rows.
 */
const analyzeFolder: CommandFactory = ({ ctx, timelines }) => {
  let panel: FleetPanel | undefined;
  return {
    id: 'vcpuLens.analyzeFolder',
    run: async (arg?: unknown) => {
      const given = asUri(arg);
      let folders =
        given !== undefined ? [given] : (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri);
      if (folders.length === 0)
        folders =
          (await vscode.window.showOpenDialog({
            title: 'vCPU Lens: a folder of host + guest trace pairs',
            canSelectFiles: false,
            canSelectFolders: true,
            canSelectMany: false,
            openLabel: 'Analyze',
          })) ?? [];
      const paths = folders.filter((u) => u.scheme === 'file').map((u) => u.fsPath);
      if (paths.length === 0) {
        if (folders.length > 0)
          void vscode.window.showInformationMessage(
            'vCPU Lens analyses folders on this machine’s disk only.',
          );
        return undefined;
      }
      panel ??= new FleetPanel(ctx, timelines);
      return panel.show(paths);
    },
    dispose: () => panel?.dispose(),
  };
};

/** Every command, registered in this one list. */
const COMMANDS: readonly CommandFactory[] = [
  simulateCommand,
  analyzeFolder,
  openTimeline,
  showInTimeline,
  exportHtmlReport,
  exportPerfetto,
  analyzeCommand,
  showAdvice,
  pairTraces,
  restartServer,
];

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  return COMMANDS.flatMap((make) => {
    const c = make(d);
    const reg = vscode.commands.registerCommand(c.id, c.run as (...args: unknown[]) => unknown);
    return c.dispose === undefined ? [reg] : [reg, new vscode.Disposable(c.dispose)];
  });
}

async function analyze(
  { ctx, reports }: CommandDeps,
  arg: unknown,
  adviceOnly: boolean,
): Promise<void> {
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
    adviceOnly ? r.markdown.advice : r.markdown.analysis,
  );
}

/** A trace from the argument, the active editor or the active .dat editor; else a file picker. */
async function pickTrace(arg: unknown): Promise<vscode.Uri | undefined> {
  const uri = traceUri(arg) ?? activeTabUri();
  if (uri !== undefined) return uri;
  const picked = await vscode.window.showOpenDialog({
    title: 'vCPU Lens: a host or guest trace',
    canSelectMany: false,
  });
  return picked?.[0];
}

// `to`: scripts and tests give the target; people get the save dialog (which asks before replacing).
async function exportAs(
  ctx: Ctx,
  arg: unknown,
  kind: 'html' | 'chrome-trace',
  to?: unknown,
): Promise<void> {
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
