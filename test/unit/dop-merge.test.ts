// mergeSorted (analyze/dop.ts), the stalls' merge for intervals already in order, against
// unionIntervals (correlate/clock-map.ts), which sorts first: the same intervals out.
import { describe, expect, it } from 'vitest';
import { mergeSorted } from '../../src/core/analyze/dop';
import { unionIntervals } from '../../src/core/correlate/clock-map';

/** A small deterministic generator (the test must give the same cases every run). */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 4294967296;
  };
}

describe('mergeSorted', () => {
  it('merges intervals in order of their starts as unionIntervals does (ties, touching, nested)', () => {
    const r = rng(21);
    for (let c = 0; c < 300; c++) {
      const n = Math.floor(r() * 12);
      const s = new Float64Array(n);
      const e = new Float64Array(n);
      let t = 0;
      for (let i = 0; i < n; i++) {
        // Starts that repeat, touch the previous end, or jump ahead; some intervals nested.
        t += [0, 0.5, 1, 3][Math.floor(r() * 4)]!;
        s[i] = t;
        e[i] = t + [0, 0.5, 1, 4][Math.floor(r() * 4)]!;
      }
      const got = mergeSorted(s, e);
      const want = unionIntervals([{ start: s, end: e }]);
      expect(got).toBeDefined();
      expect(Array.from(got!.start)).toEqual(Array.from(want.start));
      expect(Array.from(got!.end)).toEqual(Array.from(want.end));
    }
  });

  it('leaves starts out of order to unionIntervals', () => {
    expect(mergeSorted(Float64Array.of(0, 5, 2), Float64Array.of(1, 6, 3))).toBeUndefined();
    expect(mergeSorted(Float64Array.of(0, NaN), Float64Array.of(1, 2))).toBeUndefined();
  });
});
