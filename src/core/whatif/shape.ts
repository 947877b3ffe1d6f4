// The program's shape as the scheduler traces show it, for the what-if (whatif/engine.ts): how
// many barriers, how long a thread runs between two of them, how long a wakeup takes, what share
// of thread time is synchronisation, and who else wanted the host's CPUs. Each estimate says what
// it rests on; where the trace cannot tell (a spinning thread looks like a working one), it is a
// range, never a guess passed off as a measurement.

import type { Trace } from '../model/trace';
import { intervalCount, type Timelines } from '../timeline/build';
import { TASK_STATE_COUNT, TaskState } from '../timeline/states';
import { Kind, TASK_MASK } from '../model/event-kinds';
import { formatCount, formatDuration } from '../model/time';

/** A quantity with the range the trace supports and what it rests on. */
export interface Estimate {
  value: number;
  low: number;
  high: number;
  basis: string;
}

export interface ProgramShape {
  /** Threads the program ran with, the guest's vCPUs, the host's CPUs. */
  threads: number;
  vcpus: number;
  pcpus: number;
  /** The program's wall time: its threads' first to last moment on a CPU, ns. */
  wallNs: number;
  /** The threads blocked at their barriers (many sleeps), or spun (almost none). */
  waits: 'block' | 'spin';
  /** Barriers in the run; undefined when nothing in the traces counts them. */
  barriers: Estimate | undefined;
  /**
   * vCPU time one thread runs from a barrier to the next (its work plus its own barrier
   * overhead), ns: the shortest bursts of the blocking threads, or a range in a spinning run.
   */
  burstNs: Estimate;
  /**
   * A blocking thread's CPU per barrier that is not work: returning from its wait and arriving at
   * the next (the shortest runs between a wakeup and a sleep: a region with no work in it).
   * Undefined when the threads spin.
   */
  overheadNs: Estimate | undefined;
  /** A blocking thread's work per barrier (all regions averaged), ns; undefined when they spin. */
  workNs: Estimate | undefined;
  /** Guest wakeup of a blocked thread until it runs (IPI, the halted vCPU's host wakeup), ns. */
  wakeLatencyNs: Estimate | undefined;
  /** vCPU time the thread completing a barrier spends per sleeper it wakes, ns. */
  wakeCostNs: Estimate | undefined;
  /** Share of the threads' time spent synchronising (asleep or spinning at barriers). */
  syncShare: Estimate;
  /**
   * Host CPU time the program's threads got while running in the guest, ns: their guest running
   * time minus what their vCPUs lost on the host (work, barrier overhead and, when they spin,
   * spinning).
   */
  cpuNs: number;
  /** Host tasks, other than the vCPU threads, that wanted a host CPU most of the run. */
  coRunners: { count: number; load: number; names: string[]; basis: string };
  /** What the shape rests on and what it cannot tell, in words. */
  notes: string[];
}

/** What the shape is read from: a pair's analysis, narrowed (whatif/ does not import analyze/). */
export interface ShapeInput {
  host: Trace;
  guest: Trace;
  hostTimelines: Timelines;
  guestTimelines: Timelines;
  /** Host-relative stretch both traces cover. */
  window: { start: number; end: number };
  /** The vCPU threads' host thread ids. */
  vcpuTids: number[];
  program: { pids: number[]; sleepShare: number };
  /**
   * Time each guest thread lost to its vCPU not running on the host (stalls.ts), in the host's
   * unit, by guest pid: a preempted vCPU's thread still shows as running in the guest's trace.
   */
  lostByPid?: ReadonlyMap<number, number>;
  /**
   * The same losses as intervals in the guest trace's time (relative to its first event), sorted
   * and disjoint per guest pid: a run between a wakeup and a sleep is the host CPU it got only
   * once they are taken out.
   */
  lostIntervals?: ReadonlyMap<number, { start: Float64Array; end: Float64Array }>;
}

export interface ShapeOptions {
  /** Barriers in the run, from the user (the program's own count). */
  barriers?: number;
  /** Counted from markers (whatif/markers.ts), when a pattern was given. */
  markerBarriers?: { count: number; basis: string };
  /** ns per trace unit for a clock counting ticks (1 for ns clocks). */
  nsPerUnit: number;
}

/** Quantile of sorted values (nearest rank). */
function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)))]!;
}

