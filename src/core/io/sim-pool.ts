// The advice's what-if on a simulation worker (sim-worker.ts) whose code is already compiled: the
// worker is started before the traces are read and warms the simulator and the what-if up
// meanwhile, so when the advice comes it runs there about three times faster than on the calling
// thread's cold code. The call stays synchronous: the caller blocks on Atomics.wait and takes the
// answer with receiveMessageOnPort. Without a worker, before it is warm, or when it fails, the
// what-if runs on the calling thread: the answer is the same (the simulator is seeded).

import type { MessagePort, Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { whatIf, type WhatIf, type WhatIfOptions } from '../whatif/engine';
import type { ProgramShape } from '../whatif/shape';

/**
 * The worker's start data: `state` holds [its WORKER state, requests waiting for it], `port`
 * carries answers back.
 */
export interface SimWorkerData {
  state: SharedArrayBuffer;
  port: MessagePort;
}

/** A what-if asked of the worker; `flag` (an Int32Array of one) says where it stands (below). */
export interface WhatIfRequest {
  id: number;
  flag: SharedArrayBuffer;
  shape: ProgramShape;
  opts: Omit<WhatIfOptions, 'runner'>;
}

/** The answer, posted on the data's port before the flag says DONE. */
export interface WhatIfAnswer {
  id: number;
  whatIf: WhatIf;
}

/** Where the worker is: loading its code, warming it up, warm. */
export const WORKER = { loading: 0, warming: 1, warm: 2 } as const;

/** A request's flag: posted, taken by the worker, answered, failed, or taken back by the caller. */
export const REQUEST = { posted: 0, taken: 1, done: 2, failed: 3, withdrawn: 4 } as const;

/**
 * How long the caller waits for the worker to take a request before it runs the what-if itself:
 * it takes it at once when idle, or after the warm-up step it is in (the worker is then busy or
 * gone).
 */
export const DEFAULT_TAKE_MS = 250;
/** How long the caller waits for a taken request's answer before it runs the what-if itself. */
export const DEFAULT_ANSWER_MS = 60_000;

/** The what-if as the advice calls it (analyze/dop.ts's AdviceOptions.runWhatIf). */
export type WhatIfRunner = (shape: ProgramShape, o: WhatIfOptions) => WhatIf;

/** A simulation worker and the what-if runner that uses it. */
export interface SimPool {
  runWhatIf: WhatIfRunner;
  /** What-ifs run, and how many of them on the worker. */
  readonly stats: { whatIfs: number; onWorker: number };
  /** Whether the worker has finished its warm-up. */
  warmedUp(): boolean;
  /** Stops the worker (what-ifs then run on the calling thread). */
  close(): Promise<void>;
}

export interface SimPoolOptions {
  takeMs?: number;
  answerMs?: number;
  /** `script` is the worker's code, not a path (tests). */
  eval?: boolean;
}

/** worker_threads, loaded when a pool starts (~15 ms a command without one skips). */
const workerThreads = (): typeof import('node:worker_threads') =>
  process.getBuiltinModule('node:worker_threads');

/**
 * Starts a simulation worker running `script` (dist/sim-worker.js), which warms up at once; it
 * never keeps the process alive. Its runner can be called at any time: the worker answers once it
 * is warm and for as long as it answers in time.
 */
export function startSimPool(script: string, o: SimPoolOptions = {}): SimPool {
  const takeMs = o.takeMs ?? DEFAULT_TAKE_MS;
  const answerMs = o.answerMs ?? DEFAULT_ANSWER_MS;
  const wt = workerThreads();
  const state = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new wt.MessageChannel();
  port1.unref();
  const data: SimWorkerData = { state: state.buffer as SharedArrayBuffer, port: port2 };
  let worker: Worker | undefined = new wt.Worker(script, {
    workerData: data,
    transferList: [port2],
    eval: o.eval === true,
  });
  worker.unref();
  const gone = (): void => {
    worker = undefined;
  };
  worker.on('error', gone);
  worker.on('exit', gone);
  let nextId = 0;
  const stats = { whatIfs: 0, onWorker: 0 };
  /** The worker's answer to request `id`, or undefined (it failed, or is too slow). */
  const ask = (w: Worker, shape: ProgramShape, opts: WhatIfOptions): WhatIf | undefined => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const { runner: _runner, ...plain } = opts;
    const req: WhatIfRequest = {
      id: nextId++,
      flag: flag.buffer as SharedArrayBuffer,
      shape,
      opts: plain,
    };
    // Said before it is posted: a warm-up stops at its next batch of simulations.
    Atomics.add(state, 1, 1);
    w.postMessage(req);
    Atomics.wait(flag, 0, REQUEST.posted, takeMs);
    Atomics.sub(state, 1, 1);
    // Not taken in time: withdrawn, unless the worker takes it at this very moment.
    if (Atomics.compareExchange(flag, 0, REQUEST.posted, REQUEST.withdrawn) === REQUEST.posted)
      return undefined;
    if (Atomics.wait(flag, 0, REQUEST.taken, answerMs) === 'timed-out') {
      // Too slow to be waited for (or gone without a word): not asked again.
      worker = undefined;
      void w.terminate();
      return undefined;
    }
    if (Atomics.load(flag, 0) !== REQUEST.done) return undefined;
    // Answers to requests given up on come first, if any.
    for (
      let m = wt.receiveMessageOnPort(port1);
      m !== undefined;
      m = wt.receiveMessageOnPort(port1)
    ) {
      const a = m.message as WhatIfAnswer;
      if (a.id === req.id) return a.whatIf;
    }
    return undefined;
  };
  const runWhatIf: WhatIfRunner = (shape, opts) => {
    stats.whatIfs++;
    const w = worker;
    // A worker still loading its code would answer cold, as this thread does.
    const got =
      w !== undefined && Atomics.load(state, 0) !== WORKER.loading
        ? ask(w, shape, opts)
        : undefined;
    if (got === undefined) return whatIf(shape, opts);
    stats.onWorker++;
    return got;
  };
  return {
    runWhatIf,
    stats,
    warmedUp: () => Atomics.load(state, 0) === WORKER.warm,
    close: async () => {
      const w = worker;
      worker = undefined;
      port1.close();
      if (w !== undefined) await w.terminate();
    },
  };
}

/**
 * The worker's side of a request: the what-if if the request is still there to be taken, its
 * answer posted on `port` and then the flag set (failed when it threw).
 */
export function answer(req: WhatIfRequest, port: MessagePort): void {
  const flag = new Int32Array(req.flag);
  if (Atomics.compareExchange(flag, 0, REQUEST.posted, REQUEST.taken) !== REQUEST.posted) return;
  let to: number = REQUEST.done;
  try {
    const a: WhatIfAnswer = { id: req.id, whatIf: whatIf(req.shape, req.opts) };
    port.postMessage(a);
  } catch {
    to = REQUEST.failed;
  }
  Atomics.store(flag, 0, to);
  Atomics.notify(flag, 0);
}

/** The bundled simulation worker beside the running bundle (dist/), or undefined (tests). */
export function defaultSimWorkerScript(): string | undefined {
  const dir = typeof __dirname === 'string' ? __dirname : undefined;
  if (dir === undefined) return undefined;
  const p = `${dir}/sim-worker.js`;
  return existsSync(p) ? p : undefined;
}
