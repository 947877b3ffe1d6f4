// Decodes a trace-cmd .dat file into Traces (one per buffer/instance): each CPU's events streamed
// page by page and merged by timestamp (ties to the lower CPU, as trace-cmd report does), then
// turned into the same model events the text importer makes from `trace-cmd report` output.
// Scheduler events are read straight from their fields; every other event is printed from its
// format's `print fmt` (libtraceevent's rules) and kept as text like the text importer keeps it.

import { DIAG, DiagnosticSink } from '../../model/diagnostics';
import { Kind, WAKE_SUCCESS } from '../../model/event-kinds';
import { PRIO_UNKNOWN } from '../../model/task-table';
import { type ClockInfo, tickRate, tscToNs } from '../../model/time';
import { DatSourceInfo, Trace, TraceBuilder } from '../../model/trace';
import { decodeFields, Payload } from '../fields';
import type { ImportOptions, TextOnlyKind } from '../importer';
import { ByteSource, Damage, Decompressors } from './bytes';
import { DirectFields, directFields } from './direct-fields';
import type { EventFormat, Field } from './format';
import { BufferInfo, DatFile } from './file';
import { CpuStream } from './kbuffer';
import { Kallsyms, KallsymsHit } from './kallsyms';
import { formatPrint } from './print-fmt';
import { PluginRecord, pluginFor, PluginState } from './plugins';
import { RecordReader } from './record';
import { StreamMerge } from './stream-merge';

export interface DatImportOptions extends ImportOptions {
  decompressors: Decompressors;
  /**
   * Decode only these CPU streams (indices into the buffer's CPU list, [from, to)) of a file with
   * one buffer, for reading a .dat on several threads (mergeDatParts puts them back together).
   * The file's own diagnostics go to the part with `from` 0.
   */
  cpuRange?: { from: number; to: number };
}

export function damageDiag(d: Damage): {
  code: typeof DIAG.datDamaged;
  severity: 'error';
  offset: number;
  message: string;
} {
  return { code: DIAG.datDamaged, severity: 'error', offset: d.offset, message: d.message };
}

// The kinds direct() tells apart, as module constants: a `case Kind.x` label is a property read,
// evaluated only when the labels before it did not match, so a kind first met after V8 optimised
// the switch (an exit, thousands of events in) read one with no feedback and threw that code away.
const SWITCH = Kind.schedSwitch;
const WAKEUP = Kind.schedWakeup;
const WAKEUP_NEW = Kind.schedWakeupNew;
const WAKING = Kind.schedWaking;
const MIGRATE = Kind.schedMigrateTask;
const FORK = Kind.schedProcessFork;
const EXIT = Kind.schedProcessExit;
const FREE = Kind.schedProcessFree;
const WAIT = Kind.schedProcessWait;
const STAT_RUNTIME = Kind.schedStatRuntime;

/**
 * event() calls printed() dry (printing nothing) for a trace's first events, so that the call has
 * run when V8 optimises event(): the first event printed (a fork, thousands of events into a trace
 * whose scheduler events are all read directly) otherwise met a call with no feedback, which threw
 * event() away mid-read. Few enough that V8 does not inline printed() for them.
 */
const DRY_PRINTS = 32;

export const CACHE_SLOTS = 4096;
export const CACHE_MASK = CACHE_SLOTS - 1;
export const COMM_BYTES = 16;

const COUNT_CLOCKS = new Set(['x86-tsc', 'counter', 'tsc']);

/**
 * The kinds whose payload is only their printed text (fields.ts decodeFields keeps it and cannot
 * fail), by ImportOptions.eventText's names: those it leaves out are not printed at all.
 */
const TEXT_ONLY: Record<TextOnlyKind, readonly Kind[]> = {
  generic: [Kind.generic],
  syscall: [Kind.sysEnter, Kind.sysExit],
  print: [Kind.print],
  kvm_vcpu_wakeup: [Kind.kvmVcpuWakeup],
};

