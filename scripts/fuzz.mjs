// `npm run fuzz [-- --runs N] [--format F] [--seed S] [--timeout SECONDS]`: the long fuzzing pass
// of every ingest format (test/unit/fuzz.test.ts with FUZZ_RUNS inputs per format; default
// 100,000). Prints the inputs, megabytes and seconds per format; a failure is shrunk, saved under
// test/fixtures/fuzz-corpus/<format>/ and fails the run. Each input is checked in a worker thread;
// one that gives no answer within --timeout (default 20 s) is a hang: saved as it is, unshrunk.
import { spawnSync } from 'node:child_process';
import os from 'node:os';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const runs = Number(opt('runs', process.env.FUZZ_RUNS ?? '100000'));
if (!Number.isInteger(runs) || runs < 1) {
  console.error('--runs takes a positive integer');
  process.exit(2);
}
const format = opt('format', undefined);
const seed = opt('seed', process.env.FUZZ_SEED);
const timeout = opt('timeout', undefined);
if (timeout !== undefined && !(Number(timeout) > 0)) {
  console.error('--timeout takes a positive number of seconds');
  process.exit(2);
}
console.error(
  `fuzzing ${runs} inputs per format${format ? ` (${format} only)` : ''} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, ${new Date().toISOString()}`,
);
const vitestArgs = ['vitest', 'run', 'test/unit/fuzz.test.ts', '--testTimeout', '0'];
if (format) vitestArgs.push('-t', `${format}:`);
const r = spawnSync('npx', vitestArgs, {
  stdio: 'inherit',
  env: {
    ...process.env,
    FUZZ_RUNS: String(runs),
    ...(seed ? { FUZZ_SEED: seed } : {}),
    ...(timeout ? { FUZZ_TIMEOUT_MS: String(Number(timeout) * 1000) } : {}),
  },
});
process.exit(r.status ?? 70);
