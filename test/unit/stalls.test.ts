import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StallTable, type Stall } from '../../src/core/correlate/stalls';

const row = (i: number, start: number, dur: number): Stall => ({
  vcpu: i % 4,
  kind: i % 3 === 0 ? 'waiting' : 'preempted',
  hostStart: start,
  hostEnd: start + dur,
  guestPid: 100 + (i % 7),
  guestComm: `t${i % 7}`,
  preemptorPid: 200 + (i % 5),
  preemptorComm: `p${i % 5}`,
  pcpu: i % 2,
});

describe('StallTable.longest', () => {
  it('is the first n of all rows sorted by duration, longest first, ties by row', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 300 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 3 }),
        (durs, n, mod) => {
          const t = new StallTable(durs.length);
          durs.forEach((d, i) => t.push(row(i, i * 100, d)));
          const keep = (i: number): boolean => i % mod === 0;
          const want = durs
            .map((d, i) => ({ d, i }))
            .filter(({ i }) => keep(i))
            .sort((a, b) => b.d - a.d || a.i - b.i)
            .slice(0, n)
            .map(({ i }) => i * 100);
          expect(t.longest(n, keep).map((s) => s.hostStart)).toEqual(want);
        },
      ),
    );
  });

  it('gives back whole rows', () => {
    const t = new StallTable(10);
    for (let i = 0; i < 10; i++) t.push(row(i, i * 100, i === 6 ? 50 : 5));
    expect(t.longest(1)).toEqual([row(6, 600, 50)]);
  });
});
