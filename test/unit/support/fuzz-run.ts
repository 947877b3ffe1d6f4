// Runs the fuzz properties with every check in a worker thread under a watchdog. A synchronous
// infinite loop in an importer cannot fail a property that runs on the same thread (the check
// never returns, the run just stops, as the .dat page-size hang once did); here the main thread
// waits with a timeout, terminates the worker, fails the property and saves the input to a fresh
// temporary folder. One worker is reused for every input and replaced only after a timeout.

import { randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { bundleWorker } from './parse-worker';
import fc from 'fast-check';
import {
  datCaseArb,
  DatCase,
  FuzzFormat,
  PropertyFailure,
  saveCase,
  textCaseArb,
  TextCase,
  timeBoundMs,
} from './fuzz';

/** How long one check may take before it counts as a hang (`npm run fuzz -- --timeout S`). */
export const WATCHDOG_MS = Number(process.env['FUZZ_TIMEOUT_MS'] ?? 20_000);
/** Starting a worker reads and parses the seeds: not part of any check's time. */
const STARTUP_MS = 120_000;
/** The seed of every run under CI (`CI` set), so that a red build replays as it failed. */
export const CI_SEED = 20_261_206;

/**
 * The run's seed: FUZZ_SEED when given (to replay a run), the fixed CI_SEED under CI, else a
 * fresh one, so each local run tries new inputs (the seed is printed: replay with FUZZ_SEED).
 */
export function fuzzSeed(env: NodeJS.ProcessEnv): { seed: number; why: string } {
  const given = env['FUZZ_SEED'];
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED=${given}: not an integer`);
    return { seed, why: 'FUZZ_SEED' };
  }
  const ci = env['CI'];
  if (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0')
    return { seed: CI_SEED, why: 'fixed under CI' };
  return { seed: randomInt(2 ** 31), why: 'random' };
}

export interface WorkerSetup {
  /** The format whose seeds the worker loads before it says it is ready. */
  format?: FuzzFormat;
  /** Test only: a case of this seed loops forever in the worker (a planted hang). */
  spinOnSeed?: number;
}

export type CheckRequest =
  | { kind: 'case'; format: FuzzFormat; c: TextCase | DatCase }
  | { kind: 'raw'; format: FuzzFormat; input: Uint8Array };

export interface CheckMessage {
  id: number;
  req: CheckRequest;
}

export type CheckReply = { ok: true; bytes: number; ms: number } | { ok: false; message: string };

/** A check's answer, or the watchdog's when the worker gave none in time. */
export type WatchedReply = CheckReply | { ok: false; hung: true; message: string };

let script: Promise<string> | undefined;

/** Bundles fuzz-worker.ts (once per process) to a temporary CommonJS file for worker_threads. */
export function fuzzWorkerScript(): Promise<string> {
  script ??= (async () => {
    const outfile = path.join(mkdtempSync(path.join(tmpdir(), 'vl-fuzz-')), 'fuzz-worker.cjs');
    // fuzz.ts finds the fixtures from its own folder.
    await bundleWorker(path.join(__dirname, 'fuzz-worker.ts'), outfile, {
      __dirname: JSON.stringify(__dirname),
    });
    return outfile;
  })();
  return script;
}

interface Pending {
  id: number;
  done: (r: WatchedReply) => void;
}

/** A persistent check worker; a check that outlives `timeoutMs` terminates it (the next starts anew). */
export class WatchedChecker {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private pending: Pending | undefined;
  private nextId = 1;
  /** Workers started, the first included: 1 + the hangs and deaths seen. */
  started = 0;

  constructor(
    private readonly script: string,
    private readonly setup: WorkerSetup,
    readonly timeoutMs = WATCHDOG_MS,
  ) {}

  private start(): Promise<void> {
    const w = new Worker(this.script, { workerData: this.setup });
    this.worker = w;
    this.started++;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the fuzz worker did not start')),
        STARTUP_MS,
      );
      w.on('message', (m: { ready?: true; id?: number; reply?: CheckReply }) => {
        if (m.ready) {
          clearTimeout(timer);
          resolve();
        } else {
          const p = this.pending;
          if (p === undefined || p.id !== m.id) return;
          this.pending = undefined;
          p.done(m.reply!);
        }
      });
      const died = (why: string): void => {
        clearTimeout(timer);
        if (this.worker !== w) return;
        this.worker = undefined;
        this.ready = undefined;
        reject(new Error(`the fuzz worker ${why} before it was ready`));
        const p = this.pending;
        this.pending = undefined;
        p?.done({ ok: false, message: `the check's worker ${why}` });
      };
      w.on('error', (e) => died(`failed: ${e.stack ?? e.message}`));
      w.on('exit', (code) => died(`exited (${code})`));
    });
    this.ready = ready;
    return ready;
  }

  /** Runs one check; resolves with `hung` when the worker gave no answer within the timeout. */
  async check(req: CheckRequest): Promise<WatchedReply> {
    if (this.worker === undefined || this.ready === undefined) await this.start();
    else await this.ready;
    const w = this.worker!;
    const id = this.nextId++;
    return new Promise<WatchedReply>((resolve) => {
      const timer = setTimeout(() => {
        if (this.pending?.id !== id) return;
        this.pending = undefined;
        this.worker = undefined;
        this.ready = undefined;
        void w.terminate();
        resolve({
          ok: false,
          hung: true,
          message: `no answer in ${(this.timeoutMs / 1000).toFixed(1)} s (a hang?); the worker was terminated`,
        });
      }, this.timeoutMs);
      this.pending = {
        id,
        done: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const m: CheckMessage = { id, req };
      w.postMessage(m);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (w !== undefined) await w.terminate();
  }
}

export interface FuzzStats {
  format: FuzzFormat;
  runs: number;
  bytes: number;
  ms: number;
  /** Worst parse time per input, relative to its bound (1 = at the bound). */
  worstRatio: number;
  seed: number;
  failure?: string;
  counterexample?: TextCase | DatCase;
  /** Where the failing case was saved. */
  saved?: string;
}

export interface FuzzOptions {
  timeoutMs?: number;
  /** Test only: plant a hang on this seed (see WorkerSetup). */
  spinOnSeed?: number;
}

/**
 * Runs `runs` generated inputs of one format, each checked in the watched worker; stops at the
 * first failure (shrunk, unless it hung) and saves it to a fresh temporary folder, printed.
 */
export async function runFuzz(
  format: FuzzFormat,
  runs: number,
  seed: number,
  opts: FuzzOptions = {},
): Promise<FuzzStats> {
  const stats: FuzzStats = { format, runs: 0, bytes: 0, ms: 0, worstRatio: 0, seed };
  const checker = new WatchedChecker(
    await fuzzWorkerScript(),
    { format, ...(opts.spinOnSeed !== undefined ? { spinOnSeed: opts.spinOnSeed } : {}) },
    opts.timeoutMs,
  );
  const arb = (format === 'dat' ? datCaseArb() : textCaseArb(format)) as fc.Arbitrary<
    TextCase | DatCase
  >;
  let hung = false;
  const prop = fc.asyncProperty(arb, async (c) => {
    // Shrinking a hang would wait out the watchdog for every candidate: keep the input that hung.
    if (hung) return;
    const r = await checker.check({ kind: 'case', format, c });
    if (!r.ok) {
      if ('hung' in r) hung = true;
      throw new PropertyFailure(r.message);
    }
    stats.runs++;
    stats.bytes += r.bytes;
    stats.worstRatio = Math.max(stats.worstRatio, r.ms / timeBoundMs(r.bytes));
  });
  const t0 = performance.now();
  let out: fc.RunDetails<[TextCase | DatCase]>;
  try {
    out = await fc.check(prop, { numRuns: runs, seed });
  } finally {
    await checker.close();
  }
  stats.ms = performance.now() - t0;
  if (out.failed) {
    stats.counterexample = out.counterexample![0];
    stats.failure =
      out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
    // Never the repository's corpus (test/fixtures/fuzz-corpus): it holds the cases someone chose
    // to keep, and a run must not change the checkout.
    const dir = mkdtempSync(path.join(tmpdir(), 'vl-fuzz-failed-'));
    stats.saved = saveCase(format, stats.counterexample, stats.failure, dir);
    console.error(
      `fuzz ${format}: failing input saved in ${stats.saved} (seed ${seed}: replay with FUZZ_SEED=${seed}; ` +
        `to keep it as a regression case, copy it and its .bin into test/fixtures/fuzz-corpus/${format}/)`,
    );
  }
  return stats;
}
