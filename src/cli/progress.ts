// The CLI's progress bar on stderr while traces load: one line for all files being read (analyze
// reads two at once), redrawn at most ten times a second, only on a terminal unless asked, and
// only once loading has taken a second (small files never flash a bar).

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { sniffBytes } from '../core/ingest/detect';
import { headerCompression } from '../core/ingest/trace-dat/file';
import { PARALLEL_MIN_BYTES } from '../core/io/parallel-read';
import { compileZstdWasmAhead } from '../core/io/zstd-wasm';
import { LoadProgress, LoadResult, readTraceFile, ReadOptions } from '../core/io/read-trace-file';
import type { Trace } from '../core/model/trace';
import { log, safeText } from './terminal';

export interface ProgressSink {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export class ProgressBar {
  private readonly files: { name: string; done: number; total: number }[] = [];
  private readonly t0: number;
  private lastDraw = 0;
  private shown = false;

  /** `mode`: auto (a terminal only), always, never. */
  constructor(
    private readonly mode: 'auto' | 'always' | 'never',
    private readonly out: ProgressSink = process.stderr,
    private readonly now: () => number = Date.now,
  ) {
    this.t0 = now();
  }

  private get enabled(): boolean {
    return this.mode === 'always' || (this.mode === 'auto' && this.out.isTTY === true);
  }

  /** A progress callback for one file (readTraceFile's onProgress). */
  track(name: string): (p: LoadProgress) => void {
    const f = { name, done: 0, total: 0 };
    this.files.push(f);
    return (p) => {
      f.done = p.bytesDone;
      f.total = p.bytesTotal;
      this.draw();
    };
  }

  /** The line as drawn now (exposed for tests). */
  line(): string {
    let done = 0;
    let total = 0;
    for (const f of this.files) {
      done += f.done;
      total += f.total;
    }
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 24;
    const fill = Math.round(frac * width);
    const secs = Math.max(1e-3, (this.now() - this.t0) / 1000);
    const names = this.files.map((f) => safeText(f.name)).join(' + ');
    const mb = (x: number): string => (x / 1e6).toFixed(0);
    return (
      `reading ${names} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ` +
      `${(100 * frac).toFixed(0).padStart(3)}%  ${mb(done)}/${mb(total)} MB  ${(done / 1e6 / secs).toFixed(0)} MB/s`
    );
  }

  private draw(): void {
    if (!this.enabled) return;
    const now = this.now();
    if (now - this.t0 < 1000 || now - this.lastDraw < 100) return;
    this.lastDraw = now;
    let s = this.line();
    const cols = this.out.columns ?? 100;
    if (s.length > cols - 1) s = s.slice(0, cols - 1);
    // On a terminal the line is redrawn in place; elsewhere (--progress always) one line a draw.
    this.out.write(this.out.isTTY === true ? `\r${s}\u001b[K` : `${s}\n`);
    this.shown = true;
  }

