// Reads a trace file from disk as a stream: gzip is decompressed on the fly, text is decoded as
// UTF-8 in chunks and fed to the importer the content sniffed for. The only Node I/O in core.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { DIAG, Diagnostic } from '../model/diagnostics';
import { formatCount } from '../model/time';
import { InvalidUtf8, Utf8Chunks } from './utf8-chunks';
import { planDatSplit, readDatFile } from './dat-source';
import { zstdWasmCompiled } from './zstd-wasm';
import { availableParallelism } from 'node:os';
import {
  defaultWorkerScript,
  PARALLEL_MIN_BYTES,
  readDatInParts,
  readDatInWorker,
  readInParts,
} from './parallel-read';
import { DECODE_BYTES, READ_BYTES, readFileChunks, readTextRange } from './read-range';
import type { Trace } from '../model/trace';
import {
  createTextImporter,
  FileFormatId,
  ImportOptions,
  sniffBytes,
  sniffText,
  TextImporter,
} from '../ingest/index';
import { textFormat } from '../ingest/formats';
import { tickRate } from '../model/time';

/** Workers for one .dat's CPU groups at most (the merge on this thread grows with them). */
const MAX_DAT_PARTS = 4;

export interface LoadResult {
  path: string;
  /** What the content was: a text format, or the reason nothing was read. */
  format: FileFormatId;
  compression: 'none' | 'gzip';
  traces: Trace[];
  /** File-level problems (unreadable, unsupported); per-line ones live on each trace. */
  diagnostics: Diagnostic[];
  /** Bytes on disk and bytes after decompression. */
  fileBytes: number;
  textBytes: number;
}

export interface ReadOptions extends ImportOptions {
  /** Read size; 1 MiB by default (decoded and parsed in 64 KiB pieces). */
  chunkBytes?: number;
  /**
   * Threads for large uncompressed text (parts parsed in worker threads); default: the cores, at
   * most 4. 1 reads on the calling thread only.
   */
  threads?: number;
  /** The bundled parse worker; default: parse-worker.js beside the running bundle. */
  workerScript?: string;
  /** Files at least this big are read in parallel (default 32 MiB). */
  parallelMinBytes?: number;
  /**
   * A .dat smaller than this is read on the calling thread, not on a worker (default 0: always on
   * a worker, so a UI or server thread never stalls). A worker costs its own start (~50 ms: a
   * thread, a fresh V8 isolate, the worker bundle), which a small file's read does not repay when
   * the caller has nothing else to do (the CLI reading one file).
   */
  workerMinBytes?: number;
  /**
   * For a text file read in parallel: called after each part is joined, in file order, with the
   * traces so far (the first trace object stays the file's first trace unless the parallel read
   * fails and the file is read again on this thread). Work that can begin before the whole
   * file is read starts here: timelines (timeline/build.ts startTimelines).
   */
  onJoined?: (traces: Trace[]) => void;
  /**
   * Called now and then while loading (at most every ~100 ms, and once at the end) with the bytes
   * of the file consumed so far. For a UI's progress bar.
   */
  onProgress?: (p: LoadProgress) => void;
  /**
   * Called once, as soon as this read no longer needs the calling thread to get going: its
   * workers have been given the file, or it is about to read on this thread, or it ended. A
   * caller that reads another file on its own thread (workerMinBytes) starts that read after
   * this, so the two run side by side rather than the worker waiting for its start.
   */
  onStarted?: () => void;
  /**
   * Aborting stops the load (workers are terminated): the result then has no traces and a
   * `VL1015` diagnostic. A .dat read on the calling thread (no worker) is not interruptible.
   */
  signal?: AbortSignal;
  // memoryCapBytes (ImportOptions): loading stops at the cap with a VL1014 error on the trace.
}

export interface LoadProgress {
  /** Bytes of the file on disk consumed so far (compressed bytes for gzip). */
  bytesDone: number;
  bytesTotal: number;
}

const SNIFF_BYTES = 64 * 1024;
/**
 * Part size when parts are joined while others are read (ReadOptions.onJoined): small enough
 * that the joined front follows the workers closely, big enough that a part's fixed costs (its
 * own string and task tables, a message) stay small.
 */
const PIPELINE_PART_BYTES = 64 << 20;

/**
 * Loads a trace file. Never throws for bad content or a missing file: look at `diagnostics`.
 * With `tscHz` (ImportOptions: a positive rate, else a RangeError) a counting clock's
 * timestamps become ns as they are read, in every path (text, .dat, workers): once, at import,
 * as a .dat's TSC2NSEC is, so the timelines built while parts are joined, the clock map, the
 * views and the reports all speak ns and nothing converts twice.
 */