/** The shape of the program in a pair. */
export function readShape(a: ShapeInput, o: ShapeOptions): ProgramShape {
  const program = a.program;
  const u = o.nsPerUnit;
  const notes: string[] = [];
  const threads = program.pids.length;
  const vcpus = a.vcpuTids.length;
  const pcpus = a.host.cpuCount;

  // Guest side: each program thread's running bursts that end in a sleep, the sleeps, the
  // wakeup-to-run waits, and the time from one wakeup a thread issues to its next (the waker's
  // cost per sleeper: it wakes them one by one).
  const tl = a.guestTimelines.tasks;
  const wakings = wakingsBy(a, program);
  const wakeCostNs = wakerGap(wakings, u);
  // Room for a value per interval of the program's threads (each list holds at most that many).
  const room = intervalCount(tl, program.pids);
  const runs: Runs = {
    quiet: new Float64Array(room),
    nQuiet: 0,
    waits: new Float64Array(room),
    nWaits: 0,
    sleeps: 0,
    first: Infinity,
    lastEnd: -Infinity,
  };
  let run = 0;
  let all = 0;
  for (const pid of program.pids) {
    const k = tl.indexOf.get(pid);
    if (k === undefined) continue;
    const base = k * TASK_STATE_COUNT;
    run += tl.totals[base + TaskState.running]!;
    for (let s = 0; s < TASK_STATE_COUNT; s++)
      if (s !== TaskState.unknown) all += tl.totals[base + s]!;
    readRuns(
      tl,
      tl.offsets[k]!,
      tl.offsets[k + 1]!,
      a.lostIntervals?.get(pid),
      wakings.get(pid),
      u,
      runs,
    );
  }
  const { sleeps, first, lastEnd } = runs;
  // Ascending, by the typed arrays' native numeric sort.
  const quiet = runs.quiet.subarray(0, runs.nQuiet).sort();
  const waits = runs.waits.subarray(0, runs.nWaits).sort();
  let lost = 0;
  for (const pid of program.pids) lost += a.lostByPid?.get(pid) ?? 0;
  const cpuNs = Math.max(0, run - lost) * u;
  // The run's wall time: the program's threads' first to last moment on a CPU (the guest's
  // trace covers more: the tracer starting, the shell).
  const wallNs = lastEnd > first ? (lastEnd - first) * u : (a.window.end - a.window.start) * u;
  if (!(lastEnd > first))
    notes.push(
      'the program never ran in the guest trace: its wall time is the window both traces cover',
    );
  const waitsBy: 'block' | 'spin' =
    sleeps >= 10 * threads && program.sleepShare >= 0.1 ? 'block' : 'spin';

  // Barriers: the user's count first, then markers, then (blocking runs) the sleeps: at every
  // barrier all but the last thread to arrive sleep, so sleeps / (threads - 1) barriers; a
  // thread that arrives as the barrier completes does not sleep, hence the range upwards.
  let barriers: Estimate | undefined;
  if (o.barriers !== undefined)
    barriers = {
      value: o.barriers,
      low: o.barriers,
      high: o.barriers,
      basis: 'given with --barriers',
    };
  else if (o.markerBarriers !== undefined && o.markerBarriers.count > 0)
    barriers = {
      value: o.markerBarriers.count,
      low: o.markerBarriers.count,
      high: o.markerBarriers.count,
      basis: o.markerBarriers.basis,
    };
  else if (waitsBy === 'block' && threads > 1) {
    const n = sleeps / (threads - 1);
    barriers = {
      value: Math.round(n),
      low: Math.round(n),
      high: Math.round(n * 1.25),
      basis: `${formatCount(sleeps)} sleeps of the program's threads, ${threads - 1} per barrier (all but the last to arrive)`,
    };
  } else
    notes.push(
      "the threads spin: no barrier shows in a scheduler trace (they never sleep), so how many the run had is unknown; give --barriers N (the program's count) or --barrier-marker RE (a trace marker per barrier), or trace a short run with OMP_WAIT_POLICY=passive",
    );

  // The run between two barriers: the host CPU time the threads got, per thread and barrier (a
  // mean over every region, the empty ones too: a program's regions need not be alike). In a
  // blocking run that is work plus barrier overhead; the guest's own running time per barrier
  // (preemption not taken out) bounds it from above. In a spinning run it also holds the
  // spinning: at most that, at least a microsecond.
  const lostBasis =
    a.lostByPid !== undefined
      ? `, less the ${formatDuration(lost * u)} their vCPUs lost on the host`
      : ' (no host stalls known: preemption not taken out)';
  let burstNs: Estimate;
  let overheadNs: Estimate | undefined;
  let workNs: Estimate | undefined;
  if (waitsBy === 'block' && barriers !== undefined && barriers.value > 0 && quiet.length >= 20) {
    const split = splitBursts(quiet, sleeps, barriers, threads, wakeCostNs);
    overheadNs = split.overhead;
    workNs = split.work;
    burstNs = {
      value: workNs.value + overheadNs.value,
      low: workNs.low + overheadNs.low,
      high: workNs.high + overheadNs.high,
      basis: `${split.basis}; the threads' ${formatDuration(run * u)} of guest running time${lostBasis}`,
    };
  } else {
    // A spinning thread's run between barriers holds its work: at most the host CPU time it got
    // per region (a vCPU preempted on the host still counts as running in the guest).
    const cpus = vcpuCpus(a);
    const team = Math.max(1, Math.min(threads, vcpus));
    const perRegion =
      barriers !== undefined
        ? a.lostByPid !== undefined
          ? cpuNs / Math.max(1, barriers.value * team)
          : (wallNs / Math.max(1, barriers.value)) *
            (cpus !== undefined ? Math.min(1, cpus / team) : 1)
        : 10_000_000;
    const high = Math.max(1_000, Math.min(perRegion, 10_000_000));
    burstNs = {
      value: Math.sqrt(1_000 * high),
      low: 1_000,
      high,
      basis:
        barriers !== undefined
          ? `spinning hides it: between 1 µs and the host CPU each thread got per region (${formatDuration(high)}: ${formatDuration(cpuNs)} over ${formatCount(barriers.value)} barriers x ${team} threads${a.lostByPid !== undefined ? '' : ", from the vCPUs' share of the host"}), the middle taken`
          : 'spinning hides it, and the barriers are not counted: between 1 µs and 10 ms, the middle taken',
    };
  }
  const wakeLatencyNs: Estimate | undefined =
    waits.length >= 10
      ? {
          value: quantile(waits, 0.5),
          low: quantile(waits, 0.25),
          high: quantile(waits, 0.75),
          basis: `median of ${formatCount(waits.length)} guest wakeups of the program's threads until they ran`,
        }
      : undefined;

  // Synchronisation share: asleep is synchronising; of the running time, a blocking thread
  // spends at least the wakeups it does; a spinning thread's running is work or spinning alike.
  const sleepShare = all > 0 ? (all - run) / all : 0;
  const runShare = all > 0 ? run / all : 0;
  const syncShare: Estimate =
    waitsBy === 'block'
      ? {
          value: sleepShare,
          low: sleepShare,
          high: Math.min(1, sleepShare + runShare),
          basis: `${(100 * sleepShare).toFixed(1)}% of the threads' guest time asleep at barriers; their running time is work and barrier overhead, which the trace does not split`,
        }
      : {
          value: NaN,
          low: sleepShare,
          high: 1,
          basis: `the threads were asleep ${(100 * sleepShare).toFixed(1)}% of the time and ran the rest: spinning and work look the same in a scheduler trace`,
        };

  const coRunners = readCoRunners(a, u);
  notes.push(
    `host: ${pcpus} CPUs for ${vcpus} vCPUs${coRunners.count > 0 ? ` and ${coRunners.count} co-runner${coRunners.count > 1 ? 's' : ''} (${coRunners.names.join(', ')})` : ', no co-runner busy most of the run'}`,
  );
  return {
    threads,
    vcpus,
    pcpus,
    wallNs,
    waits: waitsBy,
    barriers,
    burstNs,
    overheadNs,
    workNs,
    wakeLatencyNs,
    wakeCostNs,
    syncShare,
    cpuNs,
    coRunners,
    notes,
  };
}