/** 1 for each kind whose events get no text under `eventText` (indexed by Kind). */
function textless(eventText: ImportOptions['eventText']): Uint8Array {
  const t = new Uint8Array(64);
  if (eventText === true || eventText === undefined) return t;
  const keep = eventText === false ? [] : eventText;
  for (const [name, kinds] of Object.entries(TEXT_ONLY) as [TextOnlyKind, readonly Kind[]][])
    if (!keep.includes(name)) for (const k of kinds) t[k] = 1;
  return t;
}

export function clockInfo(name: string): ClockInfo {
  const unit = COUNT_CLOCKS.has(name) ? 'count' : 'ns';
  return { name, unit, source: name === 'unknown' ? 'inferred' : 'file', resolution: 1 };
}

/** How one event type becomes a model event, worked out on first sight. */
export interface Handler {
  type: number;
  kind: Kind;
  fmt: EventFormat | undefined;
  /** Field readers by role, for the kinds read directly; undefined: print the text. */
  direct: DirectFields | undefined;
  /** common_pid (from another format when this type has none). */
  pid: Field | undefined;
}

/** sched_switch prev_state as libtraceevent's sched_switch plugin prints it (write_state). */
const STATE_CHARS = 'SDTtZXxW';
export function stateText(v: number): string {
  let s = '';
  for (let i = 0; i < STATE_CHARS.length; i++) {
    if ((v & (1 << i)) === 0) continue;
    if (s.length > 0) s += '|';
    s += STATE_CHARS[i];
  }
  return s.length === 0 ? 'R' : s;
}

export class DatDecoder extends RecordReader {
  protected readonly b: TraceBuilder;
  protected readonly sink: DiagnosticSink;
  private readonly handlers = new Map<number, Handler>();
  /**
   * The same handlers for the per-event lookup: by type id (a 16-bit number) 1 + an index into
   * `handlerList`, 0 for none yet (a typed array: a 65,536-slot JS array cost ms to create).
   */
  private readonly handlerSlot = new Uint16Array(65536);
  private readonly handlerList: Handler[] = [];
  /** Comms as trace-cmd report knows them: saved cmdlines, then those the sched plugin saw. */
  private saved: ReadonlyMap<number, string> | undefined;
  /** Comms the sched plugin saw for pids the saved cmdlines lack. */
  private readonly learned = new Map<number, string>();
  /** The saved cmdlines, parsed when the first event's owner is named (never copied). */
  private get cmdlines(): ReadonlyMap<number, string> {
    return (this.saved ??= this.f.cmdlines());
  }
  private readonly ownerTasks = new Map<number, number>();
  protected readonly pl: Payload = { a0: 0, a1: 0 };
  protected readonly split = { hi: 0, lo: 0 };
  private stateIds = new Map<number, number>();
  private symbols: Kallsyms | undefined;
  private commonPid: Field | undefined;
  private readonly cx: PluginRecord;
  private readonly plugins = new PluginState();
  /** The stream of the event being decoded (for where a problem is). */
  protected cur: CpuStream | undefined;
  /** By kind: 1 when its events are counted, not printed (ImportOptions.eventText). */
  protected readonly noText: Uint8Array;
  /** Events counted, not kept (ImportOptions.countOnly). */
  protected readonly countOnly: boolean;
  /** The TSC2NSEC conversion applied to every timestamp (undefined: kept as recorded). */
  protected readonly tsc: { mult: number; shift: number } | undefined;
  /** The rate the user gave, when it (not TSC2NSEC) made the conversion. */
  private readonly tscHz: number | undefined;

