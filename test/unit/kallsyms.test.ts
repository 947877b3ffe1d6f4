import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Kallsyms } from '../../src/core/ingest/trace-dat/kallsyms';

/**
 * libtraceevent's lookup spelled out the slow way (tep_parse_kallsyms, then find_func): symbols
 * newest first, a stable sort by address, glibc's bsearch. The table is built lazily and without
 * decoding every name; it must answer exactly as this does, duplicates and module order included.
 */
function reference(lines: string[], addr: bigint): { name: string; addr: bigint } | undefined {
  const syms: { a: bigint; name: string }[] = [];
  for (const line of lines) {
    const m = /^([0-9a-f]{1,16}) (\S) ([^\t ]+)/.exec(line);
    if (m === null || m[3]!.startsWith('$') || m[2] === 'A' || m[2] === 'a') continue;
    syms.push({ a: BigInt('0x' + m[1]!), name: m[3]! });
  }
  const order = syms.reverse().sort((x, y) => (x.a < y.a ? -1 : x.a > y.a ? 1 : 0));
  let l = 0;
  let u = order.length;
  while (l < u) {
    const idx = (l + u) >> 1;
    const s = order[idx]!;
    const c = addr < s.a ? -1 : addr > s.a ? 1 : 0;
    if (c === 0 || (c > 0 && idx + 1 < order.length && addr < order[idx + 1]!.a))
      return { name: s.name, addr: s.a };
    if (c < 0) u = idx;
    else l = idx + 1;
  }
  return undefined;
}

const hex = (v: bigint): string => v.toString(16).padStart(16, '0');

describe('Kallsyms', () => {
  it('finds the symbol libtraceevent finds: sorted, unsorted, duplicate addresses', () => {
    const base = 0xffffffff81000000n;
    const sym = fc.record({
      off: fc.integer({ min: 0, max: 40 }),
      type: fc.constantFrom('T', 't', 'D', 'A', 'W'),
      name: fc.constantFrom('a', 'b', 'c', '$x', 'kvm_entry\t[kvm]', 'zz'),
    });
    fc.assert(
      fc.property(
        fc.array(sym, { maxLength: 30 }),
        fc.boolean(),
        fc.integer({ min: -2, max: 45 }),
        (syms, sort, at) => {
          const list = sort ? [...syms].sort((x, y) => x.off - y.off) : syms;
          const lines = list.map(
            (s, k) => `${hex(base + BigInt(s.off * 16))} ${s.type} ${s.name}${k}`,
          );
          const ks = new Kallsyms(new TextEncoder().encode(lines.join('\n') + '\n'));
          const addr = base + BigInt(at * 16 + (at & 1) * 3);
          expect(ks.find(addr)).toEqual(reference(lines, addr));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('takes 32-bit kernels (8 hex digits) and no section at all', () => {
    const ks = new Kallsyms(new TextEncoder().encode('c0008000 T stext\nc0100000 t later\n'));
    expect(ks.find(0xc0008010n)).toEqual({ name: 'stext', addr: 0xc0008000n });
    expect(ks.find(0xc0100000n)?.name).toBe('later');
    expect(new Kallsyms(undefined).find(0xc0008010n)).toBeUndefined();
  });
});