/**
 * What readRuns collects over the program's threads: each list the first n values of a typed
 * array with room for them all (no array grown by a push per value, then copied to be sorted).
 */
interface Runs {
  /**
   * The host CPU of each run that ends in a sleep and woke no sibling, ns (of all those runs,
   * one per sleep, only the count is read: `sleeps`).
   */
  quiet: Float64Array;
  nQuiet: number;
  /** Each wait from a wakeup until the thread ran, ns. */
  waits: Float64Array;
  nWaits: number;
  sleeps: number;
  /** The program's first and last moment running. */
  first: number;
  lastEnd: number;
}

/**
 * One pass over a program thread's intervals [from, to): its first and last moment running, each
 * run that ends in a sleep (less the time its vCPU was off the host's CPUs, `gone`; set aside in
 * `quiet` unless it issued one of the wakings `woke`), and each wait to run after a wakeup. A
 * function of its own, the columns in locals: the loop runs once, mostly before V8 optimises it,
 * and V8 compiles a loop inside readShape (~3,600 bytes of bytecode) only after several times as
 * many iterations as one in a small function.
 */
function readRuns(
  tl: Timelines['tasks'],
  from: number,
  to: number,
  gone: { start: Float64Array; end: Float64Array } | undefined,
  woke: number[] | undefined,
  u: number,
  out: Runs,
): void {
  const { state, start, end } = tl;
  const { quiet, waits } = out;
  let nQuiet = out.nQuiet;
  let nWaits = out.nWaits;
  let first = out.first;
  let lastEnd = out.lastEnd;
  let sleeps = out.sleeps;
  let g = 0;
  let w = 0;
  for (let j = from; j < to; j++) {
    const st = state[j];
    if (st === TaskState.running) {
      first = Math.min(first, start[j]!);
      lastEnd = Math.max(lastEnd, end[j]!);
    }
    if (j === to - 1) break;
    const next = state[j + 1];
    if (st === TaskState.running && next === TaskState.sleeping) {
      sleeps++;
      // The run less the time its vCPU was off the host's CPUs (both lists in time order).
      const x = start[j]!;
      const y = end[j]!;
      let off = 0;
      if (gone !== undefined) {
        while (g < gone.end.length && gone.end[g]! <= x) g++;
        for (let h = g; h < gone.start.length && gone.start[h]! < y; h++)
          off += Math.max(0, Math.min(y, gone.end[h]!) - Math.max(x, gone.start[h]!));
      }
      // A run that woke siblings also holds their wakeups (simulated on their own): the
      // split below reads the runs that woke nobody.
      while (woke !== undefined && w < woke.length && woke[w]! < x) w++;
      let issued = 0;
      while (woke !== undefined && w < woke.length && woke[w]! < y) {
        issued++;
        w++;
      }
      const cpu = Math.max(0, (y - x - off) * u);
      if (issued === 0) quiet[nQuiet++] = cpu;
    } else if (st === TaskState.runnable && next === TaskState.running)
      waits[nWaits++] = (end[j]! - start[j]!) * u;
  }
  out.nQuiet = nQuiet;
  out.nWaits = nWaits;
  out.first = first;
  out.lastEnd = lastEnd;
  out.sleeps = sleeps;
}

