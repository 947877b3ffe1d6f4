// Decodes a trace-cmd .dat file into Traces (one per buffer/instance): each CPU's events streamed
// page by page and merged by timestamp (ties to the lower CPU, as trace-cmd report does), then
// turned into the same model events the text importer makes from `trace-cmd report` output.
// Scheduler events are read straight from their fields; every other event is printed from its
// format's `print fmt` (libtraceevent's rules) and kept as text like the text importer keeps it.

import { DIAG, DiagnosticSink } from '../../model/diagnostics';
import { Kind, MAX_TASKS, WAKE_SUCCESS } from '../../model/event-kinds';
import { PRIO_UNKNOWN } from '../../model/task-table';
import { type ClockInfo, tickRate, tscToNs } from '../../model/time';
import { CPU_UNKNOWN, DatSourceInfo, Trace, TraceBuilder } from '../../model/trace';
import { decodeFields, Payload } from '../fields';
import { importFtraceText } from '../ftrace-text';
import type { ImportOptions, TextOnlyKind } from '../importer';
import { ByteSource, Damage, Decompressors, memorySource, text } from './bytes';
import { DirectFields, directFields } from './direct-fields';
import type { EventFormat, Field } from './format';
import { BufferInfo, DatFile, parseDatFile } from './file';
import { CpuStream } from './kbuffer';
import { Kallsyms, KallsymsHit } from './kallsyms';
import { formatPrint } from './print-fmt';
import { PluginRecord, pluginFor, PluginState } from './plugins';
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

/** Imports a whole .dat file held in memory. Never throws on bad input: see each trace's diagnostics. */
export function importTraceDat(input: Uint8Array | ByteSource, opts: DatImportOptions): Trace[] {
  const name = opts.name ?? 'trace.dat';
  const buf = input instanceof Uint8Array ? memorySource(input) : input;
  const parsed = parseDatFile(buf, opts.decompressors);
  if (parsed instanceof Damage) {
    const sink = new DiagnosticSink(opts.diagnosticsCap ?? 1000, name);
    const b = new TraceBuilder(name, 'trace-cmd-dat', sink);
    sink.add(damageDiag(parsed));
    return [b.finish(clockInfo('unknown'))];
  }
  const f = parsed;
  const out: Trace[] = [];
  for (const lat of f.latencyText) {
    for (const t of importFtraceText(lat, { ...opts, name })) out.push(t);
  }
  const buffers = f.buffers.length > 0 || out.length > 0 ? f.buffers : [emptyBuffer(f)];
  const range = opts.cpuRange;
  if (range !== undefined && buffers.length === 1 && out.length === 0) {
    const t = new DatDecoder(buf, f, buffers[0]!, name, opts).run(range.from === 0, range);
    return [t];
  }
  buffers.forEach((buffer, i) => {
    const traceName = buffer.name === '' ? name : `${name}:${buffer.name}`;
    const counted =
      opts.countOnly === true
        ? new DatDecoder(buf, f, buffer, traceName, opts).count(i === 0)
        : undefined;
    const t = counted ?? new DatDecoder(buf, f, buffer, traceName, opts).run(i === 0);
    out.push(t);
  });
  return out;
}

function emptyBuffer(f: DatFile): BufferInfo {
  return { name: '', clock: 'unknown', pageSize: f.pageSize, cpus: [], chunked: false };
}

function damageDiag(d: Damage): {
  code: typeof DIAG.datDamaged;
  severity: 'error';
  offset: number;
  message: string;
} {
  return { code: DIAG.datDamaged, severity: 'error', offset: d.offset, message: d.message };
}

const CACHE_SLOTS = 4096;
const CACHE_MASK = CACHE_SLOTS - 1;
const COMM_BYTES = 16;

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

function clockInfo(name: string): ClockInfo {
  const unit = COUNT_CLOCKS.has(name) ? 'count' : 'ns';
  return { name, unit, source: name === 'unknown' ? 'inferred' : 'file', resolution: 1 };
}

