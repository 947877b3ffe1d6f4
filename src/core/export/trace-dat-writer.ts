// Writes a Trace as a trace-cmd .dat file, version 7 (trace-cmd.dat.v7(5)), uncompressed or with
// zlib: what `vcpu-lens simulate --format dat` and the benchmark produce, readable by trace-cmd
// report and KernelShark. Scheduler events get the kernel's own formats (Linux 6.x sched events,
// ftrace `print`); events kept as text (kvm, syscalls, generic) become events of the same name
// with one string field printed as is, so any reader prints the same line.
// Layout (as trace-cmd 3.1 writes it): header, HEADER_INFO, FTRACE_EVENTS, EVENT_FORMATS, KALLSYMS,
// PRINTK, CMDLINES, OPTIONS (clock, CPU count, section offsets), the BUFFER flyrecord section with
// page-aligned per-CPU ring-buffer pages, OPTIONS (BUFFER), STRINGS.

import { Kind, TASK_BITS, TASK_MASK } from '../model/event-kinds';
import { markerAt, migrateAt, runtimeAt, wakeupAt } from '../model/payload';
import { PRIO_UNKNOWN } from '../model/task-table';
import type { Trace } from '../model/trace';
import { fields as textFields } from './trace-cmd-text';

export interface DatWriteOptions {
  /** `none` (default) or `zlib` (then `deflate` is required). */
  compression?: 'none' | 'zlib';
  /** zlib-format compressor (Node's deflateSync), injected: core has no Node APIs. */
  deflate?: (data: Uint8Array) => Uint8Array;
  /** Events per compressed chunk's worth of pages (trace-cmd uses 10 pages). */
  chunkPages?: number;
  uname?: string;
  /** Byte order and C long size of the traced machine written (default little endian, 8). */
  bigEndian?: boolean;
  longSize?: 4 | 8;
  /** TRACEID option: this session's trace id. */
  traceId?: bigint;
  /** GUEST options (a host file): each guest's name, trace id and vCPU -> host task. */
  guests?: { name: string; traceId: bigint; vcpus: { vcpu: number; hostPid: number }[] }[];
  /** TSC2NSEC option: ns = (tsc * mult) >> shift (trace-cmd record -C tsc2nsec). */
  tsc2nsec?: { mult: number; shift: number; offset: bigint };
  /** TIME_SHIFT option (a guest file): host = (guest * scaling >> fraction) + offset per sample. */
  timeShift?: {
    peerTraceId: bigint;
    flags: number;
    cpus: { times: bigint[]; offsets: bigint[]; scalings: bigint[]; fractions: number[] }[];
  };
  /**
   * Pids left out of the saved command lines, as the kernel's saved_cmdlines (128 entries by
   * default) leaves out pids on a busy machine; readers then name them from sched events.
   */
  cmdlinesWithout?: ReadonlySet<number>;
}

const PAGE = 4096;
const TS_MAX_DELTA = (1 << 27) - 1;