export async function readTraceFile(path: string, opts: ReadOptions = {}): Promise<LoadResult> {
  if (opts.tscHz !== undefined) tickRate(opts.tscHz); // a programmer error: fail before any work
  const onStarted = opts.onStarted;
  if (onStarted === undefined) return readFile(path, opts);
  let called = false;
  const started = (): void => {
    if (called) return;
    called = true;
    onStarted();
  };
  try {
    return await readFile(path, { ...opts, onStarted: started });
  } finally {
    started();
  }
}

async function readFile(path: string, opts: ReadOptions): Promise<LoadResult> {
  const name = opts.name ?? basename(path);
  const result: LoadResult = {
    path,
    format: 'unknown',
    compression: 'none',
    traces: [],
    diagnostics: [],
    fileBytes: 0,
    textBytes: 0,
  };
  try {
    result.fileBytes = (await stat(path)).size;
  } catch (e) {
    result.diagnostics.push({
      code: DIAG.io,
      severity: 'error',
      source: path,
      message: `cannot read: ${errText(e)}`,
    });
    return result;
  }
  if (aborted(opts)) return cancelled(result);
  /** A gzip file's stream and its gunzip (plain text is read by readFileChunks). */
  let fileStream: Readable | undefined;
  let input: Readable | undefined;
  let importer: TextImporter | undefined;
  try {
    const first = await firstChunk(createReadStream(path, { start: 0, end: 15 }));
    const kind = sniffBytes(first);
    if (kind === 'trace-cmd-dat') {
      result.format = 'trace-cmd-dat';
      result.textBytes = result.fileBytes;
      // On a worker when there is one, so the caller's thread (a UI, a server) never stalls.
      const threads = opts.threads ?? Math.min(availableParallelism(), 4);
      const script = opts.workerScript ?? defaultWorkerScript();
      const progress = progressReporter(opts, result.fileBytes);
      progress(0, true);
      if (threads > 1 && script !== undefined && result.fileBytes >= (opts.workerMinBytes ?? 0)) {
        try {
          // A big file with one buffer: its CPU streams in groups, a worker each.
          const split =
            result.fileBytes >= (opts.parallelMinBytes ?? PARALLEL_MIN_BYTES)
              ? planDatSplit(path, result.fileBytes, Math.min(threads, MAX_DAT_PARTS))
              : undefined;
          const reading =
            split !== undefined
              ? readDatInParts(script, path, importOptions(opts, name), split, {
                  signal: opts.signal,
                })
              : readDatInWorker(script, path, importOptions(opts, name), {
                  signal: opts.signal,
                });
          opts.onStarted?.();
          result.traces = await reading;
          progress(result.fileBytes, true);
          return result;
        } catch (e) {
          if (aborted(opts)) return cancelled(result);
          result.diagnostics.push({
            code: DIAG.io,
            severity: 'warning',
            source: path,
            message: `reading on a worker failed, read on this thread instead: ${errText(e)}`,
          });
        }
      }
      // A zstd.wasm compile started ahead (compileZstdWasmAhead) is waited for, not repeated.
      await zstdWasmCompiled();
      if (aborted(opts)) return cancelled(result);
      opts.onStarted?.();
      // Counted here, never on a worker: a worker's traces cross threads as whole event stores.
      const counted = opts.countOnly === true ? { countOnly: true } : {};
      result.traces = readDatFile(path, result.fileBytes, {
        ...importOptions(opts, name),
        ...counted,
      });
      progress(result.fileBytes, true);
      return result;
    }
    if (kind === 'zstd') {
      result.diagnostics.push({
        code: DIAG.unsupportedFormat,
        severity: 'error',
        source: path,
        message: 'zstd-compressed text is not read: decompress it (zstd -d) or use gzip',
      });
      return result;
    }
    const threads = opts.threads ?? Math.min(availableParallelism(), 4);
    const script = opts.workerScript ?? defaultWorkerScript();
    if (
      kind === 'text' &&
      threads > 1 &&
      script !== undefined &&
      result.fileBytes >= (opts.parallelMinBytes ?? PARALLEL_MIN_BYTES)
    ) {
      const done = await readParallel(path, name, opts, threads, script, result);
      if (aborted(opts)) return cancelled(result);
      if (done) return result;
      // Not readable in parts, or a worker failed (its diagnostic says so): read on this thread.
    }
    let chunks: AsyncIterable<Buffer>;
    if (kind === 'gzip') {
      result.compression = 'gzip';
      fileStream = createReadStream(path, { highWaterMark: opts.chunkBytes ?? READ_BYTES });
      // zlib's smallest output chunk is 64 bytes.
      input = fileStream.pipe(
        process
          .getBuiltinModule('node:zlib')
          .createGunzip({ chunkSize: Math.max(64, opts.chunkBytes ?? READ_BYTES) }),
      );
      chunks = input as AsyncIterable<Buffer>;
    } else {
      // Plain text: two reused read buffers, not a stream's new one per read (leaving the
      // loop closes the file).
      chunks = readFileChunks(path, 0, Infinity, opts.chunkBytes ?? READ_BYTES);
    }
    const decoder = new Utf8Chunks();
    let head = '';
    let invalid: InvalidUtf8 | undefined;
    // After each decode, before its text is fed: the first invalid bytes' line follows the lines
    // fed so far (or those of the head still waiting for the sniffer).
    const noteInvalid = (): void => {
      if (invalid !== undefined || decoder.invalid === undefined) return;
      let before = 0;
      if (importer !== undefined) before = importer.lines();
      else for (let i = head.indexOf('\n'); i >= 0; i = head.indexOf('\n', i + 1)) before++;
      invalid = {
        offset: decoder.invalid.offset,
        line: before + 1 + decoder.invalid.newlinesBefore,
      };
    };
    /**
     * Decodes and feeds one read; false when the sniffer found no format. Read big, decode small:
     * V8 builds strings of 256 KiB and more far more slowly. A function of its own, not inline in
     * this async one: a suspended async function keeps its registers, so the last piece decoded
     * here stayed alive across the next await and was copied by every scavenge (V8 then grew
     * its young generation, ~16 MiB resident).
     */
    const take = (buf: Buffer): boolean => {
      for (let at = 0; at < buf.length; at += DECODE_BYTES) {
        const text = decoder.decode(buf.subarray(at, Math.min(buf.length, at + DECODE_BYTES)));
        noteInvalid();
        if (importer === undefined) {
          head += text;
          if (head.length < SNIFF_BYTES) continue;
          importer = startImporter(head, name, opts, result);
          if (importer === undefined) return false;
          importer.feed(head);
          head = '';
        } else {
          importer.feed(text);
        }
      }
      return true;
    };
    const progress = progressReporter(opts, result.fileBytes);
    for await (const buf of chunks) {
      if (aborted(opts)) {
        input?.destroy();
        fileStream?.destroy();
        return cancelled(result);
      }
      if (importer?.stopped() === true) {
        // The memory cap: the importer has said where; read no further.
        input?.destroy();
        fileStream?.destroy();
        break;
      }
      result.textBytes += buf.length;
      progress((fileStream as { bytesRead?: number } | undefined)?.bytesRead ?? result.textBytes);
      if (!take(buf)) {
        input?.destroy();
        fileStream?.destroy();
        return result;
      }
    }
    const tail = decoder.end();
    noteInvalid();
    if (importer === undefined) {
      importer = startImporter(head + tail, name, opts, result);
      if (importer === undefined) return result;
      importer.feed(head + tail);
    } else if (tail.length > 0) {
      importer.feed(tail);
    }
    result.traces = importer.end();
    progress(result.fileBytes, true);
    if (invalid !== undefined)
      result.diagnostics.push(replacedDiagnostic(path, invalid, result.compression === 'gzip'));
  } catch (e) {
    if (aborted(opts)) return cancelled(result);
    input?.destroy();
    fileStream?.destroy();
    // Keep everything read before the damage (a truncated or corrupt gzip stream).
    if (importer !== undefined) result.traces = importer.end();
    result.diagnostics.push({
      code: DIAG.io,
      severity: 'error',
      source: path,
      message: `read failed after ${result.textBytes} bytes: ${errText(e)}`,
      offset: result.textBytes,
    });
  }
  return result;
}

