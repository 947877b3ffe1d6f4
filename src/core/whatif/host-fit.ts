// The host scheduler's contention as the host trace shows it, for the what-if's simulated host
// (whatif/engine.ts): how long a vCPU thread keeps a host CPU when nothing cuts its turn short,
// and the simulated host's slice that reproduces it.

import { primingConfig, simulate, type SimConfig, type SimRecorder } from '../sim/engine';
import { intervalCount, type Timelines } from '../timeline/build';
import { TaskState } from '../timeline/states';
import { formatCount, formatDuration } from '../model/time';
import type { Estimate } from './shape';

/** Turns that end preempted needed before the slice is read from them. */
const MIN_TURNS = 50;

/**
 * The host's full slice: a high quantile (95th; 90th-99th for the range) of the vCPU threads'
 * turns on a host CPU that end with them preempted (prev_state R). Most turns are cut short (a
 * wakeup preempts, the vCPU halts); the longest are the slice the scheduler grants, rounded up
 * to its tick (a trace at HZ=250 shows ~4 ms where the configured slice is 1.5 ms). Undefined
 * when too few turns end preempted (nothing competed for the CPUs).
 */
export function readHostSlice(
  hostTimelines: Timelines,
  vcpuTids: readonly number[],
  window: { start: number; end: number },
  nsPerUnit: number,
): Estimate | undefined {
  const t = hostTimelines.tasks;
  // The columns in locals: the loop runs once, mostly before V8 optimises it.
  const { state, start, end } = t;
  const wStart = window.start;
  const wEnd = window.end;
  // Room for a turn per interval; sorted by the typed array's native numeric sort.
  const buf = new Float64Array(intervalCount(t, vcpuTids));
  let n = 0;
  for (const tid of vcpuTids) {
    const k = t.indexOf.get(tid);
    if (k === undefined) continue;
    const last = t.offsets[k + 1]! - 1;
    for (let j = t.offsets[k]!; j < last; j++) {
      if (state[j] !== TaskState.running || state[j + 1] !== TaskState.preempted) continue;
      if (start[j]! < wStart || end[j]! > wEnd) continue;
      buf[n++] = (end[j]! - start[j]!) * nsPerUnit;
    }
  }
  if (n < MIN_TURNS) return undefined;
  const turns = buf.subarray(0, n).sort();
  const at = (q: number): number =>
    turns[Math.min(turns.length - 1, Math.floor(q * turns.length))]!;
  return {
    value: at(0.95),
    low: at(0.9),
    high: at(0.99),
    basis: `the 95th percentile (90th-99th) of ${formatCount(turns.length)} turns of the vCPU threads on a host CPU that ended preempted; the median turn, ${formatDuration(at(0.5))}, was cut short`,
  };
}

/** Sleeps needed before the VMM's sleeps are read from them. */
const MIN_SLEEPS = 50;
/** Each distribution is kept as this many equal shares' means (the simulator draws uniformly from them). */
const VMM_QUANTILES = 40;

/** The vCPU threads' sleeps on the host while their guest ran, as the simulator draws them. */
export interface VmmSleeps {
  /** Host CPU a vCPU thread ran (over its turns) between two such sleeps, ns: quantiles. */
  runNs: number[];
  /** How long each sleep lasted until the thread was woken, ns: quantiles. */
  sleepNs: number[];
  basis: string;
}

/**
 * The vCPU threads' sleeps on the host in the window, when the caller knows their guests were
 * running throughout (a spinning run: the program's threads never sleep in the guest, so a vCPU
 * thread that sleeps is waiting in the VMM, e.g. for QEMU's big lock, not halted): the host CPU
 * each ran between two sleeps (summed over its turns, across preemptions) and each sleep's length
 * until its wakeup, as quantiles. Undefined when too few sleeps were seen.
 */