  constructor(
    protected readonly buf: ByteSource,
    f: DatFile,
    protected readonly buffer: BufferInfo,
    name: string,
    protected readonly opts: DatImportOptions,
  ) {
    super(f);
    this.sink = new DiagnosticSink(opts.diagnosticsCap ?? 1000, opts.name);
    this.noText = textless(opts.eventText);
    this.countOnly = opts.countOnly === true;
    this.b = new TraceBuilder(name, 'trace-cmd-dat', this.sink);
    if (opts.memoryCapBytes !== undefined) {
      this.b.memoryCapBytes = opts.memoryCapBytes;
      this.b.memoryShare = opts.memoryShare ?? 1;
    }
    this.b.where = () => (this.cur !== undefined ? { offset: this.cur.recOffset() } : {});
    const t2n = f.options.tsc2nsec;
    if (t2n !== undefined && t2n.mult > 0 && opts.recordedTicks !== true)
      this.tsc = { mult: t2n.mult, shift: t2n.shift };
    else if (
      (t2n === undefined || t2n.mult <= 0) &&
      opts.tscHz !== undefined &&
      opts.recordedTicks !== true &&
      COUNT_CLOCKS.has(buffer.clock)
    ) {
      // No TSC2NSEC but the user knows the rate (ImportOptions.tscHz): the same conversion.
      this.tsc = tickRate(opts.tscHz);
      this.tscHz = opts.tscHz;
    }
    this.cx = {
      num: (n) => this.fieldNum(n),
      str: (n) => this.fieldStr(n),
      elem: (n, i) => this.fieldElem(n, i),
      dynArray: (n) => this.dynArray(n),
      longBits: f.longSize * 8,
      longSize: f.longSize,
      little: f.little,
      cpu: 0,
      symbol: (a) => this.symbol(a),
      has: (n) => this.curFmt?.byName.has(n) === true,
      rest: (n) => this.rest(n),
      printk: (a) => f.printk(a),
      printFmt: () =>
        this.curFmt?.print !== undefined ? formatPrint(this.curFmt.print, this.cx) : undefined,
    };
  }

  /** The file's own diagnostics (on the first trace) and the header; the OFFSET option's ns. */
  protected begin(first: boolean): number {
    const f = this.f;
    const b = this.b;
    if (first) {
      for (const d of f.damage) this.sink.add(damageDiag(d));
      for (const n of f.notes)
        this.sink.add({
          code: DIAG.datDamaged,
          severity: 'warning',
          offset: n.offset,
          message: n.message,
        });
    }
    const cpus = f.options.cpuCount ?? f.cpus ?? this.buffer.cpus.length;
    if (cpus > 0) b.header.cpus = cpus;
    b.header.version = String(f.version);
    let offsetAdd = 0;
    if (f.options.offset !== undefined && /^-?\d+$/.test(f.options.offset.trim()))
      offsetAdd = Number(f.options.offset.trim());
    return offsetAdd;
  }

  run(first: boolean, range?: { from: number; to: number }): Trace {
    const b = this.b;
    const offsetAdd = this.begin(first);
    const sinkObj = {
      damage: (d: Damage): void => this.sink.add(damageDiag(d)),
      lost: (cpu: number, count: number, offset: number): void => {
        if (count > 0 && b.lostEvents >= 0) b.lostEvents += count;
        else if (count < 0) b.lostEvents = -1;
        this.sink.add({
          code: DIAG.eventsLost,
          severity: 'warning',
          offset,
          message: `CPU ${cpu}: ring buffer dropped ${count >= 0 ? count : 'an unknown number of'} events here`,
        });
      },
    };
    const cpuList =
      range !== undefined ? this.buffer.cpus.slice(range.from, range.to) : this.buffer.cpus;
    const streams = cpuList.map(
      (c) =>
        new CpuStream(
          this.buf,
          this.f,
          c,
          this.buffer.pageSize,
          this.buffer.chunked,
          this.opts.decompressors,
          sinkObj,
        ),
    );
    const merge = new StreamMerge();
    for (const st of streams) if (st.next()) merge.add(st);
    this.readMerged(merge, offsetAdd);
    return this.finish();
  }

