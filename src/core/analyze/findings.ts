// Findings: the semantic-gap problems a host + guest pair shows, each with a time span, evidence
// and a severity. Built on per-vCPU segments in host time that carry both levels: what the host
// did with the vCPU thread and which guest thread the guest had on that vCPU.

import type { PairAnalysis } from './pair';
import { firstGreater, relativeMap } from '../correlate/clock-map';
import { LAT_SPARSE } from '../model/event-kinds';
import { VcpuState } from '../correlate/vcpu-states';
import { TASK_STATE_COUNT, TaskState } from '../timeline/states';

export type FindingKind =
  | 'oversubscription'
  | 'spin-on-preempted-vcpu'
  | 'barrier-straggler-preempted'
  | 'wakeup-delayed-by-preemption'
  | 'preempted-in-interrupt';

export interface Finding {
  kind: FindingKind;
  severity: 'high' | 'medium' | 'low';
  /** Host-relative span the finding covers. */
  start: number;
  end: number;
  message: string;
  /** Measured quantities behind the message, in the host's unit or as counts/ratios. */
  evidence: Record<string, number | string>;
}

/**
 * Stretches of host time on one vCPU, as columns: the host state and the guest thread on that
 * guest CPU (guestPid 0 idle, -1 unknown), in time order and disjoint.
 */
export class Segments {
  start: Float64Array;
  end: Float64Array;
  state: Uint8Array;
  guestPid: Int32Array;
  length = 0;

  /** `capacity`: the expected size (it grows past it when needed). */
  constructor(capacity = 256) {
    const c = Math.max(16, capacity);
    this.start = new Float64Array(c);
    this.end = new Float64Array(c);
    this.state = new Uint8Array(c);
    this.guestPid = new Int32Array(c);
  }

  push(start: number, end: number, state: VcpuState, guestPid: number): void {
    if (this.length === this.start.length) {
      const grow = <T extends Float64Array | Uint8Array | Int32Array>(x: T, y: T): T => {
        y.set(x);
        return y;
      };
      const n = this.length * 2;
      this.start = grow(this.start, new Float64Array(n));
      this.end = grow(this.end, new Float64Array(n));
      this.state = grow(this.state, new Uint8Array(n));
      this.guestPid = grow(this.guestPid, new Int32Array(n));
    }
    const i = this.length++;
    this.start[i] = start;
    this.end[i] = end;
    this.state[i] = state;
    this.guestPid[i] = guestPid;
  }
}

export interface Program {
  comm: string;
  pids: number[];
  /** Share of the threads' guest time spent sleeping (S/D): high for blocking waits, low for spinning. */
  sleepShare: number;
}

/** The program under study: the guest command with the most threads' running time (≥ 2 threads). */
export function findProgram(a: PairAnalysis): Program | undefined {
  const t = a.guestTimelines.tasks;
  const byComm = new Map<string, { pids: number[]; run: number; sleep: number; all: number }>();
  for (let k = 0; k < t.pids.length; k++) {
    if (t.pids[k] === 0) continue;
    const c = t.comms[k]!;
    let e = byComm.get(c);
    if (e === undefined) byComm.set(c, (e = { pids: [], run: 0, sleep: 0, all: 0 }));
    e.pids.push(t.pids[k]!);
    const base = k * TASK_STATE_COUNT;
    e.run += t.totals[base + TaskState.running]!;
    e.sleep += t.totals[base + TaskState.sleeping]! + t.totals[base + TaskState.uninterruptible]!;
    for (let s = 0; s < TASK_STATE_COUNT; s++)
      if (s !== TaskState.unknown) e.all += t.totals[base + s]!;
  }
  let best: Program | undefined;
  let bestRun = 0;
  for (const [comm, e] of byComm) {
    if (e.pids.length < 2 || e.run <= bestRun) continue;
    bestRun = e.run;
    best = {
      comm,
      pids: e.pids.sort((x, y) => x - y),
      sleepShare: e.all > 0 ? e.sleep / e.all : 0,
    };
  }
  return best;
}

/**
 * Per vCPU (indexed by vCPU number), host-time segments joining the vCPU's host state with its
 * guest CPU's occupant, clipped to `window` when given.
 */