export function readVmmSleeps(
  hostTimelines: Timelines,
  vcpuTids: readonly number[],
  window: { start: number; end: number },
  nsPerUnit: number,
): VmmSleeps | undefined {
  const t = hostTimelines.tasks;
  const runs: number[] = [];
  const sleeps: number[] = [];
  let ranNs = 0;
  for (const tid of vcpuTids) {
    const k = t.indexOf.get(tid);
    if (k === undefined) continue;
    // CPU since the last sleep: counted from the first sleep in the window on.
    let ran = -1;
    for (let j = t.offsets[k]!; j < t.offsets[k + 1]!; j++) {
      if (t.start[j]! < window.start || t.end[j]! > window.end) continue;
      const st = t.state[j];
      const len = (t.end[j]! - t.start[j]!) * nsPerUnit;
      if (st === TaskState.running) {
        ranNs += len;
        if (ran >= 0) ran += len;
      } else if (st === TaskState.sleeping || st === TaskState.uninterruptible) {
        // Only a sleep that ended within the window (woken) has a length.
        if (j + 1 < t.offsets[k + 1]!) sleeps.push(len);
        if (ran >= 0) runs.push(ran);
        ran = 0;
      }
    }
  }
  if (sleeps.length < MIN_SLEEPS || runs.length < MIN_SLEEPS) return undefined;
  // Each of VMM_QUANTILES equal shares of the sorted values by its mean: the list keeps the
  // distribution's mean (a long tail of sleeps a slice long holds much of the time asleep).
  const qs = (xs: number[]): number[] => {
    xs.sort((x, y) => x - y);
    return Array.from({ length: VMM_QUANTILES }, (_, i) => {
      const a = Math.floor((i * xs.length) / VMM_QUANTILES);
      const z = Math.max(a + 1, Math.floor(((i + 1) * xs.length) / VMM_QUANTILES));
      let sum = 0;
      for (let j = a; j < z; j++) sum += xs[j]!;
      return sum / (z - a);
    });
  };
  const sleptNs = sleeps.reduce((x, y) => x + y, 0);
  const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length;
  const runNs = qs(runs);
  const sleepNs = qs(sleeps);
  return {
    runNs,
    sleepNs,
    basis: `${formatCount(sleeps.length)} sleeps of the vCPU threads on the host while their guests spun (${formatDuration(sleptNs)} asleep beside ${formatDuration(ranNs)} running): one every ${formatDuration(mean(runNs))} of host CPU on average, lasting ${formatDuration(sleepNs[VMM_QUANTILES >> 1]!)} (median; mean ${formatDuration(mean(sleepNs))})`,
  };
}

/** Fitting rounds for the simulated host's slice (each one simulation of the traced run). */
const FIT_ROUNDS = 2;

/**
 * The simulated host's slice at which the run `cfg` (the traced configuration) shows the trace's
 * slice: its vCPU threads' turns that end preempted have the same 95th percentile. The two differ:
 * a simulated task whose slice ends ahead of nobody runs on for another, so the simulated turns
 * are longer than the slice. Proportional steps from the trace's value, kept between a quarter of
 * it and all of it; that value stands when the simulated run shows too few turns.
 */
export function fitHostSlice(
  cfg: SimConfig,
  traceSliceNs: number,
): { sliceNs: number; simulations: number; events: number } {
  let sliceNs = traceSliceNs;
  let simulations = 0;
  let events = 0;
  for (let k = 0; k < FIT_ROUNDS; k++) {
    const run = simulatedSlice({ ...cfg, latencyNs: sliceNs, minSliceNs: sliceNs });
    simulations++;
    events += run.events;
    const got = run.sliceNs;
    if (got === undefined) break;
    // A slice longer than the longest turns the trace shows contradicts it; a blocking run's
    // preempted turns are mostly cut short by wakeups, so the simulated ones may stay short
    // whatever the slice: the trace's own value then stands.
    const next = Math.min(
      traceSliceNs,
      Math.max(traceSliceNs / 4, Math.round((sliceNs * traceSliceNs) / got)),
    );
    // The same slice again would replay the same run (the simulator is seeded) and come back
    // to it: a fixed point, which the lab's runs mostly reach at once (the trace's value).
    if (next === sliceNs) break;
    sliceNs = next;
  }
  return { sliceNs, simulations, events };
}

