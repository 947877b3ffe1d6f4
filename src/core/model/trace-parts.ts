// A trace read in parts (byte ranges of one file, parsed on several threads) and put back
// together: moving a Trace between threads as plain data plus transferable buffers, and appending
// one part to another with every id remapped. The bit layout of payloads is in event-kinds.ts.

import { DIAG, Diagnostic } from './diagnostics';
import { EventStore, EventStoreSnapshot, EVENTS_PER_BLOCK, FreeBuffers } from './event-store';
import { Kind, LAT_SPARSE, MAX_STATES, TASK_BITS, TASK_MASK } from './event-kinds';
import { StringTable } from './string-table';
import { TaskTable, TaskTableSnapshot } from './task-table';
import { TextPool } from './text-pool';
import type { EventType, Trace } from './trace';

/** A Trace as structured-clone data: what a parse worker posts back. */
export interface TraceData extends Omit<
  Trace,
  'events' | 'tasks' | 'strings' | 'states' | 'latencies' | 'exitReasons' | 'texts'
> {
  events: EventStoreSnapshot;
  tasks: TaskTableSnapshot;
  strings: string[];
  states: string[];
  latencies: string[];
  exitReasons: string[];
  texts: { bytes: Uint8Array; offsets: Int32Array };
}

export function traceToData(t: Trace): { data: TraceData; transfer: ArrayBuffer[] } {
  const events = t.events.snapshot();
  const tasks = t.tasks.snapshot();
  const texts = t.texts.snapshot();
  const data: TraceData = {
    ...t,
    events,
    tasks,
    strings: t.strings.snapshot(),
    states: t.states.snapshot(),
    latencies: t.latencies.snapshot(),
    exitReasons: t.exitReasons.snapshot(),
    texts,
  };
  const transfer = [
    ...t.events.buffers(),
    events.wide.buffer as ArrayBuffer,
    tasks.pids.buffer as ArrayBuffer,
    tasks.comms.buffer as ArrayBuffer,
    tasks.prios.buffer as ArrayBuffer,
    texts.bytes.buffer as ArrayBuffer,
    texts.offsets.buffer as ArrayBuffer,
  ];
  return { data, transfer: [...new Set(transfer)] };
}

export function traceFromData(d: TraceData): Trace {
  const strings = StringTable.restore(d.strings);
  return {
    ...d,
    events: EventStore.restore(d.events),
    tasks: TaskTable.restore(strings, d.tasks),
    strings,
    states: StringTable.restore(d.states),
    latencies: StringTable.restore(d.latencies),
    exitReasons: StringTable.restore(d.exitReasons),
    texts: TextPool.restore(d.texts),
  };
}

/**
 * The slabs of consumed stores, for the store being written to take (EventStore.reuseSlabs):
 * `free` collects what a consumed store lets go of, `take` hands a slab out, `done` passes what
 * was not taken (and everything too small to hold a block) on to `release`.
 */
function slabRecycler(release: FreeBuffers | undefined): {
  free: FreeBuffers;
  take: () => ArrayBuffer | undefined;
  done: () => void;
} {
  const pool: ArrayBuffer[] = [];
  return {
    free: (buffers) => {
      for (const b of buffers) {
        if (EventStore.holdsBlock(b)) pool.push(b);
        else release?.([b]);
      }
    },
    take: () => pool.shift(),
    done: () => {
      release?.(pool.splice(0));
    },
  };
}

/** Part's ids in base's tables (interning what base lacks), for moving part's events into base. */
interface IdMaps {
  type: number[];
  kind: Kind[];
  task: Int32Array;
  state: Int32Array;
  lat: Int32Array;
  reason: Int32Array;
  string: Int32Array;
  textOffset: number;
  /** Added to part's relative timestamps to make them relative to `tsBase`. */
  delta: number;
  statesLost: number;
}

/**
 * The maps from part's ids to base's. `tsBase`: the base the moved timestamps are relative to.
 * With part === base the maps are the identity (nothing is interned or appended twice).
 */
