// How the what-if reads a blocking run's work and barrier overhead from its runs between a wakeup
// and a sleep (whatif/shape.ts splitBursts): two groups far apart (work regions and empty ones),
// or all alike (the work under the overhead, bounded by the wakeup cost).
import { describe, expect, it } from 'vitest';
import { splitBursts, type Estimate } from '../../src/core/whatif/shape';

const US = 1_000;
const exact = (v: number): Estimate => ({ value: v, low: v, high: v, basis: 'given' });
const runs = (...groups: [count: number, ns: number][]): number[] =>
  groups
    .flatMap(([n, v]) => Array.from({ length: n }, (_, i) => v + (i % 5) * 10))
    .sort((a, b) => a - b);

describe('splitBursts', () => {
  it('two groups far apart: the upper median less the shortest runs, per thread and barrier', () => {
    // 100 empty-region runs of ~10 µs and 100 working ones of ~500 µs; 200 barriers x 4 threads.
    const s = splitBursts(
      runs([100, 10 * US], [100, 500 * US]),
      200,
      exact(200),
      4,
      exact(20 * US),
    );
    expect(s.overhead.value).toBeCloseTo(10 * US, -2);
    // 100 runs x (500 - 10) µs over 800 thread-barriers.
    expect(s.work.value / US).toBeCloseTo((100 * 490) / 800, 0);
    expect(s.work.low).toBeLessThanOrEqual(s.work.value);
    expect(s.work.high).toBeGreaterThanOrEqual(s.work.value);
  });

  it('all alike, the wakeup cost fits under them: the shortest less half to twice a wakeup', () => {
    const s = splitBursts(runs([200, 100 * US]), 200, exact(200), 4, exact(10 * US));
    expect(s.work.low / US).toBeCloseTo(80, 0);
    expect(s.work.high / US).toBeCloseTo(95, 0);
    expect(s.work.value / US).toBeCloseTo(Math.sqrt(80 * 95), 0);
    expect(s.overhead.value + s.work.value).toBeCloseTo(100 * US, -1);
  });

  it('all alike and shorter than half a wakeup: between a tenth of the shortest run and all of it', () => {
    // The lab's noisy TCG runs (raw-noisy-passive): ~15 µs each, 29 µs per wakeup.
    const s = splitBursts(runs([200, 15 * US]), 200, exact(200), 4, exact(29 * US));
    expect(s.work.low).toBeCloseTo(1_500, -1);
    expect(s.work.high).toBeCloseTo(15_000, -1);
    expect(s.work.value).toBeCloseTo(Math.sqrt(1_500 * 15_000), -1);
  });
});