/**
 * Records the vCPU threads' turns that end preempted. A class, not an object literal of closures
 * made per run: the simulator's optimised steps call the recorder, and a new closure per run
 * there was a call target they had not seen ("wrong call target": their code thrown away).
 */
class TurnRecorder implements SimRecorder {
  /** The turns, in a typed array (a plain one changed its kind at the first fraction). */
  private buf = new Float64Array(16);
  count = 0;
  private readonly since: Float64Array;

  constructor(
    private readonly vcpus: number,
    tasks: number,
  ) {
    this.since = new Float64Array(tasks).fill(-1);
  }

  hostSwitch(t: number, _pcpu: number, prev: number, prevState: 'R' | 'R+' | 'S', next: number) {
    if (prev >= 0 && prev < this.vcpus && prevState !== 'S' && this.since[prev]! >= 0) {
      if (this.count === this.buf.length) {
        const grown = new Float64Array(2 * this.count);
        grown.set(this.buf);
        this.buf = grown;
      }
      this.buf[this.count++] = t - this.since[prev]!;
    }
    if (next >= 0) this.since[next] = t;
  }

  hostWakeup(): void {}
  guestSwitch(): void {}
  guestWakeup(): void {}

  /** The turns, in ascending order. */
  sorted(): Float64Array {
    return this.buf.subarray(0, this.count).sort();
  }
}

/** The 95th percentile of the simulated vCPU threads' turns that end preempted, as readHostSlice. */
function simulatedSlice(cfg: SimConfig): { sliceNs: number | undefined; events: number } {
  const rec = new TurnRecorder(cfg.vcpus, cfg.vcpus + cfg.hogs);
  const r = simulate(cfg, rec);
  const events = r.hostEvents + r.guestEvents;
  if (rec.count < MIN_TURNS) return { sliceNs: undefined, events };
  const turns = rec.sorted();
  return { sliceNs: turns[Math.min(turns.length - 1, Math.floor(0.95 * turns.length))]!, events };
}

let fitPrimed = false;

/**
 * Once per process, before the fit's runs: two tiny recorded runs (blocking and spinning, a
 * co-runner that sleeps while it waits for a CPU) that take the steps' recorder calls the
 * simulator's own priming, which records nothing, cannot reach (a ready task's dequeue). Without
 * them the steps optimised during the fit met those calls with no feedback and were thrown away.
 */
export function primeHostFit(): void {
  if (fitPrimed) return;
  fitPrimed = true;
  for (const policy of ['block', 'spin'] as const)
    simulatedSlice(
      primingConfig(policy, {
        hogOnNs: 3e8 + 0.5,
        hogOffNs: 2e8 + 0.5,
        latencyNs: 1e8 + 0.5,
        minSliceNs: 5e7 + 0.5,
        resumeCostNs: 0,
      }),
    );
}

/** Bisection steps for the CPU per region that the host's schedule fits to the barrier count. */
const SCHEDULE_STEPS = 40;

/**
 * Barriers the vCPU threads' own turns on the host complete when each region needs `cpuNs` of
 * host CPU from every thread (a thread on each vCPU, as in a spinning run: the next region starts
 * when the last thread has had its share; a thread gets CPU only while its vCPU thread runs).
 * `turns` holds the turns' starts (up 1) and ends (up 0) per vCPU, in ns, in time order.
 */
