// A trace in memory: the event store plus the tables its ids point into, the clock, and what the
// importer learned from headers. `TraceBuilder` is the one way importers fill it.

import { DIAG, Diagnostic, DiagnosticSink } from './diagnostics';
import { EventStore } from './event-store';
import { Kind, kindOfEventName, LAT_SPARSE, MAX_STATES } from './event-kinds';
import { StringTable } from './string-table';
import { detach, TextPool } from './text-pool';
import { TaskTable } from './task-table';
import { type ClockInfo, type SplitTs, type TickRate, TicksToNs } from './time';

/**
 * The CPU of an event whose line printed none (`perf script` without its `[cpu]` column): no
 * per-CPU view may place it, and the CPU count ignores it.
 */
export const CPU_UNKNOWN = 0xffff;

const TYPE_SLOTS = 256;
/**
 * The memory-cap check, due every 65,536 events, also runs (without acting) for a trace's first
 * events, which V8 sees before it optimises event() and the parsers it is inlined into: code
 * optimised without feedback for a call is deoptimised the first time the call runs, and the
 * whole parser recompiled. V8 allocates a function's feedback only after its first few calls.
 */
const WARM_EVENTS = 256;
const NAMED_SLOTS = 256;
const LAT_SLOTS = 256;

/**
 * `Trace.format`: a text format's flavour, or the `.dat`. The model sits below ingest, so it names
 * them here; ingest/formats.ts, the one list of importers, is checked against this both ways when
 * it is compiled.
 */
export type TraceFormat = 'perf-script' | 'trace-cmd-report' | 'ftrace-raw' | 'trace-cmd-dat';

export interface EventType {
  /** The name exactly as the trace printed it (`sched_switch`, `sched:sched_switch`, `tracing_mark_write`). */
  name: string;
  kind: Kind;
  /** Events of a decoded kind whose fields did not parse, kept as generic text. */
  undecoded?: boolean;
}

export interface TraceHeader {
  /** `cpus=N` (trace-cmd report) or `#P:N` (tracefs). */
  cpus?: number;
  /** `# tracer: nop`. */
  tracer?: string;
  /** `# entries-in-buffer/entries-written: A/B`. */
  entriesInBuffer?: number;
  entriesWritten?: number;
  /** `version = 6` lines (older trace-cmd report). */
  version?: string;
  /** Whether lines carried the irq-info (latency) column and the TGID column. */
  latencyColumn: boolean;
  tgidColumn: boolean;
  /**
   * Events whose line printed no CPU (stored as CPU_UNKNOWN); absent when every line had one.
   * Per-CPU views of such a trace are incomplete, so reports leave them out.
   */
  eventsWithoutCpu?: number;
}

/** What a trace-cmd .dat file says about itself beyond its events (its options). */
export interface DatSourceInfo {
  /** 6 or 7. */
  fileVersion: number;
  /** `none`, `zlib`, `zstd`. */
  compression: string;
  uname?: string;
  traceCmdVersion?: string;
  /** TRACEID, hex. */
  traceId?: string;
  /** GUEST options (in a host file): each guest's name, trace id (hex) and vCPU -> host task. */
  guests: { name: string; traceId: string; vcpus: { vcpu: number; hostPid: number }[] }[];
  /**
   * TIME_SHIFT (in a guest file, from trace-cmd agent's time sync): per guest CPU, samples of
   * host = (guest * scaling >> fraction) + offset taken at guest times; numbers as decimal
   * strings (64-bit), the peer's (host's) trace id in hex.
   */
  timeShift?: {
    peerTraceId: string;
    flags: number;
    cpus: { times: string[]; offsets: string[]; scalings: string[]; fractions: number[] }[];
  };
  /**
   * TSC2NSEC: ns = (tsc * mult) >> shift (trace-cmd adds no offset: record writes 0, report
   * ignores it). `applied`: the trace's timestamps were converted to ns when it was loaded (the
   * default; ImportOptions.recordedTicks keeps the ticks, for dump).
   */
  tsc2nsec?: { mult: number; shift: number; offset: string; applied: boolean };
}

