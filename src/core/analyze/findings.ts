// Findings: the semantic-gap problems a host + guest pair shows, each with a time span, evidence
// and a severity. Built on per-vCPU stretches of host time that carry both levels (what the host
// did with the vCPU thread and which guest thread the guest had on that vCPU), swept in time
// order without being stored.

import { relativeMap, type RelativeMap } from '../correlate/clock-map';
import { LAT_SPARSE } from '../model/event-kinds';
import { upperBound } from '../model/search';
import { formatClockDuration } from '../model/time';
import { VcpuState, type VcpuTimeline } from '../correlate/vcpu-states';
import type { CpuTimelines, TaskTimelines } from '../timeline/build';
import { TaskState } from '../timeline/states';
import { findProgram, type Program } from './program';
import type { Finding, PairAnalysis } from './types';

/**
 * One vCPU's stretches of host time, in time order and disjoint, produced one at a time: the
 * host state of its vCPU thread joined with the guest thread its guest CPU ran (pid 0 idle, -1
 * unknown), clipped to a window. Nothing is materialised: on a 10M-event pair the stretches of
 * all vCPUs were ~200 MB of columns.
 */
class SegmentCursor {
  // The times start as NaN, not 0: a field first holding a small integer and then a double
  // changes the object's layout, and V8 throws away the sweep's optimized code when it does.
  /** The current stretch (valid after next() returned true). */
  start = NaN;
  end = NaN;
  state: VcpuState = VcpuState.unknown;
  pid = -1;

  private j = 0;
  private inInterval = false;
  private s = NaN;
  private e = NaN;
  private st: VcpuState = VcpuState.unknown;
  private gi: number;
  private k = 0;
  /** Host times of guest interval `cached`. */
  private cached = -1;
  private kStart = NaN;
  private kEnd = NaN;

  constructor(
    private readonly tl: VcpuTimeline,
    private readonly gc: CpuTimelines,
    private readonly gEnd: number,
    private readonly map: RelativeMap,
    private readonly window: { start: number; end: number },
  ) {
    this.gi = gc.offsets[tl.vcpu]!;
  }

  private load(k: number): void {
    if (this.cached === k) return;
    this.cached = k;
    this.kStart = this.map.toHost(this.gc.start[k]!);
    this.kEnd = this.map.toHost(this.gc.end[k]!);
  }

  /** Moves to the next stretch; false at the end. */
  next(): boolean {
    const { tl, gc, gEnd, window } = this;
    for (;;) {
      if (!this.inInterval) {
        if (this.j >= tl.state.length) return false;
        const s = tl.start[this.j]!;
        const e = tl.end[this.j]!;
        if (e <= window.start || s >= window.end) {
          this.j++;
          continue;
        }
        this.s = s;
        this.e = e;
        this.st = tl.state[this.j] as VcpuState;
        while (this.gi < gEnd) {
          this.load(this.gi);
          if (this.kEnd > s) break;
          this.gi++;
        }
        this.k = this.gi;
        this.inInterval = true;
      }
      const { s, e } = this;
      if (!(s < e)) {
        this.inInterval = false;
        this.j++;
        continue;
      }
      // One piece: up to the next guest interval, or the overlap with the current one.
      let pe: number;
      let pid = -1;
      if (this.k < gEnd) this.load(this.k);
      if (this.k >= gEnd || this.kStart >= e) {
        pe = e;
        this.s = e;
      } else if (this.kStart > s) {
        pe = this.kStart;
        this.s = this.kStart;
      } else {
        pe = Math.min(this.kEnd, e);
        pid = gc.pid[this.k]!;
        this.s = pe;
        if (this.kEnd <= e) this.k++;
      }
      const cs = Math.max(s, window.start);
      const ce = Math.min(pe, window.end);
      if (ce > cs) {
        this.start = cs;
        this.end = ce;
        this.state = this.st;
        this.pid = pid;
        return true;
      }
    }
  }
}

/** What the sweep adds up over the pieces of time (see sweepTotals). */
interface SweepTotals {
  /** Time with more runnable vCPUs than host CPUs, and the most at once. */
  over: number;
  overPeak: number;
  /** Program threads' running time while a sibling sat on a preempted or waiting vCPU. */
  spinWaste: number;
  /** Time some program thread sat on a preempted or waiting vCPU, first and last such moment. */
  stragglerTime: number;
  firstStraggle: number;
  lastStraggle: number;
}

