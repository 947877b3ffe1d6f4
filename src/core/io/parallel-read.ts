// Reads a large uncompressed text trace on several threads: the file is cut at line boundaries
// into byte ranges, each parsed by a worker (parse-worker.ts), and the parts appended in order
// with their ids remapped (model/trace-parts.ts). Gzip input and small files stay sequential.

import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import type { ImportOptions, ResumeState } from '../ingest/importer';
import type { TextFormatId } from '../ingest/formats';
import { completeTrace } from '../ingest/complete';
import { hasRawStates } from '../ingest/task-state';
import { DIAG } from '../model/diagnostics';
import { backwardsMessage } from '../model/trace';
import type { Trace } from '../model/trace';
import { appendTrace, TraceData, traceFromData } from '../model/trace-parts';
import { DatSplit, mergeDatParts } from './dat-source';
import type { InvalidUtf8 } from './utf8-chunks';
import { BufferReleaser } from './release';

/** worker_threads, loaded on the first worker: ~15 ms that a command reading on its thread skips. */
const workerThreads = (): typeof import('node:worker_threads') =>
  process.getBuiltinModule('node:worker_threads');

export interface PartRequest {
  path: string;
  start: number;
  end: number;
  /** A resumable text format (ingest/formats.ts). */
  format: TextFormatId;
  opts: ImportOptions & { resume?: ResumeState };
}

/**
 * A .dat file decoded on a worker (parse-worker.ts) so the caller's thread stays free: the whole
 * file, or some of its CPU streams (readDatInParts).
 */
export interface DatRequest {
  kind: 'dat';
  path: string;
  opts: ImportOptions;
  cpuRange?: { from: number; to: number };
}

export type PartResult =
  | {
      ok: true;
      traces: TraceData[];
      lines: number;
      replaced: boolean;
      /** The part's first invalid UTF-8: its file offset, its line within the part. */
      invalid?: InvalidUtf8;
      /** The part reached its memory cap: its traces end there, and later parts are not wanted. */
      stopped: boolean;
    }
  | { ok: false; error: string };

/** What a worker posts while it reads: bytes of its range consumed so far. */
export interface PartProgress {
  progress: number;
}

/** The caller's hold on a parallel read: cancel it, hear how far it got. */
export interface PartControl {
  signal?: AbortSignal | undefined;
  /** Bytes of the file consumed so far, all parts together. */
  onBytes?: (bytes: number) => void;
  /**
   * After each part is joined (in file order), with the traces so far: for work that can start
   * before the whole file is read (timelines, timeline/build.ts startTimelines).
   */
  onJoined?: (traces: Trace[]) => void;
}

/** Files smaller than this are read on the calling thread: a worker costs tens of ms to start. */
export const PARALLEL_MIN_BYTES = 32 << 20;

/** The bundled worker beside the running bundle (dist/), or undefined when there is none (tests). */
export function defaultWorkerScript(): string | undefined {
  const dir = typeof __dirname === 'string' ? __dirname : undefined;
  if (dir === undefined) return undefined;
  const p = `${dir}/parse-worker.js`;
  return existsSync(p) ? p : undefined;
}

/** Byte offsets that cut [0, size) into `parts` ranges, each boundary just after a newline. */
export async function splitAtLines(path: string, size: number, parts: number): Promise<number[]> {
  const cuts = [0];
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 16);
    for (let k = 1; k < parts; k++) {
      let pos = Math.max(Math.floor((k * size) / parts), cuts[cuts.length - 1]!);
      let found = -1;
      while (found < 0 && pos < size) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        const nl = buf.subarray(0, bytesRead).indexOf(10);
        if (nl >= 0) found = pos + nl + 1;
        else pos += bytesRead;
      }
      if (found > 0 && found < size && found > cuts[cuts.length - 1]!) cuts.push(found);
    }
  } finally {
    await fh.close();
  }
  cuts.push(size);
  return cuts;
}

type PartOk = Extract<PartResult, { ok: true }>;

/**
 * Parses path's ranges [cuts[k], cuts[k+1]) on `threads` workers, each taking the next part when
 * it is done with one, and joins the parts in file order as soon as each one's turn comes
 * (control.onJoined hears of each). The first part reads the header; later parts start from
 * `resume`, what an importer learned from the head.
 */
