// Documents and their sources: a trace open as a document is parsed from its synced text
// (debounced; a newer version cancels an older parse), a big unmodified one is read from its file
// (`vcpuLens/openFromDisk`); either way it is then published. Also the lines hovers and
// definitions read.

import { readFileSync, statSync } from 'node:fs';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DIAG } from '../core/model/diagnostics';
import {
  CLOSE_FROM_DISK,
  CloseFromDiskParams,
  OPEN_FROM_DISK,
  OpenFromDiskParams,
  STATUS_CHANGED,
} from '../protocol/lsp-ext';
import { DocState, filePath, nameOf, Server, ServerOps } from './context';
import { fileDiagnostics } from './publish';
import { describeTraces, parseDoc } from './trace-doc';

/** Debounce of re-parsing while the user types. */
const PARSE_DELAY_MS = 300;

/** Bytes as whole MB, as the progress notification shows them. */
export const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);

type DocumentOps = Pick<ServerOps, 'schedule' | 'parsedOrNot' | 'readAndPublish' | 'lineText'>;

export function documentOps(s: Server): DocumentOps {
  const { states, documents, connection, log } = s;

  const schedule = (uri: string, delay: number): void => {
    const st = states.get(uri);
    if (st === undefined) return;
    s.enter();
    if (st.timer !== undefined) {
      // The scheduled parse is replaced by this one (its count moves to it).
      clearTimeout(st.timer);
      s.leave();
      st.running--;
    }
    st.running++;
    st.timer = setTimeout(() => {
      st.timer = undefined;
      void s
        .busy(() => (st.source === 'disk' ? readAndPublish(uri) : parseAndPublish(uri)))
        .catch((e: unknown) => log(`parse failed: ${(e as Error).stack ?? String(e)}`))
        .finally(() => {
          s.leave();
          settle(st);
        });
    }, delay);
  };

  /**
   * Resolves when an open document has no parse scheduled or running: requests that arrive right
   * after an open (Simulate opens the trace, then asks for its advice and timeline) wait for it
   * instead of finding it unparsed.
   */
  const parsedOrNot = (uri: string): Promise<void> => {
    const st = states.get(uri);
    if (st === undefined || (st.running === 0 && st.timer === undefined)) return Promise.resolve();
    return new Promise((r) => st.waiters.push(r));
  };

  const parseAndPublish = async (uri: string): Promise<void> => {
    const doc = documents.get(uri);
    const st = states.get(uri);
    if (doc === undefined || st === undefined) return;
    const version = doc.version;
    const t0 = Date.now();
    const text = doc.getText();
    const parsed = parseDoc(text, nameOf(uri), s.settings);
    // A newer version arrived while parsing: its own parse will publish.
    if (documents.get(uri)?.version !== version) return;
    st.parsed = parsed;
    st.version = version;
    st.key = `${uri}@${version}`;
    s.analyses.clear();
    if (parsed === undefined) {
      await connection.sendDiagnostics({ uri, version, diagnostics: [] });
      return;
    }
    const t1 = Date.now();
    log(
      `${nameOf(uri)} v${version}: ${(text.length / 1e6).toFixed(1)} M chars synced; waited ${t0 - st.receivedAt} ms, parsed in ${t1 - t0} ms: ${parsed.trace.events.length} events, ${parsed.role} trace`,
    );
    await s.publish(uri);
    log(
      `${nameOf(uri)} v${version}: diagnostics sent ${Date.now() - st.receivedAt} ms after it arrived (publish ${Date.now() - t1} ms)`,
    );
    await publishPair(uri);
  };

  /** Its pair (if open) gets the analysis on its lines too. */
  const publishPair = async (uri: string): Promise<void> => {
    const other = await s.pairOf(uri);
    if (other !== undefined && states.get(other.uri)?.parsed !== undefined)
      await s.publish(other.uri);
  };

  /**
   * A big trace read from its file (no text was synced): the core reader, on worker threads for
   * big files, with progress and cancel; then the same publishing as a parsed document.
   */
  const readAndPublish = async (uri: string): Promise<void> => {
    const st = states.get(uri);
    if (st === undefined) return;
    const file = filePath(uri);
    if (file === undefined) return;
    const t0 = Date.now();
    const read = await s.readFromDisk(file);
    if (states.get(uri) !== st) return; // closed meanwhile
    if ('cancelled' in read) {
      // Cancelled by the user: say so where the problems are, keep nothing.
      const { doneBytes, totalBytes } = read.cancelled;
      st.parsed = undefined;
      st.cancelled = true;
      await connection.sendDiagnostics({
        uri,
        ...(st.version !== null ? { version: st.version } : {}),
        diagnostics: [
          {
            range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
            severity: 3,
            code: DIAG.cancelled,
            source: 'vcpu-lens',
            message: `reading this trace was cancelled after ${mb(doneBytes)} of ${mb(totalBytes)} MB: run "vCPU Lens: Analyze" to read it again`,
          },
        ],
      });
      void connection.sendNotification(STATUS_CHANGED, { uri });
      return;
    }
    st.cancelled = false;
    st.parsed = describeTraces(read.result.traces, nameOf(uri));
    st.fileDiagnostics = read.result.diagnostics;
    const key = `${uri}@disk${read.mtimeMs}`;
    // The same file read again (reopened): its analyses still hold.
    if (key !== st.key) s.analyses.clear();
    st.key = key;
    st.lines = undefined;
    log(
      `${nameOf(uri)}: read from disk (${(read.result.fileBytes / 1e6).toFixed(1)} MB, no text synced) in ${Date.now() - t0} ms: ${st.parsed?.trace.events.length ?? 0} events`,
    );
    if (st.parsed === undefined) {
      await connection.sendDiagnostics({ uri, diagnostics: fileDiagnostics(st) });
      return;
    }
    await s.publish(uri);
    log(`${nameOf(uri)}: diagnostics sent ${Date.now() - st.receivedAt} ms after it was asked for`);
    await publishPair(uri);
  };

  /** One line of a document: from its synced text, or for a trace read from disk, its file. */
  const lineText = (uri: string, line: number): string | undefined => {
    const range = { start: { line, character: 0 }, end: { line: line + 1, character: 0 } };
    const doc = documents.get(uri);
    if (doc !== undefined) return doc.getText(range);
    const st = states.get(uri);
    const file = filePath(uri);
    if (st?.source !== 'disk' || file === undefined) return undefined;
    try {
      st.lines ??= TextDocument.create(uri, 'trace', 0, readFileSync(file, 'utf8'));
    } catch {
      return undefined;
    }
    return st.lines.getText(range);
  };

  return { schedule, parsedOrNot, readAndPublish, lineText };
}

