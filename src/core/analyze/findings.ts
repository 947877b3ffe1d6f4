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
 * Boundaries each vCPU's source hands the sweep at a time: the sweep's memory, whatever the
 * trace's length. Small, so that fill returns (and the sweep refills) from the start: V8 then
 * optimizes both with feedback for every path, not a fill loop compiled on stack during its first
 * long call, thrown away at its first return.
 */
const CHUNK = 512;

/**
 * A vCPU's part in the sweep's counts while in a state (index state * 2 + whether a program thread
 * is on it), as bits: 1 runnable (running, preempted or waiting), 2 a program thread stalled
 * (preempted or waiting), 4 a program thread running.
 */
const ROLE = new Uint8Array(2 * (VcpuState.unknown + 1));
for (let st = 0; st <= VcpuState.unknown; st++) {
  const stall = st === VcpuState.preempted || st === VcpuState.waiting;
  const run = st === VcpuState.running;
  ROLE[2 * st] = stall || run ? 1 : 0;
  ROLE[2 * st + 1] = (stall || run ? 1 : 0) | (stall ? 2 : 0) | (run ? 4 : 0);
}

/**
 * One vCPU's stretches of host time, in time order and disjoint: the host state of its vCPU
 * thread joined with the guest thread its guest CPU ran, clipped to a window. Handed out as the
 * boundaries between them (time, and the vCPU's role from there on, 0 in a gap), a chunk at a
 * time into the sweep's buffer: on a 10M-event pair all vCPUs' stretches were ~200 MB of columns.
 * Each fill reads its position into locals and writes it back once, so the loop touches no object.
 */
class StretchSource {
  done = false;
  /** The vCPU state reached; the start of its next piece (NaN: not entered yet). */
  private j = 0;
  private s = NaN;
  /** The guest interval the state's pieces are at, and where the next state's scan starts. */
  private k = 0;
  private gi: number;
  /** End of the last stretch handed out, whose boundary (role 0 unless the next starts there) is not. */
  private pendEnd = NaN;
  /** While s is inside state j: its end and state, and guest interval k's host times. */
  private e = NaN;
  private st = 0;
  private kStart = NaN;
  private kEnd = NaN;

  constructor(
    private readonly tl: VcpuTimeline,
    private readonly gc: CpuTimelines,
    private readonly gEnd: number,
    private readonly toHost: (g: number) => number,
    /** Per guest CPU interval: whether a program thread ran it. */
    private readonly progAt: Uint8Array,
    private readonly window: { start: number; end: number },
  ) {
    this.gi = gc.offsets[tl.vcpu]!;
  }

  /** Writes boundaries at [at, at + cap) of t / r (cap >= 2); returns the end. */
  fill(t: Float64Array, r: Uint8Array, at: number, cap: number): number {
    if (this.done) return at;
    const { tl, gEnd, toHost, progAt } = this;
    const tStart = tl.start;
    const tEnd = tl.end;
    const tState = tl.state;
    const nStates = tState.length;
    const gStart = this.gc.start;
    const gEndT = this.gc.end;
    const wStart = this.window.start;
    const wEnd = this.window.end;
    let j = this.j;
    let s = this.s;
    let k = this.k;
    let gi = this.gi;
    let pendEnd = this.pendEnd;
    let e = this.e;
    let st = this.st;
    let kStart = this.kStart;
    let kEnd = this.kEnd;
    let n = at;
    const last = at + cap - 2;
    while (n <= last) {
      if (s !== s) {
        if (j >= nStates) {
          if (pendEnd === pendEnd) {
            t[n] = pendEnd;
            r[n] = 0;
            n++;
            pendEnd = NaN;
          }
          this.done = true;
          break;
        }
        const s0 = tStart[j]!;
        e = tEnd[j]!;
        if (e <= wStart || s0 >= wEnd) {
          j++;
          continue;
        }
        st = tState[j]!;
        while (gi < gEnd) {
          kEnd = toHost(gEndT[gi]!);
          if (kEnd > s0) break;
          gi++;
        }
        k = gi;
        if (k < gEnd) kStart = toHost(gStart[k]!);
        s = s0;
      }
      if (!(s < e)) {
        s = NaN;
        j++;
        continue;
      }
      // One piece: up to the next guest interval, or the overlap with the current one.
      let pe: number;
      let p = 0;
      const ps = s;
      if (k >= gEnd || kStart >= e) {
        pe = e;
        s = e;
      } else if (kStart > s) {
        pe = kStart;
        s = kStart;
      } else {
        pe = Math.min(kEnd, e);
        p = progAt[k]!;
        s = pe;
        if (kEnd <= e) {
          k++;
          if (k < gEnd) {
            kStart = toHost(gStart[k]!);
            kEnd = toHost(gEndT[k]!);
          }
        }
      }
      const cs = Math.max(ps, wStart);
      const ce = Math.min(pe, wEnd);
      if (ce > cs) {
        // A gap before it ends the last stretch with role 0; none, and its start is that boundary.
        if (cs !== pendEnd && pendEnd === pendEnd) {
          t[n] = pendEnd;
          r[n] = 0;
          n++;
        }
        t[n] = cs;
        r[n] = ROLE[2 * st + p]!;
        n++;
        pendEnd = ce;
      }
    }
    this.j = j;
    this.s = s;
    this.k = k;
    this.gi = gi;
    this.pendEnd = pendEnd;
    this.e = e;
    this.st = st;
    this.kStart = kStart;
    this.kEnd = kEnd;
    return n;
  }
}

/** What the sweep adds up over the pieces of time (see sweepTotals). */
export interface SweepTotals {
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
 * Walks all vCPUs' stretch boundaries in time order (a k-way merge of the sources' chunks) and
 * adds up, per piece of time between two boundaries, what findFindings reads; each vCPU's part
 * in the counts changes at its own boundaries.
 */