/**
 * The parallel path; false when the caller should read sequentially: it failed (with a
 * diagnostic), or the format cannot be read in parts.
 */
async function readParallel(
  path: string,
  name: string,
  opts: ReadOptions,
  threads: number,
  script: string,
  result: LoadResult,
): Promise<boolean> {
  let head = '';
  await readTextRange(path, 0, SNIFF_BYTES, (t) => {
    head += t;
  });
  const format = sniffText(head);
  if (format === 'unknown') {
    startImporter(head, name, opts, result); // reports the unsupported format
    return true;
  }
  // A format that cannot start mid-file is read on this thread.
  if (!textFormat(format).resumable) return false;
  // What the head's header says (flavour, prefix width...), for the parts that start mid-file.
  const probe = createTextImporter(format, importOptions(opts, name));
  probe.feed(head.slice(0, head.lastIndexOf('\n') + 1));
  try {
    // One part per thread; or, when the caller starts work on the parts as they are joined and
    // a core is left for it, parts of PIPELINE_PART_BYTES, so the joined front follows the
    // workers. Without a free core that work only slows the workers down (BENCHMARKS.md).
    const perThread = Math.max(2, Math.min(threads, Math.ceil(result.fileBytes / (8 << 20))));
    const parts =
      opts.onJoined !== undefined && availableParallelism() > perThread
        ? Math.max(perThread, Math.ceil(result.fileBytes / PIPELINE_PART_BYTES))
        : perThread;
    const progress = progressReporter(opts, result.fileBytes);
    const r = await readInParts(
      path,
      result.fileBytes,
      format,
      importOptions(opts, name),
      probe.resumeState(),
      parts,
      script,
      {
        signal: opts.signal,
        onBytes: (done) => progress(done),
        ...(opts.onJoined !== undefined ? { onJoined: opts.onJoined } : {}),
      },
      perThread,
    );
    progress(result.fileBytes, true);
    result.format = format;
    result.traces = r.traces;
    result.textBytes = result.fileBytes;
    if (r.invalid !== undefined) result.diagnostics.push(replacedDiagnostic(path, r.invalid));
    return true;
  } catch (e) {
    if (aborted(opts)) return true;
    result.diagnostics.push({
      code: DIAG.io,
      severity: 'warning',
      source: path,
      message: `parallel reading failed, read on one thread instead: ${errText(e)}`,
    });
    return false;
  }
}

