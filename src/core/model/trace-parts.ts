// A trace read in parts (byte ranges of one file, parsed on several threads) and put back
// together: moving a Trace between threads as plain data plus transferable buffers, and appending
// one part to another with every id remapped. The bit layout of payloads is in event-kinds.ts.

import { DIAG, Diagnostic } from './diagnostics';
import { EventStore, EventStoreSnapshot } from './event-store';
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
 * Appends `part` (the text that followed `base` in the same file) to `base`: its events get
 * base's ids for tasks, names, states, latencies, exit reasons and texts, and timestamps relative
 * to base's tsBase; its diagnostics move by `lineOffset` lines and share base's cap.
 */
export function appendTrace(
  base: Trace,
  part: Trace,
  lineOffset: number,
  diagnosticsCap: number,
): void {
  const typeMap = part.eventTypes.map((ty) => typeIdIn(base.eventTypes, ty));
  const taskMap = new Int32Array(part.tasks.size);
  for (let id = 0; id < part.tasks.size; id++) {
    taskMap[id] = base.tasks.intern(part.tasks.pid(id), part.tasks.comm(id), part.tasks.prio(id));
  }
  for (const pid of part.tasks.distinctPids()) {
    const tgid = part.tasks.tgid(pid);
    if (tgid !== undefined) base.tasks.setTgid(pid, tgid);
  }
  const mapTable = (from: StringTable, to: StringTable, limit: number): Int32Array => {
    const m = new Int32Array(from.size);
    for (let id = 0; id < from.size; id++) {
      const v = from.get(id);
      const have = to.lookup(v);
      m[id] = have >= 0 ? have : to.size < limit ? to.intern(v) : -1;
    }
    return m;
  };
  const stateMap = mapTable(part.states, base.states, MAX_STATES);
  const latMap = mapTable(part.latencies, base.latencies, LAT_SPARSE);
  const reasonMap = mapTable(part.exitReasons, base.exitReasons, 0x7ffe);
  const stringMap = mapTable(part.strings, base.strings, Infinity);
  const textOffset = base.texts.length;
  base.texts.appendAll(part.texts);
  const delta = Number(part.tsBase - base.tsBase);

  const ev = part.events;
  const kinds = typeMap.map((t) => base.eventTypes[t]!.kind);
  let statesLost = 0;
  for (let i = 0; i < ev.length; i++) {
    const type = typeMap[ev.type(i)]!;
    let a0 = ev.a0(i);
    let a1 = ev.a1(i);
    switch (kinds[ev.type(i)]!) {
      case Kind.schedSwitch: {
        const st = stateMap[a0 >>> TASK_BITS]!;
        if (st < 0) statesLost++;
        a0 = taskMap[a0 & TASK_MASK]! | (Math.max(st, 0) << TASK_BITS);
        a1 = taskMap[a1]!;
        break;
      }
      case Kind.schedProcessFork:
        a0 = taskMap[a0]!;
        a1 = taskMap[a1]!;
        break;
      case Kind.schedWakeup:
      case Kind.schedWakeupNew:
      case Kind.schedWaking:
      case Kind.schedMigrateTask:
      case Kind.schedProcessExit:
      case Kind.schedProcessFree:
      case Kind.schedProcessWait:
        a0 = taskMap[a0]!;
        break;
      case Kind.schedStatRuntime:
        a0 = taskMap[a0]!;
        if (a1 < 0) {
          const w = -(a1 + 1);
          a1 = -(1 + base.events.pushWide(ev.wideAt(w), ev.wideAt(w + 1)));
        }
        break;
      case Kind.kvmEntry:
      case Kind.kvmExit: {
        const r = a0 >>> 16;
        const mapped =
          r === 0
            ? 0
            : r === 0x7fff
              ? 0x7fff
              : reasonMap[r - 1]! < 0
                ? 0x7fff
                : reasonMap[r - 1]! + 1;
        a0 = (a0 & 0xffff) | (mapped << 16);
        a1 += textOffset;
        break;
      }
      case Kind.kvmVcpuWakeup:
        a1 += textOffset;
        break;
      case Kind.print:
        a0 += textOffset;
        if (a1 >= 0) a1 = stringMap[a1]!;
        break;
      default:
        // generic, syscalls
        a0 += textOffset;
        break;
    }
    const latId = ev.lat(i);
    const lat =
      latId === LAT_SPARSE
        ? LAT_SPARSE
        : latId === 0
          ? 0
          : latMap[latId]! < 0
            ? LAT_SPARSE
            : latMap[latId]!;
    const j = base.events.push(
      ev.ts(i) + delta,
      ev.cpu(i),
      type,
      taskMap[ev.task(i)]!,
      lat === LAT_SPARSE ? 0 : lat,
      a0,
      a1,
    );
    if (lat === LAT_SPARSE)
      base.events.setSparseLatency(
        j,
        latId === LAT_SPARSE ? (ev.sparseLatency(i) ?? '') : part.latencies.get(latId),
      );
  }
  base.events.seal();

  // Each event's line: the part's lines follow base's (an editor places diagnostics by them).
  if (base.eventLines !== undefined) {
    const lines = new Int32Array(base.eventLines.length + (part.eventLines?.length ?? 0));
    lines.set(base.eventLines);
    if (part.eventLines !== undefined)
      for (let i = 0; i < part.eventLines.length; i++)
        lines[base.eventLines.length + i] = part.eventLines[i]! + lineOffset;
    base.eventLines = lines;
  }
  base.linesRead += part.linesRead;
  if (base.lostEvents >= 0 && part.lostEvents >= 0) base.lostEvents += part.lostEvents;
  else base.lostEvents = -1;
  base.header.latencyColumn ||= part.header.latencyColumn;
  base.header.tgidColumn ||= part.header.tgidColumn;
  if (
    part.cpuCountSource === 'events' &&
    part.cpuCount > base.cpuCount &&
    base.cpuCountSource === 'events'
  )
    base.cpuCount = part.cpuCount;

  const moved = part.diagnostics
    .filter((d) => d.code !== DIAG.capped)
    .map((d): Diagnostic => (d.line !== undefined ? { ...d, line: d.line + lineOffset } : d));
  if (statesLost > 0) {
    moved.push({
      code: DIAG.capacity,
      severity: 'warning',
      message: `${statesLost} sched_switch events had a task state past the ${MAX_STATES}-state table; stored as state 0`,
    });
  }
  const kept = base.diagnostics.filter((d) => d.code !== DIAG.capped);
  const total = base.diagnosticsTotal + part.diagnosticsTotal + (statesLost > 0 ? 1 : 0);
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