function barriersOnTurns(
  turns: { t: Float64Array; vcpu: Int32Array; up: Uint8Array },
  vcpus: number,
  cpuNs: number,
): number {
  const need = new Float64Array(vcpus).fill(cpuNs);
  const running = new Uint8Array(vcpus);
  let owing = vcpus;
  let done = 0;
  let last = turns.t.length > 0 ? turns.t[0]! : 0;
  for (let e = 0; e < turns.t.length; e++) {
    let dt = turns.t[e]! - last;
    while (dt > 0) {
      let step = dt;
      let any = false;
      for (let v = 0; v < vcpus; v++)
        if (running[v] === 1 && need[v]! > 0) {
          any = true;
          step = Math.min(step, need[v]!);
        }
      if (!any) break;
      for (let v = 0; v < vcpus; v++)
        if (running[v] === 1 && need[v]! > 0) {
          need[v] = need[v]! - step;
          if (need[v]! <= 0) owing--;
        }
      dt -= step;
      if (owing === 0) {
        done++;
        need.fill(cpuNs);
        owing = vcpus;
      }
    }
    last = turns.t[e]!;
    running[turns.vcpu[e]!] = turns.up[e]!;
  }
  return done;
}

/**
 * A spinning run's host CPU per thread and region (its work and its barrier overhead, which the
 * trace cannot split), from the vCPU threads' own turns on the host over `span` (where every
 * program thread is alive, one per vCPU) and the run's barrier count: the CPU at which those turns
 * complete that many barriers (more CPU per region completes fewer). Unlike the host CPU each
 * thread got, it leaves out the spinning of the threads that arrived first. The range: the CPU at
 * which the turns complete 25% more and 25% fewer barriers. Undefined without turns or barriers.
 */
export function regionCpuOnHostTurns(
  hostTimelines: Timelines,
  vcpuTids: readonly number[],
  span: { start: number; end: number },
  barriers: number,
  nsPerUnit: number,
): Estimate | undefined {
  const t = hostTimelines.tasks;
  const ev: [number, number, number][] = [];
  let cpuNs = 0;
  vcpuTids.forEach((tid, v) => {
    const k = t.indexOf.get(tid);
    if (k === undefined) return;
    for (let j = t.offsets[k]!; j < t.offsets[k + 1]!; j++) {
      if (t.state[j] !== TaskState.running) continue;
      const a = Math.max(span.start, t.start[j]!);
      const z = Math.min(span.end, t.end[j]!);
      if (z <= a) continue;
      ev.push([(a - span.start) * nsPerUnit, v, 1], [(z - span.start) * nsPerUnit, v, 0]);
      cpuNs += (z - a) * nsPerUnit;
    }
  });
  if (barriers < 1 || cpuNs <= 0 || vcpuTids.length === 0) return undefined;
  // Ends before starts at the same time: a vCPU thread switched out and in again keeps running.
  ev.sort((x, y) => x[0] - y[0] || x[2] - y[2]);
  const turns = {
    t: Float64Array.from(ev, (e) => e[0]),
    vcpu: Int32Array.from(ev, (e) => e[1]),
    up: Uint8Array.from(ev, (e) => e[2]),
  };
  const fit = (n: number): number => {
    // More CPU per region, fewer barriers: the most CPU at which the turns still complete n.
    let lo = 1;
    let hi = cpuNs / vcpuTids.length;
    if (barriersOnTurns(turns, vcpuTids.length, lo) < n) return lo;
    for (let k = 0; k < SCHEDULE_STEPS && hi - lo > 1; k++) {
      const mid = Math.sqrt(lo * hi);
      if (barriersOnTurns(turns, vcpuTids.length, mid) >= n) lo = mid;
      else hi = mid;
    }
    return lo;
  };
  const value = fit(barriers);
  return {
    value,
    low: fit(Math.ceil(barriers * 1.25)),
    high: fit(Math.max(1, Math.floor(barriers / 1.25))),
    basis: `the CPU per thread and region at which the vCPU threads' own turns on the host complete the ${formatCount(barriers)} barriers (${formatCount(ev.length / 2)} turns over ${formatDuration((span.end - span.start) * nsPerUnit)}; a quarter more or fewer barriers for the range)`,
  };
}
