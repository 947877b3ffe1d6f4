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
    const src = this.src!;
    const at = this.t.nameAt[k]!;
    let end = at;
    while (end < src.length && src[end] !== 10 && src[end] !== 9 && src[end] !== 32) end++;
    return text(src, at, end);
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
  /** Where each symbol's name starts in the section's bytes (it ends at a tab, space or newline). */
  nameAt: Uint32Array;
  /** Indexes sorted by address. */
  order: Uint32Array;
}

function hexVal(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

/** /proc/kallsyms text (`ffffffff81000000 T _stext`), addresses split into 32-bit halves. */
function parseKallsyms(src: Uint8Array | undefined): Table {
  // One pass over the text (a kernel's is ~5 MB): columns sized for ~40-byte lines, doubled
  // when they fill; names are found only for the symbols a lookup returns.
  let hi: Uint32Array = new Uint32Array(((src?.length ?? 0) >> 5) + 16);
  let lo: Uint32Array = new Uint32Array(hi.length);
  let nameAt: Uint32Array = new Uint32Array(hi.length);
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
        // As tep_parse_kallsyms: no ARM `$a` mapping symbols, no absolute (A/a) symbols.
        const type = src[sp + 1];
        if (src[sp + 3] !== 36 /* $ */ && type !== 65 && type !== 97) {
          if (count > 0 && (h < hi[count - 1]! || (h === hi[count - 1]! && l < lo[count - 1]!)))
            sorted = false;
          if (count === hi.length) {
            const grow = (a: Uint32Array): Uint32Array => {
              const g = new Uint32Array(a.length * 2);
              g.set(a);
              return g;
            };
            hi = grow(hi);
            lo = grow(lo);
            nameAt = grow(nameAt);
          }
          hi[count] = h;
          lo[count] = l;
          nameAt[count] = sp + 3;
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
  return { hi, lo, nameAt, order };
}