  /**
   * The merged events, in order, to the end or the memory cap. The loop in a method of its own:
   * V8 optimises it on the stack while it runs, and code after the loop in the same method (first
   * run at the loop's end, with no feedback) threw that code away at the end of each file.
   */
  private readMerged(merge: StreamMerge, offsetAdd: number): void {
    const b = this.b;
    const split = this.split;
    let base = NaN;
    // TSC2NSEC: ticks to ns here, once, so every consumer speaks ns (trace-cmd's timestamp_calc:
    // the multiply-shift, then the OFFSET option's ns). Monotonic, so the merge order stands.
    const tsc = this.tsc;
    const mult = tsc?.mult ?? 0;
    const shift = tsc?.shift ?? 0;
    for (let s = merge.first(); s !== undefined; s = merge.advance()) {
      const ts = (tsc !== undefined ? tscToNs(s.ts, mult, shift) : s.ts) + offsetAdd;
      if (Number.isNaN(base)) {
        // The builder fixes the trace's base on its first timestamp; later ones are ts - base.
        // `lo` as a small integer when it is one (every integral timestamp's is, < 1e9): the
        // text importer's splits hold small integers, and a double stored here first would turn
        // the `{ hi, lo }` literals' field and the builder's base into doubles, deprecating maps.
        split.hi = Math.floor(ts / 1e9);
        const lo = ts - split.hi * 1e9;
        split.lo = lo === (lo | 0) ? lo | 0 : lo;
        base = ts - b.relTs(split);
      }
      this.evTs = ts - base;
      this.event(s);
      if (b.full) {
        b.stopAtCap({ offset: s.recOffset() });
        break;
      }
    }
  }

  protected finish(): Trace {
    const clock = clockInfo(this.buffer.clock !== '' ? this.buffer.clock : 'unknown');
    // Converted: ns whatever the clock's name; kept as recorded: TSC counts.
    if (this.f.options.tsc2nsec !== undefined && this.f.options.tsc2nsec.mult > 0)
      clock.unit = this.tsc !== undefined ? 'ns' : 'count';
    else if (this.tscHz !== undefined) {
      clock.unit = 'ns';
      clock.tscHz = this.tscHz;
    }
    const t = this.b.finish(clock);
    t.dat = this.sourceInfo();
    return t;
  }

  private sourceInfo(): DatSourceInfo {
    const o = this.f.options;
    const info: DatSourceInfo = {
      fileVersion: this.f.version,
      compression: this.f.compression,
      guests: o.guests.map((g) => ({
        name: g.name,
        traceId: g.traceId.toString(16),
        vcpus: g.vcpus,
      })),
    };
    if (o.uname !== undefined) info.uname = o.uname;
    if (o.version !== undefined) info.traceCmdVersion = o.version;
    if (o.traceId !== undefined) info.traceId = o.traceId.toString(16);
    if (o.tsc2nsec !== undefined)
      info.tsc2nsec = {
        mult: o.tsc2nsec.mult,
        shift: o.tsc2nsec.shift,
        offset: o.tsc2nsec.offset.toString(),
        applied: this.tsc !== undefined,
      };
    if (o.timeShift !== undefined) {
      const ts = o.timeShift;
      info.timeShift = {
        peerTraceId: ts.peerTraceId.toString(16),
        flags: ts.flags,
        cpus: ts.cpus.map((c) => ({
          times: c.times.map(String),
          offsets: c.offsets.map((x) => BigInt.asIntN(64, x).toString()),
          scalings: c.scalings.map(String),
          fractions: c.fractions,
        })),
      };
    }
    return info;
  }

  protected handler(id: number, offset: number): Handler {
    let h = this.handlers.get(id);
    if (h !== undefined) return h;
    const fmt = this.f.formats.get(id);
    const name = fmt?.name ?? `unknown_event_${id}`;
    if (fmt === undefined) {
      this.sink.add({
        code: DIAG.datDamaged,
        severity: 'warning',
        offset,
        message: `events of type id ${id} have no format in the file; kept as raw bytes`,
      });
    }
    const type = this.b.typeId(name);
    const kind = this.b.kindOf(type);
    this.commonPid ??= fmt?.byName.get('common_pid');
    h = {
      type,
      kind,
      fmt,
      direct: fmt !== undefined ? directFields(kind, fmt) : undefined,
      pid: fmt?.byName.get('common_pid') ?? this.commonPid,
    };
    this.handlers.set(id, h);
    this.handlerList.push(h);
    if (this.handlerList.length < 65536) this.handlerSlot[id] = this.handlerList.length;
    return h;
  }

  private symbol(addr: bigint): KallsymsHit | undefined {
    this.symbols ??= new Kallsyms(this.f.kallsyms());
    return this.symbols.find(addr);
  }