export interface Trace {
  /** The file name, or the file/instance name trace-cmd printed in front of each line. */
  name: string;
  format: TraceFormat;
  clock: ClockInfo;
  /** Absolute timestamp = tsBase + ts(i), in the clock's unit. */
  tsBase: bigint;
  /** CPU count: from the header when it has one, else the highest CPU seen + 1. */
  cpuCount: number;
  cpuCountSource: 'header' | 'events';
  events: EventStore;
  eventTypes: EventType[];
  tasks: TaskTable;
  /** Comms, symbols and other interned names. */
  strings: StringTable;
  /** Task states as printed by sched_switch (`R+`, `S`, `D`...), ids < 1024. */
  states: StringTable;
  /** Latency column strings (`d..2.`); id 0 = none. */
  latencies: StringTable;
  /** Free text: generic event fields, markers, kvm fields (ids in the payload words). */
  texts: TextPool;
  /** kvm_exit reasons (`HLT`, `EXTERNAL_INTERRUPT`...), ids in kvm_exit payloads. */
  exitReasons: StringTable;
  header: TraceHeader;
  /** Events the ring buffer reported lost (sum of `[N EVENTS DROPPED]`); -1 when a loss had no count. */
  lostEvents: number;
  diagnostics: Diagnostic[];
  /** Diagnostics reported in all, including those the cap suppressed (then the last item says so). */
  diagnosticsTotal: number;
  /** Non-empty lines read, and lines that became events. */
  linesRead: number;
  /** Each event's 1-based line in its file, when the importer was asked for them. */
  eventLines?: Int32Array;
  /** The first event's line (text): where a part read after another starts (trace-parts.ts). */
  firstEventLine?: number;
  /** For a trace read from a trace-cmd .dat file: its options. */
  dat?: DatSourceInfo;
  /**
   * Set by a count-only read (ImportOptions.countOnly, `info`): the events were counted, not
   * kept, and `events` is empty.
   */
  eventTally?: EventTally;
}

/** What a count-only read keeps of its events: how many of each type, and their time range. */
export interface EventTally {
  /** Events by type id (an index into Trace.eventTypes; types past its end have none). */
  perType: Float64Array;
  count: number;
  /** The earliest and latest timestamp, relative to tsBase (Infinity and -Infinity: no event). */
  minTs: number;
  maxTs: number;
}

/** Builds one Trace; importers call `event()` per parsed line with already-decoded payload words. */
/** A place in the input: a 1-based line (text) or a byte offset (binary). */
export interface Where {
  line?: number;
  offset?: number;
}

export class TraceBuilder {
  readonly events = new EventStore();
  readonly strings = new StringTable();
  readonly tasks = new TaskTable(this.strings);
  readonly states = new StringTable();
  readonly latencies = new StringTable();
  readonly texts = new TextPool();
  readonly exitReasons = new StringTable();
  readonly eventTypes: EventType[] = [];
  private readonly typeIds = new Map<string, number>();
  private readonly typeCache = new Map<number, number[]>();
  /** typeIdAt's slots: 1 + the type id last found for names hashing there; 0 = empty. */
  private readonly typeSlots = new Int32Array(TYPE_SLOTS);
  /** The names of the types in typeSlots, as code units (compared with the line in place). */
  private readonly typeCodes: (Uint16Array | undefined)[] = [];
  /** namedTypeAt's slots: 1 + a type id, keyed by three characters from where its name starts. */
  private readonly namedSlots = new Int32Array(NAMED_SLOTS);
  /** latencyIdAt's slots, the same way (ids, 0 = empty: id 0 is the empty column). */
  private readonly latSlots = new Int32Array(LAT_SLOTS);
  private baseHi = NaN;
  private baseLo = 0;
  private firstLine: number | undefined;
  private backwardsReported = false;
  private maxCpu = -1;
  private statesFull = false;
  /** Where the builder first saw a CPU past the header's count, too many tasks, too many states. */
  private cpuPastHeaderAt: Where | undefined;
  private tasksFullAt: Where | undefined;
  private statesFullAt: Where | undefined;
  /**
   * Where the importer is (its line, or the byte offset of its event): set by importers so the
   * problems the builder finds itself are reported where they happened.
   */
  where: () => Where = () => ({});
  lostEvents = 0;
  linesRead = 0;
  readonly header: TraceHeader = { latencyColumn: false, tgidColumn: false };