export function segmentsOf(
  a: PairAnalysis,
  window: { start: number; end: number } = { start: -Infinity, end: Infinity },
): Segments[] {
  const out: Segments[] = Array.from(
    { length: Math.max(0, ...a.states!.timelines.map((t) => t.vcpu + 1)) },
    () => new Segments(),
  );
  const map = relativeMap(a.clock!, a.guest.tsBase, a.host.tsBase);
  const gc = a.guestTimelines.cpus;
  for (const tl of a.states!.timelines) {
    const v = tl.vcpu;
    if (v + 1 >= gc.offsets.length) continue;
    // Pieces: one per overlapping (host, guest) pair, at most host + guest intervals for two
    // ordered lists, plus one per guest gap met; host + 2 x guest holds unless the guest's
    // timeline has many gaps (push grows then).
    const segs = (out[v] = new Segments(
      tl.state.length + 2 * (gc.offsets[v + 1]! - gc.offsets[v]!) + 1,
    ));
    let gi = gc.offsets[v]!;
    const gEnd = gc.offsets[v + 1]!;
    const gStartH = (i: number): number => map.toHost(gc.start[i]!);
    const gEndH = (i: number): number => map.toHost(gc.end[i]!);
    const add = (s: number, e: number, state: VcpuState, pid: number): void => {
      const cs = Math.max(s, window.start);
      const ce = Math.min(e, window.end);
      if (ce > cs) segs.push(cs, ce, state, pid);
    };
    for (let j = 0; j < tl.state.length; j++) {
      let s = tl.start[j]!;
      const e = tl.end[j]!;
      if (e <= window.start || s >= window.end) continue;
      const st = tl.state[j] as VcpuState;
      while (gi < gEnd && gEndH(gi) <= s) gi++;
      let k = gi;
      while (s < e) {
        if (k >= gEnd || gStartH(k) >= e) {
          add(s, e, st, -1);
          break;
        }
        const ks = gStartH(k);
        if (ks > s) {
          add(s, ks, st, -1);
          s = ks;
        }
        const ke = Math.min(gEndH(k), e);
        add(s, ke, st, gc.pid[k]!);
        s = ke;
        if (gEndH(k) <= e) k++;
      }
    }
  }
  return out;
}

/**
 * Walks all vCPUs' segments in time order (a k-way merge of their boundaries: each vCPU's
 * segments are sorted and disjoint), calling `at(t0, t1, current)` for each stretch; `current[v]`
 * is the index of vCPU v's segment then, or -1.
 */
function sweep(segs: Segments[], at: (t0: number, t1: number, cur: Int32Array) => void): void {
  const k = segs.length;
  const idx = new Int32Array(k);
  const cur = new Int32Array(k).fill(-1);
  let t = -Infinity;
  for (;;) {
    // The next boundary: the earliest start of a segment not yet entered or end of a current one.
    let next = Infinity;
    for (let v = 0; v < k; v++) {
      const c = cur[v]!;
      if (c >= 0) next = Math.min(next, segs[v]!.end[c]!);
      else if (idx[v]! < segs[v]!.length) next = Math.min(next, segs[v]!.start[idx[v]!]!);
    }
    if (next === Infinity) return;
    if (next > t && t !== -Infinity) at(t, next, cur);
    for (let v = 0; v < k; v++) {
      const sv = segs[v]!;
      if (cur[v]! >= 0 && sv.end[cur[v]!] === next) {
        cur[v] = -1;
        idx[v]!++;
      }
      if (cur[v]! < 0 && idx[v]! < sv.length && sv.start[idx[v]!] === next) cur[v] = idx[v]!;
    }
    t = next;
  }
}

