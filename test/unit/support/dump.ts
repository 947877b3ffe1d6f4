// A canonical text dump of a Trace, decoded through the documented payload layout
// (src/core/model/event-kinds.ts), so tests compare what an importer produced as plain strings.

import { Kind, LAT_SPARSE } from '../../../src/core/model/event-kinds';
import { kvmAt, migrateAt, runtimeAt, switchAt, wakeupAt } from '../../../src/core/model/payload';
import { PRIO_UNKNOWN } from '../../../src/core/model/task-table';
import { CPU_UNKNOWN, type Trace } from '../../../src/core/model/trace';

/** `comm:pid` plus `[prio]` when the line printed one. */
export function taskStr(t: Trace, id: number): string {
  const prio = t.tasks.prio(id);
  return `${t.tasks.comm(id)}:${t.tasks.pid(id)}${prio === PRIO_UNKNOWN ? '' : `[${prio}]`}`;
}

/** The absolute timestamp of event i, exact, in the clock's unit. */
export function absTs(t: Trace, i: number): bigint {
  return t.tsBase + BigInt(t.events.ts(i));
}

/** The decoded payload of event i as `key=value` pairs. */
export function fieldsStr(t: Trace, i: number): string {
  const ev = t.events;
  const type = t.eventTypes[ev.type(i)]!;
  const a0 = ev.a0(i);
  const a1 = ev.a1(i);
  const text = (id: number): string => JSON.stringify(t.texts.get(id));
  switch (type.kind) {
    case Kind.schedSwitch: {
      const sw = switchAt(t, i);
      return `prev=${taskStr(t, sw.prev)} state=${sw.prevState} next=${taskStr(t, sw.next)}`;
    }
    case Kind.schedWakeup:
    case Kind.schedWakeupNew:
    case Kind.schedWaking: {
      const w = wakeupAt(t, i);
      return `task=${taskStr(t, a0)} target=${w.targetCpu}${w.success ? ' success=1' : ''}`;
    }
    case Kind.schedMigrateTask: {
      const m = migrateAt(t, i);
      return `task=${taskStr(t, m.task)} orig=${m.origCpu} dest=${m.destCpu}`;
    }
    case Kind.schedProcessFork:
      return `parent=${taskStr(t, a0)} child=${taskStr(t, a1)}`;
    case Kind.schedProcessExit:
    case Kind.schedProcessFree:
    case Kind.schedProcessWait:
      return `task=${taskStr(t, a0)} group_dead=${a1}`;
    case Kind.schedStatRuntime: {
      const r = runtimeAt(t, i);
      return `task=${taskStr(t, r.task)} runtime=${r.runtimeNs}${Number.isNaN(r.vruntimeNs) ? '' : ` vruntime=${r.vruntimeNs}`}`;
    }
    case Kind.kvmEntry:
    case Kind.kvmExit: {
      const k = kvmAt(t, i);
      return `vcpu=${k.vcpu}${k.reason !== undefined ? ` reason=${k.reason}` : ''} text=${JSON.stringify(k.text)}`;
    }
    case Kind.kvmVcpuWakeup:
      return `text=${text(a1)}`;
    case Kind.print:
      return `msg=${text(a0)} sym=${a1 < 0 ? '-' : t.strings.get(a1)}`;
    case Kind.sysEnter:
    case Kind.sysExit:
    case Kind.generic:
      return `${type.undecoded === true ? 'undecoded ' : ''}text=${text(a0)}`;
  }
}

/** The latency column of event i as printed ('' when the line had none). */
export function latStr(t: Trace, i: number): string {
  const id = t.events.lat(i);
  return id === LAT_SPARSE ? (t.events.sparseLatency(i) ?? '?') : t.latencies.get(id);
}

/** One line per event: `abs [cpu] name owner lat=... | fields`. */
export function dumpEvent(t: Trace, i: number): string {
  const ev = t.events;
  const name = t.eventTypes[ev.type(i)]!.name;
  const cpu = ev.cpu(i) === CPU_UNKNOWN ? '?' : String(ev.cpu(i));
  return `${absTs(t, i)} [${cpu}] ${name} ${taskStr(t, ev.task(i))} lat=${latStr(t, i)} | ${fieldsStr(t, i)}`;
}

export function dumpEvents(t: Trace): string[] {
  const out: string[] = [];
  for (let i = 0; i < t.events.length; i++) out.push(dumpEvent(t, i));
  return out;
}

/** Everything an importer decides about a trace, as text: identity, clock, header, events, diagnostics. */
export function dumpTrace(t: Trace): string {
  const lines = [
    `trace ${t.name} format=${t.format} clock=${t.clock.name}/${t.clock.unit}/${t.clock.source}/${t.clock.resolution}`,
    `cpus=${t.cpuCount} (${t.cpuCountSource}) lost=${t.lostEvents} linesRead=${t.linesRead} base=${t.tsBase}`,
    `header ${JSON.stringify(t.header)}`,
    ...dumpEvents(t),
    ...t.diagnostics.map((d) => `diag ${d.code} ${d.severity} line=${d.line ?? '-'} ${d.message}`),
  ];
  return lines.join('\n');
}
