// Events that `trace-cmd report` prints through a handler of its own rather than the print fmt:
// libtraceevent's plugins (plugins/plugin_function.c, plugin_hrtimer.c, plugin_kmem.c,
// plugin_kvm.c) and its built-in binary printk (event-parse.c make_bprint_args). One small entry
// per event, keyed `system/name`, as libtraceevent registers them (tep_register_event_handler).
// The sched_switch / sched_wakeup plugin lines are the model's own (import-dat.ts reads those
// events straight from their fields; export/trace-cmd-text.ts prints them).
//   function:             switch_mm_irqs_off
//   kernel_stack:         <stack trace >\n=> do_idle (ffffffff90141d9a)
//   hrtimer_start:        hrtimer=0xffff8b767bba35c0 function=tick_sched_timer/0x0 expires=...
//   kvm_exit:             reason HLT rip 0xffffffff81c3a2ae info 0 0

import { EvalContext, formatValue, parseFormat, symbolText } from './print-fmt';

/** What a handler reads from the record being printed. */
export interface PluginRecord extends EvalContext {
  cpu: number;
  /** Whether the event's format has this field. */
  has(name: string): boolean;
  /** Bytes of a `long` on the traced machine. */
  longSize: number;
  /** The record's bytes from a field's offset to the record's end. */
  rest(name: string): Uint8Array | undefined;
  /** printk_formats: the kernel's constant strings by address. */
  printk(addr: bigint): string | undefined;
  /** The event's text from its print fmt (what a plugin adds its own text to). */
  printFmt(): string | undefined;
}

/** State a handler keeps across events (the function plugin's per-CPU call stacks). */
export class PluginState {
  /** Per CPU: the function names seen at each call depth (plugin_function.c fstack). */
  readonly stacks: string[][] = [];
}

type Handler = (r: PluginRecord, st: PluginState) => string | undefined;

function hex(v: bigint): string {
  return '0x' + v.toString(16);
}

/** libtraceevent tep_find_function: the name of the symbol containing addr. */
function funcName(r: PluginRecord, addr: bigint): string | undefined {
  return r.symbol(addr)?.name;
}

/** plugin_function.c add_and_get_index: the call depth of child under parent on this CPU. */
function indexOf(st: PluginState, cpu: number, parent: string, child: string | undefined): number {
  const stack = (st.stacks[cpu] ??= []);
  const put = (at: number, name: string | undefined): void => {
    if (name !== undefined) stack[at] = name;
  };
  for (let i = 0; i < stack.length && stack[i] !== undefined; i++) {
    if (stack[i] === parent) {
      put(i + 1, child);
      return i;
    }
  }
  put(0, parent);
  put(1, child);
  return 0;
}

/** ftrace `function`: the function, indented by its depth under its parent (options parent=0, indent=1). */
function functionLine(r: PluginRecord, st: PluginState): string | undefined {
  const ip = r.num('ip');
  const pip = r.num('parent_ip');
  if (ip === undefined || pip === undefined) return undefined;
  const func = funcName(r, ip);
  const parent = funcName(r, pip);
  const index = parent !== undefined ? indexOf(st, r.cpu, parent, func) : 0;
  return ' '.repeat(index * 3) + (func ?? hex(ip));
}

/** ftrace `kernel_stack`: one `=> fn (addr)` line per caller until the record ends or a -1. */
function kernelStack(r: PluginRecord): string | undefined {
  const b = r.rest('caller');
  if (b === undefined) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let out = '<stack trace >\n';
  for (let at = 0; at + r.longSize <= b.length; at += r.longSize) {
    const addr =
      r.longSize === 8 ? dv.getBigUint64(at, r.little) : BigInt(dv.getUint32(at, r.little));
    if (BigInt.asUintN(32, addr) === 0xffffffffn) break;
    const f = funcName(r, addr);
    out += f !== undefined ? `=> ${f} (${addr.toString(16)})\n` : `=> ${addr.toString(16)}\n`;
  }
  return out;
}

