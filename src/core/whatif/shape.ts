// The program's shape as the scheduler traces show it, for the what-if (whatif/engine.ts): how
// many barriers, how long a thread runs between two of them, how long a wakeup takes, what share
// of thread time is synchronisation, and who else wanted the host's CPUs. Each estimate says what
// it rests on; where the trace cannot tell (a spinning thread looks like a working one), it is a
// range, never a guess passed off as a measurement.

import type { Trace } from '../model/trace';
import type { Timelines } from '../timeline/build';
import { TASK_STATE_COUNT, TaskState } from '../timeline/states';
import { Kind } from '../model/event-kinds';
import { kindAt, wakeupAt } from '../model/payload';
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
  /** Guest wakeup of a blocked thread until it runs (IPI, the halted vCPU's host wakeup), ns. */
  wakeLatencyNs: Estimate | undefined;
  /** vCPU time the thread completing a barrier spends per sleeper it wakes, ns. */
  wakeCostNs: Estimate | undefined;
  /** Share of the threads' time spent synchronising (asleep or spinning at barriers). */
  syncShare: Estimate;
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
  const bursts: number[] = [];
  const waits: number[] = [];
  let sleeps = 0;
  let run = 0;
  let all = 0;
  let first = Infinity;
  let lastEnd = -Infinity;
  for (const pid of program.pids) {
    const k = tl.indexOf.get(pid);
    if (k === undefined) continue;
    for (let j = tl.offsets[k]!; j < tl.offsets[k + 1]!; j++)
      if (tl.state[j] === TaskState.running) {
        first = Math.min(first, tl.start[j]!);
        lastEnd = Math.max(lastEnd, tl.end[j]!);
      }
    const base = k * TASK_STATE_COUNT;
    run += tl.totals[base + TaskState.running]!;
    for (let s = 0; s < TASK_STATE_COUNT; s++)
      if (s !== TaskState.unknown) all += tl.totals[base + s]!;
    for (let j = tl.offsets[k]!; j < tl.offsets[k + 1]! - 1; j++) {
      const st = tl.state[j];
      const next = tl.state[j + 1];
      if (st === TaskState.running && next === TaskState.sleeping) {
        sleeps++;
        bursts.push((tl.end[j]! - tl.start[j]!) * u);
      } else if (st === TaskState.runnable && next === TaskState.running)
        waits.push((tl.end[j]! - tl.start[j]!) * u);
    }
  }
  // The run's wall time: the program's threads' first to last moment on a CPU (the guest's
  // trace covers more: the tracer starting, the shell).
  const wallNs = lastEnd > first ? (lastEnd - first) * u : (a.window.end - a.window.start) * u;
  if (!(lastEnd > first))
    notes.push(
      'the program never ran in the guest trace: its wall time is the window both traces cover',
    );
  bursts.sort((x, y) => x - y);
  waits.sort((x, y) => x - y);
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

  // The run between two barriers. Blocking: the shortest bursts (5th percentile) are a thread's
  // work plus its barrier overhead (arriving, returning from the futex), with no preemption in
  // them. Spinning: at most a region's length, at least a microsecond.
  let burstNs: Estimate;
  if (waitsBy === 'block' && bursts.length > 0) {
    const p5 = quantile(bursts, 0.05);
    burstNs = {
      value: p5,
      low: quantile(bursts, 0.01),
      high: quantile(bursts, 0.25),
      basis: `the shortest 5% of ${formatCount(bursts.length)} runs of a thread between a wakeup and its next sleep (median ${formatDuration(quantile(bursts, 0.5))})`,
    };
  } else {
    // A spinning thread's run between barriers holds its work: at most the host CPU time its
    // vCPU got per region (a vCPU preempted on the host still counts as running in the guest,
    // so a region's wall overstates it by the host's oversubscription).
    const perRegion = barriers !== undefined ? wallNs / Math.max(1, barriers.value) : wallNs;
    const cpus = vcpuCpus(a);
    const team = Math.max(1, Math.min(threads, vcpus));
    const cpuShare = cpus !== undefined ? Math.min(1, cpus / team) : 1;
    const high = Math.max(1_000, Math.min(perRegion * cpuShare, 10_000_000));
    const onHost =
      cpus !== undefined && cpuShare < 1
        ? ` x the ${(100 * cpuShare).toFixed(0)}% of a host CPU each of the ${team} vCPUs got (${cpus.toFixed(2)} CPUs for ${team})`
        : '';
    burstNs = {
      value: Math.sqrt(1_000 * high),
      low: 1_000,
      high,
      basis:
        barriers !== undefined
          ? `spinning hides it: between 1 µs and a region's CPU time (${formatDuration(high)}: the run over ${formatCount(barriers.value)} barriers${onHost}), the middle taken`
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
  const wakeCostNs = wakerGap(a, program, u);

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
    wakeLatencyNs,
    wakeCostNs,
    syncShare,
    coRunners,
    notes,
  };
}

/**
 * The waker's cost per sleeper: the gap between consecutive wakings (sched_waking) the same
 * program thread issues to other program threads within one release (gaps over 1 ms are other
 * releases).
 */
function wakerGap(a: ShapeInput, program: ShapeInput['program'], u: number): Estimate | undefined {
  const g = a.guest;
  const ours = new Set(program.pids);
  const last = new Map<number, number>();
  const gaps: number[] = [];
  const ev = g.events;
  for (let i = 0; i < ev.length; i++) {
    // sched_waking runs on the waker (sched_wakeup may run on the woken CPU, from an IPI).
    if (kindAt(g, i) !== Kind.schedWaking) continue;
    if (!ours.has(g.tasks.pid(wakeupAt(g, i).task))) continue;
    const by = g.tasks.pid(ev.task(i));
    if (!ours.has(by)) continue;
    const t = ev.ts(i);
    const prev = last.get(by);
    if (prev !== undefined && (t - prev) * u < 1_000_000) gaps.push((t - prev) * u);
    last.set(by, t);
  }
  if (gaps.length < 10) return undefined;
  gaps.sort((x, y) => x - y);
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
  let running = 0;
  for (const tid of a.vcpuTids) {
    const k = t.indexOf.get(tid);
    if (k === undefined) continue;
    for (let j = t.offsets[k]!; j < t.offsets[k + 1]!; j++) {
      if (t.state[j] !== TaskState.running) continue;
      const x = Math.max(w.start, t.start[j]!);
      const y = Math.min(w.end, t.end[j]!);
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
  const names: string[] = [];
  let load = 0;
  for (let k = 0; k < t.pids.length; k++) {
    const pid = t.pids[k]!;
    if (pid <= 0 || vcpuTids.has(pid)) continue;
    let want = 0;
    for (let j = t.offsets[k]!; j < t.offsets[k + 1]!; j++) {
      const st = t.state[j];
      if (st !== TaskState.running && st !== TaskState.runnable && st !== TaskState.preempted)
        continue;
      const x = Math.max(w.start, t.start[j]!);
      const y = Math.min(w.end, t.end[j]!);
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
