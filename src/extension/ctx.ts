// One Ctx owns the extension's lifetime: the log channel, the language client, the status bar
// item and the remembered host/guest pairs (rust-analyzer's ctx.ts). Commands get it, never
// globals.

import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import {
  DOC_STATUS,
  DocStatus,
  ServerSettings,
  SET_PAIR,
  STATUS_CHANGED,
} from '../protocol/lsp-ext';

/** The languages the server reads (package.json `contributes.languages`). */
export const TRACE_LANGUAGES = ['trace-cmd-report', 'ftrace-text', 'perf-script'] as const;

const PAIRS_KEY = 'vcpuLens.pairs';

export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly status: vscode.StatusBarItem;
  private client: LanguageClient | undefined;
  private readonly subs: vscode.Disposable[] = [];

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
      vscode.window.onDidChangeActiveTextEditor(() => void this.refreshStatus()),
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
      maxStallDiagnostics: c.get<number>('maxStallDiagnostics', 100),
    };
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
    const clientOptions: LanguageClientOptions = {
      documentSelector: TRACE_LANGUAGES.map((language) => ({ language })),
      synchronize: { configurationSection: 'vcpuLens' },
      initializationOptions: this.settings(),
      outputChannel: this.log,
    };
    this.client = new LanguageClient('vcpuLens', 'vCPU Lens', serverOptions, clientOptions);
    this.subs.push(
      this.client.onDidChangeState((e) => {
        if (e.newState === State.Stopped) this.log.warn('the language server stopped');
        if (e.newState === State.Running) this.log.info('the language server is running');
      }),
    );
    await this.client.start();
    this.subs.push(this.client.onNotification(STATUS_CHANGED, () => void this.refreshStatus()));
    // Pairs the user made in earlier sessions of this workspace.
    for (const [a, b] of Object.entries(this.pairs()))
      void this.request(SET_PAIR, { uri: a, pairUri: b });
  }

  async restart(): Promise<void> {
    if (this.client === undefined) return this.start();
    await this.client.restart();
  }

  /** A request to the server, or a clear message when it is down. */
  async request<R>(
    method: string,
    params: unknown,
    token?: vscode.CancellationToken,
  ): Promise<R | undefined> {
    if (this.client === undefined || this.client.state !== State.Running) {
      const pick = await vscode.window.showErrorMessage(
        'The vCPU Lens language server is not running (see the vCPU Lens output).',
        'Restart Server',
        'Show Log',
      );
      if (pick === 'Restart Server') await this.restart();
      if (pick === 'Show Log') this.log.show();
      return undefined;
    }
    return this.client.sendRequest<R>(method, params, token);
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

  /** The status bar: the active trace's role, span, and with a pair its preemptions. */
  async refreshStatus(): Promise<void> {
    const ed = vscode.window.activeTextEditor;
    if (
      ed === undefined ||
      !(TRACE_LANGUAGES as readonly string[]).includes(ed.document.languageId)
    ) {
      this.status.hide();
      return;
    }
    if (this.client?.state !== State.Running) return;
    const s = await this.client.sendRequest<DocStatus>(DOC_STATUS, {
      uri: ed.document.uri.toString(),
    });
    if (!s.parsed) {
      this.status.text = '$(loading~spin) vCPU Lens';
      this.status.show();
      return;
    }
    const dur = (v: number): string =>
      s.unit === 'ns' ? `${(v / 1e9).toFixed(3)} s` : `${Math.round(v)} ticks`;
    const pre =
      s.preemptions !== null && s.preempted !== null
        ? ` · ${s.preemptions.toLocaleString('en-US')} vCPU preemptions (${dur(s.preempted)})`
        : s.pairUri === null
          ? ' · unpaired'
          : '';
    this.status.text = `$(pulse) ${s.role} · ${dur(s.span)}${pre}`;
    this.status.tooltip = `${s.events.toLocaleString('en-US')} events, ${s.problems} problems${
      s.pairUri !== null ? `\npaired with ${vscode.Uri.parse(s.pairUri).fsPath}` : ''
    }\nClick: analyze`;
    this.status.show();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    void this.client?.stop();
  }
}