  constructor(
    readonly name: string,
    readonly format: TraceFormat,
    readonly diags: DiagnosticSink,
  ) {
    this.latencies.intern(''); // id 0 = no latency column
  }

  /**
   * Event type id for the name in s[start, end), found without slicing when seen before: a small
   * table keyed by length and three characters, compared in place.
   */
  typeIdAt(s: string, start: number, end: number): number {
    const len = end - start;
    // sched_switch, sched_waking and sched_wakeup share length and first letter: mix in two more.
    const key =
      (((len * 131 + s.charCodeAt(start)) * 131 + s.charCodeAt(start + (len >> 1))) * 131 +
        s.charCodeAt(end - 1)) |
      0;
    // Nearly every line names one of a few types: a direct-mapped slot first, no Map lookup.
    const slot = key & (TYPE_SLOTS - 1);
    const hit = this.typeSlots[slot]! - 1;
    if (hit >= 0) {
      const codes = this.typeCodes[hit]!;
      if (codes.length === len) {
        let k = 0;
        while (k < len && codes[k] === s.charCodeAt(start + k)) k++;
        if (k === len) return hit;
      }
    }
    const id = this.typeIdAtSlow(s, start, end, key);
    this.typeSlots[slot] = id + 1;
    if (this.typeCodes[id] === undefined) {
      const name = this.eventTypes[id]!.name;
      const codes = new Uint16Array(name.length);
      for (let k = 0; k < name.length; k++) codes[k] = name.charCodeAt(k);
      this.typeCodes[id] = codes;
    }
    // A name tracefs may print its own way (`sys_writev(...)`) is never taken unread.
    if (!sameText('sys_', s, start)) this.namedSlots[namedKey(s, start)] = id + 1;
    return id;
  }

  /**
   * The type a line names at `start`, when it is one typeIdAt found there before: its name is
   * s[start, start + length), then a `:` before `end`. -1 otherwise (the caller then finds the
   * name's end and asks typeIdAt). The name is read once, compared as it is read, where finding
   * its end and then looking it up read it twice. The names typeIdAt learns hold no `:` or
   * space (they end at the first), so the `:` after the name is the first one from `start`.
   * `u`: the line's code units (ingest/lines.ts LineHandler).
   */
  namedTypeAt(u: Uint16Array, start: number, end: number): number {
    const id = this.namedSlots[namedKeyOf(u, start)]! - 1;
    if (id < 0) return -1;
    const codes = this.typeCodes[id]!;
    const len = codes.length;
    if (start + len >= end || u[start + len] !== 58 /* : */) return -1;
    for (let k = 0; k < len; k++) if (codes[k] !== u[start + k]) return -1;
    return id;
  }

  private typeIdAtSlow(s: string, start: number, end: number, key: number): number {
    const len = end - start;
    const cands = this.typeCache.get(key);
    if (cands !== undefined) {
      for (const id of cands) {
        const name = this.eventTypes[id]!.name;
        if (name.length === len && sameText(name, s, start)) return id;
      }
    }
    const id = this.typeId(s.slice(start, end));
    if (cands !== undefined) cands.push(id);
    else this.typeCache.set(key, [id]);
    return id;
  }

