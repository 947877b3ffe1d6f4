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

  constructor(src: Uint8Array | undefined) {
    this.t = parseKallsyms(src);
  }

  /**
   * libtraceevent find_func: glibc's bsearch over the symbols sorted by address, matching an
   * equal address or one between a symbol and the next (so nothing past the last symbol), which
   * decides which of several symbols at one address is printed.
   */
  find(addr: bigint): KallsymsHit | undefined {
    const { hi, lo, names, order } = this.t;
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
      if (inside) return { name: names[k]!, addr: (BigInt(hi[k]!) << 32n) | BigInt(lo[k]!) };
      if (c < 0) u = idx;
      else l = idx + 1;
    }
    return undefined;
  }
}

interface Table {
  hi: Uint32Array;
  lo: Uint32Array;
  names: string[];
  /** Indexes sorted by address. */
  order: Uint32Array;
}

function hexVal(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

/** /proc/kallsyms text (`ffffffff81000000 T _stext`), addresses split into 32-bit halves. */
function parseKallsyms(src: Uint8Array | undefined): Table {
  const hi: number[] = [];
  const lo: number[] = [];
  const names: string[] = [];
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
          hi.push(h);
          lo.push(l);
          names.push(text(src, sp + 3, ne));
        }
      }
      i = e + 1;
    }
  }
  // libtraceevent keeps them newest first, then sorts (glibc's qsort: a stable merge sort).
  const order = Array.from(names.keys()).reverse();
  order.sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]!);
  return {
    hi: Uint32Array.from(hi),
    lo: Uint32Array.from(lo),
    names,
    order: Uint32Array.from(order),
  };
}
