// The vCPU Lens language server: parses trace documents on open and change (debounced; a newer
// version cancels an older parse), pairs host and guest traces (explicitly, or `host.*` with its
// `guest.*` sibling), runs the engine's analysis, and answers diagnostics, hover, symbols,
// CodeLens, definitions and the `vcpuLens/...` requests. Transport-agnostic: main.ts gives it a
// node-IPC connection, tests give it in-memory streams.

import { randomBytes } from 'node:crypto';
import {
  existsSync,
  FSWatcher,
  mkdirSync,
  readFileSync,
  statSync,
  watch,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CancellationToken,
  Connection,
  Diagnostic,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyzePair, PairOptions } from '../core/analyze/pair';
import type { PairAnalysis } from '../core/analyze/types';
import { parseVcpuMapFlag } from '../core/correlate/vcpu-map';
import { LoadResult, readTraceFile } from '../core/io/read-trace-file';
import { DIAG, type Diagnostic as CoreDiagnostic } from '../core/model/diagnostics';
import { analyzeReport } from '../core/report/analyze';
import { renderHtmlReport } from '../core/report/html';
import { chromeTrace } from '../core/view/chrome-trace';
import { answerView } from '../core/view/answer';
import { TimelineIndex } from '../core/view/lod';
import { buildTimelineModel } from '../core/view/model';
import { simulate, SimConfig } from '../core/sim/engine';
import { COMPARE_RUNS, compareConfig, PRESETS } from '../core/sim/presets';
import { runScenario, ScenarioFile } from '../core/sim/scenario';
import { spinBeforeBlockNs } from '../core/sim/runtime';
import {
  ANALYZE,
  AnalyzeParams,
  CLOSE_FROM_DISK,
  CloseFromDiskParams,
  FILE_CHANGED,
  OPEN_FROM_DISK,
  OpenFromDiskParams,
  AnalyzeResult,
  DEFAULT_SERVER_SETTINGS,
  DOC_STATUS,
  EXPORT,
  ExportParams,
  ExportResult,
  TIMELINE,
  TimelineParams,
  TimelineResult,
  DocStatus,
  DocStatusParams,
  ServerSettings,
  SET_PAIR,
  SetPairParams,
  SIMULATE,
  SimulateParams,
  SimulateResult,
  STATUS_CHANGED,
  TraceRole,
} from '../protocol/lsp-ext';
import { registerSimDashboard } from './sim-dashboard';
import {
  analysisDiagnostics,
  codeLenses,
  definition,
  describeTraces,
  hover,
  parseDiagnostics,
  parseDoc,
  ParsedDoc,
  roleOf,
  siblingName,
  symbols,
} from './trace-doc';

/** Traces read from disk at least this big are parsed on worker threads. */
const PARALLEL_FROM_BYTES = 8 << 20;

/** Bytes as whole MB, as the progress notification shows them. */
const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);

/** Debounce of re-parsing while the user types. */
const PARSE_DELAY_MS = 300;

interface DocState {
  /** The document's version; null for a trace read from disk that is not open as a document. */
  version: number | null;
  parsed: ParsedDoc | undefined;
  /** What analyses are cached by: the uri and its version, or for a file read from disk its mtime. */
  key: string;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When the server was told of this version (didOpen / didChange), for the timings it logs. */
  receivedAt: number;
  /** 'text': parsed from the synced text; 'disk': read from its file (big and unmodified). */
  source: 'text' | 'disk';
  /** A 'disk' document's text, read when a hover or definition first needs a line. */
  lines?: TextDocument | undefined;
  /** A 'disk' document whose read was cancelled: nothing is shown until it is asked for again. */
  cancelled?: boolean;
  /** A 'disk' document's file-level problems (unreadable, memory cap, not UTF-8). */
  fileDiagnostics?: CoreDiagnostic[];
  /** Parses scheduled or running, and who waits for them to end (`parsedOrNot`). */
  running: number;
  waiters: (() => void)[];
}

/** A file read from disk with the core reader (shared by every caller while it is read). */
interface DiskRead {
  mtimeMs: number;
  result: Promise<LoadResult | Cancelled>;
}

/** A read the user cancelled: how far it had got (bytes of the file) when it stopped. */
interface Cancelled {
  cancelled: { doneBytes: number; totalBytes: number };
}

/** A trace that is the pair of an open document: open too, or read from disk. */
interface PairSide {
  key: string;
  uri: string;
  trace: ParsedDoc['trace'];
  role: TraceRole;
}