/**
 * Walks all vCPUs' stretches in time order (a k-way merge of their boundaries) and adds up, per
 * piece of time between two boundaries, what findFindings reads. What each vCPU contributes is
 * counted as its stretch is entered and left (runnable, a program thread stalled on it, a program
 * thread running on it), not re-read for every vCPU at every boundary: the pieces and their sums
 * are the same, in the same order.
 */
function sweepTotals(
  cursors: SegmentCursor[],
  prog: ReadonlySet<number>,
  pcpus: number,
): SweepTotals {
  const k = cursors.length;
  /** Whether v's cursor holds a stretch not yet left (entered or still ahead). */
  const has = new Uint8Array(k);
  const inside = new Uint8Array(k);
  /** While inside: 1 runnable, 2 a program thread stalled, 4 a program thread running (bits). */
  const role = new Uint8Array(k);
  for (let v = 0; v < k; v++) has[v] = cursors[v]!.next() ? 1 : 0;
  let runnable = 0;
  let stalled = 0;
  let busyProg = 0;
  // Locals, not fields of the result: they go from 0 to fractions as they add up.
  let over = 0;
  let overPeak = 0;
  let spinWaste = 0;
  let stragglerTime = 0;
  let firstStraggle = Infinity;
  let lastStraggle = -Infinity;
  let t = -Infinity;
  for (;;) {
    // The next boundary: the earliest start of a stretch not yet entered or end of a current one.
    let next = Infinity;
    for (let v = 0; v < k; v++) {
      if (has[v] === 0) continue;
      const c = cursors[v]!;
      next = Math.min(next, inside[v] === 1 ? c.end : c.start);
    }
    if (next === Infinity)
      return { over, overPeak, spinWaste, stragglerTime, firstStraggle, lastStraggle };
    if (next > t && t !== -Infinity) {
      const d = next - t;
      if (runnable > pcpus) {
        over += d;
        overPeak = Math.max(overPeak, runnable);
      }
      if (stalled > 0) {
        stragglerTime += d;
        firstStraggle = Math.min(firstStraggle, t);
        lastStraggle = Math.max(lastStraggle, next);
        // Program threads running on other vCPUs while one of theirs cannot run.
        spinWaste += busyProg * d;
      }
    }
    for (let v = 0; v < k; v++) {
      if (has[v] === 0) continue;
      const c = cursors[v]!;
      if (inside[v] === 1 && c.end === next) {
        inside[v] = 0;
        const x = role[v]!;
        runnable -= x & 1;
        stalled -= (x >> 1) & 1;
        busyProg -= (x >> 2) & 1;
        role[v] = 0;
        has[v] = c.next() ? 1 : 0;
      }
      if (has[v] === 1 && inside[v] === 0 && c.start === next) {
        inside[v] = 1;
        const x = roleOf(c.state, prog.has(c.pid));
        role[v] = x;
        runnable += x & 1;
        stalled += (x >> 1) & 1;
        busyProg += (x >> 2) & 1;
      }
    }
    t = next;
  }
}

/** A vCPU's part in the sweep's counts while in `state` with a program thread or not (bits). */
function roleOf(state: VcpuState, program: boolean): number {
  const stall = state === VcpuState.preempted || state === VcpuState.waiting;
  const run = state === VcpuState.running;
  return (stall || run ? 1 : 0) | (stall && program ? 2 : 0) | (run && program ? 4 : 0);
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
  const program = findProgram(a.guest, a.guestTimelines);
  const prog = new Set(program?.pids ?? []);
  const map = relativeMap(a.clock, a.guest.tsBase, a.host.tsBase);
  const gc = a.guestTimelines.cpus;
  const cursors = a.states.timelines
    .filter((tl) => tl.vcpu + 1 < gc.offsets.length)
    .map((tl) => new SegmentCursor(tl, gc, gc.offsets[tl.vcpu + 1]!, map, w));

  const { over, overPeak, spinWaste, stragglerTime, firstStraggle, lastStraggle } = sweepTotals(
    cursors,
    prog,
    pcpus,
  );
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
  const wake = wakeupDelays(a, prog);
  if (wake !== undefined) findings.push(wake);
  const irq = interruptPreemptions(a);
  if (irq !== undefined) findings.push(irq);
  return { findings, program };
}