const BPRINT_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"' };

/**
 * ftrace `bprint` (trace_printk with a constant format): the format from printk_formats at `fmt`,
 * the arguments from `buf` as the kernel's vbin_printf stored them: each number 4-byte aligned
 * (4 bytes, or a long for %l/%z/%p, 8 for %ll), each %s a NUL-terminated string in place.
 */
function bprint(r: PluginRecord): string | undefined {
  const ip = r.num('ip');
  const fa = r.num('fmt');
  const buf = r.rest('buf');
  if (ip === undefined || fa === undefined || buf === undefined) return undefined;
  const printk = r.printk(fa);
  const raw = printk !== undefined ? printk : `(NO FORMAT FOUND at ${fa.toString(16)})\n`;
  const fmt = raw.replace(/\\(.)/g, (m, c: string) => BPRINT_ESCAPES[c] ?? c);
  const p = parseFormat(fmt);
  if (p === undefined) return undefined;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  const take = (size: number): bigint => {
    at = (at + 3) & ~3;
    if (at + size > buf.length) {
      at += size;
      return 0n;
    }
    const v = size === 8 ? dv.getBigUint64(at, r.little) : BigInt(dv.getUint32(at, r.little));
    at += size;
    return v;
  };
  let out = symbolText(ip, 's', r) + ': ';
  for (const c of p.convs) {
    out += c.lit;
    const width = c.width === 'arg' ? Number(BigInt.asIntN(32, take(4))) : c.width;
    if (
      c.conv === 's' ||
      (c.conv === 'p' && !/[sSxfF]/.test(c.pext) && c.pext !== '' && printable(buf, at))
    ) {
      let e = at;
      while (e < buf.length && buf[e] !== 0) e++;
      const s = new TextDecoder().decode(buf.subarray(at, e));
      at = e + 1;
      out += formatValue({ ...c, conv: 's' }, s, width, r);
      continue;
    }
    const size =
      c.conv === 'p' || c.len === 'l' || c.len === 'z'
        ? r.longSize
        : c.len === 'll' || c.len === 'L'
          ? 8
          : 4;
    out += formatValue(c, take(size), width, r);
  }
  return out + p.tail;
}

/** make_bprint_args: a %p with an unknown extension is a string when its first byte prints (unaligned). */
function printable(b: Uint8Array, at: number): boolean {
  const c = b[at] ?? 0;
  return c >= 0x20 && c < 0x7f;
}

/** plugin_hrtimer.c: `tep_print_func_field` prints `name/0x<addr - value>`, or the address. */
function funcField(r: PluginRecord, name: string): string {
  const v = r.num(name) ?? 0n;
  const sym = r.symbol(v);
  return sym !== undefined
    ? `${sym.name}/${hex(BigInt.asUintN(64, sym.addr - v))}`
    : `0x${v.toString(16).padStart(8, '0')}`;
}

function hrtimerAddr(r: PluginRecord): string {
  return hex(r.num(r.has('timer') ? 'timer' : 'hrtimer') ?? 0n);
}

function hrtimerStart(r: PluginRecord): string {
  return `hrtimer=${hrtimerAddr(r)} function=${funcField(r, 'function')} expires=${r.num('expires') ?? 0n} softexpires=${r.num('softexpires') ?? 0n}`;
}

function hrtimerExpireEntry(r: PluginRecord): string {
  return `hrtimer=${hrtimerAddr(r)} now=${r.num('now') ?? 0n} function=${funcField(r, 'function')}`;
}

/** plugin_kmem.c: the call site's function and offset, then the print fmt's own text. */
function kmemCallSite(r: PluginRecord): string | undefined {
  const site = r.num('call_site');
  const rest = r.printFmt();
  if (site === undefined || rest === undefined) return rest;
  const sym = r.symbol(site);
  if (sym === undefined) return rest;
  return `(${sym.name}+${hex(site - sym.addr)}) ${rest}`;
}

