// An indexed binary min-heap of timers: slot s (a thread, a pCPU) has at most one pending time.
// Setting, moving and clearing a slot's time are O(log n); the earliest time is O(1); the slots
// due by a time are listed, sorted, without disturbing the heap. The simulator keeps one per kind of
// timer, so finding the next event no longer scans every thread and pCPU.

export class TimerHeap {
  /** Each slot's time (Infinity when it has none). */
  readonly at: Float64Array;
  private readonly heap: Int32Array;
  /** Each slot's index in `heap`, or -1. */
  private readonly pos: Int32Array;
  private size = 0;
  /** Scratch for `due`'s walk (a walk holds at most one pending node per level, plus one). */
  private readonly stack: Int32Array;
  /** Scratch for `due`: 1 for a slot found due, cleared as it is listed. */
  private readonly mark: Uint8Array;

  constructor(slots: number) {
    this.at = new Float64Array(slots).fill(Infinity);
    this.heap = new Int32Array(slots);
    this.pos = new Int32Array(slots).fill(-1);
    this.stack = new Int32Array(slots + 1);
    this.mark = new Uint8Array(slots);
  }

  /** The earliest pending time, or Infinity. */
  min(): number {
    return this.size > 0 ? this.at[this.heap[0]!]! : Infinity;
  }

  /** Sets slot s's time; Infinity clears it. */
  set(s: number, time: number): void {
    const was = this.at[s]!;
    if (time === was) return;
    this.at[s] = time;
    let i = this.pos[s]!;
    if (time === Infinity) {
      if (i >= 0) this.removeAt(i);
      return;
    }
    if (i < 0) {
      i = this.size++;
      this.heap[i] = s;
      this.pos[s] = i;
      this.up(i);
    } else if (time < was) this.up(i);
    else this.down(i);
  }

  /**
   * Writes into `out` every slot whose time is <= t, in ascending slot order, and returns how
   * many. `out` must have room for every slot. The walk marks the due slots and the lowest and
   * highest; the marks are then read in slot order. No code here runs only when several slots
   * are due at once (an insertion sort's shifts did): V8 optimised this with no feedback there
   * and threw the code away the first time two pieces ended together.
   */
  due(t: number, out: Int32Array): number {
    if (this.size === 0 || this.at[this.heap[0]!]! > t) return 0;
    const { heap, at, stack, size, mark } = this;
    let lo = heap[0]!;
    let hi = lo;
    let top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const i = stack[--top]!;
      const s = heap[i]!;
      if (at[s]! > t) continue;
      mark[s] = 1;
      lo = s < lo ? s : lo;
      hi = s > hi ? s : hi;
      const l = 2 * i + 1;
      if (l < size) stack[top++] = l;
      if (l + 1 < size) stack[top++] = l + 1;
    }
    let n = 0;
    for (let s = lo; s <= hi; s++) {
      out[n] = s;
      n += mark[s]!;
      mark[s] = 0;
    }
    return n;
  }

  private removeAt(i: number): void {
    const s = this.heap[i]!;
    this.pos[s] = -1;
    const last = this.heap[--this.size]!;
    if (i === this.size) return;
    this.heap[i] = last;
    this.pos[last] = i;
    this.up(i);
    this.down(this.pos[last]!);
  }

  private up(i: number): void {
    const { heap, pos, at } = this;
    const s = heap[i]!;
    const key = at[s]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const ps = heap[parent]!;
      if (at[ps]! <= key) break;
      heap[i] = ps;
      pos[ps] = i;
      i = parent;
    }
    heap[i] = s;
    pos[s] = i;
  }

  private down(i: number): void {
    const { heap, pos, at, size } = this;
    const s = heap[i]!;
    const key = at[s]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && at[heap[r]!]! < at[heap[l]!]! ? r : l;
      const cs = heap[c]!;
      if (at[cs]! >= key) break;
      heap[i] = cs;
      pos[cs] = i;
      i = c;
    }
    heap[i] = s;
    pos[s] = i;
  }
}