  // Task cache (see task()) and owner cache, CACHE_SLOTS slots by pid; NaN marks an empty slot.
  private readonly tcPid = new Float64Array(CACHE_SLOTS * 2).fill(NaN);
  private readonly tcPrio = new Int32Array(CACHE_SLOTS * 2);
  private readonly tcId = new Int32Array(CACHE_SLOTS * 2).fill(-1);
  protected readonly tcSaved = new Uint8Array(CACHE_SLOTS * 2);
  private readonly tcComm = new Uint8Array(CACHE_SLOTS * 2 * COMM_BYTES);
  /** tcComm's 16 bytes per entry as four little-endian 4-byte words (see task()). */
  private readonly tcWords = new Int32Array(CACHE_SLOTS * 2 * 4);
  private readonly ownerPid = new Float64Array(CACHE_SLOTS).fill(NaN);
  private readonly ownerId = new Int32Array(CACHE_SLOTS);

  private owner(pid: number): number {
    const slot = pid & CACHE_MASK;
    if (this.ownerPid[slot] === pid) return this.ownerId[slot]!;
    const id = this.ownerSlow(pid);
    this.ownerPid[slot] = pid;
    this.ownerId[slot] = id;
    return id;
  }

  private ownerSlow(pid: number): number {
    let id = this.ownerTasks.get(pid);
    if (id === undefined) {
      const comm =
        pid === 0 ? '<idle>' : (this.cmdlines.get(pid) ?? this.learned.get(pid) ?? '<...>');
      id = this.b.tasks.intern(pid, comm);
      this.ownerTasks.set(pid, id);
    }
    return id;
  }

  /** What the sched plugin does with each comm it prints: remember it for pids cmdlines lack. */
  protected saveComm(pid: number, comm: string): void {
    if (pid !== 0 && !this.cmdlines.has(pid) && !this.learned.has(pid)) {
      this.learned.set(pid, comm);
      this.ownerTasks.delete(pid);
      if (this.ownerPid[pid & CACHE_MASK] === pid) this.ownerPid[pid & CACHE_MASK] = NaN;
    }
  }

  private stateId(v: number): number {
    let id = this.stateIds.get(v);
    if (id === undefined) {
      id = this.b.stateId(stateText(v));
      this.stateIds.set(v, id);
    }
    return id;
  }

  /**
   * The timestamp of the event `event()` decodes, relative to the trace's base. A field, not an
   * argument: a timestamp past 2^31 passed to a call V8 does not inline is a new heap number each
   * time (a megabyte of garbage per 65,536 events); a field that holds doubles is written in place.
   */
  private evTs = NaN;

  private event(s: CpuStream): void {
    const b = this.b;
    const ts = this.evTs;
    // The stream's own view of its block: the merge alternates CPUs, and a view made here on
    // each switch was a DataView (and its garbage) every few events. Stored only when it changed
    // (a pointer store costs a write barrier, three of them an event).
    if (this.rb !== s.bytes || this.cur !== s) {
      this.cur = s;
      this.rb = s.bytes;
      this.rdv = s.dv;
    }
    this.rs = s.recStart;
    this.rl = s.recLen;
    if (this.rl < 8) {
      this.sink.add({
        code: DIAG.datDamaged,
        severity: 'warning',
        offset: s.recOffset(),
        message: `CPU ${s.cpu}: a ${this.rl}-byte record is too short for an event; skipped`,
      });
      return;
    }
    const id = this.rdv.getUint16(this.rs, this.little);
    const slot = this.handlerSlot[id]!;
    const h = slot !== 0 ? this.handlerList[slot - 1]! : this.handler(id, s.recOffset());
    const fmt = h.fmt;
    this.curFmt = fmt;
    const cp = h.pid;
    let pid = cp !== undefined ? this.int(cp) : -1;
    if (Number.isNaN(pid)) pid = -1;
    const owner = this.owner(pid);
    const pl = this.pl;
    let type = h.type;
    b.linesRead++;
    // Counted, not printed (ImportOptions.eventText): -1, -1. Locals, not `pl`: a kind counted
    // only (a syscall) first seen after V8 optimised this code would deoptimise it at a store
    // that had never run.
    let a0 = -1;
    let a1 = -1;
    const textless = this.noText[h.kind] === 1;
    const print = !textless && (h.direct === undefined || !this.direct(h.kind, h.direct, pl));
    // The first events also make a dry call (see DRY_PRINTS).
    if (print || b.linesRead < DRY_PRINTS) {
      const printedType = this.printed(print ? h : undefined, s);
      if (print) type = printedType;
    }
    if (!textless) {
      a0 = pl.a0;
      a1 = pl.a1;
    }
    if (this.countOnly) b.countEvent(ts, s.cpu, type);
    else b.event(ts, s.cpu, type, owner, 0, a0, a1);
  }

