// The aligned, merged host + guest timeline as Chrome trace-event JSON (the "JSON Object Format"
// of the Trace Event Format document), which Perfetto UI and chrome://tracing open: one process
// per machine, one track per lane (complete 'X' events, idle left out), the stalls as flows
// (guest thread → vCPU thread → the preemptor's host CPU), the DoP series as a counter.

import { laneId } from './lane-id';
import type { TimelineModel } from './model';
import { VIEW_STATE_NAMES, ViewState } from './states';

export interface ChromeTraceEvent {
  name: string;
  ph: 'X' | 'M' | 's' | 't' | 'f' | 'C' | 'i';
  pid: number;
  tid?: number;
  /** Microseconds. */
  ts?: number;
  dur?: number;
  cat?: string;
  id?: number;
  bp?: 'e';
  s?: 'g' | 'p' | 't';
  args?: Record<string, string | number>;
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ns';
  otherData: Record<string, string>;
}

const HOST_PID = 1;
const GUEST_PID = 2;

/** The model as trace events; times in µs from the model's origin (1 tick = 1 ns for counters). */
export function chromeTrace(m: TimelineModel): ChromeTrace {
  const ev: ChromeTraceEvent[] = [];
  const us = (t: number): number => t / 1000;
  ev.push({ name: 'process_name', ph: 'M', pid: HOST_PID, args: { name: 'host' } });
  ev.push({ name: 'process_name', ph: 'M', pid: GUEST_PID, args: { name: 'guest' } });
  ev.push({ name: 'process_sort_index', ph: 'M', pid: HOST_PID, args: { sort_index: 0 } });
  ev.push({ name: 'process_sort_index', ph: 'M', pid: GUEST_PID, args: { sort_index: 1 } });
  const tidOf = new Map<string, { pid: number; tid: number }>();
  m.meta.lanes.forEach((l, i) => {
    const pid = l.machine === 'host' ? HOST_PID : GUEST_PID;
    const tid = i + 1;
    tidOf.set(l.id, { pid, tid });
    ev.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name: l.label } });
    ev.push({ name: 'thread_sort_index', ph: 'M', pid, tid, args: { sort_index: i } });
    const c = m.lanes[i]!;
    const isCpu = l.group === 'host-cpus' || l.group === 'guest-cpus';
    for (let j = 0; j < c.start.length; j++) {
      const st = c.state[j]!;
      if (st === ViewState.idle) continue;
      const name =
        isCpu && c.who[j]! >= 0 ? m.strings[c.who[j]!]! : (VIEW_STATE_NAMES[st] ?? String(st));
      const args: Record<string, string | number> = { state: VIEW_STATE_NAMES[st] ?? String(st) };
      if (c.aux[j]! >= 0) args[isCpu ? 'pid' : 'cpu'] = c.aux[j]!;
      ev.push({
        name,
        cat: l.group,
        ph: 'X',
        pid,
        tid,
        ts: us(c.start[j]!),
        dur: us(c.end[j]! - c.start[j]!),
        args,
      });
    }
  });
  // Flows: a stall from the guest thread that lost the time, through its vCPU, to the preemptor.
  const L = m.links;
  let id = 1;
  for (let i = 0; i < L.start.length; i++) {
    const g = tidOf.get(laneId.guestThread(L.guestPid[i]!));
    const v = tidOf.get(laneId.vcpu(L.vcpu[i]!));
    const h = L.preempted[i] === 1 ? tidOf.get(laneId.hostCpu(L.pcpu[i]!)) : undefined;
    const steps = [g, v, h].filter((x): x is { pid: number; tid: number } => x !== undefined);
    if (steps.length < 2) continue;
    const ts = us(L.start[i]!);
    const name = L.preempted[i] === 1 ? 'vCPU preempted' : 'vCPU waiting';
    steps.forEach((s, k) =>
      ev.push({
        name,
        cat: 'stall',
        ph: k === 0 ? 's' : k === steps.length - 1 ? 'f' : 't',
        ...(k === steps.length - 1 ? { bp: 'e' as const } : {}),
        id,
        pid: s.pid,
        tid: s.tid,
        ts,
      }),
    );
    id++;
  }
  const d = m.meta.dop;
  if (d !== undefined)
    for (let b = 0; b < d.startNs.length; b++)
      ev.push({
        name: 'DoP',
        ph: 'C',
        pid: GUEST_PID,
        ts: us(d.startNs[b]!),
        args: {
          requested: d.requested[b]!,
          running: d.running[b]!,
          recommended: d.recommended[b]!,
        },
      });
  for (const f of m.meta.findings)
    ev.push({
      name: `${f.kind}: ${f.message}`,
      ph: 'i',
      s: 'g',
      pid: HOST_PID,
      tid: 0,
      ts: us(f.startNs),
      cat: 'finding',
    });
  return {
    traceEvents: ev,
    displayTimeUnit: 'ns',
    otherData: {
      generator: 'vcpu-lens',
      title: m.meta.title,
      unit: m.meta.unit,
      hostOriginAbs: m.meta.hostOriginAbs,
    },
  };
}