  /** Event type id for a printed name. */
  typeId(name: string): number {
    let id = this.typeIds.get(name);
    if (id === undefined) {
      id = this.eventTypes.length;
      const own = detach(name);
      this.eventTypes.push({ name: own, kind: kindOfEventName(own) });
      this.typeIds.set(own, id);
    }
    return id;
  }

  /**
   * A second type for events of `name` whose fields did not decode: same name, kind generic, so
   * counts by name stay whole and consumers of the decoded kind never see a text payload.
   */
  undecodedTypeId(name: string): number {
    const key = '\u0000undecoded\u0000' + name;
    let id = this.typeIds.get(key);
    if (id === undefined) {
      id = this.eventTypes.length;
      this.eventTypes.push({ name: detach(name), kind: Kind.generic, undecoded: true });
      this.typeIds.set(key, id);
    }
    return id;
  }

  kindOf(typeId: number): Kind {
    return this.eventTypes[typeId]!.kind;
  }

  /**
   * Counts to ns as they are read (ImportOptions.tscHz): set before the first timestamp, and
   * relTs then takes counts and returns ns after the base's ns, the trace's tsBase.
   */
  countsToNs: TickRate | undefined;
  private toNs: TicksToNs | undefined;

  /** Relative timestamp for a split absolute one; the first event fixes the base. */
  relTs(t: SplitTs): number {
    if (Number.isNaN(this.baseHi)) {
      this.baseHi = t.hi;
      this.baseLo = t.lo;
      this.firstLine = this.where().line;
      if (this.countsToNs !== undefined)
        this.toNs = new TicksToNs(BigInt(t.hi) * 1_000_000_000n + BigInt(t.lo), this.countsToNs);
    }
    const d = (t.hi - this.baseHi) * 1e9 + (t.lo - this.baseLo);
    return this.toNs === undefined ? d : this.toNs.rel(d);
  }

  /** A state string's id, or -1 when the state table is full (the caller then keeps the event generic). */
  stateId(s: string): number {
    const existing = this.states.lookup(s);
    if (existing >= 0) return existing;
    if (this.states.size >= MAX_STATES) {
      if (!this.statesFull) this.statesFullAt = this.where();
      this.statesFull = true;
      return -1;
    }
    return this.states.intern(s);
  }

  /**
   * stateId for s[start, end), without a substring when the state was seen before; `u`: the code
   * units of `s` (ingest/lines.ts LineHandler).
   */
  stateIdAt(u: Uint16Array, s: string, start: number, end: number): number {
    const len = end - start;
    // A trace prints a handful of states (S, R, R+, D, I...): compare in place against the first few.
    const n = Math.min(this.states.size, 16);
    for (let id = 0; id < n; id++) {
      const v = this.states.get(id);
      if (v.length === len && sameUnits(v, u, start)) return id;
    }
    return this.stateId(s.slice(start, end));
  }

  text(s: string): number {
    return this.texts.push(s);
  }

  latencyId(s: string): number {
    const id = this.latencies.lookup(s);
    if (id >= 0) return id;
    if (this.latencies.size >= LAT_SPARSE) return LAT_SPARSE;
    return this.latencies.intern(s);
  }

  /**
   * latencyId for s[start, end) (not empty), without a substring when it was seen before; `u`:
   * the code units of `s` (ingest/lines.ts LineHandler).
   */
  latencyIdAt(u: Uint16Array, s: string, start: number, end: number): number {
    let h = end - start;
    for (let i = start; i < end; i++) h = (h * 31 + u[i]!) | 0;
    const slot = h & (LAT_SLOTS - 1);
    const hit = this.latSlots[slot]!;
    if (hit > 0) {
      const v = this.latencies.get(hit);
      if (v.length === end - start && sameUnits(v, u, start)) return hit;
    }
    const id = this.latencyId(s.slice(start, end));
    if (id !== LAT_SPARSE) this.latSlots[slot] = id;
    return id;
  }

  /** Set by importers asked for line numbers: each event's line, in event order. */
  lineOf: number[] | undefined;