export interface ServerHandle {
  /** Resolves when every scheduled parse and analysis has finished (tests wait on it). */
  idle(): Promise<void>;
}

export function startServer(connection: Connection): ServerHandle {
  const documents = new TextDocuments(TextDocument);
  const states = new Map<string, DocState>();
  /** Explicit pairs, both directions. */
  const pairs = new Map<string, string>();
  /** Files read from disk (pairs, big documents, .dat), by path; watched while cached. */
  const diskCache = new Map<string, DiskRead>();
  const watchers = new Map<string, FSWatcher>();
  const analyses = new Map<string, PairAnalysis | undefined>();
  let settings: ServerSettings = { ...DEFAULT_SERVER_SETTINGS };
  /** Scheduled or running parses and requests: `idle()` resolves when none is left. */
  let pending = 0;
  let waiters: (() => void)[] = [];
  const leave = (): void => {
    if (--pending > 0) return;
    const w = waiters;
    waiters = [];
    for (const r of w) r();
  };
  const busy = async <T>(f: () => Promise<T>): Promise<T> => {
    pending++;
    try {
      return await f();
    } finally {
      leave();
    }
  };

  const log = (s: string): void => connection.console.log(s);

  connection.onInitialize((params) => {
    const init = params.initializationOptions as Partial<ServerSettings> | undefined;
    if (init !== undefined) settings = { ...settings, ...init };
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        documentSymbolProvider: true,
        codeLensProvider: { resolveProvider: false },
        definitionProvider: true,
        // The process id, so the extension (and its fault tests) can name the server it runs.
        experimental: { pid: process.pid },
      },
      serverInfo: { name: 'vcpu-lens', version: '0.1.0' },
    };
  });

  connection.onDidChangeConfiguration((change) => {
    const s = (change.settings as { vcpuLens?: Partial<ServerSettings> } | undefined)?.vcpuLens;
    if (s === undefined) return;
    const next = { ...settings, ...s };
    // The client sends the settings once after every start: unchanged, nothing is read again.
    const keys = Object.keys(DEFAULT_SERVER_SETTINGS) as (keyof ServerSettings)[];
    if (keys.every((k) => next[k] === settings[k])) return;
    settings = next;
    analyses.clear();
    indexes.clear();
    diskCache.clear();
    for (const uri of states.keys()) schedule(uri, 0);
  });

  const nameOf = (uri: string): string => {
    try {
      return path.basename(fileURLToPath(uri));
    } catch {
      // Not a file (a simulated trace, `vcpu-lens-sim:/simulated: small spin · host.txt`): its
      // name as people read it, not percent-encoded.
      const last = uri.replace(/^.*\//, '');
      try {
        return decodeURIComponent(last);
      } catch {
        return last;
      }
    }
  };

  const schedule = (uri: string, delay: number): void => {
    const st = states.get(uri);
    if (st === undefined) return;
    pending++;
    if (st.timer !== undefined) {
      // The scheduled parse is replaced by this one (its count moves to it).
      clearTimeout(st.timer);
      leave();
      st.running--;
    }
    st.running++;
    st.timer = setTimeout(() => {
      st.timer = undefined;
      void busy(() => (st.source === 'disk' ? readAndPublish(uri) : parseAndPublish(uri)))
        .catch((e: unknown) => log(`parse failed: ${(e as Error).stack ?? String(e)}`))
        .finally(() => {
          leave();
          settle(st);
        });
    }, delay);
  };

  /** One scheduled parse of `st` ended (or was replaced): wake its waiters when none is left. */
  const settle = (st: DocState): void => {
    if (--st.running > 0 || st.timer !== undefined) return;
    const w = st.waiters;
    st.waiters = [];
    for (const r of w) r();
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
    const parsed = parseDoc(text, nameOf(uri), settings);
    // A newer version arrived while parsing: its own parse will publish.
    if (documents.get(uri)?.version !== version) return;
    st.parsed = parsed;
    st.version = version;
    st.key = `${uri}@${version}`;
    analyses.clear();
    if (parsed === undefined) {
      await connection.sendDiagnostics({ uri, version, diagnostics: [] });
      return;
    }
    const t1 = Date.now();
    log(
      `${nameOf(uri)} v${version}: ${(text.length / 1e6).toFixed(1)} M chars synced; waited ${t0 - st.receivedAt} ms, parsed in ${t1 - t0} ms: ${parsed.trace.events.length} events, ${parsed.role} trace`,
    );
    await publish(uri);
    log(
      `${nameOf(uri)} v${version}: diagnostics sent ${Date.now() - st.receivedAt} ms after it arrived (publish ${Date.now() - t1} ms)`,
    );
    // Its pair (if open) gets the analysis on its lines too.
    const other = await pairOf(uri);
    if (other !== undefined && states.get(other.uri)?.parsed !== undefined)
      await publish(other.uri);
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
    const read = await readFromDisk(file);
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
    if (key !== st.key) analyses.clear();
    st.key = key;
    st.lines = undefined;
    log(
      `${nameOf(uri)}: read from disk (${(read.result.fileBytes / 1e6).toFixed(1)} MB, no text synced) in ${Date.now() - t0} ms: ${st.parsed?.trace.events.length ?? 0} events`,
    );
    if (st.parsed === undefined) {
      await connection.sendDiagnostics({ uri, diagnostics: fileDiagnostics(st) });
      return;
    }
    await publish(uri);
    log(`${nameOf(uri)}: diagnostics sent ${Date.now() - st.receivedAt} ms after it was asked for`);
    const other = await pairOf(uri);
    if (other !== undefined && states.get(other.uri)?.parsed !== undefined)
      await publish(other.uri);
  };

  /** File-level problems of a trace read from disk (unreadable, memory cap...), on their line or 1. */
  const fileDiagnostics = (st: DocState): Diagnostic[] =>
    (st.fileDiagnostics ?? []).map((x) => ({
      range: {
        start: { line: (x.line ?? 1) - 1, character: 0 },
        end: { line: (x.line ?? 1) - 1, character: 0 },
      },
      severity: x.severity === 'error' ? 1 : x.severity === 'warning' ? 2 : 3,
      code: x.code,
      source: 'vcpu-lens',
      message: x.message,
    }));

  const publish = async (uri: string): Promise<void> => {
    const st = states.get(uri);
    const parsed = st?.parsed;
    if (st === undefined || parsed === undefined) return;
    const diagnostics: Diagnostic[] = [...fileDiagnostics(st), ...parseDiagnostics(parsed)];
    const a = await analysisFor(uri);
    if (a !== undefined) {
      const side = a.host === parsed.trace ? 'host' : 'guest';
      diagnostics.push(...analysisDiagnostics(parsed, a.analysis, side, settings));
    }
    await connection.sendDiagnostics({
      uri,
      ...(st.version !== null ? { version: st.version } : {}),
      diagnostics,
    });
    void connection.sendNotification(STATUS_CHANGED, { uri });
  };

  const filePath = (uri: string): string | undefined => {
    try {
      return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
    } catch {
      return undefined;
    }
  };

  /**
   * Reads a trace file with the core reader, once per file and modification time (callers share
   * the read in flight), with work-done progress the user can cancel; undefined when cancelled.
   * The file is watched from then on: a change drops what was read and reads it again.
   */
  const readFromDisk = async (
    file: string,
  ): Promise<{ result: LoadResult; mtimeMs: number } | Cancelled> => {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch (e) {
      // Unreadable: the core reader says so as a diagnostic.
      mtimeMs = -1;
      log(`cannot stat ${file}: ${(e as Error).message}`);
    }
    let entry = diskCache.get(file);
    if (entry === undefined || entry.mtimeMs !== mtimeMs) {
      entry = { mtimeMs, result: loadWithProgress(file) };
      diskCache.set(file, entry);
      watchFile(file);
    }
    const mine = entry;
    const result = await mine.result;
    if ('cancelled' in result) {
      if (diskCache.get(file) === mine) diskCache.delete(file);
      return result;
    }
    return { result, mtimeMs };
  };

  const loadWithProgress = async (file: string): Promise<LoadResult | Cancelled> => {
    const name = path.basename(file);
    const progress = await connection.window.createWorkDoneProgress();
    const abort = new AbortController();
    progress.begin(`vCPU Lens: reading ${name}`, 0, undefined, true);
    const sub = progress.token.onCancellationRequested(() => abort.abort());
    let last = -1;
    // Where the read is (as its progress last said); the size from the start, for a read
    // cancelled before its first report.
    const at = { doneBytes: 0, totalBytes: 0 };
    try {
      at.totalBytes = statSync(file).size;
    } catch {
      // unreadable: the reader says so
    }
    try {
      const r = await readTraceFile(file, {
        name,
        eventLines: true,
        diagnosticsCap: settings.maxDiagnostics,
        // Worker threads from 8 MiB (the CLI's 32 MiB is tuned for throughput; here the
        // server's own thread stays free to answer while a trace is read).
        parallelMinBytes: PARALLEL_FROM_BYTES,
        signal: abort.signal,
        ...(settings.memoryCapMB > 0 ? { memoryCapBytes: settings.memoryCapMB * 2 ** 20 } : {}),
        onProgress: (p) => {
          at.doneBytes = p.bytesDone;
          at.totalBytes = p.bytesTotal;
          const pct = p.bytesTotal > 0 ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 0;
          if (pct === last) return;
          last = pct;
          progress.report(pct, `${mb(p.bytesDone)} of ${mb(p.bytesTotal)} MB`);
        },
      });
      // Cancelled: whatever the reader got that far is dropped (the core reader stops early,
      // where its progress last said).
      if (abort.signal.aborted || r.diagnostics.some((d) => d.code === DIAG.cancelled)) {
        log(`reading ${name} was cancelled after ${mb(at.doneBytes)} of ${mb(at.totalBytes)} MB`);
        return { cancelled: at };
      }
      return r;
    } finally {
      sub.dispose();
      progress.done();
    }
  };

  /** Watches a file read from disk: when it changes, what was read from it is read again. */
  const watchFile = (file: string): void => {
    if (watchers.has(file)) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let w: FSWatcher;
    try {
      w = watch(file, { persistent: false }, () => {
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(() => fileChanged(file), 200);
      });
    } catch {
      return; // gone, or not watchable: it is re-read when its mtime is next seen to differ
    }
    w.on('error', () => {
      w.close();
      watchers.delete(file);
    });
    watchers.set(file, w);
  };

  const fileChanged = (file: string): void => {
    // An editor that saves by renaming replaces the inode: watch the new file.
    watchers.get(file)?.close();
    watchers.delete(file);
    const entry = diskCache.get(file);
    let mtimeMs = -1;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      // deleted: forget it
    }
    if (entry !== undefined && entry.mtimeMs === mtimeMs) {
      watchFile(file);
      return;
    }
    diskCache.delete(file);
    if (mtimeMs >= 0) watchFile(file);
    const uri = pathToFileURL(file).toString();
    log(`${path.basename(file)} changed on disk: reading it again`);
    analyses.clear();
    indexes.clear();
    void connection.sendNotification(FILE_CHANGED, { uri });
    for (const [u, st] of states) {
      if (u === uri && st.source === 'disk') schedule(u, 0);
      else if (st.parsed !== undefined)
        void busy(() => publish(u)).catch((e: unknown) => log(`publish failed: ${String(e)}`));
    }
  };

  /** The other machine's trace for `uri`: explicit pair, else the sibling file. */
  const pairOf = async (uri: string): Promise<PairSide | undefined> => {
    let other = pairs.get(uri);
    if (other === undefined) {
      let file: string;
      try {
        file = fileURLToPath(uri);
      } catch {
        return undefined;
      }
      const sib = siblingName(path.basename(file));
      if (sib === undefined) return undefined;
      const sibPath = path.join(path.dirname(file), sib);
      if (!existsSync(sibPath)) return undefined;
      other = pathToFileURL(sibPath).toString();
    }
    const open = states.get(other);
    if (open?.parsed !== undefined)
      return { key: open.key, uri: other, trace: open.parsed.trace, role: open.parsed.role };
    if (open !== undefined) return undefined; // open, not parsed yet
    return loadFromDisk(other);
  };

  /** A trace that is not an open document (a pair, a .dat): read from its file, cached by mtime. */
  const loadFromDisk = async (uri: string): Promise<PairSide | undefined> => {
    const file = filePath(uri);
    if (file === undefined || !existsSync(file)) return undefined;
    const t0 = Date.now();
    const fresh = !diskCache.has(file);
    const read = await readFromDisk(file);
    if ('cancelled' in read) return undefined;
    const trace = read.result.traces[0];
    if (trace === undefined) return undefined;
    if (fresh) log(`read ${path.basename(file)} from disk in ${Date.now() - t0} ms`);
    return {
      key: `${uri}@disk${read.mtimeMs}`,
      uri,
      trace,
      role: roleOf(trace, path.basename(file)),
    };
  };

  const pairOptions = (): PairOptions | string => {
    const o: PairOptions = {};
    if (settings.vcpuMap.trim() !== '') {
      const m = parseVcpuMapFlag(settings.vcpuMap);
      if (typeof m === 'string') return `vcpuLens.vcpuMap: ${m}`;
      o.vcpuMap = m;
    }
    if (settings.clockOffset.trim() !== '') {
      if (!/^-?\d+$/.test(settings.clockOffset.trim()))
        return `vcpuLens.clockOffset: a whole number in the traces' unit, not '${settings.clockOffset}'`;
      o.offset = BigInt(settings.clockOffset.trim());
    }
    return o;
  };

  /** The analysis of `uri` with its pair, cached per pair of versions. */
  const analysisFor = async (
    uri: string,
  ): Promise<
    | {
        analysis: PairAnalysis;
        key: string;
        host: ParsedDoc['trace'];
        hostUri: string;
        guestUri: string;
      }
    | undefined
  > => {
    // An open document, or a file on disk (a .dat in the custom editor, a pair not open).
    const st = states.get(uri);
    const me: PairSide | undefined =
      st?.parsed !== undefined
        ? { key: st.key, uri, trace: st.parsed.trace, role: st.parsed.role }
        : st === undefined
          ? await loadFromDisk(uri)
          : undefined;
    if (me === undefined) return undefined;
    const other = await pairOf(uri);
    if (other === undefined) return undefined;
    // Roles: from content and names; when both or neither claim host, the file names decide.
    let [host, guest] = me.role === 'guest' || other.role === 'host' ? [other, me] : [me, other];
    if (host.role === 'guest' && guest.role === 'host') [host, guest] = [guest, host];
    const key = `${host.key}|${guest.key}`;
    if (!analyses.has(key)) {
      const opts = pairOptions();
      if (typeof opts === 'string') {
        log(opts);
        analyses.set(key, undefined);
      } else {
        const t0 = Date.now();
        const a = analyzePair(host.trace, guest.trace, opts);
        log(`analysed ${nameOf(host.uri)} + ${nameOf(guest.uri)} in ${Date.now() - t0} ms`);
        analyses.set(key, a);
      }
    }
    const analysis = analyses.get(key);
    return analysis === undefined
      ? undefined
      : { analysis, key, host: host.trace, hostUri: host.uri, guestUri: guest.uri };
  };

  /** The timeline of a trace and its pair: the engine's model and level-of-detail index. */
  const indexes = new Map<string, TimelineIndex>();
  const timelineFor = async (uri: string): Promise<TimelineIndex | string> => {
    const a = await analysisFor(uri);
    if (a === undefined)
      return 'no pair for this trace: open or pick the other machine’s trace (vCPU Lens: Pair Host and Guest Traces…), or name them host.* and guest.*';
    let index = indexes.get(a.key);
    if (index === undefined) {
      const t0 = Date.now();
      const model = buildTimelineModel(a.analysis, {
        title: `${nameOf(a.hostUri)} + ${nameOf(a.guestUri)}`,
      });
      index = new TimelineIndex(model);
      // One index per pair of versions: drop the ones of older versions.
      indexes.clear();
      indexes.set(a.key, index);
      log(`timeline of ${nameOf(a.hostUri)} + ${nameOf(a.guestUri)} in ${Date.now() - t0} ms`);
    }
    return index;
  };

  const newState = (version: number | null, source: DocState['source']): DocState => ({
    version,
    parsed: undefined,
    key: '',
    timer: undefined,
    receivedAt: Date.now(),
    source,
    running: 0,
    waiters: [],
  });
  const forget = (uri: string): void => {
    const st = states.get(uri);
    states.delete(uri);
    if (st === undefined) return;
    if (st.timer !== undefined) {
      clearTimeout(st.timer);
      st.timer = undefined;
      leave();
      settle(st);
    }
    // Whoever waited on it gets the answer for a closed document.
    for (const r of st.waiters.splice(0)) r();
  };

  documents.onDidOpen((e) => {
    // A document read from disk so far gets its text from now on (it was edited).
    forget(e.document.uri);
    states.set(e.document.uri, newState(e.document.version, 'text'));
    schedule(e.document.uri, 0);
  });

  connection.onNotification(OPEN_FROM_DISK, (p: OpenFromDiskParams) => {
    const st = states.get(p.uri);
    const file = filePath(p.uri);
    if (file === undefined) return;
    if (st !== undefined && st.source === 'disk') {
      // The tab's document opened (or reloaded): the same file, unless its mtime changed.
      st.version = p.version;
      st.receivedAt = Date.now();
      const cached = diskCache.get(file);
      let mtimeMs = -2;
      try {
        mtimeMs = statSync(file).mtimeMs;
      } catch {
        // re-read below, which reports it
      }
      if (st.parsed !== undefined && cached?.mtimeMs === mtimeMs)
        void busy(() => publish(p.uri)).catch((e: unknown) => log(`publish failed: ${String(e)}`));
      else if (st.parsed !== undefined || st.cancelled === true) schedule(p.uri, 0);
      return; // else: its read is under way and publishes with this version
    }
    if (documents.get(p.uri) !== undefined) return; // text-synced already
    states.set(p.uri, newState(p.version, 'disk'));
    schedule(p.uri, 0);
  });

  connection.onNotification(CLOSE_FROM_DISK, (p: CloseFromDiskParams) => {
    if (states.get(p.uri)?.source !== 'disk') return;
    forget(p.uri);
    void connection.sendDiagnostics({ uri: p.uri, diagnostics: [] });
  });
  documents.onDidChangeContent((e) => {
    const st = states.get(e.document.uri);
    // TextDocuments reports an open as a change too: the open's own parse is scheduled already.
    if (st === undefined || (st.parsed === undefined && e.document.version === st.version)) return;
    st.receivedAt = Date.now();
    schedule(e.document.uri, PARSE_DELAY_MS);
  });
  documents.onDidClose((e) => {
    forget(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

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

  // Answers wait for a parse in flight: VS Code caches an empty outline (or CodeLens) per
  // document version, so answering "nothing yet" for a trace still being read would stick.
  connection.onHover(async (p) => {
    await parsedOrNot(p.textDocument.uri);
    const st = states.get(p.textDocument.uri);
    const text = lineText(p.textDocument.uri, p.position.line);
    if (st?.parsed === undefined || text === undefined) return null;
    const word = wordAt(text, p.position.character);
    const a = await analysisFor(p.textDocument.uri);
    const side: TraceRole =
      a === undefined ? st.parsed.role : a.host === st.parsed.trace ? 'host' : 'guest';
    return hover(st.parsed, p.position.line, word, a?.analysis, side) ?? null;
  });

  connection.onDocumentSymbol(async (p) => {
    await parsedOrNot(p.textDocument.uri);
    const parsed = states.get(p.textDocument.uri)?.parsed;
    return parsed === undefined ? [] : symbols(parsed);
  });

  connection.onCodeLens(async (p) => {
    await parsedOrNot(p.textDocument.uri);
    const parsed = states.get(p.textDocument.uri)?.parsed;
    if (parsed === undefined) return [];
    const other = await pairOf(p.textDocument.uri);
    return codeLenses(
      p.textDocument.uri,
      parsed.role,
      other !== undefined ? nameOf(other.uri) : undefined,
    );
  });

  connection.onDefinition(async (p) => {
    await parsedOrNot(p.textDocument.uri);
    const parsed = states.get(p.textDocument.uri)?.parsed;
    const text = lineText(p.textDocument.uri, p.position.line);
    if (parsed === undefined || text === undefined) return null;
    return definition(parsed, p.textDocument.uri, text, p.position.character) ?? null;
  });

  connection.onRequest(SET_PAIR, async (p: SetPairParams) =>
    busy(async () => {
      const old = pairs.get(p.uri);
      if (old !== undefined) pairs.delete(old);
      pairs.delete(p.uri);
      if (p.pairUri !== null) {
        pairs.set(p.uri, p.pairUri);
        pairs.set(p.pairUri, p.uri);
      }
      analyses.clear();
      for (const u of [p.uri, p.pairUri, old])
        if (u !== null && u !== undefined && states.get(u)?.parsed !== undefined) await publish(u);
      return true;
    }),
  );

  connection.onRequest(DOC_STATUS, async (p: DocStatusParams): Promise<DocStatus> => {
    const parsed = states.get(p.uri)?.parsed;
    const a = await analysisFor(p.uri);
    const other = await pairOf(p.uri);
    const time = a?.analysis.states?.time;
    return {
      uri: p.uri,
      parsed: parsed !== undefined,
      role: parsed?.role ?? 'unknown',
      events: parsed?.trace.events.length ?? 0,
      span: parsed !== undefined ? parsed.timelines.end - parsed.timelines.start : 0,
      unit: parsed?.trace.clock.unit ?? 'ns',
      pairUri: other?.uri ?? null,
      preemptions: time !== undefined ? time.reduce((s, t) => s + t.preemptions, 0) : null,
      preempted: time !== undefined ? time.reduce((s, t) => s + t.preempted, 0) : null,
      problems: parsed?.trace.diagnosticsTotal ?? 0,
    };
  });

  connection.onRequest(ANALYZE, async (p: AnalyzeParams): Promise<AnalyzeResult> =>
    busy(async () => {
      await parsedOrNot(p.uri);
      const st = states.get(p.uri);
      if (st?.source === 'disk' && st.cancelled === true) {
        // Asked again after a cancelled read: read it again.
        st.cancelled = false;
        await readAndPublish(p.uri);
      }
      // Not open: read from its file (a big trace analysed from the explorer).
      if (
        states.has(p.uri)
          ? states.get(p.uri)?.parsed === undefined
          : !existsSync(filePath(p.uri) ?? '')
      )
        return { ok: false, message: 'not a trace vCPU Lens reads (or not read yet)' };
      const a = await analysisFor(p.uri);
      if (a === undefined) {
        const opts = pairOptions();
        return {
          ok: false,
          message:
            typeof opts === 'string'
              ? opts
              : 'no pair: open or pick the other machine’s trace (vCPU Lens: Pair Host and Guest Traces…), or name them host.* and guest.*',
        };
      }
      const report = analyzeReport(a.analysis);
      const summary = [
        ...a.analysis.findings.map((f) => `finding (${f.severity}): ${f.message}`),
        ...(a.analysis.advice?.reasoning ?? []),
        ...a.analysis.reasoning,
      ];
      return { ok: true, hostUri: a.hostUri, guestUri: a.guestUri, report, summary };
    }),
  );

  connection.onRequest(TIMELINE, async (p: TimelineParams): Promise<TimelineResult> =>
    busy(async () => {
      await parsedOrNot(p.uri);
      const index = await timelineFor(p.uri);
      if (typeof index === 'string') return { kind: 'error', message: index };
      try {
        return answerView(index, p.body);
      } catch (e) {
        log(`timeline request failed: ${(e as Error).stack ?? String(e)}`);
        return { kind: 'error', message: (e as Error).message };
      }
    }),
  );

  connection.onRequest(EXPORT, async (p: ExportParams): Promise<ExportResult> =>
    busy(async () => {
      await parsedOrNot(p.uri);
      const index = await timelineFor(p.uri);
      if (typeof index === 'string') return { ok: false, message: index };
      try {
        const text =
          p.kind === 'html'
            ? renderHtmlReport(index.model, webviewAssets(), randomBytes(18).toString('base64'))
            : JSON.stringify(chromeTrace(index.model));
        // Never over a file the user did not agree to replace ('wx' fails if it exists).
        writeFileSync(p.path, text, { flag: p.overwrite === true ? 'w' : 'wx' });
        return { ok: true, path: p.path, bytes: Buffer.byteLength(text) };
      } catch (e) {
        const exists = (e as NodeJS.ErrnoException).code === 'EEXIST';
        return {
          ok: false,
          message: exists ? `${p.path} exists and was kept` : (e as Error).message,
          ...(exists ? { exists } : {}),
        };
      }
    }),
  );

  connection.onRequest(SIMULATE, async (p: SimulateParams, token: CancellationToken) =>
    busy(async () => runSimulation(p, token)),
  );
  registerSimDashboard(connection, busy);

  documents.listen(connection);
  connection.listen();
  return {
    idle: () => (pending === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  };
}

/** The webview bundle beside the server's own bundle (dist/). */
function webviewAssets(): { js: string; css: string } {
  return {
    js: readFileSync(path.join(__dirname, 'webview.js'), 'utf8'),
    css: readFileSync(path.join(__dirname, 'webview.css'), 'utf8'),
  };
}

function wordAt(line: string, ch: number): string | undefined {
  let s = ch;
  let e = ch;
  while (s > 0 && /\w/.test(line[s - 1]!)) s--;
  while (e < line.length && /\w/.test(line[e]!)) e++;
  return s < e ? line.slice(s, e) : undefined;
}

/**
 * Runs a preset (and optionally the talk's five runs) and writes its traces and truth. Files the
 * user has are never replaced: when the folder holds other versions of them, the run goes to a
 * fresh folder beside it (`outDir-2`, ...), and the result says where.
 */
async function runSimulation(p: SimulateParams, token: CancellationToken): Promise<SimulateResult> {
  const preset = PRESETS[p.preset];
  if (preset === undefined) return { ok: false, message: `unknown preset '${p.preset}'` };
  const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));
  const cfg: SimConfig = {
    ...preset.config,
    ...preset.coRunner,
    policy: p.policy,
    dop: p.dop === 'oracle' ? 'fixed' : p.dop,
    seed: p.seed,
    ...(p.policy === 'spin-then-block'
      ? {
          spinNs: spinBeforeBlockNs(
            { runtime: 'libgomp' },
            preset.config.threads,
            preset.config.vcpus,
          ),
        }
      : {}),
  };
  const summary: string[] = [`${preset.name}: ${preset.description}`];
  let compare: { name: string; wallS: number }[] | null = null;
  if (p.compare) {
    compare = [];
    for (const name of COMPARE_RUNS) {
      await yieldNow();
      if (token.isCancellationRequested)
        return { ok: false, message: 'cancelled', cancelled: true };
      const r = simulate({ ...compareConfig(preset, name), seed: p.seed });
      compare.push({ name, wallS: r.wallNs / 1e9 });
      summary.push(
        `${name}: ${(r.wallNs / 1e9).toFixed(3)} s${preset.talk ? ` (talk ${preset.talk[name].toFixed(2)} s)` : ''}`,
      );
    }
  }
  await yieldNow();
  if (token.isCancellationRequested) return { ok: false, message: 'cancelled', cancelled: true };
  // The same run and files as `vcpu-lens simulate --out` (core's runScenario).
  const s = runScenario(cfg, { oracle: p.dop === 'oracle' });
  if (s.bestDop !== undefined)
    summary.push(`oracle: the best fixed DoP in hindsight is ${s.bestDop} threads`);
  let outDir: string;
  try {
    outDir = writeScenarioFiles(p.outDir, s.files);
  } catch (e) {
    return { ok: false, message: `cannot write the simulation: ${(e as Error).message}` };
  }
  if (outDir !== p.outDir)
    summary.push(`${p.outDir} holds other files of that name (kept): wrote into ${outDir}`);
  const avg = s.result.teams.reduce((a, b) => a + b, 0) / s.result.teams.length;
  summary.push(
    `${p.policy}, DoP ${p.dop}: ${(s.result.wallNs / 1e9).toFixed(3)} s, ${s.result.preemptions.reduce((a, b) => a + b, 0)} vCPU preemptions, average team ${avg.toFixed(2)} of ${s.config.threads}`,
  );
  const [hostPath, guestPath, truthPath] = s.files.map((f) => path.join(outDir, f.name)) as [
    string,
    string,
    string,
  ];
  return {
    ok: true,
    wallS: s.result.wallNs / 1e9,
    outDir,
    hostPath,
    guestPath,
    truthPath,
    compare,
    summary,
  };
}

/**
 * Writes a run's files into `dir`, or when it holds a file of one of their names with other
 * contents, into the first of `dir-2`, `dir-3`, ... that does not: a folder already holding exactly
 * these files is used as it is (the same run again). Never replaces a file ('wx'). Returns the folder.
 */
function writeScenarioFiles(dir: string, files: readonly ScenarioFile[]): string {
  const same = (f: string, c: string | Uint8Array): boolean => {
    try {
      return readFileSync(f).equals(typeof c === 'string' ? Buffer.from(c) : c);
    } catch {
      return false;
    }
  };
  for (let k = 1; k <= 1000; k++) {
    const d = k === 1 ? dir : `${dir}-${k}`;
    const paths = files.map((f) => path.join(d, f.name));
    const present = paths.filter((f) => existsSync(f));
    if (present.length === files.length && files.every((f, i) => same(paths[i]!, f.contents)))
      return d;
    if (present.length > 0) continue;
    mkdirSync(d, { recursive: true });
    files.forEach((f, i) => writeFileSync(paths[i]!, f.contents, { flag: 'wx' }));
    return d;
  }
  throw new Error(`${dir} and the next 999 folders beside it all hold other simulation files`);
}
