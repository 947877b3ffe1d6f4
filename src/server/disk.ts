// Trace files read from disk (big documents, pairs that are not open, `.dat`): the core reader,
// once per file and modification time, on worker threads for big files, with work-done progress
// the user can cancel; each file watched while cached, so a change reads it again.

import { FSWatcher, statSync, watch } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { analysisEventText } from '../core/analyze/pair';
import { LoadResult, ReadOptions, readTraceFile } from '../core/io/read-trace-file';
import { DIAG } from '../core/model/diagnostics';
import type { Disposable, WorkDoneProgressServerReporter } from 'vscode-languageserver';
import { FILE_CHANGED } from '../protocol/lsp-ext';
import type { Cancelled, Server, ServerOps } from './context';
import { mb } from './documents';

/**
 * Traces read from disk at least this big are parsed on worker threads (a .dat on one, a text in
 * parts). A smaller one is read on the server's thread: a worker's start (a thread, an isolate,
 * the worker bundle compiled or loaded from the cache, the trace sent back) costs more than
 * reading a few MB, and a .dat pair's first paint waits on it.
 */
const PARALLEL_FROM_BYTES = 8 << 20;

/**
 * How the server reads a trace file: its settings (diagnostics cap, memory cap, TSC rate), and for
 * a `.dat` only the event text an analysis reads (analyze/pair.ts analysisEventText: no print
 * markers, so no kallsyms, no syscalls' text; text formats keep all theirs). `datText`, which
 * prints every event, reads the file again with `{ eventText: true }`.
 */
export function serverReadOptions(s: Pick<Server, 'settings'>, name: string): ReadOptions {
  const settings = s.settings;
  return {
    name,
    eventLines: true,
    eventText: analysisEventText({}),
    diagnosticsCap: settings.maxDiagnostics,
    // Worker threads from 8 MiB (the CLI's 32 MiB is tuned for throughput; here the
    // server's own thread stays free to answer while a big trace is read).
    parallelMinBytes: PARALLEL_FROM_BYTES,
    workerMinBytes: PARALLEL_FROM_BYTES,
    ...(settings.memoryCapMB > 0 ? { memoryCapBytes: settings.memoryCapMB * 2 ** 20 } : {}),
    ...(Number.isFinite(settings.tscHz) && settings.tscHz > 0 ? { tscHz: settings.tscHz } : {}),
  };
}

export function diskOps(s: Server): Pick<ServerOps, 'readFromDisk'> {
  const { connection, diskCache, watchers, log } = s;

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
    const abort = new AbortController();
    // The read starts now, not after the client answers the progress' creation (a round trip
    // to an extension host that is busy opening the view): reports before it are left out, as
    // a read too short to show them is the common case.
    let progress: WorkDoneProgressServerReporter | undefined;
    let sub: Disposable | undefined;
    let ended = false;
    const created = connection.window.createWorkDoneProgress().then((p) => {
      if (ended) return p.done();
      progress = p;
      p.begin(`vCPU Lens: reading ${name}`, 0, undefined, true);
      sub = p.token.onCancellationRequested(() => abort.abort());
    });
    created.catch((e: unknown) => log(`no progress for reading ${name}: ${String(e)}`));
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
        ...serverReadOptions(s, name),
        signal: abort.signal,
        onProgress: (p) => {
          at.doneBytes = p.bytesDone;
          at.totalBytes = p.bytesTotal;
          const pct = p.bytesTotal > 0 ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 0;
          if (pct === last || progress === undefined) return;
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
      ended = true;
      sub?.dispose();
      progress?.done();
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
    s.analyses.clear();
    s.indexes.clear();
    void connection.sendNotification(FILE_CHANGED, { uri });
    for (const [u, st] of s.states) {
      if (u === uri && st.source === 'disk') s.schedule(u, 0);
      else if (st.parsed !== undefined)
        void s.busy(() => s.publish(u)).catch((e: unknown) => log(`publish failed: ${String(e)}`));
    }
  };

  return { readFromDisk };
}
