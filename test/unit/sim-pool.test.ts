// The advice's what-if on a simulation worker (src/core/io/sim-pool.ts) must give exactly the
// advice the calling thread gives, and a worker that never starts, never takes the request or dies
// on it must leave the what-if to the calling thread. The worker is bundled here with esbuild, as
// the build does.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { bundleWorker } from './support/parse-worker';
import { startSimPool, type SimPool } from '../../src/core/io/sim-pool';
import { analyzePair, withAdvice } from '../../src/core/analyze/pair';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { whatIf } from '../../src/core/whatif/engine';
import type { ProgramShape } from '../../src/core/whatif/shape';
import { REAL } from './support/fixtures';

const dir = mkdtempSync(path.join(tmpdir(), 'vl-sim-'));
const worker = path.join(dir, 'sim-worker.js');

beforeAll(async () => {
  await bundleWorker(path.resolve(__dirname, '../../src/core/io/sim-worker.ts'), worker);
}, 60_000);

const pools: SimPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});
function pool(...args: Parameters<typeof startSimPool>): SimPool {
  const p = startSimPool(...args);
  pools.push(p);
  return p;
}

/** A blocking run with its barriers counted (its wakeup path is calibrated) on a crowded host. */
const est = (value: number) => ({ value, low: 0.7 * value, high: 1.4 * value, basis: 'test' });
const SHAPE: ProgramShape = {
  threads: 3,
  vcpus: 4,
  pcpus: 2,
  wallNs: 90e6,
  waits: 'block',
  barriers: est(300),
  burstNs: est(120_000),
  overheadNs: est(9_000),
  workNs: est(100_000),
  wakeLatencyNs: est(30_000),
  wakeCostNs: est(2_000),
  syncShare: est(0.4),
  cpuNs: 80e6,
  coRunners: { count: 1, load: 1, names: ['hog'], basis: 'test' },
  notes: [],
};
const OPTS = { pvschedThreads: 2, hostSliceNs: est(4e6) };

/** Stand-in workers (eval'd): they say they are warm, then misbehave on a request. */
const fake = (onRequest: string): string =>
  `const { parentPort, workerData } = require('node:worker_threads');
   const state = new Int32Array(workerData.state);
   parentPort.on('message', (req) => { ${onRequest} });
   Atomics.store(state, 0, 2);`;

async function warm(p: SimPool): Promise<void> {
  await vi.waitFor(() => expect(p.warmedUp()).toBe(true), { timeout: 30_000, interval: 20 });
}

describe('the what-if on a simulation worker', () => {
  it('a warm worker answers with exactly the what-if the calling thread computes', async () => {
    const p = pool(worker);
    await warm(p);
    const got = p.runWhatIf(SHAPE, OPTS);
    expect(p.stats).toEqual({ whatIfs: 1, onWorker: 1 });
    expect(got).toEqual(whatIf(SHAPE, OPTS));
    // A second what-if (another seed: other numbers) on the same worker.
    const again = { ...OPTS, seed: 7 };
    expect(p.runWhatIf(SHAPE, again)).toEqual(whatIf(SHAPE, again));
    expect(p.stats.onWorker).toBe(2);
  }, 60_000);

  it('a lab pair gets the same advice with the worker as without it', async () => {
    const sc = path.join(REAL, 'quiet-passive-tsc');
    const host = (await readTraceFile(path.join(sc, 'host.dat'))).traces[0]!;
    const guest = (await readTraceFile(path.join(sc, 'guest.dat'))).traces[0]!;
    const found = analyzePair(host, guest, { deferAdvice: true });
    const p = pool(worker);
    await warm(p);
    const on = withAdvice(found, { runWhatIf: p.runWhatIf });
    expect(p.stats.onWorker).toBe(1);
    expect(on.advice?.whatIf).toBeDefined();
    expect(on.advice).toEqual(withAdvice(found).advice);
  }, 60_000);

  it('a worker that never starts leaves the what-if to the calling thread, unasked', () => {
    const p = pool(path.join(dir, 'no-such-worker.js'), { takeMs: 10_000 });
    const t0 = performance.now();
    expect(p.runWhatIf(SHAPE, OPTS)).toEqual(whatIf(SHAPE, OPTS));
    // Never waited for: the worker never said it had loaded.
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(p.stats).toEqual({ whatIfs: 1, onWorker: 0 });
  });

  it('a worker that never takes the request is given up on after takeMs', async () => {
    const p = pool(fake(''), { eval: true, takeMs: 50 });
    await warm(p);
    expect(p.runWhatIf(SHAPE, OPTS)).toEqual(whatIf(SHAPE, OPTS));
    expect(p.stats).toEqual({ whatIfs: 1, onWorker: 0 });
  }, 30_000);

  it('a worker that dies on the request is given up on after answerMs, and not asked again', async () => {
    const p = pool(fake('Atomics.store(new Int32Array(req.flag), 0, 1); process.exit(1);'), {
      eval: true,
      answerMs: 200,
    });
    await warm(p);
    const t0 = performance.now();
    expect(p.runWhatIf(SHAPE, OPTS)).toEqual(whatIf(SHAPE, OPTS));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(200);
    const t1 = performance.now();
    expect(p.runWhatIf(SHAPE, OPTS)).toEqual(whatIf(SHAPE, OPTS));
    // Not waited on again: the second call is the calling thread's alone.
    expect(performance.now() - t1).toBeLessThan(200);
    expect(p.stats).toEqual({ whatIfs: 2, onWorker: 0 });
  }, 30_000);

  it('a worker that fails on the request leaves it to the calling thread at once', async () => {
    const p = pool(
      fake(
        'const f = new Int32Array(req.flag); Atomics.store(f, 0, 1); Atomics.store(f, 0, 3); Atomics.notify(f, 0);',
      ),
      { eval: true, answerMs: 60_000 },
    );
    await warm(p);
    expect(p.runWhatIf(SHAPE, OPTS)).toEqual(whatIf(SHAPE, OPTS));
    expect(p.stats).toEqual({ whatIfs: 1, onWorker: 0 });
  }, 30_000);
});