/** A duration in a finding's message: `6.245 ms`, or `13,997,267 ticks` (evidence `unit`). */
function fmt(v: number, unit: 'ns' | 'ticks'): string {
  return formatClockDuration(v, unit === 'ns' ? 'ns' : 'count');
}

/**
 * Guest wakeups of program threads whose start was delayed because the woken thread's vCPU was
 * preempted or waiting for a host CPU: the guest's runnable time that falls on such stretches.
 */
function wakeupDelays(a: PairAnalysis, prog: Set<number>): Finding | undefined {
  const gt = a.guestTimelines.tasks;
  const w = a.window!;
  const map = relativeMap(a.clock!, a.guest.tsBase, a.host.tsBase);
  // The vCPUs whose guest CPU the guest trace has (the others have no stretches).
  const vcpus = a.states!.timelines;
  const nV = Math.max(0, ...vcpus.map((t) => t.vcpu + 1));
  const byVcpu: (VcpuTimeline | undefined)[] = new Array<VcpuTimeline | undefined>(nV);
  for (const tl of vcpus)
    if (tl.vcpu + 1 < a.guestTimelines.cpus.offsets.length) byVcpu[tl.vcpu] = tl;
  // delayed, total and episodes, added to thread by thread in pid order.
  const sums = new Float64Array(3);
  // One call per thread, not a loop around the intervals' loop: V8 compiles the intervals' loop on
  // stack during the first thread's, and code compiled then had no feedback for the outer loop's
  // step (thrown away at the second thread, compiled again). Called again, the loop enters the
  // code compiled then.
  const pids = [...prog];
  for (let p = 0; p < pids.length; p++) {
    const k = gt.indexOf.get(pids[p]!);
    if (k !== undefined) threadDelays(gt, gt.offsets[k]!, gt.offsets[k + 1]!, byVcpu, map, w, sums);
  }
  const delayed = sums[0]!;
  const total = sums[1]!;
  const episodes = sums[2]!;
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
 * A program thread's guest runnable intervals [from, to): their host time and what of it fell on
 * its vCPU's preempted or waiting stretches inside the window, added to sums (delayed, total,
 * episodes).
 */
function threadDelays(
  gt: TaskTimelines,
  from: number,
  to: number,
  byVcpu: (VcpuTimeline | undefined)[],
  map: RelativeMap,
  w: { start: number; end: number },
  sums: Float64Array,
): void {
  // The columns in locals (a one-shot loop: its property loads are paid per interval until V8
  // optimizes it), the sums too (written back once).
  const { state: gState, cpu: gCpu, start: gStart, end: gEnd } = gt;
  const nV = byVcpu.length;
  let delayed = sums[0]!;
  let total = sums[1]!;
  let episodes = sums[2]!;
  for (let j = from; j < to; j++) {
    if (gState[j] !== TaskState.runnable) continue;
    const cpu = gCpu[j]!;
    if (cpu < 0 || cpu >= nV) continue;
    const hs = map.toHost(gStart[j]!);
    const he = map.toHost(gEnd[j]!);
    total += he - hs;
    let lost = 0;
    const tl = byVcpu[cpu];
    if (tl !== undefined) {
      // The vCPU's states are in time order and disjoint: start at the first that ends after
      // hs, and count the preempted / waiting time inside [hs, he] and the window.
      // (The partition point of min(end, window end) <= hs, with no closure per interval: the
      // same halving as upperBound's, whose test is the same when the window ends after hs.)
      const from = w.end <= hs ? tl.state.length : upperBound(tl.end, hs);
      for (let q = from; q < tl.state.length; q++) {
        const cs = Math.max(tl.start[q]!, w.start);
        if (cs >= he || cs >= w.end) break;
        const ce = Math.min(tl.end[q]!, w.end);
        if (ce <= cs) continue;
        const st = tl.state[q]!;
        if (st === VcpuState.preempted || st === VcpuState.waiting)
          lost += Math.min(ce, he) - Math.max(cs, hs);
      }
    }
    if (lost > 0) {
      delayed += lost;
      episodes++;
    }
  }
  sums[0] = delayed;
  sums[1] = total;
  sums[2] = episodes;
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
      const k = upperBound(t, gAt) - 1;
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
