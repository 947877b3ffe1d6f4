// The language server in-process, over in-memory streams (the vscode-languageserver-node way),
// with a JSON-RPC client on the other end: what every server test drives.
import { PassThrough } from 'node:stream';
import {
  createMessageConnection,
  MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import { createConnection } from 'vscode-languageserver/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver';
import { STATUS_CHANGED } from '../../../src/protocol/lsp-ext';
import { startServer, ServerHandle } from '../../../src/server/server';

export interface LspSession {
  client: MessageConnection;
  server: ServerHandle;
  /** Every diagnostics publication, per uri, in order. */
  published: Map<string, PublishDiagnosticsParams[]>;
  /** The server's log lines (window/logMessage), in order; printed too with VL_DEBUG set. */
  logs: string[];
  /** A uri's latest published diagnostics (none yet: empty). */
  latest(uri: string): Diagnostic[];
  /** Resolves with the first publication for `uri` that `pred` accepts (now or later). */
  diagnosticsWhere(
    uri: string,
    pred: (d: Diagnostic[]) => boolean,
  ): Promise<PublishDiagnosticsParams>;
  /**
   * Listens and runs initialize/initialized with these client capabilities (and the extension's
   * initialization options, when given). Handlers the test
   * adds on `client` before this see everything from the start.
   */
  start(capabilities?: object, initializationOptions?: object): Promise<void>;
}

/** A server and a client connected to it, not yet started (see LspSession.start). */
export function connectServer(): LspSession {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const server = startServer(
    createConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toClient)),
  );
  const client = createMessageConnection(
    new StreamMessageReader(toClient),
    new StreamMessageWriter(toServer),
  );
  const published = new Map<string, PublishDiagnosticsParams[]>();
  const logs: string[] = [];
  const waiting: {
    uri: string;
    pred: (d: Diagnostic[]) => boolean;
    r: (p: PublishDiagnosticsParams) => void;
  }[] = [];
  client.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    published.set(p.uri, [...(published.get(p.uri) ?? []), p]);
    for (const w of waiting.splice(0))
      if (w.uri === p.uri && w.pred(p.diagnostics)) w.r(p);
      else waiting.push(w);
  });
  client.onNotification('window/logMessage', (m: { message: string }) => {
    logs.push(m.message);
    if (process.env['VL_DEBUG']) console.log(m.message);
  });
  client.onNotification(STATUS_CHANGED, () => {});
  return {
    client,
    server,
    published,
    logs,
    latest: (uri) => published.get(uri)?.at(-1)?.diagnostics ?? [],
    diagnosticsWhere: (uri, pred) => {
      const now = [...(published.get(uri) ?? [])].reverse().find((p) => pred(p.diagnostics));
      if (now !== undefined) return Promise.resolve(now);
      return new Promise((r) => waiting.push({ uri, pred, r }));
    },
    start: async (capabilities = {}, initializationOptions = undefined) => {
      client.listen();
      await client.sendRequest('initialize', {
        processId: null,
        rootUri: null,
        capabilities,
        ...(initializationOptions !== undefined ? { initializationOptions } : {}),
      });
      await client.sendNotification('initialized', {});
    },
  };
}
