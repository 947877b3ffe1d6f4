// Where the tests' data lives. The lab's real captures are this project's own and sit in the
// repository (test/fixtures/real); the public peer corpus and the tool builds stay in ../shared
// beside the clone and are optional: a test that needs them is skipped by name with the reason.

import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** The lab's real host + guest captures (../shared/fixtures/real's, unchanged, plus this repository's own). */
export const REAL = path.resolve(__dirname, '../../fixtures/real');

/** `../shared` beside the clone, when it is there. */
export const SHARED = path.resolve(__dirname, '../../../../shared');

/** Other people's public traces, read in place (never copied into the repository). */
export const PEER = path.join(SHARED, 'fixtures/peer');

/**
 * Why a test that needs `dir` cannot run here, or undefined when it can. Use it with
 * `it.skipIf(why)(\`name${why ?? ''}\`, ...)` so the reason is in the skipped test's name.
 */
export function missing(dir: string, what: string): string | undefined {
  return existsSync(dir) ? undefined : ` (skipped: needs ${what} at ${dir})`;
}

/**
 * The second program shape (issue #24): the same omp_barrier with a compute-heavier step, recorded
 * in this repository only (not in ../shared/fixtures/real). Its untraced sweep is dop-truth/.
 */
export const HEAVY_SCENARIOS = [
  'heavy-noisy-active-tsc',
  'heavy-noisy-passive-tsc',
  'heavy-quiet-active-tsc',
  'heavy-quiet-passive-tsc',
] as const;

/** The lab scenarios (each a folder with meta.json): the list the real-data tables run over. */
export const REAL_SCENARIOS = [
  'guestonly-noisy-passive',
  'guestonly-quiet-active',
  ...HEAVY_SCENARIOS,
  'noisy-active-tsc',
  'quiet-active-tsc',
  'quiet-passive-local',
  'quiet-passive-tsc',
  'raw-noisy-passive',
] as const;

/** The scenarios in test/fixtures/real, read from the folder (a test checks it is REAL_SCENARIOS). */
export function realScenarios(): string[] {
  return readdirSync(REAL)
    .filter((d) => existsSync(path.join(REAL, d, 'meta.json')))
    .sort();
}