function idMaps(base: Trace, part: Trace, tsBase: bigint): IdMaps {
  const same = part === base;
  const type = same
    ? part.eventTypes.map((_, i) => i)
    : part.eventTypes.map((ty) => typeIdIn(base.eventTypes, ty));
  const task = new Int32Array(part.tasks.size);
  for (let id = 0; id < part.tasks.size; id++) {
    task[id] = same
      ? id
      : base.tasks.intern(part.tasks.pid(id), part.tasks.comm(id), part.tasks.prio(id));
  }
  if (!same) {
    for (const pid of part.tasks.distinctPids()) {
      const tgid = part.tasks.tgid(pid);
      if (tgid !== undefined) base.tasks.setTgid(pid, tgid);
    }
  }
  const mapTable = (from: StringTable, to: StringTable, limit: number): Int32Array => {
    const m = new Int32Array(from.size);
    for (let id = 0; id < from.size; id++) {
      if (same) {
        m[id] = id;
        continue;
      }
      const v = from.get(id);
      const have = to.lookup(v);
      m[id] = have >= 0 ? have : to.size < limit ? to.intern(v) : -1;
    }
    return m;
  };
  const textOffset = same ? 0 : base.texts.length;
  if (!same) base.texts.appendAll(part.texts);
  return {
    type,
    kind: type.map((t) => base.eventTypes[t]!.kind),
    task,
    state: mapTable(part.states, base.states, MAX_STATES),
    lat: mapTable(part.latencies, base.latencies, LAT_SPARSE),
    reason: mapTable(part.exitReasons, base.exitReasons, 0x7ffe),
    string: mapTable(part.strings, base.strings, Infinity),
    textOffset,
    delta: Number(part.tsBase - tsBase),
    statesLost: 0,
  };
}

/** Payload words of one event in base's ids (mapPayload's answer; one object, reused). */
const mapped = { a0: 0, a1: 0 };

/**
 * The payload words (a0, a1) of an event of `kind` from `part` in base's ids (`m`), into
 * `mapped`. 64-bit side values are copied to `into` (in event order: call it in that order).
 */
function mapPayload(
  into: EventStore,
  part: Trace,
  m: IdMaps,
  kind: Kind,
  a0: number,
  a1: number,
): void {
  switch (kind) {
    case Kind.schedSwitch: {
      const st = m.state[a0 >>> TASK_BITS]!;
      if (st < 0) m.statesLost++;
      a0 = m.task[a0 & TASK_MASK]! | (Math.max(st, 0) << TASK_BITS);
      a1 = m.task[a1]!;
      break;
    }
    case Kind.schedProcessFork:
      a0 = m.task[a0]!;
      a1 = m.task[a1]!;
      break;
    case Kind.schedWakeup:
    case Kind.schedWakeupNew:
    case Kind.schedWaking:
    case Kind.schedMigrateTask:
    case Kind.schedProcessExit:
    case Kind.schedProcessFree:
    case Kind.schedProcessWait:
      a0 = m.task[a0]!;
      break;
    case Kind.schedStatRuntime:
      a0 = m.task[a0]!;
      if (a1 < 0) {
        const w = -(a1 + 1);
        a1 = -(1 + into.pushWide(part.events.wideAt(w), part.events.wideAt(w + 1)));
      }
      break;
    case Kind.kvmEntry:
    case Kind.kvmExit: {
      const r = a0 >>> 16;
      const reason =
        r === 0 ? 0 : r === 0x7fff ? 0x7fff : m.reason[r - 1]! < 0 ? 0x7fff : m.reason[r - 1]! + 1;
      a0 = (a0 & 0xffff) | (reason << 16);
      a1 += m.textOffset;
      break;
    }
    case Kind.kvmVcpuWakeup:
      a1 += m.textOffset;
      break;
    case Kind.print:
      a0 += m.textOffset;
      if (a1 >= 0) a1 = m.string[a1]!;
      break;
    default:
      // generic, syscalls
      a0 += m.textOffset;
      break;
  }
  mapped.a0 = a0;
  mapped.a1 = a1;
}

/** Part's latency-table id `latId` in base's table; LAT_SPARSE when it is kept as a string. */
function mapLat(m: IdMaps, latId: number): number {
  if (latId === LAT_SPARSE || latId === 0) return latId;
  return m.lat[latId]! < 0 ? LAT_SPARSE : m.lat[latId]!;
}

/** The latency string of part's event i, for an event whose mapped latency is LAT_SPARSE. */
function sparseLat(part: Trace, latId: number, i: number): string {
  return latId === LAT_SPARSE ? (part.events.sparseLatency(i) ?? '') : part.latencies.get(latId);
}

/**
 * Event i of `part` pushed to `into` with base's ids (`m`, from idMaps); `owner` may replace the
 * mapped task that owns it (it sees the mapped kind and payload words). Returns the new index.
 */
function pushMapped(
  into: EventStore,
  part: Trace,
  m: IdMaps,
  i: number,
  owner?: (task: number, kind: Kind, a0: number, a1: number) => number,
): number {
  const ev = part.events;
  const t = ev.type(i);
  const kind = m.kind[t]!;
  mapPayload(into, part, m, kind, ev.a0(i), ev.a1(i));
  const { a0, a1 } = mapped;
  const latId = ev.lat(i);
  const lat = mapLat(m, latId);
  let task = m.task[ev.task(i)]!;
  if (owner !== undefined) task = owner(task, kind, a0, a1);
  const j = into.push(
    ev.ts(i) + m.delta,
    ev.cpu(i),
    m.type[t]!,
    task,
    lat === LAT_SPARSE ? 0 : lat,
    a0,
    a1,
  );
  if (lat === LAT_SPARSE) into.setSparseLatency(j, sparseLat(part, latId, i));
  return j;
}

