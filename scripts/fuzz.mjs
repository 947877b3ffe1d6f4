// `npm run fuzz [-- --runs N] [--format F] [--seed S] [--timeout SECONDS]`: the long fuzzing pass
// of every ingest format (test/unit/fuzz.test.ts with FUZZ_RUNS inputs per format; default
// 100,000). Prints the seed and the inputs, megabytes and seconds per format; a failure is shrunk,
// saved in a fresh temporary folder (its path printed; copy it into test/fixtures/fuzz-corpus/
// <format>/ to keep it) and fails the run. Each input is checked in a worker thread; one that
// gives no answer within --timeout (default 20 s) is a hang: saved as it is, unshrunk.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';

const USAGE = `usage: node scripts/fuzz.mjs [--runs N] [--format F] [--seed S] [--timeout SECONDS]
  --runs N           inputs per format (default: FUZZ_RUNS or 100000)
  --format F         one format only: trace-cmd-report, tracefs-raw, perf-script, perf-sched or dat
  --seed S           the random seed (default: FUZZ_SEED, a fixed one when CI is set, else a
                     fresh one; printed)
  --timeout SECONDS  an input with no answer after this much CPU time is a hang (default 20)`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      runs: { type: 'string' },
      format: { type: 'string' },
      seed: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (e) {
  // An unknown option or a missing value must not start a 100,000-input run.
  console.error(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const runs = Number(values.runs ?? process.env.FUZZ_RUNS ?? '100000');
if (!Number.isInteger(runs) || runs < 1) {
  console.error('--runs takes a positive integer');
  process.exit(2);
}
const format = values.format;
// The names of FORMATS in test/unit/support/fuzz.ts: another name would match no test and pass.
const FORMATS = ['trace-cmd-report', 'tracefs-raw', 'perf-script', 'perf-sched', 'dat'];
if (format !== undefined && !FORMATS.includes(format)) {
  console.error(`--format takes one of ${FORMATS.join(', ')}`);
  process.exit(2);
}
const seed = values.seed ?? process.env.FUZZ_SEED;
const timeout = values.timeout;
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
