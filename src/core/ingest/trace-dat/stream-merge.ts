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

  add(s: CpuStream): void {
    const h = this.heap;
    h.push(s);
    let i = h.length - 1;
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
    return this.heap[0];
  }

  advance(): CpuStream | undefined {
    const h = this.heap;
    const top = h[0]!;
    if (!top.next()) {
      const last = h.pop()!;
      if (h.length === 0) return undefined;
      h[0] = last;
    }
    // Sift the root down. Swaps through a local: a destructuring swap makes an array each time
    // until V8 optimises this (a 2 MB .dat's whole read runs mostly before that).
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
      const down = h[c]!;
      if (!before(down, h[i]!)) break;
      h[c] = h[i]!;
      h[i] = down;
      i = c;
    }
    return h[0];
  }
}