  /**
   * The record printed as libtraceevent prints it and its fields read from that text into `pl`;
   * the type it is kept as (the undecoded type, with a warning, when the text has not the fields).
   * No handler: a dry call (event()'s first events), nothing printed, -1.
   */
  protected printed(h: Handler | undefined, s: CpuStream): number {
    if (h === undefined) return -1;
    const b = this.b;
    const txt = h.fmt === undefined ? this.hex() : this.printText(h.fmt, s.cpu);
    const name = b.eventTypes[h.type]!.name;
    const pl = this.pl;
    // The kvm plugin's lines start with a space (` vcpu 0 rip ...`): the fields start after it,
    // the kept text (kvm payloads keep their text in a1) includes it, as trace-cmd prints it.
    const kvm = h.kind === Kind.kvmEntry || h.kind === Kind.kvmExit;
    let lead = 0;
    while (kvm && txt.charCodeAt(lead) === 32) lead++;
    const ok = decodeFields(b, h.kind, name, txt, lead, txt.length, pl);
    if (ok && lead > 0) pl.a1 = b.text(txt);
    if (ok) return h.type;
    this.sink.add({
      code: DIAG.badFields,
      severity: 'warning',
      offset: s.recOffset(),
      message: `${name}: fields not in the expected layout, kept as text: ${txt.slice(0, 80)}`,
    });
    pl.a0 = b.text(txt);
    pl.a1 = -1;
    return b.undecodedTypeId(name);
  }

  /** The event's text the way libtraceevent prints it without a plugin. */
  private readonly pluginCache = new Map<EventFormat, ReturnType<typeof pluginFor> | null>();

  private printText(fmt: EventFormat, cpu: number): string {
    let plugin = this.pluginCache.get(fmt);
    if (plugin === undefined) {
      plugin = pluginFor(fmt.system, fmt.name) ?? null;
      this.pluginCache.set(fmt, plugin);
    }
    this.cx.cpu = cpu;
    let out = plugin !== null ? plugin(this.cx, this.plugins) : undefined;
    if (out === undefined && fmt.print !== undefined) out = formatPrint(fmt.print, this.cx);
    if (out === undefined && fmt.print === undefined && fmt.printText !== '') {
      // libtraceevent could not parse the print fmt either (an unknown helper such as div_s64):
      // pretty_print's `[FAILED TO PARSE]` and each field raw (print_field_raw).
      out = '[FAILED TO PARSE]';
      for (const fl of fmt.fields)
        if (!fl.name.startsWith('common_')) out += ` ${fl.name}=${this.rawField(fl)}`;
    }
    if (out === undefined) {
      const parts: string[] = [];
      for (const fl of fmt.fields) {
        if (fl.name.startsWith('common_')) continue;
        const v =
          fl.isString || fl.dynamic !== 'none' ? this.fieldStr(fl.name) : this.fieldNum(fl.name);
        parts.push(`${fl.name}=${v === undefined ? '?' : String(v)}`);
      }
      out = parts.join(' ');
    }
    // trace-cmd drops the newline a marker ends with.
    while (out.endsWith('\n')) out = out.slice(0, -1);
    return out;
  }