/** Adjacent quantiles this far apart (ratio) split the runs into overhead-only and working. */
const MODE_GAP = 4;

/**
 * A blocking run's runs between a wakeup and a sleep (the host CPU each got; those that woke
 * siblings set aside, `all` counting them too), sorted, as barrier overhead and work per thread
 * and barrier. The shortest runs hold no work
 * (the return from one wait and the arrival at the next): their 5th percentile is the overhead.
 * When the runs fall in two groups far apart (a gap of MODE_GAP x between adjacent deciles), the
 * upper group's excess over the overhead is the work: a program whose regions differ (work, then
 * an empty one) shows it. When they do not, every region holds the same work: the shortest runs
 * less an overhead of the order of the measured wakeup cost.
 */
export function splitBursts(
  sorted: ArrayLike<number>,
  all: number,
  barriers: Estimate,
  threads: number,
  wakeCost: Estimate | undefined,
): { overhead: Estimate; work: Estimate; basis: string } {
  const n = sorted.length;
  // The runs read stand for all of them (those that woke siblings too).
  const scale = all / Math.max(1, n);
  const overhead: Estimate = {
    value: quantile(sorted, 0.05),
    low: quantile(sorted, 0.01),
    high: quantile(sorted, 0.25),
    basis: `the shortest 5% (1%-25%) of ${formatCount(n)} runs of a thread between a wakeup and its next sleep that woke no sibling, each less the time its vCPU was off the host`,
  };
  // Per thread and barrier, from a total over the runs.
  const per = (total: number, nb: number): number => (scale * total) / Math.max(1, nb * threads);
  let gapAt = -1;
  let gap = MODE_GAP;
  for (let q = 0.05; q < 0.9; q += 0.05) {
    const lo = Math.max(1_000, quantile(sorted, q));
    const r = quantile(sorted, q + 0.05) / lo;
    if (r >= gap) {
      gap = r;
      gapAt = q;
    }
  }
  if (gapAt >= 0) {
    const cut = Math.sqrt(
      Math.max(1_000, quantile(sorted, gapAt)) * quantile(sorted, gapAt + 0.05),
    );
    const upper: number[] = [];
    for (let i = 0; i < n; i++) if (sorted[i]! > cut) upper.push(sorted[i]!);
    const excess = (o: number): number => upper.reduce((t, v) => t + Math.max(0, v - o), 0);
    const median = quantile(upper, 0.5);
    // The median working run stands for them all (a run whose vCPU lost time the stalls did not
    // catch only stretches the mean, which bounds it from above); the quartile below it, less
    // the most overhead, from below.
    const value = per(upper.length * Math.max(0, median - overhead.value), barriers.value);
    return {
      overhead,
      work: {
        value,
        low: per(upper.length * Math.max(0, quantile(upper, 0.25) - overhead.high), barriers.high),
        high: Math.max(value, per(excess(overhead.low), barriers.low)),
        basis: `${formatCount(upper.length)} of ${formatCount(n)} runs between a wakeup and a sleep hold work (median ${formatDuration(median)}, ${gap.toFixed(0)}x the overhead-only runs below them): their median less the overhead, over ${formatCount(barriers.value)} barriers x ${threads} threads`,
      },
      basis: `work ${formatDuration(value)} per thread and barrier, barrier overhead ${formatDuration(overhead.value)} (the shortest runs)`,
    };
  }
  // Every region holds the same work, so the shortest runs bound it from above; their overhead
  // (returning from one wait, arriving at the next) is of the order of the kernel's wakeup
  // path, which the waker's cost per sleeper measures: from half of it to twice it.
  // A run that woke nobody is one region (the thread slept at both ends), so no scaling to the
  // runs' count here.
  const shortest = overhead.value;
  // At least a tenth of the shortest run is taken as work (an assumption: below that the trace
  // cannot tell, and the what-if's ranges say so).
  const floor = 0.1 * shortest;
  // A shortest run under half a wakeup says the prior does not fit: then only the trace's own
  // bound holds (the whole shortest run).
  const fits = wakeCost !== undefined && shortest - wakeCost.value / 2 > floor;
  const low = fits ? Math.max(floor, shortest - 2 * wakeCost.value) : floor;
  const high = fits ? shortest - wakeCost.value / 2 : shortest;
  const value = Math.sqrt(low * high);
  return {
    overhead: {
      ...overhead,
      value: shortest - value,
      low: Math.max(0, overhead.low - high),
      high: Math.max(0, overhead.high - low),
    },
    work: {
      value,
      low,
      high,
      basis: fits
        ? `the runs between a wakeup and a sleep are all alike (no group far above the shortest): each holds a region's work and an overhead of the order of a wakeup; the shortest (${formatDuration(shortest)}) less from twice to half the ${formatDuration(wakeCost.value)} a wakeup costs the waker, at least a tenth of it, the geometric middle taken`
        : `the runs between a wakeup and a sleep are all alike (no group far above the shortest): the work is at most the shortest runs (${formatDuration(shortest)}), between a tenth of it and all of it, the geometric middle taken`,
    },
    basis: `work ${formatDuration(value)} of the shortest runs' ${formatDuration(shortest)}, the rest barrier overhead`,
  };
}

