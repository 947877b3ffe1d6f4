// Fuzzing every ingest format with mutated real traces (issue #10): never throws, returns within
// 1 s per MB, says where each problem is, and still loads the part the mutation did not touch. A
// short pass here; `npm run fuzz` runs >= 100,000 inputs per format (RELIABILITY.md). Every case
// that ever failed is kept in test/fixtures/fuzz-corpus/ and replayed.
import { describe, expect, it } from 'vitest';
import { checkCase, checkRawInput, corpusCases, FORMATS, runFuzz } from './support/fuzz';

const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

describe('fuzzing the importers', () => {
  it.each(FORMATS)(
    `%s: ${RUNS} mutated inputs, no failure`,
    (format) => {
      const s = runFuzz(format, RUNS, SEED);
      const line = `fuzz ${format}: ${s.runs} inputs, ${(s.bytes / 1e6).toFixed(1)} MB, ${(s.ms / 1000).toFixed(1)} s, worst ${(s.worstRatio * 100).toFixed(1)}% of the time bound, seed ${s.seed}`;
      console.log(line);
      expect(
        s.failure === undefined ? undefined : { failure: s.failure, input: s.counterexample },
      ).toBeUndefined();
      expect(s.runs).toBe(RUNS);
    },
    Math.max(60_000, RUNS * 50),
  );
});

describe('fuzz corpus', () => {
  const all = corpusCases();
  const cases = all.filter((c) => c.known === undefined);
  // Known, unfixed failures: they must still fail (when one passes, fix its entry).
  const known = all.filter((c) => c.known !== undefined);
  it.runIf(known.length > 0).each(known.map((c) => [c.file, c] as const))(
    '%s still fails (known, not fixed)',
    (_f, c) => {
      expect(() => checkCase(c.format, c.c)).toThrow();
    },
  );
  it.runIf(cases.length > 0).each(cases.map((c) => [c.file, c] as const))(
    '%s still holds',
    (_f, c) => {
      checkCase(c.format, c.c);
      // The input as saved, too: it holds even if the seeds or the mutators change.
      if (c.input !== undefined) checkRawInput(c.format, c.input);
    },
  );
});
