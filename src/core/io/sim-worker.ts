// Worker-thread entry (bundled as dist/sim-worker.js): runs the advice's what-if for sim-pool.ts.
// It loads the what-if and the simulator only, and while the caller still reads its traces runs
// small what-ifs (a blocking run with its wakeup path calibrated, a spinning one with the VMM's
// sleeps) so that their code is compiled when the real one comes; a request stops the warm-up.

import { parentPort, workerData } from 'node:worker_threads';
import { answer, REQUEST, WORKER, type SimWorkerData, type WhatIfRequest } from './sim-pool';
import { whatIf } from '../whatif/engine';
import { serialRunner, type SimBatchRunner } from '../whatif/sim-jobs';
import type { Estimate, ProgramShape } from '../whatif/shape';

const { state, port } = workerData as SimWorkerData;
const status = new Int32Array(state);

/** A made-up estimate around `value` (the warm-up's answers are thrown away). */
const around = (value: number): Estimate => ({
  value,
  low: 0.8 * value,
  high: 1.2 * value,
  basis: 'warm-up',
});

/** Small what-ifs of both kinds, until done or a request is waiting. */
function warmUp(): void {
  const blocking: ProgramShape = {
    threads: 4,
    vcpus: 4,
    pcpus: 2,
    wallNs: 100e6,
    waits: 'block',
    barriers: around(500),
    burstNs: around(60_000),
    overheadNs: around(8_000),
    workNs: around(50_000),
    wakeLatencyNs: around(40_000),
    wakeCostNs: around(3_000),
    syncShare: around(0.5),
    cpuNs: 100e6,
    coRunners: { count: 1, load: 1, names: ['hog'], basis: 'warm-up' },
    notes: [],
  };
  const spinning: ProgramShape = {
    ...blocking,
    waits: 'spin',
    overheadNs: undefined,
    workNs: undefined,
    wakeLatencyNs: undefined,
    wakeCostNs: undefined,
  };
  const quantiles = (from: number): number[] => Array.from({ length: 8 }, (_, i) => from * (i + 1));
  // A request waiting ends the warm-up at the what-if's next batch of simulations.
  const stop = new Error('a request is waiting');
  const runner: SimBatchRunner = (jobs) => {
    if (Atomics.load(status, 1) > 0) throw stop;
    return serialRunner(jobs);
  };
  // One of each: the lab pair's what-if then runs in 25-55 ms where the calling thread's cold
  // code takes 180-450 ms; smaller warm-ups left it at 70-175 ms. The worker's start and this
  // cost 0.35-0.5 s more CPU than the cold what-if (analyze starts it only with a CPU free).
  try {
    whatIf(blocking, { pvschedThreads: 3, hostSliceNs: around(4e6), simBarriers: 20, runner });
    whatIf(spinning, {
      pvschedThreads: 2,
      simBarriers: 20,
      vmmSleeps: { runNs: quantiles(100_000), sleepNs: quantiles(5_000), basis: 'warm-up' },
      regionCpuNs: around(50_000),
      runner,
    });
  } catch (e) {
    if (e !== stop) throw e;
  }
}

/** The request being answered, failed if the worker exits on it (the caller then runs it). */
let current: WhatIfRequest | undefined;
process.on('exit', () => {
  if (current === undefined) return;
  const flag = new Int32Array(current.flag);
  Atomics.store(flag, 0, REQUEST.failed);
  Atomics.notify(flag, 0);
});
parentPort!.on('message', (req: WhatIfRequest) => {
  current = req;
  answer(req, port);
  current = undefined;
});
Atomics.store(status, 0, WORKER.warming);
// Requests that come meanwhile wait until this returns (they stop it).
warmUp();
Atomics.store(status, 0, WORKER.warm);
