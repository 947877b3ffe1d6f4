// The traced machine's /proc/kallsyms (a .dat's KALLSYMS section) and the lookup libtraceevent
// does in it for %ps and the function plugin (event-parse.c tep_parse_kallsyms, find_func):
//   ffffffff81000000 T _stext
//   ffffffffc0a01000 t kvm_entry	[kvm]

import { text } from './bytes';

export interface KallsymsHit {
  name: string;
  addr: bigint;
}

export class Kallsyms {
  private readonly t: Table;

  constructor(private readonly src: Uint8Array | undefined) {
    this.t = parseKallsyms(src);
  }

  /** Symbol k's name, decoded when a lookup finds it (a kernel has ~100k, a trace prints few). */
  private name(k: number): string {
    return text(this.src!, this.t.nameAt[k]!, this.t.nameEnd[k]!);
  }

  /**
   * libtraceevent find_func: glibc's bsearch over the symbols sorted by address, matching an
   * equal address or one between a symbol and the next (so nothing past the last symbol), which
   * decides which of several symbols at one address is printed.
   */
  find(addr: bigint): KallsymsHit | undefined {
    const { hi, lo, order } = this.t;
    const ah = Number(addr >> 32n);
    const al = Number(addr & 0xffffffffn);
    const n = order.length;
    // -1: addr is before symbol k, 0: at it, 1: after it.
    const cmp = (k: number): number =>
      hi[k]! !== ah ? (ah < hi[k]! ? -1 : 1) : al < lo[k]! ? -1 : al > lo[k]! ? 1 : 0;
    let l = 0;
    let u = n;
    while (l < u) {
      const idx = (l + u) >> 1;
      const k = order[idx]!;
      const c = cmp(k);
      const inside = c === 0 || (c > 0 && idx + 1 < n && cmp(order[idx + 1]!) < 0);
      if (inside) return { name: this.name(k), addr: (BigInt(hi[k]!) << 32n) | BigInt(lo[k]!) };
      if (c < 0) u = idx;
      else l = idx + 1;
    }
    return undefined;
  }
}

interface Table {
  hi: Uint32Array;
  lo: Uint32Array;
  /** Where each symbol's name is in the section's bytes. */
  nameAt: Uint32Array;
  nameEnd: Uint32Array;
  /** Indexes sorted by address. */
  order: Uint32Array;
}

function hexVal(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

/** /proc/kallsyms text (`ffffffff81000000 T _stext`), addresses split into 32-bit halves. */
function parseKallsyms(src: Uint8Array | undefined): Table {
  // At most one symbol a line; lines are at least 4 bytes (`0 T x`), so this bounds the count.
  let cap = 0;
  if (src !== undefined) for (let i = src.indexOf(10); i >= 0; i = src.indexOf(10, i + 1)) cap++;
  cap++;
  const hi = new Uint32Array(cap);
  const lo = new Uint32Array(cap);
  const nameAt = new Uint32Array(cap);
  const nameEnd = new Uint32Array(cap);
  let count = 0;
  // Whether file order is already address order (it is for a whole /proc/kallsyms but modules).
  let sorted = true;
  if (src !== undefined) {
    let i = 0;
    const n = src.length;
    while (i < n) {
      let e = src.indexOf(10, i);
      if (e < 0) e = n;
      // Hex address (16 digits, or 8 on 32-bit kernels), the type letter, the name (maybe `\t[module]`).
      const sp = src.indexOf(32, i);
      const w = sp - i;
      if (sp > 0 && sp < e && w > 0 && w <= 16 && e - sp > 3 && src[sp + 2] === 32) {
        let h = 0;
        let l = 0;
        for (let k = 0; k < w - 8; k++) h = h * 16 + hexVal(src[i + k]!);
        for (let k = Math.max(0, w - 8); k < w; k++) l = l * 16 + hexVal(src[i + k]!);
        let ne = sp + 3;
        while (ne < e && src[ne] !== 9 && src[ne] !== 32) ne++;
        // As tep_parse_kallsyms: no ARM `$a` mapping symbols, no absolute (A/a) symbols.
        const type = src[sp + 1];
        if (src[sp + 3] !== 36 /* $ */ && type !== 65 && type !== 97) {
          if (count > 0 && (h < hi[count - 1]! || (h === hi[count - 1]! && l < lo[count - 1]!)))
            sorted = false;
          hi[count] = h;
          lo[count] = l;
          nameAt[count] = sp + 3;
          nameEnd[count] = ne;
          count++;
        }
      }
      i = e + 1;
    }
  }
  // libtraceevent keeps them newest first, then sorts (glibc's qsort: a stable merge sort): equal
  // addresses end up last line first.
  const order = new Uint32Array(count);
  if (sorted) {
    // Already in address order: only runs of one address turn round.
    for (let a = 0; a < count;) {
      let b = a + 1;
      while (b < count && hi[b] === hi[a] && lo[b] === lo[a]) b++;
      for (let k = a; k < b; k++) order[k] = b - 1 - (k - a);
      a = b;
    }
  } else {
    const idx = Array.from({ length: count }, (_, k) => count - 1 - k);
    idx.sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]!);
    order.set(idx);
  }
  return { hi, lo, nameAt, nameEnd, order };
}