/** One scheduled parse of `st` ended (or was replaced): wake its waiters when none is left. */
function settle(st: DocState): void {
  if (--st.running > 0 || st.timer !== undefined) return;
  const w = st.waiters;
  st.waiters = [];
  for (const r of w) r();
}

function newState(version: number | null, source: DocState['source']): DocState {
  return {
    version,
    parsed: undefined,
    key: '',
    timer: undefined,
    receivedAt: Date.now(),
    source,
    running: 0,
    waiters: [],
  };
}

/** Drops a document's state; a parse it had scheduled is cancelled, its waiters answered. */
function forget(s: Server, uri: string): void {
  const st = s.states.get(uri);
  s.states.delete(uri);
  s.published.delete(uri);
  if (st === undefined) return;
  if (st.timer !== undefined) {
    clearTimeout(st.timer);
    st.timer = undefined;
    s.leave();
    settle(st);
  }
  // Whoever waited on it gets the answer for a closed document.
  for (const r of st.waiters.splice(0)) r();
}

/** The document events: synced open / change / close, and the big traces read from disk. */
export function listenToDocuments(s: Server): void {
  const { states, documents, connection, log } = s;
  documents.onDidOpen((e) => {
    // A document read from disk so far gets its text from now on (it was edited).
    forget(s, e.document.uri);
    states.set(e.document.uri, newState(e.document.version, 'text'));
    s.schedule(e.document.uri, 0);
  });

  connection.onNotification(OPEN_FROM_DISK, (p: OpenFromDiskParams) => {
    const st = states.get(p.uri);
    const file = filePath(p.uri);
    if (file === undefined) return;
    if (st !== undefined && st.source === 'disk') {
      // The tab's document opened (or reloaded): the same file, unless its mtime changed.
      st.version = p.version;
      st.receivedAt = Date.now();
      const cached = s.diskCache.get(file);
      let mtimeMs = -2;
      try {
        mtimeMs = statSync(file).mtimeMs;
      } catch {
        // re-read below, which reports it
      }
      if (st.parsed !== undefined && cached?.mtimeMs === mtimeMs)
        void s
          .busy(() => s.publish(p.uri))
          .catch((e: unknown) => log(`publish failed: ${String(e)}`));
      else if (st.parsed !== undefined || st.cancelled === true) s.schedule(p.uri, 0);
      return; // else: its read is under way and publishes with this version
    }
    if (documents.get(p.uri) !== undefined) return; // text-synced already
    states.set(p.uri, newState(p.version, 'disk'));
    s.schedule(p.uri, 0);
  });

  connection.onNotification(CLOSE_FROM_DISK, (p: CloseFromDiskParams) => {
    if (states.get(p.uri)?.source !== 'disk') return;
    forget(s, p.uri);
    void connection.sendDiagnostics({ uri: p.uri, diagnostics: [] });
  });
  documents.onDidChangeContent((e) => {
    const st = states.get(e.document.uri);
    // TextDocuments reports an open as a change too: the open's own parse is scheduled already.
    if (st === undefined || (st.parsed === undefined && e.document.version === st.version)) return;
    st.receivedAt = Date.now();
    s.schedule(e.document.uri, PARSE_DELAY_MS);
  });
  documents.onDidClose((e) => {
    forget(s, e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });
}
