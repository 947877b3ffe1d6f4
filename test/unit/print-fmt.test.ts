// The print fmt evaluator (src/core/ingest/trace-dat/print-fmt.ts) on the rules of libtraceevent
// that make trace-cmd report differ from C: operator grouping, unsigned 64-bit values, flag and
// symbol tables, %s of a pointer, address conversions. Each case is a format from a real kernel.
import { describe, expect, it } from 'vitest';
import { EvalContext, formatPrint, parsePrintFmt } from '../../src/core/ingest/trace-dat/print-fmt';

function run(
  fmt: string,
  fields: Record<string, bigint | string | Uint8Array> = {},
): string | undefined {
  const pf = parsePrintFmt(fmt);
  if (pf === undefined) return undefined;
  const cx: EvalContext = {
    num: (n) => (typeof fields[n] === 'bigint' ? (fields[n] as bigint) : undefined),
    str: (n) => (typeof fields[n] === 'string' ? (fields[n] as string) : undefined),
    elem: () => undefined,
    dynArray: (n) => (fields[n] instanceof Uint8Array ? (fields[n] as Uint8Array) : undefined),
    longBits: 64,
    little: true,
    symbol: () => undefined,
  };
  return formatPrint(pf, cx);
}

describe('print fmt as libtraceevent evaluates it', () => {
  it('nests operators of equal priority to the right, as process_op does', () => {
    expect(run('"%d", 10 - 3 - 2')).toBe('9');
    expect(run('"%d", 2 * 3 + 4')).toBe('10');
  });

  it('rotates a looser parenthesised right operand out (timer_start flags print D|P|I)', () => {
    const fmt =
      '"flags=%s", __print_flags(REC->flags & (0x00040000 | 0x00080000 | 0x00100000 | 0x00200000), "|", { 0x00040000, "M" }, { 0x00080000, "D" }, { 0x00100000, "P" }, { 0x00200000, "I" })';
    expect(run(fmt, { flags: 0xcc00003n })).toBe('flags=D|P|I');
  });

  it('compares with -1UL as an unsigned 64-bit value (mm_page_alloc pfn)', () => {
    const fmt =
      '"page=%p pfn=0x%lx", REC->pfn != -1UL ? (((struct page *)vmemmap_base) + (REC->pfn)) : ((void *)0), REC->pfn != -1UL ? REC->pfn : 0';
    expect(run(fmt, { pfn: 0x81ean })).toBe('page=0x81ea pfn=0x81ea');
    expect(run(fmt, { pfn: 0xffffffffffffffffn })).toBe('page=(nil) pfn=0x0');
  });

  it('never prints a 0 flag, and names it cannot evaluate in symbol tables never match', () => {
    const flags = '"%s", __print_flags(REC->f, "|", { 0, "NONE" }, { 1, "A" }, { 2, "B" })';
    expect(run(flags, { f: 0n })).toBe('');
    expect(run(flags, { f: 7n })).toBe('A|B|0x4');
    const sym = '"mode=%s", __print_symbolic(REC->mode, { HRTIMER_MODE_ABS, "ABS" }, { 1, "REL" })';
    expect(run(sym, { mode: 0n })).toBe('mode=0x0');
    expect(run(sym, { mode: 1n })).toBe('mode=REL');
  });

  it('prints IPv4, compressed IPv6 and MAC addresses from array fields', () => {
    const v4 = new Uint8Array([192, 168, 1, 1]);
    const v6 = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 1]);
    expect(run('"%pI4 %pI6c", REC->a, REC->b', { a: v4, b: v6 })).toBe(
      '192.168.1.1 ::ffff:192.168.1.1',
    );
    const mac = new Uint8Array([0x12, 0xcf, 0xfc, 0x34, 0xe2, 0x1b]);
    expect(run('"%pM", REC->m', { m: mac })).toBe('12:cf:fc:34:e2:1b');
  });

  it('takes __builtin_expect as its condition and unknown helpers as unparsable', () => {
    const fmt =
      '"err=%ld", __builtin_expect(!!((unsigned long)(void *)(REC->addr) >= (unsigned long)-4095), 0) ? REC->addr : 0';
    expect(run(fmt, { addr: 0xfffffffffffffff4n })).toBe('err=-12');
    expect(run('"%Ld", div_s64(REC->delta, 1000)', { delta: 5000n })).toBeUndefined();
  });
});