  /**
   * The most bytes the trace may hold (`ImportOptions.memoryCapBytes`) and the share of it this
   * builder may use (a part of a file read in parts), checked every 65,536 events; `full` is set
   * once passed, and importers then stop taking events.
   */
  memoryCapBytes = Infinity;
  memoryShare = 1;
  full = false;
  private capReported = false;

  /** Bytes the trace holds so far: event columns, line numbers, tables and free text. */
  residentBytes(): number {
    return (
      this.events.residentBytes() +
      this.texts.residentBytes() +
      this.strings.approxBytes() +
      this.states.approxBytes() +
      this.latencies.approxBytes() +
      this.exitReasons.approxBytes() +
      this.tasks.approxBytes() +
      (this.lineOf?.length ?? 0) * 8
    );
  }

  /** Marks the trace full with a `VL1014` error saying where loading stopped and how to load more. */
  stopAtCap(at: { line?: number; offset?: number }): void {
    const mib = (x: number): string => `${Math.round(x / (1 << 20))} MiB`;
    this.full = true;
    if (this.capReported) return;
    this.capReported = true;
    this.diags.add({
      code: DIAG.memoryCap,
      severity: 'error',
      ...(at.line !== undefined ? { line: at.line } : {}),
      ...(at.offset !== undefined ? { offset: at.offset } : {}),
      message:
        `loading stopped ${at.line !== undefined ? 'here' : `at byte ${at.offset ?? '?'}`} at the memory cap (${mib(this.memoryCapBytes)}): ` +
        `the ${this.tally?.count ?? this.events.length} events before it are ${this.tally !== undefined ? 'counted' : 'loaded'}, the rest of the file is not. ` +
        'Raise the cap (vcpu-lens --memory-cap, setting vcpuLens.memoryCapMB) or cut the trace (trace-cmd split, or a time range of the report)',
    });
  }

  event(
    ts: number,
    cpu: number,
    type: number,
    task: number,
    lat: number,
    a0: number,
    a1: number,
  ): number {
    // CPU_UNKNOWN is above every CPU, so the common case pays no extra test. Called for the
    // first events too (see WARM_EVENTS): a trace's CPUs are met in its first few events, before
    // V8 gives event() feedback, and a second trace with more CPUs (a guest after its host)
    // threw away the event() optimised on the first.
    if (cpu > this.maxCpu || this.events.length < WARM_EVENTS) this.newCpu(cpu);
    if (this.tasks.overflowed && this.tasksFullAt === undefined) this.tasksFullAt = this.where();
    const i = this.events.push(ts, cpu, type, task, lat, a0, a1);
    if (!this.events.sorted && !this.backwardsReported) this.reportBackwards(i);
    // Also for the first events: see WARM_EVENTS.
    if ((i & 0xffff) === 0xffff || i < WARM_EVENTS) this.checkCap(i);
    return i;
  }

  /**
   * A CPU above every one seen so far, or CPU_UNKNOWN; or any CPU, a call for the first events'
   * sake. Its reads, tests and the maxCpu store run on every call, new CPU or not: V8 keeps no
   * feedback for a function's first calls, where a trace meets its CPUs, so in the event() code
   * optimised on one trace they had none, and the next trace's first event (a guest after its
   * host) threw that code away.
   */
  private newCpu(cpu: number): void {
    const max = this.maxCpu;
    const fresh = cpu > max;
    const unknown = cpu === CPU_UNKNOWN;
    const h = this.header.cpus;
    const pastHeader = h !== undefined && cpu >= h;
    const noted = this.cpuPastHeaderAt !== undefined;
    this.maxCpu = fresh && !unknown ? cpu : max;
    if (!fresh) return;
    if (unknown) this.header.eventsWithoutCpu = (this.header.eventsWithoutCpu ?? 0) + 1;
    else if (pastHeader && !noted) this.cpuPastHeaderAt = this.where();
  }