/**
 * Each program thread's sched_waking of its siblings, guest time, in time order (sched_waking
 * runs on the waker; sched_wakeup may run on the woken CPU, from an IPI).
 */
function wakingsBy(a: ShapeInput, program: ShapeInput['program']): Map<number, number[]> {
  const g = a.guest;
  const ours = new Set(program.pids);
  const out = new Map<number, number[]>();
  // Per event type whether it is sched_waking, and per task-table id whether it is a program
  // thread: typed loads per guest event, block by block, not a method call per column.
  const waking = Uint8Array.from(g.eventTypes, (t) => (t.kind === Kind.schedWaking ? 1 : 0));
  const programTask = new Uint8Array(g.tasks.size);
  for (let id = 0; id < programTask.length; id++)
    if (ours.has(g.tasks.pid(id))) programTask[id] = 1;
  g.events.forEachBlock((b, count) => {
    const { type, a0, taskLat, ts } = b;
    for (let j = 0; j < count; j++) {
      if (waking[type[j]!] !== 1) continue;
      // sched_waking's payload: the woken task (payload.ts wakeupAt).
      if (programTask[a0[j]!] !== 1) continue;
      const task = taskLat[j]! & TASK_MASK;
      if (programTask[task] !== 1) continue;
      const by = g.tasks.pid(task);
      let l = out.get(by);
      if (l === undefined) out.set(by, (l = []));
      l.push(ts[j]!);
    }
  });
  return out;
}