/** A growable little-endian byte buffer. */
class Out {
  constructor(readonly little = true) {}
  buf = new Uint8Array(1 << 16);
  dv = new DataView(this.buf.buffer);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }
  u16(v: number): void {
    this.room(2);
    this.dv.setUint16(this.len, v, this.little);
    this.len += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.dv.setUint32(this.len, v >>> 0, this.little);
    this.len += 4;
  }
  u64(v: number | bigint): void {
    this.room(8);
    this.dv.setBigUint64(this.len, BigInt.asUintN(64, BigInt(v)), this.little);
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  str(s: string): void {
    this.bytes(ENC.encode(s));
    this.u8(0);
  }
  padTo(align: number): void {
    const n = (align - (this.len % align)) % align;
    this.room(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
  }
  setU64(at: number, v: number): void {
    this.dv.setBigUint64(at, BigInt(v), this.little);
  }
  setU32(at: number, v: number): void {
    this.dv.setUint32(at, v >>> 0, this.little);
  }
  result(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

const ENC = new TextEncoder();

const COMMON =
  '\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n' +
  '\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n' +
  '\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n' +
  '\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n';

type FieldSpec = [decl: string, offset: number, size: number, signed: 0 | 1];

function formatText(name: string, id: number, fields: FieldSpec[], print: string): string {
  let s = `name: ${name}\nID: ${id}\nformat:\n${COMMON}`;
  for (const [d, o, z, sg] of fields)
    s += `\tfield:${d};\toffset:${o};\tsize:${z};\tsigned:${sg};\n`;
  return `${s}\nprint fmt: ${print}\n`;
}

const TASK_FIELDS = (p = ''): FieldSpec[] => [
  [`char ${p}comm[16]`, 8, 16, 0],
  [`pid_t ${p}pid`, 24, 4, 1],
  [`int ${p}prio`, 28, 4, 1],
];

/** The kernel's sched_switch print fmt (Linux 6.x), trimmed of nothing that matters to a reader. */
const SWITCH_PRINT =
  '"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1), "|", { 0x00000001, "S" }, { 0x00000002, "D" }, { 0x00000004, "T" }, { 0x00000008, "t" }, { 0x00000010, "X" }, { 0x00000020, "Z" }, { 0x00000040, "P" }, { 0x00000080, "I" }) : "R", REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? "+" : "", REC->next_comm, REC->next_pid, REC->next_prio';

/**
 * prev_state bits for a state as printed: the sched plugin's letters (its write_state, inverted),
 * the kernel's `I` (idle, 0x80) and `R+` (preempted: TASK_REPORT_MAX, 0x100, which trace-cmd's
 * plugin prints as plain `R`).
 */
function stateBits(s: string): number {
  if (s === 'R+') return 0x100;
  let v = 0;
  for (const part of s.split('|')) {
    const i = 'SDTtZXxW'.indexOf(part);
    if (i >= 0) v |= 1 << i;
    else if (part === 'I') v |= 0x80;
  }
  return v;
}

interface TypeOut {
  id: number;
  system: string;
  format: string;
  /** Bytes of the record after the common fields, for event i. */
  body(i: number, w: RecWriter): void;
}

/** Fills one record's payload (after the 8 bytes of common fields). */
class RecWriter {
  constructor(
    readonly little: boolean,
    readonly longSize: number,
  ) {}
  b = new Uint8Array(256);
  dv = new DataView(this.b.buffer);
  len = 8;

  reset(): void {
    this.len = 8;
    this.b.fill(0);
  }
  ensure(n: number): void {
    if (n <= this.b.length) return;
    const nb = new Uint8Array(Math.max(n, this.b.length * 2));
    nb.set(this.b);
    this.b = nb;
    this.dv = new DataView(nb.buffer);
  }
  comm(at: number, s: string): void {
    const e = ENC.encode(s);
    this.b.set(e.subarray(0, 15), at);
    this.len = Math.max(this.len, at + 16);
  }
  i32(at: number, v: number): void {
    this.dv.setInt32(at, v, this.little);
    this.len = Math.max(this.len, at + 4);
  }
  i64(at: number, v: number): void {
    this.dv.setBigInt64(at, BigInt(Math.trunc(v)), this.little);
    this.len = Math.max(this.len, at + 8);
  }
  /** A C `long` of the traced machine (4 or 8 bytes). */
  long(at: number, v: number | bigint): void {
    if (this.longSize === 4) this.i32(at, Number(BigInt.asIntN(32, BigInt(v))));
    else this.dv.setBigInt64(at, BigInt.asIntN(64, BigInt(v)), this.little);
    this.len = Math.max(this.len, at + this.longSize);
  }
  u8(at: number, v: number): void {
    this.b[at] = v;
    this.len = Math.max(this.len, at + 1);
  }
  /** A NUL-terminated string at `at`. */
  cstr(at: number, s: string): number {
    const e = ENC.encode(s);
    this.ensure(at + e.length + 8);
    this.b.set(e, at);
    this.b[at + e.length] = 0;
    this.len = Math.max(this.len, at + e.length + 1);
    return e.length + 1;
  }
}

/** Writes `t` as a .dat v7 file. */
export function writeTraceDat(t: Trace, opts: DatWriteOptions = {}): Uint8Array {
  const compression = opts.compression ?? 'none';
  const little = opts.bigEndian !== true;
  const L = opts.longSize ?? 8;
  const PAGE_DATA = 8 + L;
  const mk = (): Out => new Out(little);
  if (compression === 'zlib' && opts.deflate === undefined)
    throw new Error('writeTraceDat: zlib needs a deflate function');
  const ev = t.events;
  const tasks = t.tasks;
  const comm = (id: number): string => tasks.comm(id);
  const prio = (id: number): number => {
    const p = tasks.prio(id);
    return p === PRIO_UNKNOWN ? 120 : p;
  };
  // Event types → formats.
  const types = new Map<number, TypeOut>();
  const symbols = new Map<string, bigint>();
  let nextId = 1000;
  const symAddr = (name: string): bigint => {
    let a = symbols.get(name);
    if (a === undefined) {
      // Kernel text addresses as a 64-bit or a 32-bit x86 kernel has them.
      a = (L === 8 ? 0xffffffff81000000n : 0xc1000000n) + BigInt(symbols.size) * 0x1000n;
      symbols.set(name, a);
    }
    return a;
  };
  const typeOut = (ty: number, first: number): TypeOut => {
    const et = t.eventTypes[ty]!;
    const name = et.name.slice(et.name.lastIndexOf(':') + 1);
    const id = nextId++;
    const kind = et.undecoded === true ? Kind.generic : et.kind;
    switch (kind) {
      case Kind.schedSwitch:
        return {
          id,
          system: 'sched',
          format: formatText(
            name,
            id,
            [
              ...TASK_FIELDS('prev_'),
              ['long prev_state', 32, L, 1],
              ['char next_comm[16]', 32 + L, 16, 0],
              ['pid_t next_pid', 48 + L, 4, 1],
              ['int next_prio', 52 + L, 4, 1],
            ],
            SWITCH_PRINT,
          ),
          body: (i, w) => {
            const a0 = ev.a0(i);
            const prev = a0 & TASK_MASK;
            const next = ev.a1(i);
            w.comm(8, comm(prev));
            w.i32(24, tasks.pid(prev));
            w.i32(28, prio(prev));
            w.long(32, stateBits(t.states.get(a0 >>> TASK_BITS)));
            w.comm(32 + L, comm(next));
            w.i32(48 + L, tasks.pid(next));
            w.i32(52 + L, prio(next));
          },
        };
      case Kind.schedWakeup:
      case Kind.schedWakeupNew:
      case Kind.schedWaking:
        return {
          id,
          system: 'sched',
          format: formatText(
            name,
            id,
            [...TASK_FIELDS(), ['int target_cpu', 32, 4, 1]],
            '"comm=%s pid=%d prio=%d target_cpu=%03d", REC->comm, REC->pid, REC->prio, REC->target_cpu',
          ),
          body: (i, w) => {
            const task = ev.a0(i);
            w.comm(8, comm(task));
            w.i32(24, tasks.pid(task));
            w.i32(28, prio(task));
            w.i32(32, wakeupAt(t, i).targetCpu);
          },
        };
      case Kind.schedMigrateTask:
        return {
          id,
          system: 'sched',
          format: formatText(
            name,
            id,
            [...TASK_FIELDS(), ['int orig_cpu', 32, 4, 1], ['int dest_cpu', 36, 4, 1]],
            '"comm=%s pid=%d prio=%d orig_cpu=%d dest_cpu=%d", REC->comm, REC->pid, REC->prio, REC->orig_cpu, REC->dest_cpu',
          ),
          body: (i, w) => {
            const m = migrateAt(t, i);
            w.comm(8, comm(m.task));
            w.i32(24, tasks.pid(m.task));
            w.i32(28, prio(m.task));
            w.i32(32, m.origCpu);
            w.i32(36, m.destCpu);
          },
        };
      case Kind.schedProcessFork:
        return {
          id,
          system: 'sched',
          format: formatText(
            name,
            id,
            [
              ['char parent_comm[16]', 8, 16, 0],
              ['pid_t parent_pid', 24, 4, 1],
              ['char child_comm[16]', 28, 16, 0],
              ['pid_t child_pid', 44, 4, 1],
            ],
            '"comm=%s pid=%d child_comm=%s child_pid=%d", REC->parent_comm, REC->parent_pid, REC->child_comm, REC->child_pid',
          ),
          body: (i, w) => {
            const p = ev.a0(i);
            const c = ev.a1(i);
            w.comm(8, comm(p));
            w.i32(24, tasks.pid(p));
            w.comm(28, comm(c));
            w.i32(44, tasks.pid(c));
          },
        };
      case Kind.schedProcessExit:
      case Kind.schedProcessFree:
      case Kind.schedProcessWait: {
        const gd = ev.a1(first) >= 0;
        return {
          id,
          system: 'sched',
          format: formatText(
            name,
            id,
            [...TASK_FIELDS(), ...(gd ? [['bool group_dead', 32, 1, 0] as FieldSpec] : [])],
            gd
              ? '"comm=%s pid=%d prio=%d group_dead=%s", REC->comm, REC->pid, REC->prio, REC->group_dead ? "true" : "false"'
              : '"comm=%s pid=%d prio=%d", REC->comm, REC->pid, REC->prio',
          ),
          body: (i, w) => {
            const task = ev.a0(i);
            w.comm(8, comm(task));
            w.i32(24, tasks.pid(task));
            w.i32(28, prio(task));
            if (gd) w.u8(32, ev.a1(i) > 0 ? 1 : 0);
          },
        };
      }
      case Kind.schedStatRuntime: {
        const vr = !Number.isNaN(runtimeAt(t, first).vruntimeNs);
        return {
          id,
          system: 'sched',
          format: formatText(
            name,
            id,
            [
              ['char comm[16]', 8, 16, 0],
              ['pid_t pid', 24, 4, 1],
              ['u64 runtime', 32, 8, 0],
              ...(vr ? [['u64 vruntime', 40, 8, 0] as FieldSpec] : []),
            ],
            vr
              ? '"comm=%s pid=%d runtime=%Lu [ns] vruntime=%Lu [ns]", REC->comm, REC->pid, REC->runtime, REC->vruntime'
              : '"comm=%s pid=%d runtime=%Lu [ns]", REC->comm, REC->pid, REC->runtime',
          ),
          body: (i, w) => {
            const r = runtimeAt(t, i);
            w.comm(8, comm(r.task));
            w.i32(24, tasks.pid(r.task));
            w.i64(32, r.runtimeNs);
            if (vr) w.i64(40, Number.isNaN(r.vruntimeNs) ? 0 : r.vruntimeNs);
          },
        };
      }
      case Kind.print:
        if (name === 'print')
          return {
            id,
            system: 'ftrace',
            format: formatText(
              'print',
              id,
              [
                ['unsigned long ip', 8, L, 0],
                ['char buf[]', 8 + L, 0, 0],
              ],
              '"%ps: %s", (void *)REC->ip, REC->buf',
            ),
            body: (i, w) => {
              const m = markerAt(t, i);
              w.long(8, symAddr(m.symbol ?? 'tracing_mark_write'));
              w.cstr(8 + L, m.message + '\n');
            },
          };
        return textType(id, name, et.undecoded === true);
      default:
        return textType(id, name, et.undecoded === true);
    }
  };
  /** An event kept as text: one string field, printed as is. */
  const textType = (id: number, name: string, undecoded: boolean): TypeOut => ({
    id,
    system: undecoded ? 'vcpu_lens_text' : 'vcpu_lens',
    format: formatText(name, id, [['__data_loc char[] text', 8, 4, 0]], '"%s", __get_str(text)'),
    body: (i, w) => {
      const n = w.cstr(12, textFields(t, i));
      w.i32(8, (n << 16) | 12);
    },
  });

  // Per-CPU ring-buffer pages.
  const cpuCount = Math.max(t.cpuCount, 1);
  const pages: Out[] = Array.from({ length: cpuCount }, () => mk());
  const pageStart = new Int32Array(cpuCount).fill(-1);
  const lastTs: number[] = new Array<number>(cpuCount).fill(0);
  const w = new RecWriter(little, L);
  const owners = new Map<number, string>();
  const base = Number(t.tsBase);
  const baseBig = t.tsBase;
  const exact = Number.isSafeInteger(base);
  // The 32-bit event header: type_len in the low 5 bits (little endian) or the top 5 (big).
  const header = (typeLen: number, delta: number): number =>
    little ? (typeLen | (delta << 5)) >>> 0 : ((typeLen << 27) | delta) >>> 0;
  const closePage = (cpu: number): void => {
    const o = pages[cpu]!;
    const p = pageStart[cpu]!;
    if (p < 0) return;
    if (L === 8) o.setU64(p + 8, o.len - p - PAGE_DATA);
    else o.setU32(p + 8, o.len - p - PAGE_DATA);
    o.padTo(PAGE);
    pageStart[cpu] = -1;
  };
  for (let i = 0; i < ev.length; i++) {
    const ty = ev.type(i);
    let to = types.get(ty);
    if (to === undefined) {
      to = typeOut(ty, i);
      types.set(ty, to);
    }
    const owner = ev.task(i);
    const pid = tasks.pid(owner);
    if (pid !== 0 && !owners.has(pid)) owners.set(pid, comm(owner));
    w.reset();
    to.body(i, w);
    w.dv.setUint16(0, to.id, little);
    w.dv.setInt32(4, pid, little);
    const dataLen = (w.len + 3) & ~3;
    const cpu = Math.min(ev.cpu(i), cpuCount - 1);
    const ts = exact ? base + ev.ts(i) : Number(baseBig + BigInt(ev.ts(i)));
    const o = pages[cpu]!;
    const need = 8 + (dataLen > 112 ? 8 : 4) + dataLen;
    if (pageStart[cpu]! >= 0 && o.len - pageStart[cpu]! + need > PAGE) closePage(cpu);
    if (pageStart[cpu]! < 0) {
      pageStart[cpu] = o.len;
      o.u64(ts);
      if (L === 8) o.u64(0);
      else o.u32(0);
      lastTs[cpu] = ts;
    }
    let delta = ts - lastTs[cpu]!;
    if (delta < 0) delta = 0; // the store keeps per-CPU order; a clamp, never a reorder
    if (delta > TS_MAX_DELTA) {
      o.u32(header(30, delta % (1 << 27)));
      o.u32(Math.floor(delta / (1 << 27)));
      delta = 0;
    }
    lastTs[cpu] = ts;
    if (dataLen <= 112) {
      o.u32(header(dataLen >> 2, delta));
    } else {
      o.u32(header(0, delta));
      o.u32(dataLen + 4);
    }
    o.bytes(w.b.subarray(0, dataLen));
  }
  for (let c = 0; c < cpuCount; c++) closePage(c);

  // The file.
  const f = mk();
  const strings = mk();
  const strId = (s: string): number => {
    const at = strings.len;
    strings.str(s);
    return at;
  };
  const zlib = compression === 'zlib';
  const section = (id: number, desc: string, body: Uint8Array, compress = zlib): number => {
    const at = f.len;
    f.u16(id);
    f.u16(compress ? 1 : 0);
    f.u32(strId(desc));
    if (compress) {
      const c = opts.deflate!(body);
      f.u64(c.length + 8);
      f.u32(c.length);
      f.u32(body.length);
      f.bytes(c);
    } else {
      f.u64(body.length);
      f.bytes(body);
    }
    return at;
  };
  f.bytes(Uint8Array.of(0x17, 0x08, 0x44));
  f.bytes(ENC.encode('tracing'));
  f.str('7');
  f.u8(little ? 0 : 1);
  f.u8(L);
  f.u32(PAGE);
  f.str(compression);
  f.str(zlib ? '1' : '');
  const firstOptionsAt = f.len;
  f.u64(0);

  const hi = mk();
  hi.str('header_page');
  const hp =
    '\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n' +
    `\tfield: local_t commit;\toffset:8;\tsize:${L};\tsigned:1;\n` +
    '\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n' +
    `\tfield: char data;\toffset:${PAGE_DATA};\tsize:${PAGE - PAGE_DATA};\tsigned:0;\n`;
  hi.u64(ENC.encode(hp).length);
  hi.bytes(ENC.encode(hp));
  hi.str('header_event');
  const he =
    '# compressed entry header\n\ttype_len    :    5 bits\n\ttime_delta  :   27 bits\n\tarray       :   32 bits\n\n' +
    '\tpadding     : type == 29\n\ttime_extend : type == 30\n\ttime_stamp : type == 31\n\tdata max type_len  == 28\n';
  hi.u64(ENC.encode(he).length);
  hi.bytes(ENC.encode(he));
  const headerAt = section(16, 'headers', hi.result());

  const all = [...types.values()];
  const ftrace = all.filter((x) => x.system === 'ftrace');
  const fe = mk();
  fe.u32(ftrace.length);
  for (const x of ftrace) {
    const b = ENC.encode(x.format);
    fe.u64(b.length);
    fe.bytes(b);
  }
  const ftraceAt = section(17, 'ftrace events', fe.result());

  const systems = new Map<string, TypeOut[]>();
  for (const x of all) {
    if (x.system === 'ftrace') continue;
    const l = systems.get(x.system) ?? [];
    l.push(x);
    systems.set(x.system, l);
  }
  const ef = mk();
  ef.u32(systems.size);
  for (const [sys, list] of systems) {
    ef.str(sys);
    ef.u32(list.length);
    for (const x of list) {
      const b = ENC.encode(x.format);
      ef.u64(b.length);
      ef.bytes(b);
    }
  }
  const formatsAt = section(18, 'events format', ef.result());

  let ks = '';
  for (const [name, a] of symbols) ks += `${a.toString(16).padStart(2 * L, '0')} T ${name}\n`;
  const kb = mk();
  kb.u32(ENC.encode(ks).length);
  kb.bytes(ENC.encode(ks));
  const kallsymsAt = section(19, 'kallsyms', kb.result());
  const pk = mk();
  pk.u32(0);
  const printkAt = section(20, 'printk', pk.result());
  let cl = '';
  for (const [pid, c] of owners) if (opts.cmdlinesWithout?.has(pid) !== true) cl += `${pid} ${c}\n`;
  const cb = mk();
  cb.u64(ENC.encode(cl).length);
  cb.bytes(ENC.encode(cl));
  const cmdlinesAt = section(21, 'command lines', cb.result());

  // First options: where the sections are, the clock, the CPU count; DONE points at the second.
  const clock =
    t.clock.name === 'unknown' ? (t.clock.unit === 'count' ? 'counter' : 'local') : t.clock.name;
  const opt = mk();
  const option = (id: number, data: Uint8Array): void => {
    opt.u16(id);
    opt.u32(data.length);
    opt.bytes(data);
  };
  const u64b = (v: number | bigint): Uint8Array => {
    const o = mk();
    o.u64(v);
    return o.result().slice();
  };
  const strb = (s: string): Uint8Array => {
    const o = mk();
    o.str(s);
    return o.result().slice();
  };
  option(16, u64b(headerAt));
  option(17, u64b(ftraceAt));
  option(18, u64b(formatsAt));
  option(19, u64b(kallsymsAt));
  option(20, u64b(printkAt));
  option(21, u64b(cmdlinesAt));
  option(4, strb(`[${clock}]`));
  if (opts.uname !== undefined) option(5, strb(opts.uname));
  option(9, strb('vcpu-lens'));
  if (opts.traceId !== undefined) option(11, u64b(opts.traceId));
  for (const g of opts.guests ?? []) {
    const o = mk();
    o.str(g.name);
    o.u64(g.traceId);
    o.u32(g.vcpus.length);
    for (const v of g.vcpus) {
      o.u32(v.vcpu);
      o.u32(v.hostPid);
    }
    option(13, o.result().slice());
  }
  if (opts.tsc2nsec !== undefined) {
    const o = mk();
    o.u32(opts.tsc2nsec.mult);
    o.u32(opts.tsc2nsec.shift);
    o.u64(opts.tsc2nsec.offset);
    option(14, o.result().slice());
  }
  if (opts.timeShift !== undefined) {
    const ts = opts.timeShift;
    const o = mk();
    o.u64(ts.peerTraceId);
    o.u32(ts.flags);
    o.u32(ts.cpus.length);
    for (const c of ts.cpus) {
      o.u32(c.times.length);
      for (const x of c.times) o.u64(x);
      for (const x of c.offsets) o.u64(x);
      for (const x of c.scalings) o.u64(x);
    }
    for (const c of ts.cpus) for (const x of c.fractions) o.u64(x);
    option(12, o.result().slice());
  }
  const cc = mk();
  cc.u32(cpuCount);
  option(8, cc.result().slice());
  const doneAt = opt.len;
  option(0, u64b(0));
  const options1At = f.len;
  f.setU64(firstOptionsAt, options1At);
  // Uncompressed so the DONE offset can be patched after the data is placed.
  section(0, 'options', opt.result(), false);
  const done1 = options1At + 16 + doneAt + 6;

  // The flyrecord section: per-CPU data at page-aligned offsets.
  const bufferAt = f.len;
  f.u16(3);
  f.u16(0);
  f.u32(strId('buffer flyrecord'));
  const sizeAt = f.len;
  f.u64(0);
  const cpus: { cpu: number; offset: number; size: number }[] = [];
  for (let c = 0; c < cpuCount; c++) {
    f.padTo(PAGE);
    const data = pages[c]!.result();
    const start = f.len;
    if (zlib) {
      const per = (opts.chunkPages ?? 10) * PAGE;
      const n = Math.ceil(data.length / per);
      f.u32(n);
      for (let k = 0; k < n; k++) {
        const chunk = data.subarray(k * per, Math.min(data.length, (k + 1) * per));
        const z = opts.deflate!(chunk);
        f.u32(z.length);
        f.u32(chunk.length);
        f.bytes(z);
      }
    } else f.bytes(data);
    cpus.push({ cpu: c, offset: start, size: f.len - start });
  }
  f.setU64(sizeAt, f.len - sizeAt - 8);

  // Second options: the BUFFER.
  f.padTo(PAGE);
  const options2At = f.len;
  f.setU64(done1, options2At);
  const b2 = mk();
  b2.u64(bufferAt);
  b2.str('');
  b2.str(clock);
  b2.u32(PAGE);
  b2.u32(cpus.length);
  for (const c of cpus) {
    b2.u32(c.cpu);
    b2.u64(c.offset);
    b2.u64(c.size);
  }
  const o2 = mk();
  o2.u16(3);
  o2.u32(b2.len);
  o2.bytes(b2.result());
  o2.u16(0);
  o2.u32(8);
  o2.u64(0);
  section(0, 'options', o2.result(), false);
  strId('strings');
  f.u16(15);
  f.u16(0);
  f.u32(strings.len - 8);
  f.u64(strings.len);
  f.bytes(strings.result());
  return f.result();
}