  /** A count-only read's tally (countEvent), handed on as Trace.eventTally; undefined otherwise. */
  private tally: EventTally | undefined;

  /**
   * An event counted, not kept (ImportOptions.countOnly): what event() notes of it (CPUs past the
   * header's count, the task table full, time going back) and its type and time in the tally.
   * The memory cap is checked as event() checks it, but the events take none of it: only the
   * tables (tasks, states, texts) can reach it.
   */
  countEvent(ts: number, cpu: number, type: number): void {
    if (cpu > this.maxCpu) this.newCpu(cpu);
    if (this.tasks.overflowed && this.tasksFullAt === undefined) this.tasksFullAt = this.where();
    let t = this.tally;
    if (t === undefined)
      t = this.tally = {
        perType: new Float64Array(16),
        count: 0,
        minTs: Infinity,
        maxTs: -Infinity,
      };
    if (type >= t.perType.length) {
      const grown = new Float64Array(Math.max(type + 1, t.perType.length * 2));
      grown.set(t.perType);
      t.perType = grown;
    }
    t.perType[type]!++;
    t.count++;
    // The first event earlier than the one before it is, as in event(), earlier than the latest.
    if (ts < t.maxTs) {
      if (!this.backwardsReported) {
        this.backwardsReported = true;
        this.diags.add({
          code: DIAG.timeBackwards,
          severity: 'warning',
          message: backwardsMessage(t.maxTs - ts),
          ...this.where(),
        });
      }
    } else t.maxTs = ts;
    if (ts < t.minTs) t.minTs = ts;
    const i = t.count - 1;
    if ((i & 0xffff) === 0xffff || i < WARM_EVENTS) this.checkCap(i);
  }

  /**
   * Events counted elsewhere, all at once, by a reader that knows they hold what countEvent of
   * each in the trace's order would find (ingest/trace-dat count(): no time going back, no CPU
   * past the header's count): `perType` by type id, the earliest and latest relative timestamps,
   * the highest CPU. False, and nothing added, when the tables are past the memory cap, where the
   * ordered read may have stopped: the caller reads in order then.
   */
  countEvents(
    perType: Float64Array,
    count: number,
    minTs: number,
    maxTs: number,
    cpu: number,
  ): boolean {
    if (this.residentBytes() > this.memoryCapBytes * this.memoryShare) return false;
    if (count === 0) return true;
    if (cpu > this.maxCpu) this.maxCpu = cpu;
    const t = (this.tally ??= {
      perType: new Float64Array(perType.length),
      count: 0,
      minTs: Infinity,
      maxTs: -Infinity,
    });
    if (t.perType.length < perType.length) {
      const grown = new Float64Array(perType.length);
      grown.set(t.perType);
      t.perType = grown;
    }
    for (let i = 0; i < perType.length; i++) t.perType[i]! += perType[i]!;
    t.count += count;
    this.linesRead += count;
    if (minTs < t.minTs) t.minTs = minTs;
    if (maxTs > t.maxTs) t.maxTs = maxTs;
    return true;
  }

  /**
   * Every 65,536 events: whether the trace's memory reached its share of the cap. The first
   * events measure it too (and let it be): V8 may inline this, and then needs feedback for all of it.
   */
  private checkCap(i: number): void {
    const over = this.residentBytes() > this.memoryCapBytes * this.memoryShare;
    if (over && (i & 0xffff) === 0xffff) this.full = true;
  }

  /** The first event earlier than one before it: said once; readers take events in time order. */
  private reportBackwards(i: number): void {
    this.backwardsReported = true;
    let latest = -Infinity;
    for (let k = 0; k < i; k++) latest = Math.max(latest, this.events.ts(k));
    this.diags.add({
      code: DIAG.timeBackwards,
      severity: 'warning',
      message: backwardsMessage(latest - this.events.ts(i)),
      ...this.where(),
    });
  }