export async function readInParts(
  path: string,
  size: number,
  format: PartRequest['format'],
  opts: ImportOptions,
  resume: ResumeState,
  parts: number,
  workerScript: string,
  control: PartControl = {},
  threads = parts,
): Promise<{ traces: Trace[]; replaced: boolean; invalid?: InvalidUtf8 }> {
  const cuts = await splitAtLines(path, size, parts);
  const n = cuts.length - 1;
  const requests = cuts.slice(0, -1).map((start, k): PartRequest => {
    const end = cuts[k + 1]!;
    // Each part may hold its share of the memory cap (parts are alike: a part that reaches
    // its share means the whole would pass the cap).
    const partOpts: ImportOptions =
      k === 0 ? { ...opts, partOfFile: true } : { ...opts, resume, partOfFile: true };
    if (opts.memoryCapBytes !== undefined) partOpts.memoryShare = (end - start) / size;
    return { path, start, end, format, opts: partOpts };
  });
  const done = new Float64Array(n);
  const cap = opts.diagnosticsCap ?? 1000;
  const released = new BufferReleaser();
  let traces: Trace[] = [];
  let lineOffset = 0;
  let replaced = false;
  let invalid: InvalidUtf8 | undefined;
  let stopped = false;
  const join = (r: PartOk): void => {
    replaced ||= r.replaced;
    // The first part's in file order, numbered as one reader would.
    if (invalid === undefined && r.invalid !== undefined)
      invalid = {
        offset: r.invalid.offset,
        ...(r.invalid.line !== undefined ? { line: r.invalid.line + lineOffset } : {}),
      };
    const got = r.traces.map(traceFromData);
    if (traces.length === 0) {
      traces = got;
    } else {
      for (const t of got) {
        // A part that met only bad lines before any event of a named input reports them on a
        // trace of its own; a single thread reports them on the first trace.
        const base =
          traces.find((b) => b.name === t.name) ?? (t.events.length === 0 ? traces[0] : undefined);
        if (base !== undefined) {
          noteBackwardsAtJoin(base, t, lineOffset, opts.name);
          appendTrace(base, t, lineOffset, cap, released.free);
        } else {
          for (const d of t.diagnostics) if (d.line !== undefined) d.line += lineOffset;
          traces.push(t);
        }
      }
    }
    lineOffset += r.lines;
    // The memory cap stopped this part: the file's events end here.
    if (r.stopped) stopped = true;
    // Numeric task states mean nothing until the whole file is read: no early work on them.
    if (!traces.some(hasRawStates)) control.onJoined?.(traces);
  };
  await runPool(workerScript, requests, Math.min(threads, n), control, {
    onBytes: (k, b) => {
      done[k] = b;
      control.onBytes?.(done.reduce((x, y) => x + y, 0));
    },
    // Parts are joined in order; one that finishes early waits for those before it.
    inOrder: (r) => {
      if (!stopped) join(r);
      return !stopped;
    },
  });
  await released.flush();
  for (const t of traces) completeTrace(t);
  return { traces, replaced, ...(invalid !== undefined ? { invalid } : {}) };
}

/**
 * The VL1005 one thread would give when `part`'s first event is earlier than the events of
 * `base` before it (the part's own, after it in the file, then goes: once per file).
 */
function noteBackwardsAtJoin(
  base: Trace,
  part: Trace,
  lineOffset: number,
  source: string | undefined,
): void {
  const n = base.events.length;
  if (!base.events.sorted || n === 0 || part.events.length === 0) return;
  if (base.diagnostics.some((d) => d.code === DIAG.timeBackwards)) return;
  const back = base.events.ts(n - 1) - (Number(part.tsBase - base.tsBase) + part.events.ts(0));
  if (!(back > 0)) return;
  base.diagnostics.push({
    code: DIAG.timeBackwards,
    severity: 'warning',
    message: backwardsMessage(back),
    ...(part.firstEventLine !== undefined ? { line: part.firstEventLine + lineOffset } : {}),
    ...(source !== undefined ? { source } : {}),
  });
  base.diagnosticsTotal++;
}

/**
 * Runs `requests` on `threads` workers (`threads` at most the requests), each taking the next
 * request when it has answered one (its code stays compiled), and hands the answers to
 * `inOrder` in request order, each as soon as those before it are handed over. `inOrder`
 * returning false stops the run: no further requests are given out. A worker with nothing left
 * to do is stopped before its answer is handed over, and the run resolves once every worker
 * has stopped: their heaps are given back to the system only then, and what the caller does
 * with the answers would otherwise peak on top of them. Rejects when a worker fails or dies,
 * `inOrder` throws, or the caller aborts.
 */
