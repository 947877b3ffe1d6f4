import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/sim/rng';
import { TimerHeap } from '../../src/core/sim/timer-heap';

describe('TimerHeap', () => {
  it('agrees with a plain array under random set / move / clear, with ties', () => {
    const rand = mulberry32(42);
    const n = 37;
    const h = new TimerHeap(n);
    const ref = new Array<number>(n).fill(Infinity);
    const out = new Int32Array(n);
    for (let step = 0; step < 20_000; step++) {
      const s = Math.floor(rand() * n);
      // Few distinct times, so ties are common; a quarter of the updates clear the slot.
      const time = rand() < 0.25 ? Infinity : Math.floor(rand() * 50);
      h.set(s, time);
      ref[s] = time;
      expect(h.min()).toBe(Math.min(...ref));
      const t = Math.floor(rand() * 50);
      const k = h.due(t, out);
      const want = ref.flatMap((x, i) => (x <= t ? [i] : []));
      expect(Array.from(out.subarray(0, k))).toEqual(want);
      expect(h.at[s]).toBe(time);
    }
  });

  it('is empty until set and after every slot is cleared', () => {
    const h = new TimerHeap(3);
    const out = new Int32Array(3);
    expect(h.min()).toBe(Infinity);
    expect(h.due(1e9, out)).toBe(0);
    h.set(2, 5);
    h.set(0, 5);
    expect(h.due(5, out)).toBe(2);
    expect(Array.from(out.subarray(0, 2))).toEqual([0, 2]);
    h.set(2, Infinity);
    h.set(0, Infinity);
    expect(h.min()).toBe(Infinity);
  });
});
