// What `vcpu-lens info` reports about a trace: format, clock, CPUs, span, event counts, tasks and
// diagnostics. The shape is the CLI's stable JSON schema (docs/cli.md), so change it only additively.

import type { Diagnostic } from '../model/diagnostics';
import { formatAbsTs } from '../model/time';
import type { EventTally, Trace } from '../model/trace';

export const INFO_SCHEMA = 'vcpu-lens.info/1';

export interface TraceInfo {
  name: string;
  format: Trace['format'];
  clock: Trace['clock'];
  cpus: { count: number; source: Trace['cpuCountSource'] };
  /** Absolute first/last timestamps as printed by the trace (strings: exact beyond 2^53). */
  span: {
    first: string | null;
    last: string | null;
    duration: number;
    unit: Trace['clock']['unit'];
    seconds: number | null;
  };
  events: { total: number; byName: Record<string, number> };
  /** Distinct thread ids seen anywhere (event owners and sched payloads), and distinct (pid, comm) names. */
  tasks: { pids: number; names: number };
  lostEvents: number;
  header: Trace['header'];
  linesRead: number;
  diagnostics: { errors: number; warnings: number; infos: number; items: Diagnostic[] };
  /** For a trace-cmd .dat: file version, compression and the options it recorded. */
  dat?: Trace['dat'];
}

/** The events' counts by type and time range: a count-only read's tally, or from the events. */
function tallyOf(t: Trace): EventTally {
  if (t.eventTally !== undefined) return t.eventTally;
  const perType = new Float64Array(t.eventTypes.length);
  let min = Infinity;
  let max = -Infinity;
  t.events.forEachBlock((b, count) => {
    const ty = b.type;
    const ts = b.ts;
    for (let i = 0; i < count; i++) {
      perType[ty[i]!]!++;
      const v = ts[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  });
  return { perType, count: t.events.length, minTs: min, maxTs: max };
}

export function traceInfo(t: Trace): TraceInfo {
  const { perType, count, minTs: min, maxTs: max } = tallyOf(t);
  const byName: Record<string, number> = {};
  const names = t.eventTypes
    .map((e, id) => [e.name, perType[id] ?? 0] as const)
    // Code-point order for ties: localeCompare would load ICU collation (~40 ms) for ASCII names.
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [name, n] of names) if (n > 0) byName[name] = (byName[name] ?? 0) + n;
  const commNames = new Set<string>();
  for (let i = 0; i < t.tasks.size; i++)
    commNames.add(`${t.tasks.pid(i)}\u0000${t.tasks.commId(i)}`);
  const has = count > 0;
  const duration = has ? max - min : 0;
  const counts = { errors: 0, warnings: 0, infos: 0 };
  for (const d of t.diagnostics) {
    if (d.severity === 'error') counts.errors++;
    else if (d.severity === 'warning') counts.warnings++;
    else counts.infos++;
  }
  const fd =
    t.clock.unit === 'ns' ? Math.max(0, 9 - Math.round(Math.log10(t.clock.resolution))) : 0;
  return {
    name: t.name,
    format: t.format,
    clock: t.clock,
    cpus: { count: t.cpuCount, source: t.cpuCountSource },
    span: {
      first: has ? formatAbsTs(t.tsBase + BigInt(min), t.clock.unit, fd) : null,
      last: has ? formatAbsTs(t.tsBase + BigInt(max), t.clock.unit, fd) : null,
      duration,
      unit: t.clock.unit,
      seconds: t.clock.unit === 'ns' ? duration / 1e9 : null,
    },
    events: { total: count, byName },
    tasks: { pids: t.tasks.distinctPids().size, names: commNames.size },
    lostEvents: t.lostEvents,
    header: t.header,
    linesRead: t.linesRead,
    diagnostics: { ...counts, items: t.diagnostics },
    ...(t.dat !== undefined ? { dat: t.dat } : {}),
  };
}
