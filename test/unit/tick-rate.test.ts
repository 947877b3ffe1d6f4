// Ticks to ns at a given counter rate (--tsc-hz): the multiply-shift pair and the conversion
// relative to a trace's base, checked against bigint arithmetic of the absolute count.
import { describe, expect, it } from 'vitest';
import { tickRate, TicksToNs, tscToNsBig } from '../../src/core/model/time';

describe('tickRate', () => {
  it.each([2_445_400_000, 3e9, 1e9, 24e6, 1e6, 1e3, 999_999_937])(
    '%d Hz keeps the rate to 1 part in 2^31 with a 32-bit mult',
    (hz) => {
      const { mult, shift } = tickRate(hz);
      expect(mult).toBeLessThan(2 ** 32);
      expect(mult).toBeGreaterThanOrEqual(2 ** 31);
      expect(Math.abs((mult / 2 ** shift) * (hz / 1e9) - 1)).toBeLessThan(2 ** -31);
    },
  );
  it('refuses rates that are not rates', () => {
    for (const hz of [0, -1, NaN, Infinity]) expect(() => tickRate(hz)).toThrow(RangeError);
  });
});

describe('TicksToNs', () => {
  // A small deterministic generator (no Math.random: a failure must repeat).
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  it.each([2_445_400_000, 3e9, 24e6, 1e3])(
    'at %d Hz equals (ticks * mult) >> shift of the absolute count, bases past 2^53 included',
    (hz) => {
      const rate = tickRate(hz);
      const bases = [0n, 11_498_479_067_203n, 2n ** 53n + 12_345n, 2n ** 62n + 987n];
      for (const base of bases) {
        const c = new TicksToNs(base, rate);
        expect(c.baseNs).toBe(tscToNsBig(base, rate.mult, rate.shift));
        for (let k = 0; k < 2000; k++) {
          const mag = 10 ** Math.floor(rnd() * 15);
          const d = Math.floor(rnd() * mag) * (rnd() < 0.1 && base > 10n ** 16n ? -1 : 1);
          const want = tscToNsBig(base + BigInt(d), rate.mult, rate.shift) - c.baseNs;
          expect(c.rel(d), `base ${base} d ${d}`).toBe(Number(want));
        }
      }
    },
  );
  it('is monotonic: a later tick is never an earlier ns', () => {
    const c = new TicksToNs(11_498_479_067_203n, tickRate(2_445_400_000));
    let prev = -Infinity;
    for (let d = 0; d < 100_000; d += 7) {
      const v = c.rel(d);
      expect(v).toBeGreaterThanOrEqual(prev);
      prev = v;
    }
  });
});
