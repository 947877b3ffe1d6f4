import { describe, expect, it } from 'vitest';
import { lowerBound, partitionPoint, upperBound } from '../../src/core/model/search';

// [case, sorted values, x, lowerBound, upperBound]
const TABLE: [string, number[], number, number, number][] = [
  ['empty', [], 5, 0, 0],
  ['one, before it', [5], 4, 0, 0],
  ['one, on it', [5], 5, 0, 1],
  ['one, after it', [5], 6, 1, 1],
  ['before the first', [1, 3, 5, 7], 0, 0, 0],
  ['on the first', [1, 3, 5, 7], 1, 0, 1],
  ['between', [1, 3, 5, 7], 4, 2, 2],
  ['on the last', [1, 3, 5, 7], 7, 3, 4],
  ['after the last', [1, 3, 5, 7], 8, 4, 4],
  ['duplicates, on them', [1, 2, 2, 2, 3], 2, 1, 4],
  ['duplicates, all equal', [4, 4, 4], 4, 0, 3],
  ['duplicates, before them', [4, 4, 4], 3, 0, 0],
  ['duplicates, after them', [4, 4, 4], 5, 3, 3],
  ['negative and fractions', [-2.5, -1, 0, 0.5], -1, 1, 2],
  ['infinities', [-Infinity, 0, Infinity], Infinity, 2, 3],
  ['NaN compares false (as in C++)', [1, 2, 3], NaN, 0, 3],
];

describe('sorted-array search', () => {
  for (const [name, values, x, lower, upper] of TABLE) {
    it(`${name}: lowerBound ${lower}, upperBound ${upper}`, () => {
      for (const a of [values, Float64Array.from(values)]) {
        expect(lowerBound(a, x)).toBe(lower);
        expect(upperBound(a, x)).toBe(upper);
        expect(partitionPoint(0, a.length, (i) => a[i]! < x)).toBe(lower);
        expect(partitionPoint(0, a.length, (i) => !(x < a[i]!))).toBe(upper);
      }
    });
  }

  it('searches only [lo, hi), answering hi when nothing there matches', () => {
    const a = Int32Array.from([0, 10, 20, 30, 40, 50]);
    expect(lowerBound(a, 25, 1, 4)).toBe(3);
    expect(upperBound(a, 20, 1, 4)).toBe(3);
    expect(lowerBound(a, 45, 1, 4)).toBe(4);
    expect(upperBound(a, 5, 2, 4)).toBe(2);
    expect(lowerBound(a, 0, 3, 3)).toBe(3);
  });

  it('agrees with a linear scan on every x of a table with runs', () => {
    const a = [1, 1, 2, 3, 3, 3, 5, 8, 8, 13];
    for (let x = 0; x <= 14; x += 0.5) {
      expect(lowerBound(a, x)).toBe(
        a.findIndex((v) => v >= x) === -1 ? a.length : a.findIndex((v) => v >= x),
      );
      expect(upperBound(a, x)).toBe(
        a.findIndex((v) => v > x) === -1 ? a.length : a.findIndex((v) => v > x),
      );
    }
  });

  it('partitionPoint reads through an accessor (a permutation, a compound key)', () => {
    const hi = [1, 0, 1, 0];
    const lo = [5, 9, 2, 3];
    const order = [3, 1, 2, 0]; // (0,3) (0,9) (1,2) (1,5)
    const atOrBefore = (h: number, l: number) => (i: number) => {
      const k = order[i]!;
      return hi[k]! < h || (hi[k] === h && lo[k]! <= l);
    };
    expect(partitionPoint(0, 4, atOrBefore(0, 2))).toBe(0);
    expect(partitionPoint(0, 4, atOrBefore(0, 9))).toBe(2);
    expect(partitionPoint(0, 4, atOrBefore(1, 4))).toBe(3);
    expect(partitionPoint(0, 4, atOrBefore(2, 0))).toBe(4);
  });
});