function runPool(
  script: string,
  requests: PartRequest[],
  threads: number,
  control: PartControl,
  hear: { onBytes: (k: number, bytes: number) => void; inOrder: (r: PartOk) => boolean },
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (control.signal?.aborted === true) {
      reject(new Error('cancelled'));
      return;
    }
    const workers: Worker[] = [];
    const answers: (PartOk | undefined)[] = new Array(requests.length);
    let next = 0;
    let joined = 0;
    /** Workers on a request, and workers stopping (nothing left for them). */
    let busy = 0;
    let stopping = 0;
    let ended = false;
    const end = (e?: unknown): void => {
      if (ended) return;
      ended = true;
      control.signal?.removeEventListener('abort', onAbort);
      void Promise.all(workers.map((w) => w.terminate().catch(() => undefined))).then(() =>
        e === undefined ? resolve() : reject(e instanceof Error ? e : new Error(String(e))),
      );
    };
    const onAbort = (): void => end(new Error('cancelled'));
    control.signal?.addEventListener('abort', onAbort);
    /** Hands over the answers whose turn has come; false when that failed (the run is ended). */
    const drain = (): boolean => {
      try {
        while (joined < requests.length && answers[joined] !== undefined) {
          const r = answers[joined]!;
          answers[joined++] = undefined;
          if (!hear.inOrder(r)) next = requests.length; // stopped: nothing more is wanted
        }
        return true;
      } catch (e) {
        end(e);
        return false;
      }
    };
    const give = (w: Worker, slot: { k: number; retired: boolean }): void => {
      slot.k = next++;
      busy++;
      w.postMessage(requests[slot.k]);
    };
    for (let s = 0; s < threads; s++) {
      const w = new (workerThreads().Worker)(script, { workerData: { pool: true } });
      workers.push(w);
      const slot = { k: -1, retired: false };
      w.on('message', (res: PartResult | PartProgress) => {
        if (ended) return;
        if ('progress' in res) {
          hear.onBytes(slot.k, res.progress);
          return;
        }
        busy--;
        if (!res.ok) {
          end(new Error(`parse worker failed: ${res.error}`));
          return;
        }
        answers[slot.k] = res;
        if (next < requests.length) {
          if (!drain()) return;
          // The join may have stopped the run (a part at the memory cap): then nothing is left.
          if (next < requests.length) {
            give(w, slot);
            return;
          }
        }
        // Nothing left for it: it stops before its answer is handed over, so its heap is back
        // with the system before the join (which would otherwise peak on top of it).
        slot.retired = true;
        stopping++;
        void w
          .terminate()
          .catch(() => undefined)
          .then(() => {
            stopping--;
            if (!ended && drain() && busy === 0 && stopping === 0) end();
          });
      });
      w.once('error', (e) => end(e));
      w.once('exit', (code) => {
        if (!slot.retired) end(new Error(`parse worker exited with code ${code} before answering`));
      });
      give(w, slot);
    }
  });
}

/** Decodes a .dat file on a worker thread. */
export async function readDatInWorker(
  script: string,
  path: string,
  opts: ImportOptions,
  control: PartControl = {},
): Promise<Trace[]> {
  const r = await runPart(script, { kind: 'dat', path, opts }, control, () => {});
  return r.traces.map(traceFromData);
}

/**
 * Decodes a .dat's CPU groups (`split`) on one worker each and merges them in timestamp order.
 * Each part may hold its data's share of the memory cap. One part failing cancels the others.
 */
export async function readDatInParts(
  script: string,
  path: string,
  opts: ImportOptions,
  split: DatSplit,
  control: PartControl = {},
): Promise<Trace[]> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  control.signal?.addEventListener('abort', onAbort);
  try {
    const results = await Promise.all(
      split.ranges.map((cpuRange, k) => {
        const partOpts: ImportOptions =
          opts.memoryCapBytes !== undefined ? { ...opts, memoryShare: split.shares[k]! } : opts;
        return runPart(
          script,
          { kind: 'dat', path, opts: partOpts, cpuRange },
          { signal: stop.signal },
          () => {},
        ).catch((e: unknown) => {
          stop.abort();
          throw e;
        });
      }),
    );
    const parts = results.map((r) => traceFromData(r.traces[0]!));
    const released = new BufferReleaser();
    const merged = mergeDatParts(parts, split.cmdlines, opts.diagnosticsCap ?? 1000, released.free);
    await released.flush();
    return [merged];
  } finally {
    control.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Runs one request on a new worker. Rejects when the worker fails, dies (exits before
 * answering, e.g. out of memory) or the caller aborts; the worker is terminated in every case.
 */
function runPart(
  script: string,
  req: PartRequest | DatRequest,
  control: PartControl,
  onBytes: (bytes: number) => void,
): Promise<{
  traces: TraceData[];
  lines: number;
  replaced: boolean;
  invalid?: InvalidUtf8;
  stopped: boolean;
}> {
  return new Promise((resolve, reject) => {
    if (control.signal?.aborted === true) {
      reject(new Error('cancelled'));
      return;
    }
    const w = new (workerThreads().Worker)(script, { workerData: req });
    let settled = false;
    let stopped: Promise<unknown> = Promise.resolve();
    const settle = (): void => {
      settled = true;
      control.signal?.removeEventListener('abort', onAbort);
      stopped = w.terminate().catch(() => undefined);
    };
    const onAbort = (): void => {
      if (settled) return;
      settle();
      reject(new Error('cancelled'));
    };
    control.signal?.addEventListener('abort', onAbort);
    w.on('message', (res: PartResult | PartProgress) => {
      if (settled) return;
      if ('progress' in res) {
        onBytes(res.progress);
        return;
      }
      settle();
      // Answer once the worker has stopped: its heap is given back to the system only then,
      // and what the caller does next (a merge, timelines) would otherwise peak on top of it.
      void stopped.then(() => {
        if (res.ok) resolve(res);
        else reject(new Error(`parse worker failed: ${res.error}`));
      });
    });
    w.once('error', (e) => {
      if (settled) return;
      settle();
      reject(e);
    });
    w.once('exit', (code) => {
      if (settled) return;
      settle();
      reject(new Error(`parse worker exited with code ${code} before answering`));
    });
  });
}