function sweepTotals(sources: StretchSource[], pcpus: number, chunk = CHUNK): SweepTotals {
  const k = sources.length;
  // Source v's chunk is at [v * chunk, lim[v]), read up to pos[v]; +Infinity once it is done.
  const bt = new Float64Array(k * chunk);
  const br = new Uint8Array(k * chunk);
  const pos = new Int32Array(k);
  const lim = new Int32Array(k);
  const role = new Uint8Array(k);
  for (let v = 0; v < k; v++) refill(sources[v]!, v, chunk, bt, br, pos, lim);
  let runnable = 0;
  let stalled = 0;
  let busyProg = 0;
  let over = 0;
  let overPeak = 0;
  let spinWaste = 0;
  let stragglerTime = 0;
  let firstStraggle = Infinity;
  let lastStraggle = -Infinity;
  let t = -Infinity;
  for (;;) {
    let next = Infinity;
    for (let v = 0; v < k; v++) {
      const x = bt[pos[v]!]!;
      if (x < next) next = x;
    }
    if (next === Infinity) break;
    if (next > t && t !== -Infinity) {
      // Every operation runs on every piece, the ones that do not count adding 0 (exact): a sum
      // that starts only once the guest program does would have no type feedback when V8 first
      // optimizes the loop, and throw that code away.
      // (d * 0 is a double: a small-integer 0 added to a sum that is still 0 would record
      // small-integer feedback, and the first fraction would throw the code away again.)
      const d = next - t;
      const isOver = runnable > pcpus;
      const isStalled = stalled > 0;
      over += d * (isOver ? 1 : 0);
      overPeak = Math.max(overPeak, isOver ? runnable : 0);
      stragglerTime += d * (isStalled ? 1 : 0);
      firstStraggle = Math.min(firstStraggle, isStalled ? t : Infinity);
      lastStraggle = Math.max(lastStraggle, isStalled ? next : -Infinity);
      // Program threads running on other vCPUs while one of theirs cannot run.
      spinWaste += (isStalled ? busyProg : 0) * d;
    }
    for (let v = 0; v < k; v++) {
      const p = pos[v]!;
      if (bt[p] !== next) continue;
      const x = br[p]!;
      const o = role[v]!;
      runnable += (x & 1) - (o & 1);
      stalled += ((x >> 1) & 1) - ((o >> 1) & 1);
      busyProg += ((x >> 2) & 1) - ((o >> 2) & 1);
      role[v] = x;
      if (p + 1 < lim[v]!) pos[v] = p + 1;
      else refill(sources[v]!, v, chunk, bt, br, pos, lim);
    }
    t = next;
  }
  return { over, overPeak, spinWaste, stragglerTime, firstStraggle, lastStraggle };
}

/** Source v's next chunk into its part of the sweep's buffer (+Infinity when it has no more). */
function refill(
  src: StretchSource,
  v: number,
  chunk: number,
  bt: Float64Array,
  br: Uint8Array,
  pos: Int32Array,
  lim: Int32Array,
): void {
  const at = v * chunk;
  let n = src.fill(bt, br, at, chunk);
  if (n === at) {
    bt[at] = Infinity;
    br[at] = 0;
    n = at + 1;
  }
  pos[v] = at;
  lim[v] = n;
}

/**
 * The sweep's totals over a pair with states, a clock map and a window, `prog` the program's
 * pids; `chunk` boundaries per vCPU at a time (exported for the tests, which try small ones).
 */
export function sweepPair(a: PairAnalysis, prog: ReadonlySet<number>, chunk = CHUNK): SweepTotals {
  const map = relativeMap(a.clock!, a.guest.tsBase, a.host.tsBase);
  const gc = a.guestTimelines.cpus;
  const progAt = programIntervals(gc.pid, prog);
  const sources = a
    .states!.timelines.filter((tl) => tl.vcpu + 1 < gc.offsets.length)
    .map(
      (tl) => new StretchSource(tl, gc, gc.offsets[tl.vcpu + 1]!, map.toHost, progAt, a.window!),
    );
  return sweepTotals(sources, a.host.cpuCount, chunk);
}

/**
 * Per guest CPU interval, whether a program thread ran it (1): looked up once per interval, not per
 * stretch. Its own function, so the loop is compiled on stack here and not in findFindings.
 */
function programIntervals(pid: Int32Array, prog: ReadonlySet<number>): Uint8Array {
  const at = new Uint8Array(pid.length);
  for (let k = 0; k < at.length; k++) at[k] = prog.has(pid[k]!) ? 1 : 0;
  return at;
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
  const { over, overPeak, spinWaste, stragglerTime, firstStraggle, lastStraggle } = sweepPair(
    a,
    prog,
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

/** Guest intervals threadDelays reads per call (see wakeupDelays). */
const DELAY_SLICE = 256;

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
  // delayed, total and episodes, added to interval by interval, thread by thread in pid order.
  const sums = new Float64Array(3);
  // A call per slice of a thread's intervals, not a loop around the intervals' loop nor one call
  // per thread: V8 compiled a long loop on stack during its first run, with no feedback yet for
  // what follows it (the sums written back, the outer loop's step), and threw that code away at
  // every return. Short calls return from the start; V8 optimizes the whole function once.
  const pids = [...prog];
  for (let p = 0; p < pids.length; p++) {
    const k = gt.indexOf.get(pids[p]!);
    if (k === undefined) continue;
    const to = gt.offsets[k + 1]!;
    for (let j = gt.offsets[k]!; j < to; j += DELAY_SLICE)
      threadDelays(gt, j, Math.min(to, j + DELAY_SLICE), byVcpu, map, w, sums);
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
