// One Ctx owns the extension's lifetime: the log channel, the language client, the status bar
// item and the remembered host/guest pairs (rust-analyzer's ctx.ts). Commands get it, never
// globals.

import * as vscode from 'vscode';
import {
  CloseAction,
  DidOpenTextDocumentNotification,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  NotificationType,
  RequestType,
  ServerOptions,
  State,
  TransportKind,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';
import {
  CLOSE_FROM_DISK,
  DOC_STATUS,
  FILE_CHANGED,
  FileChangedParams,
  OPEN_FROM_DISK,
  ServerSettings,
  SET_PAIR,
  STATUS_CHANGED,
} from '../protocol/lsp-ext';
import type { TraceLanguageId } from '../core/ingest/formats';

/**
 * The languages the server reads (package.json `contributes.languages`): the registry's
 * (core/ingest/formats.ts), which the extension host may not load, so restated here and checked
 * against it when compiled (both ways: a language missing here or unknown there is a type error).
 */
export const TRACE_LANGUAGES = [
  'trace-cmd-report',
  'ftrace-text',
  'perf-script',
] as const satisfies readonly TraceLanguageId[];
const ALL_TRACE_LANGUAGES: [Exclude<TraceLanguageId, (typeof TRACE_LANGUAGES)[number]>] extends [
  never,
]
  ? true
  : never = true;
void ALL_TRACE_LANGUAGES;

const PAIRS_KEY = 'vcpuLens.pairs';

/** Crashes within this window count towards giving up on restarting the server. */
const CRASH_WINDOW_MS = 3 * 60_000;
/** Restarts after a crash within the window; the next crash leaves it stopped (commands say so). */
const MAX_RESTARTS = 3;
/** How long a command waits for a (re)starting server before saying it is down. */
const RESTART_WAIT_MS = 30_000;

/**
 * File names the trace languages claim (package.json `contributes.languages`), to recognise a
 * big trace in a tab before its document exists.
 */
const TRACE_NAME =
  /(^|\/)(host\.txt|guest\.txt|trace|trace_pipe|[^/]*\.trace\.txt|trace[^/]*\.report\.txt|[^/]*\.(report|trace-cmd|ftrace|perf-script|perf\.txt))$/i;

export type ServerState = 'running' | 'starting' | 'stopped';

/** What the extension exports (`vscode.extensions.getExtension(...).exports`): for tests and tools. */
export interface VcpuLensApi {
  /** The language server's process id while it runs. */
  serverPid(): number | undefined;
  serverState(): ServerState;
  /** The status bar item's text. */
  statusText(): string;
  /** The messages the extension showed the user, oldest first (the last 20). */
  notices(): readonly string[];
  readonly onDidChangeServerState: vscode.Event<ServerState>;
}

export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly status: vscode.StatusBarItem;
  private client: LanguageClient | undefined;
  private readonly subs: vscode.Disposable[] = [];
  /** Traces the server reads from their files (big, unmodified): their text is not synced. */
  private readonly fromDisk = new Set<string>();
  private crashes: number[] = [];
  private readonly noticeLog: string[] = [];
  private readonly stateChanged = new vscode.EventEmitter<ServerState>();
  private readonly fileChanged = new vscode.EventEmitter<vscode.Uri>();
  /** A trace file the server read changed on disk and was read again (timelines reload). */
  readonly onDidChangeFile = this.fileChanged.event;

  constructor(readonly ext: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('vCPU Lens', { log: true });
    this.status = vscode.window.createStatusBarItem(
      'vcpuLens.status',
      vscode.StatusBarAlignment.Left,
      10,
    );
    this.status.name = 'vCPU Lens';
    this.status.command = 'vcpuLens.analyze';
    this.subs.push(
      this.log,
      this.status,
      this.stateChanged,
      this.fileChanged,
      vscode.window.onDidChangeActiveTextEditor(() => void this.refreshStatus()),
      vscode.window.tabGroups.onDidChangeTabs((e) => void this.onTabs(e)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('vcpuLens')) this.log.info('settings changed');
      }),
    );
  }

  settings(): ServerSettings {
    const c = vscode.workspace.getConfiguration('vcpuLens');
    return {
      vcpuMap: c.get<string>('vcpuMap', ''),
      clockOffset: c.get<string>('clockOffset', ''),
      maxDiagnostics: c.get<number>('maxDiagnostics', 1000),
      findingsSeverity: c.get<ServerSettings['findingsSeverity']>('findingsSeverity', 'warning'),
      maxStallDiagnostics: c.get<number>('maxStallDiagnostics', 3),
      memoryCapMB: c.get<number>('memoryCapMB', 0),
      tscHz: c.get<number>('tscHz', 0),
    };
  }

  /** Text traces at least this big (bytes) are read by the server from their files. */
  largeFileBytes(): number {
    const mb = vscode.workspace
      .getConfiguration('vcpuLens')
      .get<number>('largeFileThresholdMB', 10);
    return Math.max(0, mb) * 2 ** 20;
  }

  api(): VcpuLensApi {
    return {
      serverPid: () => {
        const x = this.client?.initializeResult?.capabilities.experimental as
          { pid?: unknown } | undefined;
        return this.client?.state === State.Running && typeof x?.pid === 'number'
          ? x.pid
          : undefined;
      },
      serverState: () => stateName(this.client?.state),
      statusText: () => this.status.text,
      notices: () => this.noticeLog,
      onDidChangeServerState: this.stateChanged.event,
    };
  }

  /** A message to the user: shown, logged, and kept for `api().notices()`. */
  notify(
    kind: 'info' | 'warning' | 'error',
    text: string,
    ...items: string[]
  ): Thenable<string | undefined> {
    this.noticeLog.push(text);
    if (this.noticeLog.length > 20) this.noticeLog.shift();
    if (kind === 'info') {
      this.log.info(`told the user: ${text}`);
      return vscode.window.showInformationMessage(text, ...items);
    }
    if (kind === 'warning') {
      this.log.warn(`told the user: ${text}`);
      return vscode.window.showWarningMessage(text, ...items);
    }
    this.log.error(`told the user: ${text}`);
    return vscode.window.showErrorMessage(text, ...items);
  }

  async start(): Promise<void> {
    const module = vscode.Uri.joinPath(this.ext.extensionUri, 'dist', 'server.js').fsPath;
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: {
        module,
        transport: TransportKind.ipc,
        options: { execArgv: ['--nolazy', '--inspect=6019'] },
      },
    };
    // A pair's timeline kept between sessions: a returning user's first paint reads it back.
    // Turned off, the server gets no folder (nothing read or written) and the entries go.
    const cacheDir = vscode.Uri.joinPath(this.ext.globalStorageUri, 'timeline-cache');
    const keepTimelines = vscode.workspace
      .getConfiguration('vcpuLens')
      .get<boolean>('timelineCache', true);
    if (!keepTimelines)
      void vscode.workspace.fs.delete(cacheDir, { recursive: true }).then(
        () => undefined,
        () => undefined, // none written yet
      );
    const clientOptions: LanguageClientOptions = {
      documentSelector: TRACE_LANGUAGES.map((language) => ({ language })),
      synchronize: { configurationSection: 'vcpuLens' },
      initializationOptions: {
        ...this.settings(),
        ...(keepTimelines ? { timelineCacheDir: cacheDir.fsPath } : {}),
      },
      outputChannel: this.log,
      errorHandler: {
        // Write errors come in bursts when the server has died (every pending message fails):
        // only its exit decides, in `closed`, whether it is restarted.
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => this.serverClosed(),
      },
      middleware: {
        // Big unmodified traces: the server reads the file (no 18 MB of text over IPC; big
        // files parsed on worker threads). Timings go to the log, to tell the workbench's
        // share of an open from ours.
        didOpen: (doc, next) => {
          this.log.info(`${baseName(doc.uri)} v${doc.version}: open in the extension host`);
          const key = doc.uri.toString();
          if (this.readsFromDisk(doc)) {
            this.fromDisk.add(key);
            return this.client!.sendNotification(OPEN_FROM_DISK, {
              uri: key,
              version: doc.version,
            });
          }
          this.fromDisk.delete(key);
          return next(doc);
        },
        didChange: async (e, next) => {
          const key = e.document.uri.toString();
          if (!this.fromDisk.has(key)) return next(e);
          // Reloaded from disk (it changed there) or back to its saved text: read the file again.
          if (!e.document.isDirty)
            return this.client?.sendNotification(OPEN_FROM_DISK, {
              uri: key,
              version: e.document.version,
            });
          // Edited: from now on the server parses its text, as for small traces.
          this.fromDisk.delete(key);
          this.log.info(`${baseName(e.document.uri)} edited: its text is synced from now on`);
          return this.client?.sendNotification(
            DidOpenTextDocumentNotification.type,
            this.client.code2ProtocolConverter.asOpenTextDocumentParams(e.document),
          );
        },
        didClose: async (doc, next) => {
          if (!this.fromDisk.delete(doc.uri.toString())) return next(doc);
          return this.client?.sendNotification(CLOSE_FROM_DISK, { uri: doc.uri.toString() });
        },
        handleDiagnostics: (uri, diagnostics, next) => {
          this.log.info(
            `${baseName(uri)}: ${diagnostics.length} diagnostics reached the extension host`,
          );
          next(uri, diagnostics);
        },
      },
    };
    this.client = new LanguageClient('vcpuLens', 'vCPU Lens', serverOptions, clientOptions);
    // The server's work-done progress as a notification with Cancel (the client's own shows it in
    // the status bar, where it cannot be cancelled). As a feature registered after the client's
    // built-in ones: features are initialized in order on every (re)start, so this handler
    // replaces the client's each time. (Registered when the state turned Running, it was itself
    // replaced a moment later, and the notification never showed.)
    this.client.registerFeature({
      fillClientCapabilities: () => {},
      initialize: () => {
        this.client?.onRequest(WorkDoneProgressCreateRequest.type, (p) =>
          this.showProgress(p.token),
        );
      },
      getState: () => ({ kind: 'static' }),
      clear: () => {},
    });
    this.subs.push(
      this.client.onDidChangeState((e) => {
        const name = stateName(e.newState);
        this.log.info(`the language server is ${name}`);
        this.stateChanged.fire(name);
        if (e.newState === State.Running) {
          this.status.command = 'vcpuLens.analyze';
          void this.refreshStatus();
          return;
        }
        const starting = e.newState === State.Starting;
        this.status.text = starting
          ? '$(loading~spin) vCPU Lens: starting the server'
          : '$(error) vCPU Lens: server stopped';
        this.status.tooltip = starting
          ? 'The vCPU Lens language server is starting'
          : 'The vCPU Lens language server is not running. Click: restart it';
        this.status.command = starting ? undefined : 'vcpuLens.restartServer';
        this.status.show();
      }),
      this.client.onNotification(STATUS_CHANGED, () => void this.refreshStatus()),
      this.client.onNotification(FILE_CHANGED, (p: FileChangedParams) => {
        const uri = vscode.Uri.parse(p.uri);
        this.log.info(`${baseName(uri)} changed on disk: read again`);
        this.fileChanged.fire(uri);
      }),
    );
    await this.client.start();
    // Pairs the user made in earlier sessions of this workspace.
    for (const [a, b] of Object.entries(this.pairs()))
      void this.request(SET_PAIR, { uri: a, pairUri: b });
  }

  async restart(): Promise<void> {
    this.crashes = [];
    if (this.client === undefined) return this.start();
    // Documents are opened again on start (the middleware decides text or disk again).
    this.fromDisk.clear();
    await this.client.restart();
  }

  /** The server's connection closed unasked: restart it, up to a point, and say so. */
  private serverClosed(): { action: CloseAction; handled: boolean } {
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    this.fromDisk.clear();
    if (this.crashes.length > MAX_RESTARTS) {
      void this.notify(
        'error',
        `The vCPU Lens language server stopped ${this.crashes.length} times in ${CRASH_WINDOW_MS / 60_000} minutes and was not restarted: trace features are off until you restart it.`,
        'Restart Server',
        'Show Log',
      ).then((pick) => this.onPick(pick));
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    void this.notify(
      'warning',
      'The vCPU Lens language server stopped unexpectedly and was restarted; open traces are read again.',
      'Show Log',
    ).then((pick) => this.onPick(pick));
    return { action: CloseAction.Restart, handled: true };
  }

  private onPick(pick: string | undefined): void {
    if (pick === 'Restart Server') void this.restart();
    if (pick === 'Show Log') this.log.show();
  }

  /**
   * A request to the server. While it (re)starts the request waits for it (up to 30 s); when it
   * is down the user is told so (with Restart / Show Log) and the result is undefined.
   */
  async request<P, R>(
    type: RequestType<P, R, void>,
    params: P,
    token?: vscode.CancellationToken,
  ): Promise<R | undefined> {
    if (this.client?.state === State.Starting) await this.whenSettled(RESTART_WAIT_MS);
    const client = this.client;
    if (client === undefined || client.state !== State.Running) {
      void this.notify(
        'error',
        client?.state === State.Starting
          ? 'The vCPU Lens language server is still starting: try again in a moment (see the vCPU Lens output).'
          : 'The vCPU Lens language server is not running (see the vCPU Lens output).',
        'Restart Server',
        'Show Log',
      ).then((pick) => this.onPick(pick));
      return undefined;
    }
    return client.sendRequest(type, params, token);
  }

  /**
   * A notification to the server once it runs (sent after a start under way); dropped when the
   * server is down, as it says nothing the user waits on.
   */
  async tell<P>(type: NotificationType<P>, params: P): Promise<void> {
    if (this.client?.state === State.Starting) await this.whenSettled(RESTART_WAIT_MS);
    if (this.client?.state !== State.Running) return;
    // A server that dies meanwhile rejects it: nothing waits on it, the restart says so.
    await this.client
      .sendNotification(type, params)
      .catch((e: unknown) => this.log.warn(`${type.method} not sent: ${String(e)}`));
  }

  /** Resolves when the server is no longer starting, or after `timeoutMs`. */
  private whenSettled(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        sub.dispose();
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      const sub = this.stateChanged.event((s) => {
        if (s !== 'starting') done();
      });
    });
  }

  /**
   * One server-side work-done progress (reading a trace): a notification with Cancel once it has
   * taken a second (short reads do not flash one), cancelling it through LSP.
   */
  private showProgress(token: string | number): null {
    const client = this.client;
    if (client === undefined) return null;
    let title = 'vCPU Lens';
    let cancellable = false;
    let pct = 0;
    let message: string | undefined;
    let shown: vscode.Progress<{ message?: string; increment?: number }> | undefined;
    let shownPct = 0;
    let end!: () => void;
    const ended = new Promise<void>((r) => (end = r));
    const show = (): void => {
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable },
        (progress, cancel) => {
          shown = progress;
          progress.report({ increment: pct, ...(message !== undefined ? { message } : {}) });
          shownPct = pct;
          cancel.onCancellationRequested(() => {
            this.log.info(`${title}: cancelled by the user`);
            void client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
          });
          return ended;
        },
      );
    };
    const timer = setTimeout(show, 1000);
    const sub = client.onProgress(WorkDoneProgress.type, token, (v) => {
      if (v.kind === 'begin') {
        title = v.title;
        cancellable = v.cancellable === true;
        // At once in the status bar (the notification waits a second, so short reads do not flash).
        this.status.text = `$(loading~spin) ${title}`;
        this.status.tooltip = title;
        this.status.show();
      } else if (v.kind === 'report') {
        pct = v.percentage ?? pct;
        message = v.message ?? message;
        this.status.text = `$(loading~spin) ${title} ${pct}%`;
        if (shown !== undefined) {
          shown.report({
            increment: pct - shownPct,
            ...(message !== undefined ? { message } : {}),
          });
          shownPct = pct;
        }
      } else {
        clearTimeout(timer);
        sub.dispose();
        end();
        void this.refreshStatus();
      }
    });
    return null;
  }

  /**
   * Whether the server should read this document from its file instead of its synced text:
   * decided at once (its length in characters, from the line table), so the open reaches the
   * server before any request about the document (VS Code caches an empty outline otherwise).
   */
  private readsFromDisk(doc: vscode.TextDocument): boolean {
    if (doc.uri.scheme !== 'file' || doc.isDirty || doc.lineCount === 0) return false;
    const chars = doc.offsetAt(doc.lineAt(doc.lineCount - 1).range.end);
    return chars >= this.largeFileBytes();
  }

  /**
   * A big trace opened in a tab: the web workbench takes seconds to load 18 MB into an editor
   * (and asks first), so the server starts reading the file now, and the user is offered the
   * timeline, which does not need the text.
   */
  private async onTabs(e: vscode.TabChangeEvent): Promise<void> {
    const client = this.client;
    if (client?.state !== State.Running) return;
    const isOpen = (key: string): boolean =>
      vscode.workspace.textDocuments.some((d) => d.uri.toString() === key);
    for (const tab of e.opened) {
      const uri = tab.input instanceof vscode.TabInputText ? tab.input.uri : undefined;
      if (uri === undefined || uri.scheme !== 'file' || !TRACE_NAME.test(uri.path)) continue;
      const key = uri.toString();
      if (this.fromDisk.has(key) || isOpen(key)) continue;
      let size: number;
      try {
        size = (await vscode.workspace.fs.stat(uri)).size;
      } catch {
        continue;
      }
      if (size < this.largeFileBytes() || this.fromDisk.has(key) || isOpen(key)) continue;
      this.fromDisk.add(key);
      void client.sendNotification(OPEN_FROM_DISK, { uri: key, version: null });
      this.log.info(
        `${baseName(uri)} (${(size / 1e6).toFixed(1)} MB) opened in a tab: the server reads it from disk`,
      );
      void this.notify(
        'info',
        `${baseName(uri)} is ${(size / 1e6).toFixed(0)} MB: vCPU Lens reads it from disk (findings go to Problems); its timeline does not need the text editor.`,
        'Open Timeline',
      ).then((pick) => {
        if (pick === 'Open Timeline')
          void vscode.commands.executeCommand('vcpuLens.openTimeline', uri);
      });
    }
    for (const tab of e.closed) {
      const uri = tab.input instanceof vscode.TabInputText ? tab.input.uri : undefined;
      if (uri === undefined) continue;
      const key = uri.toString();
      // A document still open (VS Code keeps some a while) is closed by the didClose middleware.
      if (!this.fromDisk.has(key) || isOpen(key)) continue;
      this.fromDisk.delete(key);
      void client.sendNotification(CLOSE_FROM_DISK, { uri: key });
    }
  }

  pairs(): Record<string, string> {
    return this.ext.workspaceState.get<Record<string, string>>(PAIRS_KEY, {});
  }

  async rememberPair(a: string, b: string): Promise<void> {
    const p = { ...this.pairs() };
    for (const [k, v] of Object.entries(p))
      if (k === a || k === b || v === a || v === b) delete p[k];
    p[a] = b;
    await this.ext.workspaceState.update(PAIRS_KEY, p);
  }

  /** The trace of the active timeline view, if a timeline is the active editor. */
  private activeTimeline: vscode.Uri | undefined;

  /** A timeline view became active (its trace) or inactive (undefined): the status follows it. */
  setActiveTimeline(uri: vscode.Uri | undefined): void {
    this.activeTimeline = uri;
    void this.refreshStatus();
  }

  /** A timeline view closed: the status no longer follows it (if it did). */
  timelineClosed(uri: vscode.Uri): void {
    if (this.activeTimeline?.toString() === uri.toString()) this.setActiveTimeline(undefined);
  }

  /**
   * The status bar: the active trace's (or active timeline's) role, span, and with a pair its
   * preemptions; hidden when the active editor is none of ours.
   */
  async refreshStatus(): Promise<void> {
    const ed = vscode.window.activeTextEditor;
    const uri =
      ed !== undefined && (TRACE_LANGUAGES as readonly string[]).includes(ed.document.languageId)
        ? ed.document.uri
        : ed === undefined
          ? this.activeTimeline
          : undefined;
    if (uri === undefined) {
      if (this.client?.state === State.Running) this.status.hide();
      return;
    }
    if (this.client?.state !== State.Running) return;
    const s = await this.client.sendRequest(DOC_STATUS, { uri: uri.toString() });
    if (!s.parsed) {
      this.status.text = '$(loading~spin) vCPU Lens';
      this.status.show();
      return;
    }
    const pre =
      s.preemptions !== null && s.preemptedText !== null
        ? s.guestOnly === true
          ? ` · guest only: ${s.preemptions.toLocaleString('en-US')} inferred vCPU absences (${s.preemptedText})`
          : ` · ${s.preemptions.toLocaleString('en-US')} vCPU preemptions (${s.preemptedText})`
        : s.pairUri === null
          ? ' · unpaired'
          : '';
    this.status.text = `$(pulse) ${s.role} · ${s.spanText}${pre}`;
    // Problems lists the parse problems and the findings: say both, as it counts them.
    this.status.tooltip = `${s.events.toLocaleString('en-US')} events · in Problems: ${s.problems.toLocaleString('en-US')} parse problems, ${s.findings.toLocaleString('en-US')} findings${
      s.pairUri !== null ? `\npaired with ${vscode.Uri.parse(s.pairUri).fsPath}` : ''
    }\nClick: analyze`;
    this.status.show();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    void this.client?.stop();
  }
}

const baseName = (uri: vscode.Uri): string => uri.path.replace(/^.*\//, '');

function stateName(s: State | undefined): ServerState {
  return s === State.Running ? 'running' : s === State.Starting ? 'starting' : 'stopped';
}