  finish(clock: ClockInfo): Trace {
    const hdrCpus = this.header.cpus;
    const fromEvents = this.maxCpu + 1;
    if (this.tasks.overflowed) {
      this.diags.add({
        code: 'VL1007',
        severity: 'error',
        message: `more than ${this.tasks.size} distinct (pid, comm, prio) tasks: later ones share one id`,
        ...this.tasksFullAt,
      });
    }
    if (this.statesFull) {
      this.diags.add({
        code: 'VL1007',
        severity: 'warning',
        message: `more than ${MAX_STATES} distinct task states: sched_switch events with new ones kept as generic events`,
        ...this.statesFullAt,
      });
    }
    if (hdrCpus !== undefined && fromEvents > hdrCpus) {
      this.diags.add({
        code: 'VL1012',
        severity: 'warning',
        message: `header says ${hdrCpus} CPUs but events use CPU ${this.maxCpu} (the first past it here)`,
        ...this.cpuPastHeaderAt,
      });
    }
    const useHeader = hdrCpus !== undefined && hdrCpus >= fromEvents;
    this.events.seal();
    return {
      name: this.name,
      format: this.format,
      clock,
      tsBase: Number.isNaN(this.baseHi)
        ? 0n
        : (this.toNs?.baseNs ?? BigInt(this.baseHi) * 1_000_000_000n + BigInt(this.baseLo)),
      cpuCount: useHeader ? hdrCpus : Math.max(fromEvents, 0),
      cpuCountSource: useHeader ? 'header' : 'events',
      events: this.events,
      eventTypes: this.eventTypes,
      tasks: this.tasks,
      strings: this.strings,
      states: this.states,
      latencies: this.latencies,
      texts: this.texts,
      exitReasons: this.exitReasons,
      header: this.header,
      lostEvents: this.lostEvents,
      diagnostics: this.diags.finish(),
      diagnosticsTotal: this.diags.total,
      linesRead: this.linesRead,
      ...(this.lineOf !== undefined ? { eventLines: Int32Array.from(this.lineOf) } : {}),
      ...(this.firstLine !== undefined ? { firstEventLine: this.firstLine } : {}),
      ...(this.tally !== undefined ? { eventTally: this.tally } : {}),
    };
  }
}

/** VL1005's message for an event `back` clock units before the latest one before it. */
export function backwardsMessage(back: number): string {
  return (
    `timestamps go back here (${back} clock units before an earlier line's): the file is not ` +
    'in time order (merged or edited by hand?); events are kept and read in time order'
  );
}

/**
 * namedTypeAt's slot for a name starting at s[start]: three of its characters (past a short
 * name's end they are the same padding or field text each time, or NaN at the text's end).
 */
function namedKey(s: string, start: number): number {
  return (
    (((s.charCodeAt(start + 1) * 31 + s.charCodeAt(start + 6)) * 31 + s.charCodeAt(start + 10)) |
      0) &
    (NAMED_SLOTS - 1)
  );
}

/** namedKey over code units (ingest/lines.ts LineHandler): undefined past the end, as NaN there. */
function namedKeyOf(u: Uint16Array, start: number): number {
  return (((u[start + 1]! * 31 + u[start + 6]!) * 31 + u[start + 10]!) | 0) & (NAMED_SLOTS - 1);
}

/**
 * a === s.slice(start, start + a.length), without allocating (false when s ends first). A loop
 * the JIT inlines: `startsWith` is a builtin call, and this runs several times per event line.
 */
export function sameText(a: string, s: string, start: number): boolean {
  for (let i = 0; i < a.length; i++) if (a.charCodeAt(i) !== s.charCodeAt(start + i)) return false;
  return true;
}

/** sameText over code units `u` (ingest/lines.ts LineHandler): a === the text u[start, ...) holds. */
export function sameUnits(a: string, u: Uint16Array, start: number): boolean {
  for (let i = 0; i < a.length; i++) if (a.charCodeAt(i) !== u[start + i]) return false;
  return true;
}