const TLB_REASONS = [
  'flush on task switch',
  'remote shootdown',
  'local shootdown',
  'local mm shootdown',
];

/** plugin_tlb.c: `pages=N reason=<name> (N)` (the name only for the four reasons it knows). */
function tlbFlush(r: PluginRecord): string | undefined {
  const pages = r.num('pages');
  const reason = r.num('reason');
  if (pages === undefined || reason === undefined) return undefined;
  const name = TLB_REASONS[Number(reason)] ?? '';
  return `pages=${BigInt.asIntN(64, pages)} reason=${name} (${BigInt.asIntN(64, reason)})`;
}

/** plugin_futex.c's table: name, then the formats of val, utime (val2), uaddr2, val3 ('' = not printed). */
const FUTEX_OPS: [string, string, string, string, string][] = [
  ['FUTEX_WAIT', 'val=x', 'utime=x', '', ''],
  ['FUTEX_WAKE', 'val=u', '', '', ''],
  ['FUTEX_FD', 'val=u', '', '', ''],
  ['FUTEX_REQUEUE', 'val=u', 'val2=u', 'uaddr2=x', ''],
  ['FUTEX_CMP_REQUEUE', 'val=u', 'val2=u', 'uaddr2=x', 'val3=x'],
  ['FUTEX_WAKE_OP', 'val=u', 'val2=u', 'uaddr2=x', 'val3=x'],
  ['FUTEX_LOCK_PI', '', 'utime=x', '', ''],
  ['FUTEX_UNLOCK_PI', '', '', '', ''],
  ['FUTEX_TRYLOCK_PI', '', '', '', ''],
  ['FUTEX_WAIT_BITSET', 'val=x', 'utime=x', '', 'val3=x'],
  ['FUTEX_WAKE_BITSET', 'val=u', '', '', 'val3=x'],
  ['FUTEX_WAIT_REQUEUE_PI', 'val=x', 'utime=x', 'uaddr2=x', 'val3=x'],
  ['FUTEX_CMP_REQUEUE_PI', 'val=u', 'val2=u', 'uaddr2=x', 'val3=x'],
];

/** plugin_futex.c: sys_enter_futex as `op=FUTEX_WAKE|FUTEX_PRIVATE_FLAG uaddr=0x... val=1`. */
function futex(r: PluginRecord): string | undefined {
  const names = ['uaddr', 'op', 'val', 'utime', 'uaddr2', 'val3'];
  const v = names.map((n) => r.num(n));
  if (v.some((x) => x === undefined)) return undefined;
  const [uaddr, op, val, utime, uaddr2, val3] = v as bigint[];
  const cmd = op! & ~(128n | 256n);
  const fop = FUTEX_OPS[Number(cmd)];
  if (cmd >= BigInt(FUTEX_OPS.length) || fop === undefined) return undefined;
  const x8 = (n: bigint): string => '0x' + n.toString(16).padStart(8, '0');
  let out = `op=${fop[0]}`;
  if ((op! & 128n) !== 0n) out += '|FUTEX_PRIVATE_FLAG';
  if ((op! & 256n) !== 0n) out += '|FUTEX_CLOCK_REALTIME';
  out += ` uaddr=${x8(uaddr!)}`;
  const vals = [val!, utime!, uaddr2!, val3!];
  for (let i = 0; i < 4; i++) {
    const f = fop[i + 1]!;
    if (f === '') continue;
    const [key, kind] = f.split('=') as [string, string];
    out += ` ${key}=${kind === 'x' ? x8(vals[i]!) : vals[i]!.toString()}`;
  }
  return out;
}