/** How one event type becomes a model event, worked out on first sight. */
interface Handler {
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
function stateText(v: number): string {
  let s = '';
  for (let i = 0; i < STATE_CHARS.length; i++) {
    if ((v & (1 << i)) === 0) continue;
    if (s.length > 0) s += '|';
    s += STATE_CHARS[i];
  }
  return s.length === 0 ? 'R' : s;
}

/** sched_migrate_task's CPUs as direct() takes them (else it is printed): each in 0..0xffff. */
function cpusFit(w: Int32Array, q: number, plan: Int32Array, at: number): boolean {
  const o = w[q + plan[at + PLAN_ORIG]!]!;
  const d = w[q + plan[at + PLAN_DEST]!]!;
  return o >= 0 && o <= 0xffff && d >= 0 && d <= 0xffff;
}

/** Where an event is in the merge's order (count()): raw timestamp, CPU, index in the CPU's stream. */
interface CountKey {
  ts: number;
  cpu: number;
  seq: number;
}

function keyBefore(a: CountKey, b: CountKey): boolean {
  return a.ts < b.ts || (a.ts === b.ts && (a.cpu < b.cpu || (a.cpu === b.cpu && a.seq < b.seq)));
}

// The count loop's ops (DatDecoder.planFor) and a plan's entries.
const OP_COUNT = 1;
const OP_SWITCH = 2;
const OP_WAKEUP = 3;
const OP_WAKING = 4;
const OP_GENERAL = 5;
const OP_MIGRATE = 6;
const PLAN_TYPE = 1;
const PLAN_MIN_LEN = 2;
const PLAN_PID = 3;
const PLAN_COMM = 4;
const PLAN_TPID = 5;
const PLAN_PRIO = 6;
const PLAN_STATE = 7;
const PLAN_STATE_HI = 8;
const PLAN_NEXT_COMM = 9;
const PLAN_NEXT_PID = 10;
const PLAN_NEXT_PRIO = 11;
const PLAN_ORIG = 12;
const PLAN_DEST = 13;
const PLAN_SIZE = 14;

class DatDecoder {
  private readonly b: TraceBuilder;
  private readonly sink: DiagnosticSink;
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
  private readonly pl: Payload = { a0: 0, a1: 0 };
  private readonly split = { hi: 0, lo: 0 };
  private stateIds = new Map<number, number>();
  private symbols: Kallsyms | undefined;
  private commonPid: Field | undefined;
  private readonly little: boolean;
  // The record being decoded (for the print fmt evaluator).
  private rb: Uint8Array = new Uint8Array(0);
  private rdv: DataView = new DataView(new ArrayBuffer(0));
  private rs = 0;
  private rl = 0;
  private readonly cx: PluginRecord;
  private readonly plugins = new PluginState();
  /** The stream of the event being decoded (for where a problem is). */
  private cur: CpuStream | undefined;
  /** By kind: 1 when its events are counted, not printed (ImportOptions.eventText). */
  private readonly noText: Uint8Array;
  /** Events counted, not kept (ImportOptions.countOnly). */
  private readonly countOnly: boolean;
  /** The TSC2NSEC conversion applied to every timestamp (undefined: kept as recorded). */
  private readonly tsc: { mult: number; shift: number } | undefined;
  /** The rate the user gave, when it (not TSC2NSEC) made the conversion. */
  private readonly tscHz: number | undefined;

  constructor(
    private readonly buf: ByteSource,
    private readonly f: DatFile,
    private readonly buffer: BufferInfo,
    name: string,
    private readonly opts: DatImportOptions,
  ) {
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
    this.little = f.little;
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
  private begin(first: boolean): number {
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
        split.hi = Math.floor(ts / 1e9);
        split.lo = ts - split.hi * 1e9;
        base = ts - b.relTs(split);
      }
      this.evTs = ts - base;
      this.event(s);
      if (b.full) {
        b.stopAtCap({ offset: s.recOffset() });
        break;
      }
    }
    return this.finish();
  }