/**
 * What the importers get: the import options only (the reader's own options stay here; callbacks
 * and signals cannot be sent to workers).
 */
function importOptions(opts: ReadOptions, name: string): ImportOptions {
  const {
    onProgress: _progress,
    signal: _signal,
    chunkBytes: _chunk,
    threads: _threads,
    workerScript: _script,
    parallelMinBytes: _min,
    workerMinBytes: _inline,
    onJoined: _joined,
    onStarted: _started,
    countOnly: _counted,
    ...importOnly
  } = opts;
  return { ...importOnly, name };
}

/** A throttled onProgress (at most every 100 ms, and always when `force`). */
function progressReporter(
  opts: ReadOptions,
  total: number,
): (bytesDone: number, force?: boolean) => void {
  const cb = opts.onProgress;
  if (cb === undefined) return () => {};
  let last = -Infinity;
  return (bytesDone, force = false) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    cb({ bytesDone: Math.min(bytesDone, total), bytesTotal: total });
  };
}

function cancelled(result: LoadResult): LoadResult {
  result.traces = [];
  result.diagnostics.push({
    code: DIAG.cancelled,
    severity: 'info',
    source: result.path,
    message: 'loading was cancelled',
  });
  return result;
}

function replacedDiagnostic(path: string, at: InvalidUtf8, gzip = false): Diagnostic {
  return {
    code: DIAG.encoding,
    severity: 'warning',
    source: path,
    message: `the file has bytes that are not UTF-8 (the first at byte ${at.offset}${gzip ? ' of the decompressed text' : ''}${at.line !== undefined ? `, line ${at.line}` : ''}); they were replaced by U+FFFD`,
    offset: at.offset,
    ...(at.line !== undefined ? { line: at.line } : {}),
  };
}

function startImporter(
  head: string,
  name: string,
  opts: ReadOptions,
  result: LoadResult,
): TextImporter | undefined {
  const f = sniffText(head.slice(0, SNIFF_BYTES));
  if (f === 'unknown') {
    result.diagnostics.push({
      code: DIAG.unsupportedFormat,
      severity: 'error',
      source: result.path,
      message:
        head.trim().length === 0
          ? 'the file is empty'
          : `not a trace format vCPU Lens reads (trace-cmd report, tracefs trace, perf script): ` +
            `its first ${formatCount(Math.min(head.length, SNIFF_BYTES))} characters ` +
            `(of a ${formatCount(result.fileBytes)}-byte file${result.compression === 'gzip' ? ', gzip' : ''}) look like none of them`,
    });
    return undefined;
  }
  result.format = f;
  return createTextImporter(f, importOptions(opts, name));
}

async function firstChunk(s: Readable): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const b of s as AsyncIterable<Buffer>) parts.push(b);
  return Buffer.concat(parts);
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A function, not a property test: the signal can fire during any await of the read. */
function aborted(opts: ReadOptions): boolean {
  return opts.signal?.aborted === true;
}
