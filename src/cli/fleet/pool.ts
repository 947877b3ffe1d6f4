// The fleet's worker pool: one child process per core (the CLI bundle forked with
// VCPU_LENS_FLEET_WORKER=1), each taking the next pair when done with one. A process, not a thread,
// per worker: a pair that exhausts memory or crashes the native DuckDB takes only its own pair
// down (reported failed, a fresh worker carries on). Without a bundle beside this code (tests run
// the TypeScript), the pairs run one after another in this process, through the same runPair.

import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { connect } from './dataset';
import { runPair, type PairJob, type PairOutcome } from './run-pair';

import { WORKER_ENV } from './worker-env';

export { WORKER_ENV };

/** The CLI bundle to fork, when this code runs from one. */
function bundle(): string | undefined {
  const dir = typeof __dirname === 'string' ? __dirname : undefined;
  const p = dir !== undefined ? path.join(dir, 'cli.js') : undefined;
  return p !== undefined && existsSync(p) ? p : undefined;
}

/**
 * Runs `jobs` on `workers` workers; `onStart`/`onDone` as each pair starts and ends (in completion
 * order). Resolves once every pair has an outcome.
 */
export async function runPool(
  jobs: PairJob[],
  workers: number,
  onStart: (j: PairJob) => void,
  onDone: (o: PairOutcome) => void,
  inProcess = bundle() === undefined,
): Promise<PairOutcome[]> {
  const outcomes: PairOutcome[] = [];
  const done = (o: PairOutcome): void => {
    outcomes.push(o);
    onDone(o);
  };
  if (inProcess) {
    const conn = await connect();
    try {
      for (const j of jobs) {
        onStart(j);
        done(await runPair(j, conn));
      }
    } finally {
      conn.closeSync();
    }
    return outcomes;
  }
  const cli = bundle()!;
  let next = 0;
  const worker = async (): Promise<void> => {
    let child: ChildProcess | undefined;
    try {
      while (next < jobs.length) {
        const j = jobs[next++]!;
        onStart(j);
        child ??= fork(cli, [], {
          env: { ...process.env, [WORKER_ENV]: '1' },
          serialization: 'advanced',
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        });
        const c = child;
        let stderr = '';
        c.stderr?.setEncoding('utf8');
        const onErr = (s: string): void => {
          stderr = (stderr + s).slice(-2000);
        };
        c.stderr?.on('data', onErr);
        const o = await new Promise<PairOutcome>((resolve) => {
          const onMessage = (m: PairOutcome): void => {
            c.off('exit', onExit);
            resolve(m);
          };
          const onExit = (code: number | null, signal: string | null): void => {
            c.off('message', onMessage);
            const last = stderr.trim().split('\n').pop() ?? '';
            resolve({
              name: j.name,
              ok: false,
              reason: `its worker ended (${signal ?? `exit code ${code}`})${last !== '' ? `: ${last}` : ''}`,
            });
          };
          c.once('message', onMessage);
          c.once('exit', onExit);
          c.send(j);
        });
        c.stderr?.off('data', onErr);
        if (!o.ok && c.exitCode !== null) child = undefined;
        if (c.signalCode !== null) child = undefined;
        done(o);
      }
    } finally {
      child?.disconnect();
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, jobs.length) }, worker));
  return outcomes;
}

/** A worker's life: pairs in over IPC, outcomes back; it ends when the fleet goes away. */
export async function fleetWorker(): Promise<void> {
  const conn = await connect();
  process.on('disconnect', () => {
    conn.closeSync();
    process.exit(0);
  });
  // One pair at a time: the fleet sends the next only after this one's outcome.
  process.on('message', (j: PairJob) => {
    void runPair(j, conn).then((o) => process.send?.(o));
  });
}