export function findFindings(a: PairAnalysis): {
  findings: Finding[];
  program: Program | undefined;
} {
  const findings: Finding[] = [];
  if (a.states === undefined || a.clock === undefined || a.window === undefined)
    return { findings, program: undefined };
  const w = a.window;
  const pcpus = a.host.cpuCount;
  const program = findProgram(a);
  const prog = new Set(program?.pids ?? []);
  const segs = segmentsOf(a, w);

  let over = 0;
  let overPeak = 0;
  let spinWaste = 0;
  let stragglerTime = 0;
  let firstStraggle = Infinity;
  let lastStraggle = -Infinity;
  sweep(segs, (t0, t1, cur) => {
    const d = t1 - t0;
    let runnable = 0;
    let straggler = false;
    let busyProg = 0;
    for (let v = 0; v < cur.length; v++) {
      const c = cur[v]!;
      if (c < 0) continue;
      const state = segs[v]!.state[c]!;
      const pid = segs[v]!.guestPid[c]!;
      if (
        state === VcpuState.running ||
        state === VcpuState.preempted ||
        state === VcpuState.waiting
      )
        runnable++;
      if ((state === VcpuState.preempted || state === VcpuState.waiting) && prog.has(pid))
        straggler = true;
      if (state === VcpuState.running && prog.has(pid)) busyProg++;
    }
    if (runnable > pcpus) {
      over += d;
      overPeak = Math.max(overPeak, runnable);
    }
    if (straggler) {
      stragglerTime += d;
      firstStraggle = Math.min(firstStraggle, t0);
      lastStraggle = Math.max(lastStraggle, t1);
      // Program threads running on other vCPUs while one of theirs cannot run.
      spinWaste += busyProg * d;
    }
  });
  const span = w.end - w.start;
  const unit = a.host.clock.unit === 'ns' ? 'ns' : 'ticks';
  if (over > 0) {
    const share = over / span;
    findings.push({
      kind: 'oversubscription',
      severity: share > 0.3 ? 'high' : share > 0.05 ? 'medium' : 'low',
      start: w.start,
      end: w.end,
      message: `runnable vCPU threads outnumbered the ${pcpus} host CPUs ${(100 * share).toFixed(1)}% of the time (up to ${overPeak} at once)`,
      evidence: { overTime: over, share, hostCpus: pcpus, peakRunnableVcpus: overPeak, unit },
    });
  }
  if (program !== undefined && stragglerTime > 0) {
    const share = stragglerTime / span;
    const spinning = program.sleepShare < 0.1;
    if (spinning) {
      findings.push({
        kind: 'spin-on-preempted-vcpu',
        severity: spinWaste / span > 0.2 ? 'high' : spinWaste / span > 0.05 ? 'medium' : 'low',
        start: firstStraggle,
        end: lastStraggle,
        message:
          `${program.comm} threads kept their vCPUs busy for ${fmt(spinWaste, unit)} of host CPU time while one ${program.comm} thread sat on a preempted or waiting vCPU ` +
          `(${(100 * share).toFixed(1)}% of the run); its threads almost never sleep (${(100 * program.sleepShare).toFixed(1)}%), so they spin in the barrier and burn host CPU the straggler needs`,
        evidence: { spinWaste, stragglerTime, share, sleepShare: program.sleepShare, unit },
      });
    } else {
      findings.push({
        kind: 'barrier-straggler-preempted',
        severity: share > 0.2 ? 'high' : share > 0.05 ? 'medium' : 'low',
        start: firstStraggle,
        end: lastStraggle,
        message:
          `one ${program.comm} thread sat on a preempted or waiting vCPU ${(100 * share).toFixed(1)}% of the run while its siblings waited for it ` +
          `(they block: ${(100 * program.sleepShare).toFixed(1)}% of their time asleep)`,
        evidence: { stragglerTime, share, sleepShare: program.sleepShare, unit },
      });
    }
  }
  const wake = wakeupDelays(a, segs, prog);
  if (wake !== undefined) findings.push(wake);
  const irq = interruptPreemptions(a);
  if (irq !== undefined) findings.push(irq);
  return { findings, program };
}

function fmt(v: number, unit: string): string {
  return unit === 'ns' ? `${(v / 1e6).toFixed(1)} ms` : `${(v / 1e6).toFixed(1)} Mticks`;
}

/**
 * Guest wakeups of program threads whose start was delayed because the woken thread's vCPU was
 * preempted or waiting for a host CPU: the guest's runnable time that falls on such stretches.
 */
function wakeupDelays(a: PairAnalysis, segs: Segments[], prog: Set<number>): Finding | undefined {
  const gt = a.guestTimelines.tasks;
  const map = relativeMap(a.clock!, a.guest.tsBase, a.host.tsBase);
  let delayed = 0;
  let total = 0;
  let episodes = 0;
  for (const pid of prog) {
    const k = gt.indexOf.get(pid);
    if (k === undefined) continue;
    for (let j = gt.offsets[k]!; j < gt.offsets[k + 1]!; j++) {
      if (gt.state[j] !== TaskState.runnable) continue;
      const cpu = gt.cpu[j]!;
      if (cpu < 0 || cpu >= segs.length) continue;
      const hs = map.toHost(gt.start[j]!);
      const he = map.toHost(gt.end[j]!);
      total += he - hs;
      let lost = 0;
      const list = segs[cpu]!;
      // Segments are in time order: start at the first one that ends after hs.
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (list.end[mid]! <= hs) lo = mid + 1;
        else hi = mid;
      }
      for (let q = lo; q < list.length; q++) {
        if (list.start[q]! >= he) break;
        const st = list.state[q]!;
        if (st === VcpuState.preempted || st === VcpuState.waiting)
          lost += Math.min(list.end[q]!, he) - Math.max(list.start[q]!, hs);
      }
      if (lost > 0) {
        delayed += lost;
        episodes++;
      }
    }
  }
  if (delayed <= 0 || total <= 0) return undefined;
  const share = delayed / total;
  const unit = a.host.clock.unit === 'ns' ? 'ns' : 'ticks';
  return {
    kind: 'wakeup-delayed-by-preemption',
    severity: share > 0.3 ? 'high' : share > 0.1 ? 'medium' : 'low',
    start: a.window!.start,
    end: a.window!.end,
    message: `${(100 * share).toFixed(1)}% of the time woken program threads waited to run (${fmt(delayed, unit)} in ${episodes} wakeups) was their vCPU preempted or waiting for a host CPU`,
    evidence: { delayed, runnableTotal: total, share, episodes, unit },
  };
}