  /**
   * The task id for a (comm, pid, prio) in the record. A small cache keyed by pid compares the
   * comm bytes in place, so the common case builds no string and does no Map lookup.
   */
  private task(commF: Field, pidF: Field, prioF: Field | null, save: boolean): number {
    const pid = this.int(pidF);
    let prio = prioF !== null ? this.int(prioF) : PRIO_UNKNOWN;
    if (Number.isNaN(prio)) prio = PRIO_UNKNOWN;
    // The comm: a char[16], or a `__data_loc char[]` (sched_migrate_task since Linux 6.x).
    let off = commF.offset;
    let size = commF.size;
    if (commF.dynamic !== 'none') {
      const r = this.dynRange(commF);
      if (r === undefined) return -1;
      [off, size] = r;
    }
    const at = this.rs + off;
    const len = Math.min(size, COMM_BYTES, this.rl - off);
    const b = this.rb;
    // A dynamic comm is cached only when a NUL ends it within the cached bytes: compared bytes
    // that end without one would match a longer comm starting with them.
    if (commF.dynamic !== 'none' && !(len > 0 && b[at + len - 1] === 0)) {
      const comm = this.str(off, size);
      if (save) this.saveComm(pid, comm);
      return this.b.tasks.intern(pid, comm, prio);
    }
    // The idle task is pid 0 on every CPU, named after it (swapper/N): its entries are its CPU's,
    // at the top of the cache, where pid 0's two ways alone thrashed on a 4-CPU guest (15k misses
    // of the lab guest's 60k events, each a string and an intern). The CPU's slot is read for
    // every pid: read only for pid 0, it was first read after V8 optimised this on a host whose
    // idle task showed up late, which threw that code away.
    const idleSlot = CACHE_MASK - (this.cur!.cpu & CACHE_MASK);
    const base = (pid !== 0 ? pid & CACHE_MASK : idleSlot) * 2;
    // A whole 16-byte comm is compared as four 4-byte words first (a kernel pads a comm with
    // zeros after its NUL, so the words match wherever the bytes up to the NUL do); only words
    // that differ are compared byte by byte, up to the NUL, as before.
    const whole = len === COMM_BYTES;
    const dv = this.rdv;
    const w0 = whole ? dv.getInt32(at, true) : 0;
    const w1 = whole ? dv.getInt32(at + 4, true) : 0;
    const w2 = whole ? dv.getInt32(at + 8, true) : 0;
    const w3 = whole ? dv.getInt32(at + 12, true) : 0;
    const words = this.tcWords;
    for (let w = 0; w < 2; w++) {
      const e = base + w;
      if (this.tcPid[e] !== pid || this.tcPrio[e] !== prio || this.tcId[e]! < 0) continue;
      const q = e * 4;
      if (
        !whole ||
        words[q] !== w0 ||
        words[q + 1] !== w1 ||
        words[q + 2] !== w2 ||
        words[q + 3] !== w3
      ) {
        const cb = this.tcComm;
        const o = e * COMM_BYTES;
        let same = true;
        for (let k = 0; k < len; k++) {
          const c = b[at + k]!;
          if (c !== cb[o + k]) {
            same = false;
            break;
          }
          if (c === 0) break;
        }
        if (!same) continue;
      }
      if (save && this.tcSaved[e] === 0) {
        this.saveComm(pid, this.str(off, size));
        this.tcSaved[e] = 1;
      }
      return this.tcId[e]!;
    }
    return this.taskMiss(pid, prio, off, size, len, save, base);
  }