  /** Clears the bar (before the command prints its results). */
  done(): void {
    if (this.shown && this.out.isTTY === true) this.out.write('\r\u001b[K');
    this.shown = false;
  }
}

/**
 * When one of `files` is a zstd .dat (and Node has no zstd of its own), compiles zstd.wasm on
 * V8's background threads while the caller loads its code, so the read does not compile it.
 */
export function compileZstdAheadFor(files: string[]): void {
  const head = new Uint8Array(64);
  for (const f of files) {
    try {
      const fd = openSync(f, 'r');
      try {
        if (headerCompression(head.subarray(0, readSync(fd, head, 0, 64, 0))) === 'zstd')
          return compileZstdWasmAhead();
      } finally {
        closeSync(fd);
      }
    } catch {
      // Unreadable: its read says so.
    }
  }
}

/** The CLI's read options: the engine's, plus the bar that shows progress. */
export interface CliReadOptions extends ReadOptions {
  bar?: ProgressBar;
  /**
   * Several .dat files each smaller than this are read on the calling thread one after another
   * (default INLINE_DAT_BYTES; ignored when `workerMinBytes` is given).
   */
  inlineDatBytes?: number;
}

/**
 * .dat files of a pair each under this are read on the calling thread, no worker: the same
 * break-even as the language server's (server/disk.ts), where a worker's start costs more than
 * reading a few MB with warm code.
 */
export const INLINE_DAT_BYTES = 8 << 20;

/**
 * Loads files at once (each with its own progress on the shared bar), then clears the bar.
 * `onJoined`: file k's ReadOptions.onJoined; `onLoaded`: called as each file is read, while the
 * others may still be (work on one file can begin then). One .dat too small to be split over
 * workers is read on this thread: a worker would only add its start-up while this thread waits
 * for it. Several .dat files each under `inlineDatBytes` are all read on this thread, one after
 * another, each handed to `onLoaded` before the next is read: the second runs on code the first
 * warmed up (the lab's 1.3 MB guest: ~40 ms there, where a worker spends ~100 ms loading its
 * bundle and Node's internals into a fresh isolate and then decodes with cold code, ~300 ms of
 * CPU in all). Of bigger .dat files the biggest that will not be split over workers is read on
 * this thread, once the others' workers have started: the reads run side by side, one
 * worker's start (a fresh isolate compiling Node's internals, the worker bundle) is spared, and
 * it runs beside the longest read rather than before it; a file whose worker is still reading
 * when that read is done is then read on this thread too (readHereIfStillReading). (Text is
 * streamed on this thread between its chunks, or joined here from its workers: a read that held
 * the thread would stall it, so with any text file every file is read as before.)
 */
export async function loadTraces(
  files: string[],
  read: CliReadOptions,
  onJoined?: (k: number, traces: Trace[]) => void,
  onLoaded?: (k: number, r: LoadResult) => void,
): Promise<LoadResult[]> {
  const { bar, inlineDatBytes = INLINE_DAT_BYTES, ...opts } = read;
  if (files.length === 1 && opts.workerMinBytes === undefined)
    opts.workerMinBytes = opts.parallelMinBytes ?? PARALLEL_MIN_BYTES;
  const sizes = files.length > 1 && opts.workerMinBytes === undefined ? datSizes(files) : undefined;
  const allHere = sizes !== undefined && sizes.every((n) => n < inlineDatBytes);
  const inline =
    sizes !== undefined && !allHere
      ? biggestBelow(sizes, opts.parallelMinBytes ?? PARALLEL_MIN_BYTES)
      : -1;
  // In file order (the bar names them so).
  const each = files.map((f, k): ReadOptions => ({
    ...opts,
    ...(bar !== undefined ? { onProgress: bar.track(basename(f)) } : {}),
    ...(onJoined !== undefined ? { onJoined: (t: Trace[]) => onJoined(k, t) } : {}),
  }));
  const loaded = (k: number) => (r: LoadResult) => {
    onLoaded?.(k, r);
    return r;
  };
  try {
    if (allHere) {
      const results: LoadResult[] = [];
      for (const [k, f] of files.entries())
        results.push(loaded(k)(await readTraceFile(f, { ...each[k]!, workerMinBytes: Infinity })));
      bar?.done();
      if (read.tscHz !== undefined && read.recordedTicks !== true) noteRateUnused(results);
      return results;
    }
    const reads: Promise<LoadResult>[] = new Array(files.length);
    const onWorker: Promise<LoadResult>[] = new Array(files.length);
    const stop: AbortController[] = [];
    const started: Promise<void>[] = [];
    files.forEach((f, k) => {
      if (k === inline) return;
      // With a file read on this thread, a worker's read may be dropped (below): abortable.
      const ac = (stop[k] = new AbortController());
      const signal =
        opts.signal !== undefined ? AbortSignal.any([opts.signal, ac.signal]) : ac.signal;
      started.push(
        new Promise((onStarted) => {
          onWorker[k] = readTraceFile(f, {
            ...each[k]!,
            onStarted,
            ...(inline >= 0 ? { signal } : {}),
          });
        }),
      );
      if (inline < 0) reads[k] = onWorker[k]!.then(loaded(k));
    });
    if (inline >= 0) {
      const f = files[inline]!;
      const o = { ...each[inline]!, workerMinBytes: Infinity };
      const here = Promise.all(started)
        .then(() => readTraceFile(f, o))
        .then(loaded(inline));
      reads[inline] = here;
      files.forEach((g, k) => {
        if (k !== inline) reads[k] = readHereIfStillReading(k, g, here);
      });
    }
    /**
     * A file still on its worker when this thread's read is done is read here too, and the worker
     * stopped: this thread's code is warm by then, and a worker that is late (its start, a fresh
     * isolate compiling Node's internals and the bundle, runs slow on a loaded machine: ~400 ms
     * of this thread's idle time in a profile of the lab pair) would keep everything waiting. A
     * worker done by then is taken as it is. Either read gives the same trace.
     */
    async function readHereIfStillReading(
      k: number,
      f: string,
      here: Promise<unknown>,
    ): Promise<LoadResult> {
      let done: LoadResult | undefined;
      void onWorker[k]!.then(
        (r) => (done = r),
        () => undefined,
      );
      await here;
      // A worker that finished meanwhile has its message queued: let it land first.
      await new Promise((r) => setImmediate(r));
      if (done !== undefined || opts.signal?.aborted === true)
        return loaded(k)(done ?? (await onWorker[k]!));
      stop[k]!.abort();
      return loaded(k)(await readTraceFile(f, { ...each[k]!, workerMinBytes: Infinity }));
    }
    const results = await Promise.all(reads);
    bar?.done();
    if (read.tscHz !== undefined && read.recordedTicks !== true) noteRateUnused(results);
    return results;
  } finally {
    bar?.done();
  }
}

/** Each file's size on disk when all are .dat files; undefined when one is not, or cannot be looked at. */
function datSizes(files: string[]): number[] | undefined {
  const sizes: number[] = [];
  const head = new Uint8Array(16);
  for (const f of files) {
    try {
      const fd = openSync(f, 'r');
      try {
        sizes.push(fstatSync(fd).size);
        if (sniffBytes(head.subarray(0, readSync(fd, head, 0, 16, 0))) !== 'trace-cmd-dat')
          return undefined;
      } finally {
        closeSync(fd);
      }
    } catch {
      return undefined;
    }
  }
  return sizes;
}

/** The index of the biggest of `sizes` under `limit` bytes; -1 for none. */
function biggestBelow(sizes: number[], limit: number): number {
  let best = -1;
  for (let k = 0; k < sizes.length; k++)
    if (sizes[k]! < limit && (best < 0 || sizes[k]! > sizes[best]!)) best = k;
  return best;
}

/** --tsc-hz on traces whose timestamps are ns already (a clock printed in seconds, TSC2NSEC). */
function noteRateUnused(results: LoadResult[]): void {
  for (const r of results)
    for (const t of r.traces)
      if (t.clock.tscHz === undefined)
        log(
          `${safeText(r.path)}: its timestamps are ${t.dat?.tsc2nsec?.applied === true ? "ns by the file's TSC2NSEC option" : 'in ns already'}; --tsc-hz not applied`,
        );
}