/**
 * All of part's events appended to `into` with base's ids, a block at a time (mapped into one
 * scratch block, then copied): what pushMapped does per event, several times faster. Each of
 * part's blocks is dropped (handed to `free`) once copied.
 */
function appendMapped(into: EventStore, part: Trace, m: IdMaps, free?: FreeBuffers): void {
  const n = EVENTS_PER_BLOCK;
  const out = {
    ts: new Float64Array(n),
    cpu: new Uint16Array(n),
    type: new Uint16Array(n),
    taskLat: new Uint32Array(n),
    a0: new Int32Array(n),
    a1: new Int32Array(n),
  };
  const ev = part.events;
  ev.forEachBlock((b, count, first) => {
    const sparse: number[] = [];
    for (let o = 0; o < count; o++) {
      const t = b.type[o]!;
      mapPayload(into, part, m, m.kind[t]!, b.a0[o]!, b.a1[o]!);
      const taskLat = b.taskLat[o]!;
      const lat = mapLat(m, taskLat >>> TASK_BITS);
      if (lat === LAT_SPARSE) sparse.push(o);
      out.ts[o] = b.ts[o]! + m.delta;
      out.cpu[o] = b.cpu[o]!;
      out.type[o] = m.type[t]!;
      out.taskLat[o] =
        (((lat === LAT_SPARSE ? 0 : lat) << TASK_BITS) | m.task[taskLat & TASK_MASK]!) >>> 0;
      out.a0[o] = mapped.a0;
      out.a1[o] = mapped.a1;
    }
    const j = into.pushColumns(out, count);
    for (const o of sparse)
      into.setSparseLatency(j + o, sparseLat(part, b.taskLat[o]! >>> TASK_BITS, first + o));
    ev.dropBlocksBefore(first + count, free);
  });
}

/**
 * Appends `part` (the text that followed `base` in the same file) to `base`: its events get
 * base's ids for tasks, names, states, latencies, exit reasons and texts, and timestamps relative
 * to base's tsBase; its diagnostics move by `lineOffset` lines and share base's cap. Part's events
 * are consumed (their blocks handed to `free` as they are copied).
 */
export function appendTrace(
  base: Trace,
  part: Trace,
  lineOffset: number,
  diagnosticsCap: number,
  free?: FreeBuffers,
): void {
  const m = idMaps(base, part, base.tsBase);
  const slabs = slabRecycler(free);
  base.events.reuseSlabs(slabs.take);
  appendMapped(base.events, part, m, slabs.free);
  part.events.dropAll(slabs.free);
  base.events.reuseSlabs(undefined);
  base.events.seal();
  slabs.done();

  // Each event's line: the part's lines follow base's (an editor places diagnostics by them).
  if (base.eventLines !== undefined) {
    const lines = new Int32Array(base.eventLines.length + (part.eventLines?.length ?? 0));
    lines.set(base.eventLines);
    if (part.eventLines !== undefined)
      for (let i = 0; i < part.eventLines.length; i++)
        lines[base.eventLines.length + i] = part.eventLines[i]! + lineOffset;
    base.eventLines = lines;
  }
  mergeCounts(base, part, lineOffset, diagnosticsCap, m.statesLost);
}

/**
 * Merges traces of the same recording that each hold some of its CPUs (a .dat's CPU streams
 * decoded on several threads) into the first, in timestamp order; ties go to the earlier part
 * (give parts in CPU order: trace-cmd report puts the lower CPU first). `owner` may replace an
 * event's owning task, seeing events in the merged order (in base's ids). Each part's events
 * must be in timestamp order. Parts after the first are consumed, and every part's events (their
 * blocks handed to `free` as they are copied). `until`: no event after this absolute timestamp is
 * kept.
 */
