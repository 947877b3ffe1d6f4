// The vCPU Lens language server: parses trace documents on open and change, pairs host and guest
// traces (explicitly, or `host.*` with its `guest.*` sibling), runs the engine's analysis, and
// answers diagnostics, hover, symbols, CodeLens, definitions and the `vcpuLens/...` requests.
// Transport-agnostic: main.ts gives it a node-IPC connection, tests give it in-memory streams.
// This file wires the parts (context.ts says what they share); each concern is its own file.

import {
  CodeActionKind,
  Connection,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DEFAULT_SERVER_SETTINGS, ServerSettings } from '../protocol/lsp-ext';
import { Server, sharedState } from './context';
import { diskOps } from './disk';
import { documentOps, listenToDocuments } from './documents';
import { answerOnLines, answerRequests } from './handlers';
import { pairingOps } from './pairing';
import { publishOps } from './publish';
import { registerSimDashboard } from './sim-dashboard';

export interface ServerHandle {
  /** Resolves when every scheduled parse and analysis has finished (tests wait on it). */
  idle(): Promise<void>;
}

export function startServer(connection: Connection): ServerHandle {
  const documents = new TextDocuments(TextDocument);
  // The parts call each other through `s`, bound here once.
  const s = sharedState(connection, documents, { ...DEFAULT_SERVER_SETTINGS }) as Server;
  Object.assign(s, documentOps(s), diskOps(s), pairingOps(s), publishOps(s));

  connection.onInitialize((params) => {
    const init = params.initializationOptions as
      (Partial<ServerSettings> & { timelineCacheDir?: unknown }) | undefined;
    if (init !== undefined) {
      const { timelineCacheDir, ...settings } = init;
      s.settings = { ...s.settings, ...settings };
      if (typeof timelineCacheDir === 'string' && timelineCacheDir !== '')
        s.timelineCacheDir = timelineCacheDir;
    }
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        documentSymbolProvider: true,
        codeLensProvider: { resolveProvider: false },
        definitionProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        // The process id, so the extension (and its fault tests) can name the server it runs.
        experimental: { pid: process.pid },
      },
      serverInfo: { name: 'vcpu-lens', version: '0.1.0' },
    };
  });

  connection.onDidChangeConfiguration((change) => {
    const c = (change.settings as { vcpuLens?: Partial<ServerSettings> } | undefined)?.vcpuLens;
    if (c === undefined) return;
    const next = { ...s.settings, ...c };
    // The client sends the settings once after every start: unchanged, nothing is read again.
    const keys = Object.keys(DEFAULT_SERVER_SETTINGS) as (keyof ServerSettings)[];
    if (keys.every((k) => next[k] === s.settings[k])) return;
    s.settings = next;
    s.analyses.clear();
    s.indexes.clear();
    s.diskCache.clear();
    for (const uri of s.states.keys()) s.schedule(uri, 0);
  });

  listenToDocuments(s);
  answerOnLines(s);
  answerRequests(s);
  registerSimDashboard(connection, (f) => s.busy(f));
  documents.listen(connection);
  connection.listen();
  return { idle: () => s.idle() };
}
