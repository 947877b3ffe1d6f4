// Writes a trace in `trace-cmd report`'s default text format (trace-cmd 3.1, tracecmd/trace-read.c
// trace_show_data with libtraceevent's sched plugin): what `vcpu-lens dump` prints and what the
// simulator writes. For a trace read from trace-cmd 3.1 text, the output is the input, byte for byte.

import { Kind } from '../model/event-kinds';
import { markerAt, migrateAt, runtimeAt, switchAt, textAt, wakeupAt } from '../model/payload';
import { PRIO_UNKNOWN } from '../model/task-table';
import { formatAbsTs } from '../model/time';
import type { Trace } from '../model/trace';
import { reportClock } from '../ingest/trace-dat/report-time';

/** Streams the trace as text lines to `out` (in pieces of about 64 KiB). */
export function writeTraceCmdText(t: Trace, out: (chunk: string) => void): void {
  const lines: string[] = [];
  let size = 0;
  const push = (l: string): void => {
    lines.push(l);
    size += l.length + 1;
    if (size >= 1 << 16) {
      out(lines.join('\n') + '\n');
      lines.length = 0;
      size = 0;
    }
  };
  push(`cpus=${t.header.cpus ?? t.cpuCount}`);
  const ev = t.events;
  // A .dat prints as trace-cmd report prints it: guest time shifted to the host, TSC as ns, and
  // ns as microseconds (rounded; trace-cmd report's default).
  const rc = t.format === 'trace-cmd-dat' ? reportClock(t) : undefined;
  const unit = rc?.unit ?? t.clock.unit;
  const fd =
    unit !== 'ns'
      ? 0
      : t.format === 'trace-cmd-dat'
        ? 6
        : Math.max(0, Math.min(9, 9 - Math.round(Math.log10(t.clock.resolution))));
  const roundUs = unit === 'ns' && t.format === 'trace-cmd-dat';
  for (let i = 0; i < ev.length; i++) {
    const task = ev.task(i);
    let absTs = t.tsBase + BigInt(ev.ts(i));
    if (rc !== undefined) absTs = rc.at(absTs, ev.cpu(i));
    // trace-cmd rounds ns to the microseconds it prints (libtraceevent print_event_time).
    if (roundUs) absTs = ((absTs + 500n) / 1000n) * 1000n;
    const abs = formatAbsTs(absTs, unit, fd);
    // "%16s-%-5d [%03d]" then the time: "%12d:" for counts, " %12s:" (seconds) otherwise.
    const time = unit === 'count' ? abs.padStart(12) : ' ' + abs.padStart(12);
    // perf's `sched:sched_switch` is trace-cmd's `sched_switch`.
    const full = t.eventTypes[ev.type(i)]!.name;
    const name = full.slice(full.lastIndexOf(':') + 1);
    push(
      `${t.tasks.comm(task).padStart(16)}-${String(t.tasks.pid(task)).padEnd(5)} [${String(ev.cpu(i)).padStart(3, '0')}]${time}: ` +
        `${name}: ${' '.repeat(Math.max(0, 20 - name.length))}${fields(t, i)}`,
    );
  }
  if (lines.length > 0) out(lines.join('\n') + '\n');
}

function prio(t: Trace, id: number): string {
  const p = t.tasks.prio(id);
  return p === PRIO_UNKNOWN ? '' : String(p);
}

/** The event's field text as trace-cmd 3.1 prints it. */
export function fields(t: Trace, i: number): string {
  const ev = t.events;
  const ty = t.eventTypes[ev.type(i)]!;
  // Payload words read through model/payload.ts where a kind packs more than ids.
  const a0 = ev.a0(i);
  const a1 = ev.a1(i);
  const task = (id: number): string => `${t.tasks.comm(id)}:${t.tasks.pid(id)} [${prio(t, id)}]`;
  const kv = (id: number): string => `comm=${t.tasks.comm(id)} pid=${t.tasks.pid(id)}`;
  switch (ty.kind) {
    case Kind.schedSwitch: {
      const sw = switchAt(t, i);
      return `${task(sw.prev)} ${sw.prevState} ==> ${task(sw.next)}`;
    }
    case Kind.schedWakeup:
    case Kind.schedWakeupNew: {
      const w = wakeupAt(t, i);
      return `${task(a0)}${w.success ? ' success=1' : ''}${w.targetCpu >= 0 ? ` CPU:${String(w.targetCpu).padStart(3, '0')}` : ''}`;
    }
    case Kind.schedWaking: {
      const w = wakeupAt(t, i);
      return `${kv(a0)} prio=${prio(t, a0)}${w.success ? ' success=1' : ''}${w.targetCpu >= 0 ? ` target_cpu=${String(w.targetCpu).padStart(3, '0')}` : ''}`;
    }
    case Kind.schedMigrateTask: {
      const m = migrateAt(t, i);
      return `${kv(m.task)} prio=${prio(t, m.task)} orig_cpu=${m.origCpu} dest_cpu=${m.destCpu}`;
    }
    case Kind.schedProcessFork:
      return `${kv(a0)} child_comm=${t.tasks.comm(a1)} child_pid=${t.tasks.pid(a1)}`;
    case Kind.schedProcessExit:
    case Kind.schedProcessFree:
    case Kind.schedProcessWait: {
      const p = prio(t, a0);
      return `${kv(a0)}${p !== '' ? ` prio=${p}` : ''}${a1 >= 0 ? ` group_dead=${a1 === 1 ? 'true' : 'false'}` : ''}`;
    }
    case Kind.schedStatRuntime: {
      const r = runtimeAt(t, i);
      return `${kv(r.task)} runtime=${r.runtimeNs} [ns]${Number.isNaN(r.vruntimeNs) ? '' : ` vruntime=${r.vruntimeNs} [ns]`}`;
    }
    case Kind.print: {
      const m = markerAt(t, i);
      return m.symbol !== undefined && ty.name !== 'tracing_mark_write'
        ? `${m.symbol}: ${m.message}`
        : m.message;
    }
    default:
      return textAt(t, i);
  }
}