  /**
   * task() for a (comm, pid, prio) not in the cache: interned, and cached in way 0. A method of
   * its own, not inlined where task() is: misses are a task's first events, mostly before V8
   * optimises task(), which then compiled this path with no feedback (and threw the code away at
   * the next new task) into code twice the size.
   */
  private taskMiss(
    pid: number,
    prio: number,
    off: number,
    size: number,
    len: number,
    save: boolean,
    base: number,
  ): number {
    const at = this.rs + off;
    const b = this.rb;
    const comm = this.str(off, size);
    if (save) this.saveComm(pid, comm);
    const id = this.b.tasks.intern(pid, comm, prio);
    // Newest in way 0; the old way 0 moves to way 1.
    this.tcPid[base + 1] = this.tcPid[base]!;
    this.tcPrio[base + 1] = this.tcPrio[base]!;
    this.tcId[base + 1] = this.tcId[base]!;
    this.tcSaved[base + 1] = this.tcSaved[base]!;
    this.tcComm.copyWithin((base + 1) * COMM_BYTES, base * COMM_BYTES, (base + 1) * COMM_BYTES);
    this.tcWords.copyWithin((base + 1) * 4, base * 4, (base + 1) * 4);
    this.tcPid[base] = pid;
    this.tcPrio[base] = prio;
    this.tcId[base] = id;
    this.tcSaved[base] = save ? 1 : 0;
    this.tcComm.fill(0, base * COMM_BYTES, (base + 1) * COMM_BYTES);
    // Comms longer than the cache holds never match (their last compared byte is not a NUL).
    this.tcComm.set(b.subarray(at, at + len), base * COMM_BYTES);
    // The cached comm's words, read as task() reads a record's: little-endian, from its bytes.
    const cw = new DataView(this.tcComm.buffer, this.tcComm.byteOffset + base * COMM_BYTES);
    for (let k = 0; k < 4; k++) this.tcWords[base * 4 + k] = cw.getInt32(4 * k, true);
    if (len === COMM_BYTES && b[at + len - 1] !== 0) this.tcId[base] = -1;
    return id;
  }

  protected direct(kind: Kind, d: DirectFields, pl: Payload): boolean {
    switch (kind) {
      case SWITCH: {
        const prev = this.task(d.comm!, d.pid!, d.prio!, true);
        const state = this.stateId(this.int(d.state!));
        if (state < 0) return false;
        pl.a0 = prev | (state << 22);
        pl.a1 = this.task(d.nextComm!, d.nextPid!, d.nextPrio!, true);
        return true;
      }
      case WAKEUP:
      case WAKEUP_NEW: {
        const target = d.target !== null ? this.int(d.target) : -1;
        let success = 0;
        if (d.success !== null) {
          success = this.int(d.success);
          if (success !== 1 || !(target >= 0 && target < WAKE_SUCCESS)) return false;
        }
        pl.a0 = this.task(d.comm!, d.pid!, d.prio!, true);
        pl.a1 = success === 1 ? target + WAKE_SUCCESS : target;
        return true;
      }
      case WAKING:
        pl.a0 = this.task(d.comm!, d.pid!, d.prio!, false);
        pl.a1 = this.int(d.target!);
        return true;
      default:
        return this.directRare(kind, d, pl);
    }
  }

  /**
   * direct() for the kinds a trace has few of (migrations, forks, exits, runtimes): a method of
   * its own, called at one site that the first of them gives feedback. In direct() itself, a fork
   * or an exit first met thousands of events in, after V8 had optimised it, ran reads and calls
   * that had never run, which threw direct() (and event(), which inlines it) away mid-read.
   */
  private directRare(kind: Kind, d: DirectFields, pl: Payload): boolean {
    switch (kind) {
      case MIGRATE: {
        const o = this.int(d.origCpu!);
        const de = this.int(d.destCpu!);
        if (!(o >= 0 && o <= 0xffff && de >= 0 && de <= 0xffff)) return false;
        // -1: a dynamic comm out of the record (printed from the text, as trace-cmd does).
        pl.a0 = this.task(d.comm!, d.pid!, d.prio!, false);
        if (pl.a0 < 0) return false;
        pl.a1 = (o << 16) | de;
        return true;
      }
      case FORK:
        pl.a0 = this.task(d.comm!, d.pid!, null, false);
        pl.a1 = this.task(d.nextComm!, d.nextPid!, null, false);
        return true;
      case EXIT:
      case FREE:
      case WAIT:
        pl.a0 = this.task(d.comm!, d.pid!, d.prio!, false);
        pl.a1 = d.groupDead !== null ? (this.int(d.groupDead) !== 0 ? 1 : 0) : -1;
        return true;
      case STAT_RUNTIME: {
        const runtime = this.int(d.runtime!);
        const v = d.vruntime !== null ? this.int(d.vruntime) : NaN;
        pl.a0 = this.task(d.comm!, d.pid!, null, false);
        if (d.vruntime === null && runtime >= 0 && runtime <= 0x7fffffff) pl.a1 = runtime;
        else pl.a1 = -(1 + this.b.events.pushWide(runtime, v));
        return true;
      }
      default:
        return false;
    }
  }
}