/**
 * The waker's cost per sleeper: the gap between consecutive wakings (sched_waking) the same
 * program thread issues to other program threads within one release (gaps over 1 ms are other
 * releases).
 */
function wakerGap(wakings: ReadonlyMap<number, number[]>, u: number): Estimate | undefined {
  let room = 0;
  for (const times of wakings.values()) room += times.length;
  const buf = new Float64Array(room);
  let n = 0;
  for (const times of wakings.values())
    for (let k = 1; k < times.length; k++) {
      const gap = (times[k]! - times[k - 1]!) * u;
      if (gap < 1_000_000) buf[n++] = gap;
    }
  if (n < 10) return undefined;
  const gaps = buf.subarray(0, n).sort();
  return {
    value: quantile(gaps, 0.5),
    low: quantile(gaps, 0.25),
    high: quantile(gaps, 0.75),
    basis: `median gap between ${formatCount(gaps.length)} consecutive wakeups one program thread issued to the others`,
  };
}

/**
 * Host CPUs the vCPU threads used over the window (their running time over its length), or
 * undefined when the host trace shows them not running at all (nothing to tell).
 */
function vcpuCpus(a: ShapeInput): number | undefined {
  const w = a.window;
  const span = w.end - w.start;
  const t = a.hostTimelines.tasks;
  const { state, start, end } = t;
  let running = 0;
  for (const tid of a.vcpuTids) {
    const k = t.indexOf.get(tid);
    if (k === undefined) continue;
    const to = t.offsets[k + 1]!;
    for (let j = t.offsets[k]!; j < to; j++) {
      if (state[j] !== TaskState.running) continue;
      const x = Math.max(w.start, start[j]!);
      const y = Math.min(w.end, end[j]!);
      if (y > x) running += y - x;
    }
  }
  return span > 0 && running > 0 ? running / span : undefined;
}

/**
 * Host tasks other than the vCPU threads that wanted a CPU (ran, or waited to) at least half of
 * the window: the co-runners the what-if simulates as always-runnable.
 */
function readCoRunners(a: ShapeInput, u: number): ProgramShape['coRunners'] {
  const w = a.window;
  const span = w.end - w.start;
  const vcpuTids = new Set(a.vcpuTids);
  const t = a.hostTimelines.tasks;
  // The columns in locals: the loop runs once, over every host thread's intervals, cold.
  const { state, start, end } = t;
  const wStart = w.start;
  const wEnd = w.end;
  const names: string[] = [];
  let load = 0;
  // A thread's whole-trace time in the three states (its totals) bounds its time in them within
  // the window: one under half the window, with a margin far above the sums' rounding, cannot
  // make the cut, so its intervals are not read (on the lab pairs, most host threads: 25k of
  // quiet-passive-tsc's 25k intervals read here, 86k of noisy-active-tsc's 147k).
  const skipBelow = 0.5 * span * (1 - 1e-9);
  const { totals } = t;
  for (let k = 0; k < t.pids.length; k++) {
    const pid = t.pids[k]!;
    if (pid <= 0 || vcpuTids.has(pid)) continue;
    const b = k * TASK_STATE_COUNT;
    if (
      totals[b + TaskState.running]! +
        totals[b + TaskState.runnable]! +
        totals[b + TaskState.preempted]! <
      skipBelow
    )
      continue;
    let want = 0;
    const to = t.offsets[k + 1]!;
    for (let j = t.offsets[k]!; j < to; j++) {
      const st = state[j];
      if (st !== TaskState.running && st !== TaskState.runnable && st !== TaskState.preempted)
        continue;
      const x = Math.max(wStart, start[j]!);
      const y = Math.min(wEnd, end[j]!);
      if (y > x) want += y - x;
    }
    const share = want / span;
    if (share >= 0.5) {
      names.push(`${t.comms[k]!}:${pid}`);
      load += share;
    }
  }
  return {
    count: names.length,
    load,
    names,
    basis: `host tasks other than the vCPU threads that ran or waited for a CPU at least half of the ${formatDuration(span * u)} both traces cover`,
  };
}
