// The k-way merge of a buffer's CPU streams by timestamp, ties to the lower CPU, the order
// trace-cmd report prints them in (the .dat decoder's ordered read).

import type { CpuStream } from './kbuffer';

/** s before o: earlier timestamp, and on a tie the lower CPU (as trace-cmd report merges). */
function before(s: CpuStream, o: CpuStream): boolean {
  return s.ts < o.ts || (s.ts === o.ts && s.cpu < o.cpu);
}

/**
 * The k-way merge of the CPU streams: a binary heap on (timestamp, CPU). `advance()` moves the
 * stream just returned to its next event and returns the new earliest one.
 */
export class StreamMerge {
  private readonly heap: CpuStream[] = [];
  /** Streams not ended: heap[0..n). */
  private n = 0;

  add(s: CpuStream): void {
    const h = this.heap;
    h.push(s);
    let i = h.length - 1;
    this.n = h.length;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const up = h[i]!;
      if (!before(up, h[p]!)) break;
      h[i] = h[p]!;
      h[p] = up;
      i = p;
    }
  }

  first(): CpuStream | undefined {
    return this.n > 0 ? this.heap[0] : undefined;
  }

  advance(): CpuStream | undefined {
    const h = this.heap;
    const top = h[0]!;
    // A stream that ended gives its root slot to the last one. Every read and store of that runs
    // on every call (one that ended or not): a path first run as a stream ends met code V8 had
    // optimised with no feedback for it (this, inlined into the decoder's loop), which threw
    // that code away before the next file's read.
    const more = top.next();
    const n = this.n - (more ? 0 : 1);
    this.n = n;
    h[0] = h[more ? 0 : n]!;
    if (n === 0) return undefined;
    // Sift the root down. Swaps through a local: a destructuring swap makes an array each time
    // until V8 optimises this (a 2 MB .dat's whole read runs mostly before that).
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      // The right child, or the left one again when there is none (never before itself): the
      // test runs either way, so a host's two streams give it feedback for a guest's four.
      const right = l + 1;
      const r = right < n ? right : l;
      const c = before(h[r]!, h[l]!) ? r : l;
      const down = h[c]!;
      if (!before(down, h[i]!)) break;
      h[c] = h[i]!;
      h[i] = down;
      i = c;
    }
    return h[0];
  }
}