  private finish(): Trace {
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

  /**
   * A count-only read (ImportOptions.countOnly, `info`) without the merge: each CPU's pages walked
   * in one loop, the scheduler events' tasks found through a cache of (pid, prio, comm's words).
   * What the merge's order decides is worked out from keys instead (raw timestamp, CPU, index in
   * the CPU's stream, the order the merge takes them in when no CPU's time goes back): whether a
   * pid owned an event before a scheduler event named it (trace-cmd's `<...>`), and the comm it
   * learned. Undefined when only the ordered read can say the same: anything diagnosed on the way
   * (damage, lost events, an event of no format), a CPU's time going back, an event printed rather
   * than read from its fields, a CPU past the header's count, big-endian data, the tables at a cap;
   * the caller then reads it in order (run()).
   */
  count(first: boolean): Trace | undefined {
    const f = this.f;
    const b = this.b;
    const hp = f.headerPage;
    const pageSize = this.buffer.pageSize;
    if (!f.little || !this.countOnly || pageSize % 4 !== 0 || hp.dataOffset % 4 !== 0)
      return undefined;
    // A damaged file (cut short, bad sections): its events' diagnostics are the ordered read's.
    if (f.damage.length > 0 || f.notes.length > 0) return undefined;
    for (const c of this.buffer.cpus) if (c.offset + c.size > this.buf.length) return undefined;
    const offsetAdd = this.begin(first);
    const diagsBefore = this.sink.total;
    const hdrCpus = b.header.cpus;
    for (const c of this.buffer.cpus)
      if (c.cpu >= CPU_UNKNOWN || (hdrCpus !== undefined && c.cpu >= hdrCpus)) return undefined;
    let trouble = false;
    const sinkObj = {
      damage: (): void => void (trouble = this.cnTrouble = true),
      lost: (): void => void (trouble = this.cnTrouble = true),
    };
    this.counting = true;
    this.cnDiags = diagsBefore;
    const types = f.formats.size + 2;
    this.cnPlan = new Int32Array((types + 1) * PLAN_SIZE);
    this.cnPerType = new Float64Array(b.eventTypes.length + types);
    let firstRaw = Infinity;
    let lastRaw = -Infinity;
    let maxCpu = -1;
    const streams = this.buffer.cpus.map(
      (c) =>
        new CpuStream(
          this.buf,
          f,
          c,
          pageSize,
          this.buffer.chunked,
          this.opts.decompressors,
          sinkObj,
        ),
    );
    const span = new Float64Array(streams.length * 2);
    const total = this.countStreams(streams, span);
    if (total < 0) trouble = true;
    streams.forEach((st, i) => {
      // A stream with events: its first timestamp is a number (NaN: none).
      if (Number.isNaN(span[2 * i]!)) return;
      if (span[2 * i]! < firstRaw) firstRaw = span[2 * i]!;
      if (span[2 * i + 1]! > lastRaw) lastRaw = span[2 * i + 1]!;
      if (st.cpu > maxCpu) maxCpu = st.cpu;
    });
    if (trouble || this.sink.total !== diagsBefore) return undefined;
    // The owners' names, as owner() would have interned them in the merge's order.
    const cmdlines = f.cmdlinesOf(new Set(this.firstOwn.keys()));
    for (const [pid, own] of this.firstOwn) {
      if (pid === 0 || cmdlines.has(pid)) {
        b.tasks.intern(pid, pid === 0 ? '<idle>' : cmdlines.get(pid)!);
        continue;
      }
      const save = this.firstSave.get(pid);
      if (save === undefined || !keyBefore(save, own)) b.tasks.intern(pid, '<...>');
      // Its events after that are the learned comm's (the name task() has interned already; as
      // an owner's task, without prio, it may be one task more than the ordered read makes,
      // which matters only near the table's cap, where this read gives way to that one).
      if (save !== undefined) b.tasks.intern(pid, save.comm);
    }
    if (b.tasks.overflowed || b.tasks.size + this.firstOwn.size >= MAX_TASKS) return undefined;
    const tsc = this.tsc;
    const conv = (raw: number): number =>
      (tsc !== undefined ? tscToNs(raw, tsc.mult, tsc.shift) : raw) + offsetAdd;
    let minTs = 0;
    let maxTs = 0;
    if (total > 0) {
      const ts = conv(firstRaw);
      const split = this.split;
      split.hi = Math.floor(ts / 1e9);
      split.lo = ts - split.hi * 1e9;
      const base = ts - b.relTs(split);
      minTs = ts - base;
      maxTs = conv(lastRaw) - base;
    }
    if (!b.countEvents(this.cnPerType, total, minTs, maxTs, maxCpu)) return undefined;
    return this.finish();
  }

  // The count-only read's state (count()).
  private counting = false;
  /** Damage or lost events met (the streams' sink), and the diagnostics before counting. */
  private cnTrouble = false;
  private cnDiags = 0;
  /** Each pid's first event it owns, and first scheduler event naming it (with the comm). */
  private readonly firstOwn = new Map<number, CountKey>();
  private readonly firstSave = new Map<number, CountKey & { comm: string }>();
  /** Pids whose first owned event in this CPU's stream was noted (a slot by pid, then the set). */
  private readonly ownSlot = new Float64Array(CACHE_SLOTS);
  private readonly ownedHere = new Set<number>();
  /** The key of the record a slow path looks at (noteSave reads it). */
  private kTs = 0;
  private kCpu = 0;
  private kSeq = 0;
  private cnPerType = new Float64Array(0);
  /**
   * Each event type's plan, by slot (cnSlot: type id to slot; slot 0, op 0: none yet): op, type,
   * then words (4-byte units from the record's start) of the fields the op reads (PLAN_* indices).
   */
  private readonly cnSlot = new Uint16Array(65536);
  private cnPlan = new Int32Array(0);
  private cnPlans = 0;
  /** The tasks cache of the count loop: pid, prio, the comm's 4 words, the stream that saved it. */
  private readonly lcPid = new Float64Array(CACHE_SLOTS).fill(NaN);
  private readonly lcPrio = new Int32Array(CACHE_SLOTS);
  private readonly lcComm = new Int32Array(CACHE_SLOTS * 4);
  private readonly lcSaved = new Int32Array(CACHE_SLOTS).fill(-1);
  /** sched_switch prev_state's low byte to its state id (-2: not yet asked). */
  private readonly stateByByte = new Int16Array(256).fill(-2);
  /** A copy of a block not on a 4-byte boundary, read through cnWords. */
  private aligned = new Uint8Array(0);

  /**
   * Counts the CPUs' events (count()): the number, or -1 when the ordered read is needed; each
   * stream's first and last raw timestamps into `span` (NaN: no events). One loop over the pages'
   * records reading 4-byte words, which V8 optimises on the stack early; a record it cannot settle
   * from its caches (a type, task, owner or state not seen yet, or not a type it reads) goes whole
   * to one call, countSlow. Code V8 has seen no run of deoptimises the loop when it first runs:
   * so every stream's first page is read before any stream's rest (the switch between streams
   * has run by then), and the loop stores nothing when a stream ends. A stream is read in two
   * goes, each with the caches started afresh (the first-in-stream notes then come again: the
   * earlier one wins).
   */
  private countStreams(streams: CpuStream[], span: Float64Array): number {
    let total = 0;
    let w: Int32Array = new Int32Array(0);
    span.fill(NaN);
    const seqs = new Float64Array(streams.length);
    for (let go = 0; go < 2 * streams.length; go++) {
      const i = go % streams.length;
      const s = streams[i]!;
      // The caches' notes of this stream start afresh (lcSaved: a stamp per go).
      this.ownSlot.fill(NaN);
      this.ownedHere.clear();
      this.tcSaved.fill(0);
      // The index of the stream's next event.
      let seq = seqs[i]!;
      let bytes: Uint8Array | undefined;
      let pages = go < streams.length ? 1 : Infinity;
      while (pages-- > 0 && s.nextDataPage()) {
        if (s.bytes !== bytes) {
          bytes = s.bytes;
          w = this.words(bytes);
        }
        // Damage, or a diagnostic (a record printed, a type of no format): the ordered read's,
        // and counting further would only be undone.
        if (this.cnTrouble || this.sink.total !== this.cnDiags) return -1;
        seq = this.countPage(s, bytes, w, i, go, span, seq);
        if (seq < 0) return -1;
      }
      total += seq - seqs[i]!;
      seqs[i] = seq;
    }
    return total;
  }

  /**
   * The records of the page `s` is at (countStreams): the stream's event index after them, or -1
   * when the ordered read is needed. The loop V8 optimises: small, so that it compiles soon.
   */
  private countPage(
    s: CpuStream,
    bytes: Uint8Array,
    w: Int32Array,
    i: number,
    stamp: number,
    span: Float64Array,
    seq: number,
  ): number {
    const slotOf = this.cnSlot;
    const ownSlot = this.ownSlot;
    const lcPid = this.lcPid;
    const lcPrio = this.lcPrio;
    const lcComm = this.lcComm;
    const lcSaved = this.lcSaved;
    const states = this.stateByByte;
    const perType = this.cnPerType;
    const plan = this.cnPlan;
    // The stream's latest timestamp so far.
    const prev0 = span[2 * i + 1]!;
    let prev = Number.isNaN(prev0) ? -Infinity : prev0;
    let ts = s.ts;
    let p = s.pos;
    const end = s.end;
    while (p + 4 <= end) {
      const word = w[p >> 2]!;
      const typeLen = word & 31;
      const delta = word >>> 5;
      let r = p + 4;
      let len: number;
      if (typeLen === 0) {
        if (r + 4 > end) return -1;
        len = ((w[r >> 2]! - 4 + 3) & ~3) >>> 0;
        r += 4;
      } else if (typeLen <= 28) {
        len = typeLen * 4;
      } else if (typeLen === 29) {
        if (delta === 0) break;
        if (r + 4 > end) return -1;
        ts += delta;
        p = r + (w[r >> 2]! >>> 0);
        if ((p & 3) !== 0) return -1;
        continue;
      } else {
        if (r + 4 > end) return -1;
        const ext = (w[r >> 2]! >>> 0) * 134217728 + delta;
        ts = typeLen === 30 ? ts + ext : ext;
        p = r + 4;
        continue;
      }
      if (r + len > end) return -1;
      ts += delta;
      p = r + len;
      if (ts < prev || len < 8) return -1;
      prev = ts;
      span[2 * i + 1] = ts;
      if (seq === 0) span[2 * i] = ts;
      const q = r >> 2;
      const at = slotOf[w[q]! & 0xffff]! * PLAN_SIZE;
      const op = plan[at]!;
      const pw = plan[at + PLAN_PID]!;
      const pid = pw >= 0 ? w[q + pw]! : -1;
      // Settled here: a type read from its words, the record long enough, the owner noted, and
      // each (comm, pid, prio) in the cache (saved in this stream when the op saves).
      let known =
        op !== 0 &&
        op !== OP_GENERAL &&
        len >= plan[at + PLAN_MIN_LEN]! &&
        ownSlot[pid & CACHE_MASK] === pid;
      if (known && op !== OP_COUNT) {
        let c = q + plan[at + PLAN_COMM]!;
        let tp = w[q + plan[at + PLAN_TPID]!]!;
        let k = tp & CACHE_MASK;
        known =
          lcPid[k] === tp &&
          lcPrio[k] === w[q + plan[at + PLAN_PRIO]!] &&
          lcComm[k * 4] === w[c] &&
          lcComm[k * 4 + 1] === w[c + 1] &&
          lcComm[k * 4 + 2] === w[c + 2] &&
          lcComm[k * 4 + 3] === w[c + 3] &&
          (op === OP_WAKING || lcSaved[k] === stamp) &&
          (op !== OP_MIGRATE || cpusFit(w, q, plan, at));
        if (known && op === OP_SWITCH) {
          const hi = plan[at + PLAN_STATE_HI]!;
          c = q + plan[at + PLAN_NEXT_COMM]!;
          tp = w[q + plan[at + PLAN_NEXT_PID]!]!;
          k = tp & CACHE_MASK;
          known =
            (hi < 0 || w[q + hi] === 0) &&
            states[w[q + plan[at + PLAN_STATE]!]! & 255]! >= 0 &&
            lcPid[k] === tp &&
            lcPrio[k] === w[q + plan[at + PLAN_NEXT_PRIO]!] &&
            lcComm[k * 4] === w[c] &&
            lcComm[k * 4 + 1] === w[c + 1] &&
            lcComm[k * 4 + 2] === w[c + 2] &&
            lcComm[k * 4 + 3] === w[c + 3] &&
            lcSaved[k] === stamp;
        }
      }
      if (known) perType[plan[at + PLAN_TYPE]!]!++;
      else if (!this.countSlow(s, bytes, w, r, len, ts, seq, stamp)) return -1;
      seq++;
    }
    return seq;
  }

  /**
   * A record countStream could not settle, all of it: its type's plan when new, its owner, then
   * the op's tasks and state through the exact paths (which fill the caches), or event()'s way.
   */
  private countSlow(
    s: CpuStream,
    bytes: Uint8Array,
    w: Int32Array,
    r: number,
    len: number,
    ts: number,
    seq: number,
    stamp: number,
  ): boolean {
    const cpu = s.cpu;
    this.setRecord(s, bytes, r, len);
    const q = r >> 2;
    const id = w[q]! & 0xffff;
    let sl = this.cnSlot[id]!;
    if (sl === 0) {
      sl = this.planFor(id, s);
      if (sl === 0) return false;
    }
    const plan = this.cnPlan;
    const at = sl * PLAN_SIZE;
    const op = plan[at]!;
    if (
      op === OP_GENERAL ||
      len < plan[at + PLAN_MIN_LEN]! ||
      (op === OP_MIGRATE && !cpusFit(w, q, plan, at))
    ) {
      if (!this.countGeneral(ts, cpu, seq)) return false;
    } else {
      const pw = plan[at + PLAN_PID]!;
      const pid = pw >= 0 ? w[q + pw]! : -1;
      if (this.ownSlot[pid & CACHE_MASK] !== pid) this.noteOwn(pid, ts, cpu, seq);
      if (op !== OP_COUNT) {
        const tp = w[q + plan[at + PLAN_TPID]!]!;
        const pr = w[q + plan[at + PLAN_PRIO]!]!;
        const save = op !== OP_WAKING && op !== OP_MIGRATE;
        this.leanTask(w, q + plan[at + PLAN_COMM]!, tp, pr, save, stamp, ts, cpu, seq);
      }
      if (op === OP_SWITCH) {
        const hi = plan[at + PLAN_STATE_HI]!;
        const v = w[q + plan[at + PLAN_STATE]!]!;
        if (hi >= 0 && w[q + hi] !== 0) {
          // A state past 32 bits (a damaged record): the ordered read's number, its text.
          return false;
        }
        const byte = v & 255;
        let sid = this.stateByByte[byte]!;
        if (sid === -2) sid = this.stateByByte[byte] = this.b.stateId(stateText(byte));
        if (sid < 0) return false;
        const np = w[q + plan[at + PLAN_NEXT_PID]!]!;
        const npr = w[q + plan[at + PLAN_NEXT_PRIO]!]!;
        this.leanTask(w, q + plan[at + PLAN_NEXT_COMM]!, np, npr, true, stamp, ts, cpu, seq);
      }
    }
    this.cnPerType[plan[at + PLAN_TYPE]!]!++;
    return true;
  }

  /** The block's 4-byte words (little-endian: the count path reads only such files). */
  private words(bytes: Uint8Array): Int32Array {
    if ((bytes.byteOffset & 3) === 0)
      return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
    if (this.aligned.length < bytes.length) this.aligned = new Uint8Array(bytes.length + 3);
    this.aligned.set(bytes);
    return new Int32Array(this.aligned.buffer, 0, bytes.length >> 2);
  }

  /** The record the slow paths read through rb/rdv/rs/rl (as event() sets them). */
  private setRecord(s: CpuStream, bytes: Uint8Array, r: number, len: number): void {
    if (this.rb !== bytes || this.cur !== s) {
      this.cur = s;
      this.rb = bytes;
      this.rdv = s.dv;
    }
    this.rs = r;
    this.rl = len;
  }

  /** The plan for a type first seen (in the count loop): its handler, then how the loop reads it. */
  private planFor(id: number, s: CpuStream): number {
    const h = this.handler(id, s.recOffset());
    // A type of no format, or of none with common_pid (handler() then borrows the first type's
    // seen in the merge's order): the ordered read's.
    if (h.fmt?.byName.get('common_pid') === undefined) return 0;
    // Sized by count() for every format the file has.
    const sl = this.cnPlans + 1;
    if ((sl + 1) * PLAN_SIZE > this.cnPlan.length || h.type >= this.cnPerType.length) return 0;
    const at = sl * PLAN_SIZE;
    const pl = this.cnPlan;
    pl.fill(-1, at, at + PLAN_SIZE);
    pl[at + PLAN_TYPE] = h.type;
    pl[at + PLAN_MIN_LEN] = 8;
    let op = OP_GENERAL;
    // A field the loop reads as a signed 4-byte word: its word, or undefined.
    const word = (fl: Field | undefined): number | undefined =>
      fl !== undefined && fl.size === 4 && fl.signed && fl.dynamic === 'none' && fl.offset % 4 === 0
        ? fl.offset / 4
        : undefined;
    const comm = (fl: Field | undefined): number | undefined =>
      fl !== undefined &&
      fl.isString &&
      fl.dynamic === 'none' &&
      fl.size === COMM_BYTES &&
      fl.arrayLen === COMM_BYTES &&
      fl.offset % 4 === 0
        ? fl.offset / 4
        : undefined;
    const fields: (Field | undefined)[] = [h.pid];
    const pid = h.pid === undefined ? -1 : word(h.pid);
    const d = h.direct;
    const set = (...ws: [number, number | undefined][]): boolean => {
      for (const [, v] of ws) if (v === undefined) return false;
      for (const [k, v] of ws) pl[at + k] = v!;
      return true;
    };
    if (pid !== undefined) {
      pl[at + PLAN_PID] = pid;
      if (this.noText[h.kind] === 1) op = OP_COUNT;
      else if (d !== undefined) {
        const base: [number, number | undefined][] = [
          [PLAN_COMM, comm(d.comm)],
          [PLAN_TPID, word(d.pid)],
          [PLAN_PRIO, word(d.prio)],
        ];
        fields.push(d.comm, d.pid, d.prio);
        if (h.kind === Kind.schedSwitch) {
          const st = d.state;
          const ok =
            st !== undefined &&
            st.dynamic === 'none' &&
            st.offset % 4 === 0 &&
            (st.size === 4 || st.size === 8);
          fields.push(st, d.nextComm, d.nextPid, d.nextPrio);
          if (
            ok &&
            set(
              ...base,
              [PLAN_STATE, st.offset / 4],
              [PLAN_NEXT_COMM, comm(d.nextComm)],
              [PLAN_NEXT_PID, word(d.nextPid)],
              [PLAN_NEXT_PRIO, word(d.nextPrio)],
            )
          ) {
            if (st.size === 8) pl[at + PLAN_STATE_HI] = st.offset / 4 + 1;
            op = OP_SWITCH;
          }
        } else if (
          (h.kind === Kind.schedWakeup || h.kind === Kind.schedWakeupNew) &&
          d.success === undefined
        ) {
          if (set(...base)) op = OP_WAKEUP;
        } else if (h.kind === Kind.schedWaking) {
          if (set(...base)) op = OP_WAKING;
        } else if (h.kind === Kind.schedMigrateTask) {
          fields.push(d.origCpu, d.destCpu);
          const cpus: [number, number | undefined][] = [
            [PLAN_ORIG, word(d.origCpu)],
            [PLAN_DEST, word(d.destCpu)],
          ];
          if (set(...base, ...cpus)) op = OP_MIGRATE;
        }
      }
    }
    pl[at] = op;
    for (const fl of fields)
      if (fl !== undefined)
        pl[at + PLAN_MIN_LEN] = Math.max(pl[at + PLAN_MIN_LEN]!, fl.offset + fl.size);
    this.cnPlans = sl;
    this.cnSlot[id] = sl;
    return sl;
  }

  /** event() for the count loop's other records: false when the ordered read is needed. */
  private countGeneral(ts: number, cpu: number, seq: number): boolean {
    if (this.rl < 8) return false;
    const id = this.rdv.getUint16(this.rs, true);
    const h = this.handler(id, this.cur!.recOffset());
    this.curFmt = h.fmt;
    let pid = h.pid !== undefined ? this.int(h.pid) : -1;
    if (Number.isNaN(pid)) pid = -1;
    if (this.ownSlot[pid & CACHE_MASK] !== pid) this.noteOwn(pid, ts, cpu, seq);
    if (this.noText[h.kind] === 1) return true;
    this.kTs = ts;
    this.kCpu = cpu;
    this.kSeq = seq;
    // Printed: a problem with the text is a warning, and count() then gives way to run().
    if (h.direct === undefined || !this.direct(h.kind, h.direct, this.pl))
      this.printed(h, this.cur!);
    return true;
  }

  /** A pid owns an event not in the slot: the first in this stream is a candidate for its first. */
  private noteOwn(pid: number, ts: number, cpu: number, seq: number): void {
    this.ownSlot[pid & CACHE_MASK] = pid;
    if (this.ownedHere.has(pid)) return;
    this.ownedHere.add(pid);
    const own = this.firstOwn.get(pid);
    if (own === undefined || keyBefore({ ts, cpu, seq }, own))
      this.firstOwn.set(pid, { ts, cpu, seq });
  }

  /** task() for the count loop's cache misses, then the cache filled with this task. */
  private leanTask(
    w: Int32Array,
    c: number,
    pid: number,
    prio: number,
    save: boolean,
    stamp: number,
    ts: number,
    cpu: number,
    seq: number,
  ): void {
    const comm = this.str(c * 4 - this.rs, COMM_BYTES);
    if (save) {
      this.kTs = ts;
      this.kCpu = cpu;
      this.kSeq = seq;
      this.saveComm(pid, comm);
    }
    this.b.tasks.intern(pid, comm, prio);
    const k = pid & CACHE_MASK;
    this.lcPid[k] = pid;
    this.lcPrio[k] = prio;
    this.lcComm[k * 4] = w[c]!;
    this.lcComm[k * 4 + 1] = w[c + 1]!;
    this.lcComm[k * 4 + 2] = w[c + 2]!;
    this.lcComm[k * 4 + 3] = w[c + 3]!;
    this.lcSaved[k] = save ? stamp : -1;
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

  private handler(id: number, offset: number): Handler {
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

  private int(f: Field): number {
    const dv = this.rdv;
    const at = this.rs + f.offset;
    if (f.offset + f.size > this.rl) return NaN;
    switch (f.size) {
      case 1:
        return f.signed ? dv.getInt8(at) : dv.getUint8(at);
      case 2:
        return f.signed ? dv.getInt16(at, this.little) : dv.getUint16(at, this.little);
      case 4:
        return f.signed ? dv.getInt32(at, this.little) : dv.getUint32(at, this.little);
      case 8: {
        const lo = dv.getUint32(at + (this.little ? 0 : 4), this.little);
        const hi = this.little ? dv.getInt32(at + 4, true) : dv.getInt32(at, false);
        return f.signed || hi >= 0 ? hi * 4294967296 + lo : (hi >>> 0) * 4294967296 + lo;
      }
      default:
        return NaN;
    }
  }

  private big(f: Field): bigint {
    const dv = this.rdv;
    const at = this.rs + f.offset;
    switch (f.size) {
      case 1:
        return BigInt(f.signed ? dv.getInt8(at) : dv.getUint8(at));
      case 2:
        return BigInt(f.signed ? dv.getInt16(at, this.little) : dv.getUint16(at, this.little));
      case 4:
        return BigInt(f.signed ? dv.getInt32(at, this.little) : dv.getUint32(at, this.little));
      case 8:
        return f.signed ? dv.getBigInt64(at, this.little) : dv.getBigUint64(at, this.little);
      default:
        return 0n;
    }
  }

  /** A char array's text up to its NUL; `size 0` arrays (`char buf[]`) run to the record's end. */
  private str(off: number, len: number): string {
    const b = this.rb;
    const start = this.rs + off;
    const end = Math.min(start + len, this.rs + this.rl);
    let e = start;
    let ascii = true;
    while (e < end && b[e] !== 0) {
      if (b[e]! >= 0x80) ascii = false;
      e++;
    }
    if (!ascii) return text(b, start, e);
    let s = '';
    for (let i = start; i < e; i++) s += String.fromCharCode(b[i]!);
    return s;
  }

  private dynRange(f: Field): [number, number] | undefined {
    if (f.offset + 4 > this.rl) return undefined;
    const v = this.rdv.getUint32(this.rs + f.offset, this.little);
    let off = v & 0xffff;
    const len = v >>> 16;
    if (f.dynamic === 'rel_loc') off += f.offset + f.size;
    if (off + len > this.rl) return undefined;
    return [off, len];
  }

  /** A field's bytes read as libtraceevent reads a number: unsigned, no sign extension. */
  private fieldNum(name: string): bigint | undefined {
    const f = this.curFmt?.byName.get(name);
    if (f === undefined || f.dynamic !== 'none' || f.arrayLen !== 0) return undefined;
    if (f.offset + f.size > this.rl) return 0n; // libtraceevent: past the record reads as 0
    return this.unsigned(this.rs + f.offset, f.size);
  }

  private unsigned(at: number, size: number): bigint {
    const dv = this.rdv;
    switch (size) {
      case 1:
        return BigInt(dv.getUint8(at));
      case 2:
        return BigInt(dv.getUint16(at, this.little));
      case 4:
        return BigInt(dv.getUint32(at, this.little));
      case 8:
        return dv.getBigUint64(at, this.little);
      default:
        return 0n;
    }
  }

  /** REC->name[i] of a fixed array field. */
  private fieldElem(name: string, i: number): bigint | undefined {
    const f = this.curFmt?.byName.get(name);
    if (f === undefined || f.arrayLen <= 0) return undefined;
    const es = f.size / f.arrayLen;
    const off = f.offset + i * es;
    if (off + es > this.rl || !Number.isInteger(es)) return 0n;
    return this.unsigned(this.rs + off, es);
  }

  /** REC->name printed with %s, as libtraceevent's print_str_arg does. */
  private fieldStr(name: string): string | undefined {
    const f = this.curFmt?.byName.get(name);
    if (f === undefined || f.offset > this.rl) return undefined;
    if (f.dynamic !== 'none') {
      const r = this.dynRange(f);
      if (r === undefined) return undefined;
      return this.str(r[0], r[1]);
    }
    // A pointer-sized scalar: the constant string at that address (printk_formats), else hex.
    if (f.arrayLen === 0 && f.size === this.f.longSize) {
      const v = this.fieldNum(name) ?? 0n;
      return this.f.printk(v) ?? v.toString(16);
    }
    // Zero-sized fields (`char buf;`, `char buf[]`) run to the record's end.
    return this.str(f.offset, f.size === 0 ? this.rl - f.offset : f.size);
  }

  /** A field as libtraceevent's print_field_raw prints it. */
  private rawField(fl: Field): string {
    if (fl.arrayLen !== 0) {
      let off = fl.offset;
      let len = fl.size;
      if (fl.dynamic !== 'none') {
        const r = this.dynRange(fl);
        if (r === undefined) return '';
        [off, len] = r;
      }
      const b = this.rb.subarray(this.rs + off, this.rs + Math.min(off + len, this.rl));
      if (/char|u8|s8/.test(fl.type) && printableArray(b)) return this.str(off, len);
      return `ARRAY[${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(', ')}]`;
    }
    const v = this.fieldNum(fl.name) ?? 0n;
    const isLong = /long/.test(fl.type);
    if (fl.type.includes('*')) return '0x' + v.toString(16);
    if (fl.signed) {
      switch (fl.size) {
        case 4:
          return isLong ? '0x' + BigInt.asUintN(32, v).toString(16) : String(BigInt.asIntN(32, v));
        case 2:
          return String(BigInt.asIntN(16, v)).padStart(2);
        case 1:
          return String(BigInt.asIntN(8, v));
        default:
          return String(BigInt.asIntN(64, v));
      }
    }
    return isLong ? '0x' + v.toString(16) : v.toString();
  }

  /** The record's bytes from a field's offset to its end (bprint's `buf`, kernel_stack's `caller`). */
  private rest(name: string): Uint8Array | undefined {
    const f = this.curFmt?.byName.get(name);
    if (f === undefined || f.offset > this.rl) return undefined;
    return this.rb.subarray(this.rs + f.offset, this.rs + this.rl);
  }

  private dynArray(name: string): Uint8Array | undefined {
    const f = this.curFmt?.byName.get(name);
    if (f === undefined) return undefined;
    if (f.dynamic === 'none') {
      if (f.offset + f.size > this.rl) return undefined;
      return this.rb.subarray(this.rs + f.offset, this.rs + f.offset + f.size);
    }
    const r = this.dynRange(f);
    return r === undefined ? undefined : this.rb.subarray(this.rs + r[0], this.rs + r[0] + r[1]);
  }

  private symbol(addr: bigint): KallsymsHit | undefined {
    this.symbols ??= new Kallsyms(this.f.kallsyms());
    return this.symbols.find(addr);
  }

  private curFmt: EventFormat | undefined;
  // Task cache (see task()) and owner cache, CACHE_SLOTS slots by pid; NaN marks an empty slot.
  private readonly tcPid = new Float64Array(CACHE_SLOTS * 2).fill(NaN);
  private readonly tcPrio = new Int32Array(CACHE_SLOTS * 2);
  private readonly tcId = new Int32Array(CACHE_SLOTS * 2).fill(-1);
  private readonly tcSaved = new Uint8Array(CACHE_SLOTS * 2);
  private readonly tcComm = new Uint8Array(CACHE_SLOTS * 2 * COMM_BYTES);
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
  private saveComm(pid: number, comm: string): void {
    if (this.counting) {
      // count(): the first in the merge's order wins, as learned's first does below.
      const k = { ts: this.kTs, cpu: this.kCpu, seq: this.kSeq, comm };
      const had = this.firstSave.get(pid);
      if (pid !== 0 && (had === undefined || keyBefore(k, had))) this.firstSave.set(pid, k);
      return;
    }
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
    if (this.noText[h.kind] === 1) {
      // nothing to decode
    } else if (h.direct === undefined || !this.direct(h.kind, h.direct, pl)) {
      type = this.printed(h, s);
      a0 = pl.a0;
      a1 = pl.a1;
    } else {
      a0 = pl.a0;
      a1 = pl.a1;
    }
    if (this.countOnly) b.countEvent(ts, s.cpu, type);
    else b.event(ts, s.cpu, type, owner, 0, a0, a1);
  }

  /**
   * The record printed as libtraceevent prints it and its fields read from that text into `pl`;
   * the type it is kept as (the undecoded type, with a warning, when the text has not the fields).
   */
  private printed(h: Handler, s: CpuStream): number {
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

  private hex(): string {
    let s = '';
    for (let i = 0; i < this.rl; i++) s += this.rb[this.rs + i]!.toString(16).padStart(2, '0');
    return s;
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
  private task(commF: Field, pidF: Field, prioF: Field | undefined, save: boolean): number {
    const pid = this.int(pidF);
    let prio = prioF !== undefined ? this.int(prioF) : PRIO_UNKNOWN;
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
    const base = (pid & CACHE_MASK) * 2;
    for (let w = 0; w < 2; w++) {
      const e = base + w;
      if (this.tcPid[e] !== pid || this.tcPrio[e] !== prio || this.tcId[e]! < 0) continue;
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
      if (save && this.tcSaved[e] === 0) {
        this.saveComm(pid, this.str(off, size));
        this.tcSaved[e] = 1;
      }
      return this.tcId[e]!;
    }
    const comm = this.str(off, size);
    if (save) this.saveComm(pid, comm);
    const id = this.b.tasks.intern(pid, comm, prio);
    // Newest in way 0; the old way 0 moves to way 1.
    this.tcPid[base + 1] = this.tcPid[base]!;
    this.tcPrio[base + 1] = this.tcPrio[base]!;
    this.tcId[base + 1] = this.tcId[base]!;
    this.tcSaved[base + 1] = this.tcSaved[base]!;
    this.tcComm.copyWithin((base + 1) * COMM_BYTES, base * COMM_BYTES, (base + 1) * COMM_BYTES);
    this.tcPid[base] = pid;
    this.tcPrio[base] = prio;
    this.tcId[base] = id;
    this.tcSaved[base] = save ? 1 : 0;
    this.tcComm.fill(0, base * COMM_BYTES, (base + 1) * COMM_BYTES);
    // Comms longer than the cache holds never match (their last compared byte is not a NUL).
    this.tcComm.set(b.subarray(at, at + len), base * COMM_BYTES);
    if (len === COMM_BYTES && b[at + len - 1] !== 0) this.tcId[base] = -1;
    return id;
  }

  private direct(kind: Kind, d: DirectFields, pl: Payload): boolean {
    switch (kind) {
      case Kind.schedSwitch: {
        const prev = this.task(d.comm!, d.pid!, d.prio!, true);
        const state = this.stateId(this.int(d.state!));
        if (state < 0) return false;
        pl.a0 = prev | (state << 22);
        pl.a1 = this.task(d.nextComm!, d.nextPid!, d.nextPrio!, true);
        return true;
      }
      case Kind.schedWakeup:
      case Kind.schedWakeupNew: {
        const target = d.target !== undefined ? this.int(d.target) : -1;
        let success = 0;
        if (d.success !== undefined) {
          success = this.int(d.success);
          if (success !== 1 || !(target >= 0 && target < WAKE_SUCCESS)) return false;
        }
        pl.a0 = this.task(d.comm!, d.pid!, d.prio!, true);
        pl.a1 = success === 1 ? target + WAKE_SUCCESS : target;
        return true;
      }
      case Kind.schedWaking:
        pl.a0 = this.task(d.comm!, d.pid!, d.prio!, false);
        pl.a1 = this.int(d.target!);
        return true;
      case Kind.schedMigrateTask: {
        const o = this.int(d.origCpu!);
        const de = this.int(d.destCpu!);
        if (!(o >= 0 && o <= 0xffff && de >= 0 && de <= 0xffff)) return false;
        // -1: a dynamic comm out of the record (printed from the text, as trace-cmd does).
        pl.a0 = this.task(d.comm!, d.pid!, d.prio!, false);
        if (pl.a0 < 0) return false;
        pl.a1 = (o << 16) | de;
        return true;
      }
      case Kind.schedProcessFork:
        pl.a0 = this.task(d.comm!, d.pid!, undefined, false);
        pl.a1 = this.task(d.nextComm!, d.nextPid!, undefined, false);
        return true;
      case Kind.schedProcessExit:
      case Kind.schedProcessFree:
      case Kind.schedProcessWait:
        pl.a0 = this.task(d.comm!, d.pid!, d.prio!, false);
        pl.a1 = d.groupDead !== undefined ? (this.int(d.groupDead) !== 0 ? 1 : 0) : -1;
        return true;
      case Kind.schedStatRuntime: {
        const runtime = this.int(d.runtime!);
        const v = d.vruntime !== undefined ? this.int(d.vruntime) : NaN;
        pl.a0 = this.task(d.comm!, d.pid!, undefined, false);
        if (d.vruntime === undefined && runtime >= 0 && runtime <= 0x7fffffff) pl.a1 = runtime;
        else pl.a1 = -(1 + this.b.events.pushWide(runtime, v));
        return true;
      }
      default:
        return false;
    }
  }
}

/** libtraceevent is_printable_array: printable characters up to a NUL. */
function printableArray(b: Uint8Array): boolean {
  for (const c of b) {
    if (c === 0) return true;
    if (c < 0x20 || c > 0x7e) return /[\t\n\r]/.test(String.fromCharCode(c));
  }
  return true;
}
