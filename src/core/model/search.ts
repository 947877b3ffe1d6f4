// Binary search over sorted data, one loop for the whole engine: lower and upper bounds over an
// array of numbers sorted ascending (typed or plain), and the partition point of a predicate for
// anything read through an accessor (a column behind a method, a permutation, a compound key);
// and the one ascending sort of a plain array of numbers.
// The bounds compare as C++'s std::lower_bound (a[i] < x) and std::upper_bound (x < a[i]) do:
// every comparison with NaN is false, so for x NaN lowerBound answers lo and upperBound hi.

/**
 * The first index in [lo, hi) whose value is not below x (a[i] >= x), a sorted ascending;
 * hi when there is none.
 */
export function lowerBound(a: ArrayLike<number>, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The first index in [lo, hi) whose value is above x (a[i] > x), a sorted ascending; hi when
 * there is none.
 */
export function upperBound(a: ArrayLike<number>, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x < a[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The first index in [lo, hi) where `before` is false, given that it holds for a prefix of the
 * range and not after it; hi when it holds throughout. lowerBound is
 * `partitionPoint(lo, hi, (i) => a[i] < x)`.
 */
export function partitionPoint(lo: number, hi: number, before: (i: number) => boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