/** plugin_kvm.c VMX_EXIT_REASONS (isa 1, what it assumes when the event has no `isa` field). */
const VMX_EXIT_REASONS: Record<number, string> = {
  0: 'EXCEPTION_NMI',
  1: 'EXTERNAL_INTERRUPT',
  2: 'TRIPLE_FAULT',
  7: 'PENDING_INTERRUPT',
  8: 'NMI_WINDOW',
  9: 'TASK_SWITCH',
  10: 'CPUID',
  12: 'HLT',
  13: 'INVD',
  14: 'INVLPG',
  15: 'RDPMC',
  16: 'RDTSC',
  18: 'VMCALL',
  19: 'VMCLEAR',
  20: 'VMLAUNCH',
  21: 'VMPTRLD',
  22: 'VMPTRST',
  23: 'VMREAD',
  24: 'VMRESUME',
  25: 'VMWRITE',
  26: 'VMOFF',
  27: 'VMON',
  28: 'CR_ACCESS',
  29: 'DR_ACCESS',
  30: 'IO_INSTRUCTION',
  31: 'MSR_READ',
  32: 'MSR_WRITE',
  36: 'MWAIT_INSTRUCTION',
  39: 'MONITOR_INSTRUCTION',
  40: 'PAUSE_INSTRUCTION',
  41: 'MCE_DURING_VMENTRY',
  43: 'TPR_BELOW_THRESHOLD',
  44: 'APIC_ACCESS',
  45: 'EOI_INDUCED',
  48: 'EPT_VIOLATION',
  49: 'EPT_MISCONFIG',
  50: 'INVEPT',
  52: 'PREEMPTION_TIMER',
  54: 'WBINVD',
  55: 'XSETBV',
  56: 'APIC_WRITE',
  58: 'INVPCID',
  62: 'PML_FULL',
  63: 'XSAVES',
  64: 'XRSTORS',
};

/** plugin_kvm.c kvm_exit: `reason HLT rip 0x... info 0 0` (VMX names; SVM isa prints the number). */
function kvmExit(r: PluginRecord): string | undefined {
  const reason = r.num('exit_reason');
  const rip = r.num('guest_rip');
  if (reason === undefined || rip === undefined) return undefined;
  const isa = r.num('isa') ?? 1n;
  const name = isa === 1n ? VMX_EXIT_REASONS[Number(reason)] : undefined;
  let out = name !== undefined ? `reason ${name}` : `reason UNKNOWN (${reason})`;
  out += ` rip ${hex(rip)}`;
  const i1 = r.num('info1');
  const i2 = r.num('info2');
  if (i1 !== undefined && i2 !== undefined) out += ` info ${i1.toString(16)} ${i2.toString(16)}`;
  return out;
}

/** plugin_kvm.c kvm_entry: ` vcpu N rip 0x...` (its own leading space). */
function kvmEntry(r: PluginRecord): string | undefined {
  const vcpu = r.num('vcpu_id');
  const rip = r.num('rip');
  if (vcpu === undefined || rip === undefined) return undefined;
  return ` vcpu ${BigInt.asUintN(32, vcpu)} rip ${hex(rip)}`;
}

const HANDLERS: Record<string, Handler> = {
  'kvm/kvm_exit': kvmExit,
  'kvm/kvm_entry': kvmEntry,
  'tlb/tlb_flush': tlbFlush,
  'syscalls/sys_enter_futex': futex,
  'ftrace/function': functionLine,
  'ftrace/kernel_stack': kernelStack,
  'ftrace/bprint': bprint,
  'timer/hrtimer_start': hrtimerStart,
  'timer/hrtimer_expire_entry': hrtimerExpireEntry,
  'kmem/kmalloc': kmemCallSite,
  'kmem/kmalloc_node': kmemCallSite,
  'kmem/kfree': kmemCallSite,
  'kmem/kmem_cache_alloc': kmemCallSite,
  'kmem/kmem_cache_alloc_node': kmemCallSite,
  'kmem/kmem_cache_free': kmemCallSite,
};

/** The handler trace-cmd report uses for this event, if it has one. */
export function pluginFor(system: string, name: string): Handler | undefined {
  return HANDLERS[`${system}/${name}`];
}