export function mergeByTime(
  parts: Trace[],
  diagnosticsCap: number,
  owner?: (task: number, kind: Kind, a0: number, a1: number) => number,
  until?: bigint,
  free?: FreeBuffers,
): Trace {
  const base = parts[0]!;
  let tsBase = base.tsBase;
  for (const p of parts) if (p.events.length > 0 && p.tsBase < tsBase) tsBase = p.tsBase;
  const maps = parts.map((p) => idMaps(base, p, tsBase));
  const out = new EventStore();
  const slabs = slabRecycler(free);
  out.reuseSlabs(slabs.take);
  const last = until !== undefined ? Number(until - tsBase) : Infinity;
  const at = new Array<number>(parts.length).fill(0);
  const next = new Float64Array(parts.length);
  for (let k = 0; k < parts.length; k++)
    next[k] = parts[k]!.events.length > 0 ? parts[k]!.events.ts(0) + maps[k]!.delta : Infinity;
  for (;;) {
    // The next event is the earliest part's (ties to the lower part).
    let k = -1;
    let best = Infinity;
    for (let q = 0; q < parts.length; q++) {
      if (next[q]! < best) {
        best = next[q]!;
        k = q;
      }
    }
    if (k < 0 || best > last) break;
    // Part k keeps winning while its events stay before every lower part's next (ties go to
    // those) and at or before every higher part's: take that run without choosing again.
    let before = Infinity;
    let upTo = last;
    for (let q = 0; q < parts.length; q++) {
      if (q < k) before = Math.min(before, next[q]!);
      else if (q > k) upTo = Math.min(upTo, next[q]!);
    }
    const p = parts[k]!;
    const m = maps[k]!;
    const ev = p.events;
    let i = at[k]!;
    for (;;) {
      pushMapped(out, p, m, i, owner);
      i++;
      // Each part is consumed: its blocks go as soon as they are copied.
      if ((i & (EVENTS_PER_BLOCK - 1)) === 0) ev.dropBlocksBefore(i, slabs.free);
      const t = i < ev.length ? ev.ts(i) + m.delta : Infinity;
      if (!(t < before && t <= upTo)) {
        next[k] = t;
        break;
      }
    }
    at[k] = i;
  }
  for (const p of parts) p.events.dropAll(slabs.free);
  out.reuseSlabs(undefined);
  out.seal();
  slabs.done();
  base.events = out;
  base.tsBase = tsBase;
  for (let k = 1; k < parts.length; k++)
    mergeCounts(base, parts[k]!, 0, diagnosticsCap, maps[k]!.statesLost);
  if (maps[0]!.statesLost > 0) mergeCounts(base, undefined, 0, diagnosticsCap, maps[0]!.statesLost);
  return base;
}

/** Diagnostics an importer gives at most once per file (see mergeCounts). */
const ONCE_PER_FILE: ReadonlySet<string> = new Set([DIAG.cpuUnknown, DIAG.timeBackwards]);

/** Part's counts, header flags and diagnostics (lines moved by lineOffset) added to base's. */
function mergeCounts(
  base: Trace,
  part: Trace | undefined,
  lineOffset: number,
  diagnosticsCap: number,
  statesLost: number,
): void {
  if (part !== undefined) {
    base.linesRead += part.linesRead;
    if (base.lostEvents >= 0 && part.lostEvents >= 0) base.lostEvents += part.lostEvents;
    else base.lostEvents = -1;
    base.header.latencyColumn ||= part.header.latencyColumn;
    base.header.tgidColumn ||= part.header.tgidColumn;
    if (part.header.eventsWithoutCpu !== undefined)
      base.header.eventsWithoutCpu =
        (base.header.eventsWithoutCpu ?? 0) + part.header.eventsWithoutCpu;
    if (
      part.cpuCountSource === 'events' &&
      part.cpuCount > base.cpuCount &&
      base.cpuCountSource === 'events'
    )
      base.cpuCount = part.cpuCount;
  }
  // What a file reports once, each part reported once: the first part's stands.
  const once = new Set(base.diagnostics.filter((d) => ONCE_PER_FILE.has(d.code)).map((d) => d.code));
  const moved = (part?.diagnostics ?? [])
    .filter((d) => d.code !== DIAG.capped && !once.has(d.code))
    .map((d): Diagnostic => (d.line !== undefined ? { ...d, line: d.line + lineOffset } : d));
  if (statesLost > 0) {
    moved.push({
      code: DIAG.capacity,
      severity: 'warning',
      message: `${statesLost} sched_switch events had a task state past the ${MAX_STATES}-state table; stored as state 0`,
    });
  }
  const kept = base.diagnostics.filter((d) => d.code !== DIAG.capped);
  const repeated = (part?.diagnostics ?? []).filter((d) => once.has(d.code)).length;
  const total =
    base.diagnosticsTotal + (part?.diagnosticsTotal ?? 0) - repeated + (statesLost > 0 ? 1 : 0);
  const all = [...kept, ...moved].slice(0, diagnosticsCap);
  if (total > all.length) {
    all.push({
      code: DIAG.capped,
      severity: 'info',
      message: `${total - all.length} more diagnostics suppressed (cap ${diagnosticsCap})`,
    });
  }
  base.diagnostics = all;
  base.diagnosticsTotal = total;
}

function typeIdIn(types: EventType[], ty: EventType): number {
  const at = types.findIndex(
    (t) => t.name === ty.name && (t.undecoded === true) === (ty.undecoded === true),
  );
  if (at >= 0) return at;
  types.push({ ...ty });
  return types.length - 1;
}
