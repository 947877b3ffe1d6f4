// unionIntervals (correlate/clock-map.ts): lists already in order of their starts (a thread's
// stalls as they come, analyze/dop.ts) are merged without sorting, and give what the same
// intervals out of order give through the sort.
import { describe, expect, it } from 'vitest';
import { unionIntervals } from '../../src/core/correlate/clock-map';

/** A small deterministic generator (the test must give the same cases every run). */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 4294967296;
  };
}

describe('unionIntervals', () => {
  it('merges intervals in order of their starts as it merges them out of order (ties, touching, nested)', () => {
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
      const got = unionIntervals([{ start: s, end: e }]);
      // The same intervals last to first: sorted before the merge.
      const want = unionIntervals([{ start: s.slice().reverse(), end: e.slice().reverse() }]);
      expect(Array.from(got.start)).toEqual(Array.from(want.start));
      expect(Array.from(got.end)).toEqual(Array.from(want.end));
      // Split in two lists (in order one after the other): the same.
      const h = n >> 1;
      const two = unionIntervals([
        { start: s.subarray(0, h), end: e.subarray(0, h) },
        { start: s.subarray(h), end: e.subarray(h) },
      ]);
      expect(Array.from(two.start)).toEqual(Array.from(want.start));
      expect(Array.from(two.end)).toEqual(Array.from(want.end));
    }
  });

  it('sorts starts out of order, within a list and across lists', () => {
    const one = unionIntervals([
      { start: Float64Array.of(0, 5, 2), end: Float64Array.of(1, 6, 3) },
    ]);
    expect(Array.from(one.start)).toEqual([0, 2, 5]);
    expect(Array.from(one.end)).toEqual([1, 3, 6]);
    const two = unionIntervals([
      { start: Float64Array.of(4, 8), end: Float64Array.of(6, 9) },
      { start: Float64Array.of(0, 5), end: Float64Array.of(1, 7) },
    ]);
    expect(Array.from(two.start)).toEqual([0, 4, 8]);
    expect(Array.from(two.end)).toEqual([1, 7, 9]);
  });

  it('joins intervals that touch or nest, and keeps a gap apart', () => {
    const u = unionIntervals([
      { start: Float64Array.of(0, 2, 4, 5, 8), end: Float64Array.of(2, 3, 7, 6, 9) },
    ]);
    expect(Array.from(u.start)).toEqual([0, 4, 8]);
    expect(Array.from(u.end)).toEqual([3, 7, 9]);
  });
});