/**
 * vCPUs preempted while their guest CPU was in interrupt context: the guest's last event on that
 * CPU shortly before the preemption carries the hardirq/softirq flag of the latency column
 * (`d.h2.`, `d.s4.`; tracefs text and trace-cmd >= 3.3 print it). Interrupt handling, often an
 * IPI another vCPU waits on, then stalls for the whole preemption.
 */
function interruptPreemptions(a: PairAnalysis): Finding | undefined {
  const g = a.guest;
  if (!g.header.latencyColumn) return undefined;
  // Per guest CPU: event times and whether each ran in interrupt context (the latency strings
  // are interned: test each distinct one once).
  const IRQ = /^[.dDX][^ ][hHsSzZ]/;
  const irqOfLat = new Map<number, boolean>();
  const count1 = new Map<number, number>();
  for (let i = 0; i < g.events.length; i++) {
    const c = g.events.cpu(i);
    count1.set(c, (count1.get(c) ?? 0) + 1);
  }
  const times = new Map<number, Float64Array>();
  const inIrq = new Map<number, Uint8Array>();
  const fill = new Map<number, number>();
  for (const [c, n] of count1) {
    times.set(c, new Float64Array(n));
    inIrq.set(c, new Uint8Array(n));
    fill.set(c, 0);
  }
  for (let i = 0; i < g.events.length; i++) {
    const lat = g.events.lat(i);
    let irq: boolean;
    if (lat === 0) irq = false;
    else if (lat === LAT_SPARSE) irq = IRQ.test(g.events.sparseLatency(i) ?? '');
    else {
      let known = irqOfLat.get(lat);
      if (known === undefined) irqOfLat.set(lat, (known = IRQ.test(g.latencies.get(lat))));
      irq = known;
    }
    const c = g.events.cpu(i);
    const at = fill.get(c)!;
    fill.set(c, at + 1);
    times.get(c)![at] = g.events.ts(i);
    inIrq.get(c)![at] = irq ? 1 : 0;
  }
  const map = relativeMap(a.clock!, g.tsBase, a.host.tsBase);
  // "Shortly before": 50 µs, plus the clock map's own uncertainty.
  const near = (a.host.clock.unit === 'ns' ? 50_000 : 125_000) + a.clock!.bound;
  let count = 0;
  let total = 0;
  let lost = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const tl of a.states!.timelines) {
    const t = times.get(tl.vcpu);
    const f = inIrq.get(tl.vcpu);
    if (t === undefined || f === undefined) continue;
    for (let j = 0; j < tl.state.length; j++) {
      if (tl.state[j] !== VcpuState.preempted) continue;
      if (a.window !== undefined && (tl.start[j]! < a.window.start || tl.start[j]! > a.window.end))
        continue;
      total++;
      const gAt = map.toGuest(tl.start[j]!);
      const k = firstGreater(t, gAt) - 1;
      if (k < 0 || gAt - t[k]! > near || f[k] !== 1) continue;
      count++;
      lost += tl.end[j]! - tl.start[j]!;
      first = Math.min(first, tl.start[j]!);
      last = Math.max(last, tl.end[j]!);
    }
  }
  if (count === 0) return undefined;
  const unit = a.host.clock.unit === 'ns' ? 'ns' : 'ticks';
  return {
    kind: 'preempted-in-interrupt',
    severity: count / total > 0.1 ? 'high' : count / total > 0.02 ? 'medium' : 'low',
    start: first,
    end: last,
    message: `${count} of ${total} vCPU preemptions (${fmt(lost, unit)}) came right after the guest logged an event in interrupt context on that vCPU: its interrupt handling (often an IPI another vCPU waits on) stalled`,
    evidence: { preemptions: count, of: total, lost, unit },
  };
}
