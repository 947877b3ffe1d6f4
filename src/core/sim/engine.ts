// The dual-level scheduling simulator: a host with pCPUs and a fair scheduler (CFS-like: virtual
// runtime, a time slice from a target latency, wakeup preemption with a granularity, sleeper
// credit) running vCPU threads and co-runners (hogs, always runnable or periodic); inside the
// guest, an OpenMP-style program: parallel regions separated by barriers, each region's work
// split over a team of threads (thread i runs on vCPU i), waiting by spinning, blocking, or
// spinning then blocking. A guest thread progresses only while its vCPU thread runs on the host.
// Blocking halts the vCPU (its host thread sleeps); the thread that completes a barrier wakes the
// sleepers the next region needs, one by one, over IPIs. Threads outside a smaller team sleep.
// Next-event simulation in integer ns; deterministic for a seed. Time is accounted lazily (virtual
// runtime, ready time and a piece's progress are differences of absolute times, exact in integer
// ns) and pending piece ends and slice ends sit in indexed heaps, so an event costs O(log n) plus
// what it changes, not a pass over every task, thread and pCPU.

import { mulberry32 } from './rng';
import { TimerHeap } from './timer-heap';
import { formatCount, formatDuration } from '../model/time';

export type WaitPolicy = 'spin' | 'block' | 'spin-then-block';
/**
 * fixed: every region uses `fixedDop` threads (all by default); dynamic: libgomp's OMP_DYNAMIC,
 * CPUs minus the guest's load average, which cannot see host preemption (the guest here runs
 * nothing else, so it keeps all threads); pvsched: threads minus the vCPUs the host reports
 * preempted right now. The oracle (best fixed DoP in hindsight) is `simulateOracle`.
 */
export type DopPolicy = 'fixed' | 'dynamic' | 'pvsched';

export interface SimConfig {
  pcpus: number;
  vcpus: number;
  /** Program threads (the most a team can have); at most vcpus. */
  threads: number;
  /** Parallel regions, each ended by a barrier. */
  barriers: number;
  /** CPU work of one thread in a full team per region, ns (a region's total is this x threads). */
  workNs: number;
  /** Each thread's share varies within ±imbalance. */
  imbalance: number;
  /**
   * vCPU time a thread spends arriving at a barrier (its atomic update, the release check), ns,
   * paid in every region whose team has more than one thread (a team of one has no barrier to
   * pass). Absent = 0. Under emulation (QEMU TCG) atomics cost microseconds.
   */
  barrierNs?: number;
  policy: WaitPolicy;
  dop: DopPolicy;
  /** Team size for the fixed policy (default: threads). */
  fixedDop?: number;
  /** Spin before blocking (spin-then-block), ns. */
  spinNs: number;
  /** Co-runners on the host; with hogOnNs/hogOffNs > 0 each runs on-off in a random phase. */
  hogs: number;
  /**
   * Pin vCPU v to pCPU v mod pcpus and hog h to pCPU h * pcpus / hogs (per-CPU runqueues, as
   * with vCPU affinity on a dedicated host); otherwise one shared runqueue.
   */
  pin?: boolean;
  /**
   * Without `pin`: one runqueue for all pCPUs (`shared`, the default: a free pCPU takes the
   * least-vruntime ready task, and all pCPUs' slices start together), or one per pCPU
   * (`per-cpu`, as Linux runs CFS): task i starts queued on pCPU i mod pcpus and waits there
   * when preempted, a woken task goes to an idle pCPU if there is one (else its own), a pCPU
   * that goes idle pulls the least-vruntime ready task from another's queue, and each pCPU's
   * first slice is a random part of a slice, so the pCPUs' slices are out of phase (a vCPU
   * preempted on one while its sibling runs on the other, as host traces show).
   */
  runqueues?: 'shared' | 'per-cpu';
  hogOnNs: number;
  hogOffNs: number;
  /** Host scheduler: target latency (per pCPU), minimum slice, wakeup granularity (ns). */
  latencyNs: number;
  minSliceNs: number;
  wakeupGranNs: number;
  /** Guest costs (ns of vCPU time): waking one sleeper (waker side), resuming after a wake. */
  wakeCostNs: number;
  resumeCostNs: number;
  /** Delay of an IPI to a halted vCPU until its host thread is woken (ns). */
  ipiNs: number;
  seed: number;
  /**
   * KVM halt polling (halt_poll_ns; KVM's default is 200,000, 0 or absent = off): a halting
   * vCPU keeps its host thread on the pCPU, polling, this long before it sleeps; a wakeup in
   * that time resumes it at once, with no host wakeup and no IPI delay.
   */
  haltPollNs?: number;
  /** Pause-loop exiting (VMX PLE / SVM pause filter); absent = off. */
  ple?: PleConfig;
  /**
   * The guard against a model that stops progressing: simulate() throws when this many events
   * pass without a barrier completing (default MAX_STEPS_PER_BARRIER).
   */
  maxStepsPerBarrier?: number;
  /**
   * What the co-runners are, for the traces (the engine treats them alike): plain CPU hogs, or
   * the vCPU threads of another VM (same names as ours, another QEMU process).
   */
  coRunnerKind?: 'hog' | 'vm';
  /**
   * Sleeps of a vCPU's host thread in the VMM while its guest thread runs (QEMU TCG's vCPU
   * threads wait for its big lock): after a stretch of host CPU drawn from `runNs` the running
   * vCPU thread sleeps on the host for a time drawn from `sleepNs` (each uniformly from its list,
   * e.g. a trace's quantiles), its guest thread's piece paused, then is woken. A stretch goes on
   * across preemptions. Absent: a vCPU thread sleeps only when its guest halts.
   */
  vmmSleeps?: { runNs: readonly number[]; sleepNs: readonly number[] };
}

/**
 * Pause-loop exiting: a vCPU that runs a PAUSE loop (gaps under `ple_gap`, 128 cycles: every
 * spin-wait loop qualifies) for `windowCycles` exits to KVM, which yields to a preempted vCPU of
 * the same VM (round robin after the last one boosted): on the same pCPU the spinner gives up its
 * CPU; on another, the boosted vCPU becomes the next to run there unless it is more than a
 * wakeup granularity ahead in vruntime. Each exit grows the spinner's window (`grow` x, up to
 * `maxCycles`); it resets to `windowCycles` when the vCPU is next scheduled in (ple_window_shrink
 * 0, KVM's default).
 */
export interface PleConfig {
  /** ple_window, cycles (KVM: 4096). */
  windowCycles: number;
  /** ple_window_grow (KVM: 2). */
  grow: number;
  /** ple_window_max, cycles (KVM: UINT_MAX). */
  maxCycles: number;
  /** The host CPU's clock, GHz, to turn cycles into time. */
  cpuGHz: number;
}

/**
 * Events without a barrier completing before simulate() gives up (a livelock in the model, not a
 * slow program: a region of 10 s of work on 36 pCPUs with 0.75 ms slices and PLE exits takes
 * under a tenth of it).
 */
export const MAX_STEPS_PER_BARRIER = 50_000_000;

export const KVM_PLE_DEFAULTS: PleConfig = {
  windowCycles: 4096,
  grow: 2,
  maxCycles: 4_294_967_295,
  cpuGHz: 3,
};

/** What the simulator reports as it goes (trace writers, ground truth). */
export interface SimRecorder {
  /** Host switch on `pcpu` at t: prev (-1 idle) leaves in `prevState`, next (-1 idle) runs. */
  hostSwitch(
    t: number,
    pcpu: number,
    prev: number,
    prevState: 'R' | 'R+' | 'S',
    next: number,
  ): void;
  hostWakeup(t: number, pcpu: number, task: number, targetPcpu: number): void;
  /** A ready (not running) task leaves the runqueue asleep: a preemption ends without a switch-in. */
  hostDequeue?(t: number, task: number): void;
  /** Task moves from pCPU `from` to `to` (shared runqueue: it runs where a pCPU is free). */
  hostMigrate?(t: number, task: number, from: number, to: number): void;
  /** Guest switch on `vcpu` at host time t: prevThread (-1 idle) leaves with state; next (-1 idle). */
  guestSwitch(
    t: number,
    vcpu: number,
    prevThread: number,
    prevState: 'S' | 'R',
    nextThread: number,
  ): void;
  guestWakeup(t: number, vcpu: number, byThread: number, thread: number, targetVcpu: number): void;
}

interface HostTask {
  /** 0..vcpus-1: vCPU threads; then hogs. */
  id: number;
  state: 'run' | 'ready' | 'sleep';
  pcpu: number;
  /** Virtual runtime up to `runSince` while running (see vruntimeOf), else current. */
  vruntime: number;
  /** When it last started running / became ready (time is accounted lazily, on leaving). */
  runSince: number;
  readySince: number;
  /** Hogs: when the current on or off period ends. */
  periodEnd: number;
  /** The only pCPU it may run on, or -1. */
  aff: number;
  /** Ready because it was preempted (true) or because it was woken (false). */
  preempted: boolean;
}

/** poll: halted, its vCPU polling (halt polling) before its host thread sleeps. */
type GuestState = 'work' | 'spin' | 'poll' | 'block' | 'resume' | 'waking' | 'done';

interface GuestThread {
  state: GuestState;
  /**
   * Remaining vCPU time of the current work / spin / resume / waking piece, ns, while the piece
   * is not being consumed; while it is (its vCPU runs), the piece's end time is in `dueAt`.
   */
  left: number;
  /** Spinning: the spin still allowed before blocking (Infinity: spin until released), ns. */
  spinLeft: number;
  /** Spinning: the length of the current spin piece (up to the next PLE exit), ns. */
  spinPiece: number;
  /**
   * For the thread that completed a barrier: the sleepers to wake, in order, the next at
   * `wakeNext`, up to `wakeEnd` (a fixed array: no array grows and shrinks per region).
   */
  toWake: Int32Array;
  wakeNext: number;
  wakeEnd: number;
}

export interface SimResult {
  wallNs: number;
  /** Host events (switches + wakeups), for speed reports. */
  hostEvents: number;
  /** Guest events handled (ends of work, spin, wake and resume pieces), for speed reports. */
  guestEvents: number;
  /** Time each vCPU thread spent ready but not running (preempted or waiting), ns. */
  vcpuWaitNs: number[];
  /** Of that, the time after being preempted (the rest: woken, waiting for a pCPU), ns. */
  vcpuPreemptedNs: number[];
  preemptions: number[];
  /** Team size of every region. */
  teams: number[];
  /** Pause-loop exits, and of them those that boosted a preempted vCPU. */
  pleExits: number;
  pleYields: number;
  /** Wakeups that found the vCPU still polling (no host wakeup needed). */
  pollHits: number;
  /** Sleeps of vCPU threads in the VMM (SimConfig.vmmSleeps). */
  vmmSleeps: number;
}

export function simulate(c: SimConfig, rec?: SimRecorder): SimResult {
  if (c.threads > c.vcpus) throw new RangeError(`threads (${c.threads}) > vcpus (${c.vcpus})`);
  if (c.threads < 1 || c.pcpus < 1 || c.barriers < 1)
    throw new RangeError('pcpus, threads and barriers must be at least 1');
  const s = newSim(normalConfig(c), c.ple, c.vmmSleeps, rec);
  startSim(s);
  return runSim(s);
}

/**
 * The configuration as the steps read it: every field present, with one type, optional ones at
 * their defaults (the engine's own `??`s), the PLE and VMM parts kept beside it in the run.
 */
type Cfg = Required<Omit<SimConfig, 'ple' | 'coRunnerKind' | 'vmmSleeps'>>;

/**
 * `c` as an object of one shape and one field representation whatever the caller spread into it
 * (the what-if builds each configuration from a different mix): the steps read `s.c` at every
 * event. A field V8 first saw holding a small integer and later a fraction, Infinity or a number
 * past 2^30 (a slice, a spin budget, a seed) changes the object's map and deprecates the old one,
 * and every optimised step that checked it is thrown away ("wrong map"). So the fields that may
 * hold a double are first stored as NaN (a double field from the start) and then set; small
 * integers (counts of CPUs and threads) stay small integers.
 */
function normalConfig(c: SimConfig): Cfg {
  const n: Cfg = {
    pcpus: c.pcpus,
    vcpus: c.vcpus,
    threads: c.threads,
    barriers: c.barriers,
    hogs: c.hogs,
    policy: c.policy,
    dop: c.dop,
    runqueues: c.runqueues ?? 'shared',
    pin: c.pin === true,
    // A team size: a small integer, as the team fields it flows into.
    fixedDop: c.fixedDop ?? c.threads,
    workNs: NaN,
    imbalance: NaN,
    barrierNs: NaN,
    spinNs: NaN,
    hogOnNs: NaN,
    hogOffNs: NaN,
    latencyNs: NaN,
    minSliceNs: NaN,
    wakeupGranNs: NaN,
    wakeCostNs: NaN,
    resumeCostNs: NaN,
    ipiNs: NaN,
    haltPollNs: NaN,
    seed: NaN,
    maxStepsPerBarrier: NaN,
  };
  n.workNs = c.workNs;
  n.imbalance = c.imbalance;
  n.barrierNs = c.barrierNs ?? 0;
  n.spinNs = c.spinNs;
  n.hogOnNs = c.hogOnNs;
  n.hogOffNs = c.hogOffNs;
  n.latencyNs = c.latencyNs;
  n.minSliceNs = c.minSliceNs;
  n.wakeupGranNs = c.wakeupGranNs;
  n.wakeCostNs = c.wakeCostNs;
  n.resumeCostNs = c.resumeCostNs;
  n.ipiNs = c.ipiNs;
  n.haltPollNs = c.haltPollNs ?? 0;
  n.seed = c.seed;
  n.maxStepsPerBarrier = c.maxStepsPerBarrier ?? MAX_STEPS_PER_BARRIER;
  return n;
}

/**
 * A run's state: what every step of the simulation reads and changes. The steps are module-level
 * functions of it, not closures made per run: V8 then compiles and optimises each step once for
 * every run (the what-if runs ~70 short simulations per analysis, and each run's new closures
 * were optimised again, their first code thrown away).
 */
function newSim(
  c: Cfg,
  ple: PleConfig | undefined,
  vmmSleeps: SimConfig['vmmSleeps'],
  rec: SimRecorder | undefined,
) {
  const rand = mulberry32(c.seed);
  const nTasks = c.vcpus + c.hogs;
  /** Per-pCPU runqueues whose tasks migrate (`aff` is then the queue a task is on). */
  const movable = !c.pin && c.runqueues === 'per-cpu';
  const periodic = c.hogOnNs > 0 && c.hogOffNs > 0;
  const tasks: HostTask[] = Array.from({ length: nTasks }, (_, id) => {
    // Times as double fields from the start (NaN, then 0): see normalConfig.
    const k: HostTask = {
      id,
      state: 'ready',
      pcpu: -1,
      vruntime: NaN,
      runSince: NaN,
      readySince: NaN,
      periodEnd: Infinity,
      preempted: false,
      aff: taskAffinity(c, movable, id),
    };
    k.vruntime = 0;
    k.runSince = 0;
    k.readySince = 0;
    return k;
  });
  const pcpu: number[] = new Array<number>(c.pcpus).fill(-1);
  /** When the running task's slice on each pCPU ends (none when idle). */
  const slices = new TimerHeap(c.pcpus);
  /**
   * When each thread's current piece ends, while its vCPU runs it (none otherwise, and while
   * spinning forever). Finding the next event and the due threads reads only the heaps.
   */
  const pieces = new TimerHeap(c.threads);
  const dueAt = pieces.at;
  /** A piece was set to end at or before now while due threads were being handled. */
  const lateDue = false;
  const fixedSize = Math.max(1, Math.min(c.threads, c.fixedDop));
  const team = c.dop === 'fixed' ? fixedSize : c.threads;
  const teams: number[] = [];
  const threads: GuestThread[] = Array.from({ length: c.threads }, () => {
    const th: GuestThread = {
      state: 'work',
      left: NaN,
      spinLeft: NaN,
      spinPiece: NaN,
      toWake: new Int32Array(c.threads),
      wakeNext: 0,
      wakeEnd: 0,
    };
    th.left = 0;
    th.spinLeft = 0;
    th.spinPiece = 0;
    return th;
  });
  const hasVmm =
    vmmSleeps !== undefined && vmmSleeps.runNs.length > 0 && vmmSleeps.sleepNs.length > 0;
  /** VMM sleeps' stretches and lengths to draw from (empty without them): no object that is sometimes there. */
  const vmmRun = Float64Array.from(hasVmm ? vmmSleeps.runNs : []);
  const vmmSleep = Float64Array.from(hasVmm ? vmmSleeps.sleepNs : []);
  /** VMM sleeps: their own draws (the rest of the run draws as without them). */
  const vmmRand = mulberry32((c.seed ^ 0x5bd1e995) >>> 0);
  /** Per thread: when its running vCPU next sleeps in the VMM, or, while it sleeps there, wakes. */
  const vmmTimers = new TimerHeap(c.threads);
  /** Host CPU left before the next VMM sleep, while the vCPU is not running. */
  const vmmLeft = Float64Array.from({ length: c.threads }, () =>
    hasVmm ? vmmDraw(vmmRand, vmmRun) : Infinity,
  );
  const inVmm = new Uint8Array(c.threads);
  const vmmSleepCount = 0;
  /** Each vCPU's current PLE window, cycles. */
  const pleWindow = new Float64Array(c.vcpus).fill(ple?.windowCycles ?? 0);
  const lastBoosted = -1;
  const pleExits = 0;
  const pleYields = 0;
  const pollHits = 0;
  /** Typed: a plain array of small integers would change its kind at the first fraction added. */
  const waitNs = new Float64Array(c.vcpus);
  const preemptedNs = new Float64Array(c.vcpus);
  const preemptions = new Array<number>(c.vcpus).fill(0);
  const inTeam = Uint8Array.from({ length: c.threads }, (_, i) => (i < team ? 1 : 0));
  const arrived = 0;
  const regions = 0;
  const done = false;
  const hostEvents = 0;
  const guestEvents = 0;
  /**
   * The current time, ns. In a typed array, not a variable the closures share: a number past 2^30
   * kept in a closure's variable is a new heap object at every write (one per event, all garbage).
   */
  const now = new Float64Array(1);
  /**
   * Pending IPIs, a queue in time order: each is sent at the current time plus the constant
   * `ipiNs`, so the earliest is at the head (no scan, no per-IPI allocation): the pending ones
   * are [ipiHead, ipiLen); when none is left both go back to 0 and the arrays keep their room
   * (emptying them dropped their storage, allocated again at the next IPI). The times' array
   * holds doubles from the start: one that began with small integers changed its kind at the
   * first time past 2^31 or fraction, and the optimised store in pieceEnded was thrown away
   * ("lost precision or NaN").
   */
  const ipiAt: number[] = [NaN];
  const ipiVcpu: number[] = [0];
  const ipiHead = 0;
  const ipiLen = 0;

  const runnableCount = 0;
  /** Ready tasks (runnable, not on a pCPU): when none, there is nothing to pick. */
  const readyCount = 0;
  /** Ready tasks that may run on each pCPU, by affinity: pinned there, or anywhere. */
  const pinnedOn: number[][] = Array.from({ length: c.pcpus }, () => []);
  const unpinned: number[] = [];
  for (const k of tasks) (k.aff >= 0 ? pinnedOn[k.aff]! : unpinned).push(k.id);
  const readyOn = new Int32Array(c.pcpus);
  const readyAnywhere = 0;
  /** pCPUs that are idle with a pinned task ready for them: when none (and none unpinned), fill has nothing to do. */
  const startable = 0;
  /** A runnable task whose vruntime was within reach last time: its vruntime bounds the least from above. */
  const minHint = 0;
  /** The time slice for each count of runnable tasks (a division per pick otherwise). */
  const sliceFor = Float64Array.from({ length: nTasks + 1 }, (_, n) =>
    Math.max(c.minSliceNs, Math.round((c.latencyNs * c.pcpus) / Math.max(1, n))),
  );
  /** Recording: the guest switch-in of a woken thread not yet written (its vCPU did not run). */
  const switchPending = new Uint8Array(c.threads);
  const dueList = new Int32Array(c.threads);
  const sliceList = new Int32Array(c.pcpus);
  const vmmList = new Int32Array(c.threads);
  const s = {
    c,
    /** null, not undefined, and set after: the field takes any recorder or none (see normalConfig). */
    rec: null as SimRecorder | null,
    rand,
    nTasks,
    movable,
    periodic,
    tasks,
    pcpu,
    slices,
    pieces,
    dueAt,
    lateDue: lateDue as boolean,
    fixedSize,
    team,
    teams,
    barrierNs: NaN,
    /** A team member's share of a region's work, and the barrier's cost (set with the team). */
    share: NaN,
    barrierCost: NaN,
    threads,
    haltPollNs: NaN,
    hasVmm,
    vmmRun,
    vmmSleep,
    vmmRand,
    vmmTimers,
    vmmLeft,
    inVmm,
    vmmSleepCount,
    vmmList,
    /** PLE's parameters as numbers (NaN without PLE), not an object that is sometimes there. */
    hasPle: ple !== undefined,
    pleWindowCycles: NaN,
    pleGrow: NaN,
    pleMaxCycles: NaN,
    pleGHz: NaN,
    pleWindow,
    lastBoosted,
    pleExits,
    pleYields,
    pollHits,
    waitNs,
    preemptedNs,
    preemptions,
    inTeam,
    arrived,
    regions,
    done: done as boolean,
    hostEvents,
    guestEvents,
    now,
    ipiAt,
    ipiVcpu,
    ipiHead,
    ipiLen,
    runnableCount,
    readyCount,
    pinnedOn,
    unpinned,
    readyOn,
    readyAnywhere,
    startable,
    minHint,
    sliceFor,
    switchPending,
    dueList,
    sliceList,
  };
  s.rec = rec ?? null;
  s.barrierNs = c.barrierNs;
  s.haltPollNs = c.haltPollNs;
  if (ple !== undefined) {
    s.pleWindowCycles = ple.windowCycles;
    s.pleGrow = ple.grow;
    s.pleMaxCycles = ple.maxCycles;
    s.pleGHz = ple.cpuGHz;
  }
  return s;
}
type Sim = ReturnType<typeof newSim>;

/** Task id's pCPU affinity: pinned, or its first per-pCPU queue (movable), or none (-1). */
function taskAffinity(c: Cfg, movable: boolean, id: number): number {
  if (c.pin)
    return id < c.vcpus
      ? id % c.pcpus
      : Math.floor(((id - c.vcpus) * c.pcpus) / Math.max(1, c.hogs));
  return movable ? id % c.pcpus : -1;
}

/** A VMM sleep's stretch or length: one of `xs`, uniformly, from the VMM sleeps' own draws. */
function vmmDraw(rand: () => number, xs: Float64Array): number {
  return Math.max(1, Math.round(xs[Math.min(xs.length - 1, Math.floor(rand() * xs.length))]!));
}

/** The run's start: the first team, the threads' first pieces, the hogs' phases, the first picks. */
function startSim(s: Sim): void {
  setTeam(s, s.team);
  for (const th of s.threads) th.left = work(s);
  // Threads beyond the first team wait asleep (their vCPUs halted).
  for (let i = s.team; i < s.c.threads; i++) {
    s.threads[i]!.state = 'block';
    s.tasks[i]!.state = 'sleep';
  }
  s.teams.push(s.team);
  // vCPUs with no program thread are idle: their host threads sleep from the start.
  for (let v = s.c.threads; v < s.c.vcpus; v++) s.tasks[v]!.state = 'sleep';
  // Periodic hogs start in a random phase of their cycle.
  if (s.periodic) {
    for (let h = s.c.vcpus; h < s.nTasks; h++) {
      const phase = s.rand() * (s.c.hogOnNs + s.c.hogOffNs);
      if (phase < s.c.hogOnNs) s.tasks[h]!.periodEnd = Math.round(s.c.hogOnNs - phase);
      else {
        s.tasks[h]!.state = 'sleep';
        s.tasks[h]!.periodEnd = Math.round(s.c.hogOnNs + s.c.hogOffNs - phase);
      }
    }
  }
  countRunnable(s);
  fill(s);
  // Per-pCPU runqueues: each pCPU's slices in their own phase.
  if (s.movable)
    for (let p = 0; p < s.c.pcpus; p++)
      if (s.pcpu[p] !== -1) s.slices.set(p, Math.max(1, Math.round(s.rand() * slice(s))));
}

/**
 * The next-event loop, to the last barrier; the result. Each event is a call of step and its
 * parts, functions of their own: a cold run spends most of its time before V8 optimises the
 * loop, and V8 optimises a function after running a number of its bytecodes that grows with its
 * size, so small steps are optimised early (one big loop body was optimised after the what-if
 * ended, its compiles wasted).
 */
function runSim(s: Sim): SimResult {
  const stepLimit = s.c.maxStepsPerBarrier;
  let steps = 0;
  let stepsFrom = 0;
  while (!s.done) {
    // A guard against a livelock in the model (tasks handing a pCPU back and forth while the
    // barrier waits on one that never runs): no input may hang the caller.
    if (++steps > stepLimit) {
      if (s.regions === stepsFrom)
        throw new Error(
          `simulation made no progress: ${formatCount(stepLimit)} events without a barrier completing (at ${formatDuration(s.now[0]!)} simulated, barrier ${formatCount(s.regions + 1)} of ${formatCount(s.c.barriers)}): a livelock in the model`,
        );
      steps = 0;
      stepsFrom = s.regions;
    }
    step(s);
  }
  return endSim(s);
}

/** One event: the next piece end, slice end, IPI, hog period or VMM timer, and what it changes. */
function step(s: Sim): void {
  const t = nextEvent(s);
  s.now[0] = t;
  if (s.ipiHead < s.ipiLen) landIpis(s, t);
  if (s.periodic) hogPeriods(s, t);
  piecesDue(s, t);
  if (s.done) return;
  if (s.hasVmm && s.vmmTimers.min() <= t) vmmDue(s, t);
  slicesDue(s, t);
  fill(s);
}

/**
 * The next event's time: a piece of guest work ends on a running vCPU, a slice ends while others
 * wait, an IPI lands, a periodic hog switches on or off, a VMM sleep starts or ends.
 */
function nextEvent(s: Sim): number {
  let next = s.pieces.min();
  if (s.periodic)
    for (let h = s.c.vcpus; h < s.nTasks; h++) next = Math.min(next, s.tasks[h]!.periodEnd);
  if (s.readyCount > 0) next = Math.min(next, s.slices.min());
  if (s.ipiHead < s.ipiLen) next = Math.min(next, s.ipiAt[s.ipiHead]!);
  if (s.hasVmm) next = Math.min(next, s.vmmTimers.min());
  if (next === Infinity)
    throw new Error('simulation stalled: no runnable work and no pending wakeup');
  return next;
}

/** IPIs that land at t, the latest sent first (waking never sends one). */
function landIpis(s: Sim, t: number): void {
  let landed = s.ipiHead;
  while (landed < s.ipiLen && s.ipiAt[landed]! <= t) landed++;
  if (landed === s.ipiHead) return;
  const first = s.ipiHead;
  s.ipiHead = landed;
  for (let q = landed - 1; q >= first; q--) wakeHost(s, s.ipiVcpu[q]!);
  if (s.ipiHead === s.ipiLen) {
    s.ipiLen = 0;
    s.ipiHead = 0;
  }
}

/** Periodic hogs whose on or off period ends at t switch. */
function hogPeriods(s: Sim, t: number): void {
  for (let h = s.c.vcpus; h < s.nTasks; h++) {
    const k = s.tasks[h]!;
    if (k.periodEnd > t) continue;
    if (k.state === 'sleep') {
      k.periodEnd = t + s.c.hogOnNs;
      wakeHost(s, h);
    } else {
      k.periodEnd = t + s.c.hogOffNs;
      sleepHost(s, h);
    }
  }
}

/**
 * Threads whose pieces end at t, by index. Handling one can make another's piece end now
 * (zero-length pieces, a vCPU resumed mid-loop): from then on every later index is checked. One
 * loop and one call of pieceEnded for both: a second call site, reached only on such a tie, had
 * no type feedback when V8 optimised this, and its code was thrown away at the first tie.
 */
function piecesDue(s: Sim, t: number): void {
  const nDue = s.pieces.due(t, s.dueList);
  s.lateDue = false;
  let q = 0;
  /** From here on every index (-1: the due list still). */
  let scan = -1;
  while (!s.done) {
    let v: number;
    if (scan < 0) {
      if (q >= nDue) break;
      v = s.dueList[q++]!;
    } else {
      if (scan >= s.c.threads) break;
      v = scan++;
    }
    if (s.dueAt[v]! > t) continue;
    pieceEnded(s, v);
    if (scan < 0 && s.lateDue) scan = v + 1;
  }
}

/** VMM timers due at t: a vCPU thread back from the VMM, or one that goes to sleep there. */
function vmmDue(s: Sim, t: number): void {
  const n = s.vmmTimers.due(t, s.vmmList);
  for (let q = 0; q < n; q++) {
    const v = s.vmmList[q]!;
    if (s.vmmTimers.at[v]! > t) continue;
    if (s.inVmm[v] === 1) {
      // Back from the VMM: woken, unless its guest halted meanwhile (then an IPI wakes it).
      s.inVmm[v] = 0;
      s.vmmTimers.set(v, Infinity);
      if (s.tasks[v]!.state === 'sleep' && active(s, s.threads[v]!)) wakeHost(s, v);
    } else if (s.tasks[v]!.state === 'run') {
      s.vmmSleepCount++;
      sleepHost(s, v);
      s.vmmLeft[v] = vmmDraw(s.vmmRand, s.vmmRun);
      s.inVmm[v] = 1;
      s.vmmTimers.set(v, t + vmmDraw(s.vmmRand, s.vmmSleep));
    }
  }
}

/** Slices that ended at t while others wait: the least-vruntime ready task takes the pCPU. */
function slicesDue(s: Sim, t: number): void {
  const nSlices = s.slices.due(t, s.sliceList);
  for (let q = 0; q < nSlices; q++) {
    const p = s.sliceList[q]!;
    const best = s.readyCount > 0 ? leastReady(s, p) : undefined;
    const cur = s.tasks[s.pcpu[p]!]!;
    if (best !== undefined && best.vruntime < vruntimeOf(s, cur)) {
      preempt(s, p, best, 'R');
      if (s.movable) rebalance(s, cur, p);
    } else s.slices.set(p, t + nextSlice(s));
  }
}

/** The run's end: its threads exit, their vCPUs halt, the open ready time is counted. */
function endSim(s: Sim): SimResult {
  // The program ends: its threads exit and their vCPUs halt.
  for (let i = 0; i < s.c.threads; i++) {
    if (s.threads[i]!.state !== 'block') block(s, i);
    s.threads[i]!.state = 'done';
  }
  // Ready time still open at the end (vCPUs without program threads never are; kept exact anyway).
  for (let v = 0; v < s.c.vcpus; v++) {
    const k = s.tasks[v]!;
    if (k.state !== 'ready') continue;
    s.waitNs[v]! += s.now[0]! - k.readySince;
    if (k.preempted) s.preemptedNs[v]! += s.now[0]! - k.readySince;
  }
  return {
    wallNs: s.now[0]!,
    hostEvents: s.hostEvents,
    guestEvents: s.guestEvents,
    pleExits: s.pleExits,
    pleYields: s.pleYields,
    pollHits: s.pollHits,
    vmmSleeps: s.vmmSleepCount,
    vcpuWaitNs: Array.from(s.waitNs),
    vcpuPreemptedNs: Array.from(s.preemptedNs),
    preemptions: s.preemptions,
    teams: s.teams,
  };
}

function setDue(s: Sim, i: number, time: number): void {
  s.pieces.set(i, time);
  if (time <= s.now[0]!) s.lateDue = true;
}

function setTeam(s: Sim, size: number): void {
  s.team = size;
  s.share = (s.c.workNs * s.c.threads) / size;
  s.barrierCost = size > 1 ? s.barrierNs : 0;
}

function work(s: Sim): number {
  return Math.max(
    1,
    Math.round(s.share * (1 + s.c.imbalance * (2 * s.rand() - 1)) + s.barrierCost),
  );
}

function countRunnable(s: Sim): void {
  s.runnableCount = 0;
  s.readyCount = 0;
  for (const k of s.tasks) {
    if (k.state !== 'sleep') s.runnableCount++;
    if (k.state !== 'ready') continue;
    s.readyCount++;
    if (k.aff >= 0) s.readyOn[k.aff]!++;
    else s.readyAnywhere++;
  }
  s.startable = 0;
  for (let p = 0; p < s.c.pcpus; p++) s.startable += startableOn(s, p);
}

/** A thread consumes its piece while its vCPU runs and it is not blocked or done. */
function active(s: Sim, th: GuestThread): boolean {
  return th.state !== 'block' && th.state !== 'done';
}

/** Sets thread i's piece (its vCPU may be running: then the piece ends at t + left). */
function setPiece(s: Sim, i: number, state: GuestState, left: number): void {
  const th = s.threads[i]!;
  th.state = state;
  th.left = left;
  setDue(s, i, s.tasks[i]!.state === 'run' && active(s, th) ? s.now[0]! + left : Infinity);
}

/**
 * Every state change goes through here, keeping the counts and accounting time lazily (all
 * times are integer ns, so differences of absolute times are exactly the sums of the steps).
 */
function setState(s: Sim, k: HostTask, st: HostTask['state']): void {
  if (k.state === st) return;
  const id = k.id;
  if (k.state === 'run') {
    k.vruntime += s.now[0]! - k.runSince;
    if (id < s.c.threads) {
      if (s.dueAt[id]! !== Infinity) s.threads[id]!.left = s.dueAt[id]! - s.now[0]!;
      s.pieces.set(id, Infinity);
      if (s.hasVmm && s.vmmTimers.at[id]! !== Infinity) {
        s.vmmLeft[id] = s.vmmTimers.at[id]! - s.now[0]!;
        s.vmmTimers.set(id, Infinity);
      }
    }
  } else if (k.state === 'ready') {
    s.readyCount--;
    if (k.aff >= 0) {
      s.startable -= startableOn(s, k.aff);
      s.readyOn[k.aff]!--;
      s.startable += startableOn(s, k.aff);
    } else s.readyAnywhere--;
    if (id < s.c.vcpus) {
      s.waitNs[id]! += s.now[0]! - k.readySince;
      if (k.preempted) s.preemptedNs[id]! += s.now[0]! - k.readySince;
    }
  }
  if (st === 'run') {
    k.runSince = s.now[0]!;
    if (s.hasPle && id < s.c.vcpus) s.pleWindow[id] = s.pleWindowCycles;
    if (id < s.c.threads && active(s, s.threads[id]!))
      setDue(s, id, s.now[0]! + s.threads[id]!.left);
    if (s.hasVmm && id < s.c.threads) {
      s.inVmm[id] = 0;
      s.vmmTimers.set(id, active(s, s.threads[id]!) ? s.now[0]! + s.vmmLeft[id]! : Infinity);
    }
  } else if (st === 'ready') {
    s.readyCount++;
    if (k.aff >= 0) {
      s.startable -= startableOn(s, k.aff);
      s.readyOn[k.aff]!++;
      s.startable += startableOn(s, k.aff);
    } else s.readyAnywhere++;
    k.readySince = s.now[0]!;
  }
  if (k.state === 'sleep') s.runnableCount++;
  if (st === 'sleep') s.runnableCount--;
  k.state = st;
}

/** Virtual runtime now. */
function vruntimeOf(s: Sim, k: HostTask): number {
  return k.state === 'run' ? k.vruntime + (s.now[0]! - k.runSince) : k.vruntime;
}

function startableOn(s: Sim, p: number): number {
  return s.readyOn[p]! > 0 && s.pcpu[p] === -1 ? 1 : 0;
}

function setPcpu(s: Sim, p: number, id: number): void {
  s.startable -= startableOn(s, p);
  s.pcpu[p] = id;
  s.startable += startableOn(s, p);
}

/** Per-pCPU runqueues: task k now queues on pCPU p (a wakeup or an idle pCPU's pull). */
function moveTo(s: Sim, k: HostTask, p: number): void {
  const from = k.aff;
  if (from === p) return;
  const list = s.pinnedOn[from]!;
  list.splice(list.indexOf(k.id), 1);
  s.pinnedOn[p]!.push(k.id);
  if (k.state === 'ready') {
    s.startable -= startableOn(s, from) + startableOn(s, p);
    s.readyOn[from]!--;
    s.readyOn[p]!++;
    s.startable += startableOn(s, from) + startableOn(s, p);
  }
  k.aff = p;
}

/**
 * Per-pCPU runqueues: a task preempted at the end of its slice on pCPU p queues on the pCPU with
 * the fewest ready tasks when that is fewer than p's (the kernel's periodic load balancing, in
 * its effect: three tasks on two pCPUs rotate and each gets two thirds of one, rather than one
 * keeping a pCPU to itself while two share the other).
 */
function rebalance(s: Sim, k: HostTask, p: number): void {
  let q = -1;
  for (let r = 0; r < s.c.pcpus; r++)
    if (r !== p && (q < 0 || s.readyOn[r]! < s.readyOn[q]!)) q = r;
  // readyOn[p] counts k: it moves only where fewer wait than with it here.
  if (q >= 0 && s.readyOn[q]! < s.readyOn[p]!) moveTo(s, k, q);
}

/**
 * Sleeper credit: a woken task is put at most half a latency behind the least vruntime of the
 * runnable tasks. When some runnable task's vruntime (an upper bound of the least) is already
 * within that of it, nothing changes: the hint is tried first, and the search over the tasks
 * stops at the first such task, so only a task that is really behind costs the whole pass
 * (most wakes in a blocking run found the hint asleep and searched every task).
 */
function creditSleeper(s: Sim, k: HostTask): void {
  const reach = k.vruntime + s.c.latencyNs / 2;
  const hint = s.tasks[s.minHint]!;
  // vruntimeOf written out here and below: this runs for every wake, and a call that is not
  // inlined returns its number boxed (a heap allocation per call).
  const tNow = s.now[0]!;
  if (
    hint.state !== 'sleep' &&
    reach >= (hint.state === 'run' ? hint.vruntime + (tNow - hint.runSince) : hint.vruntime)
  )
    return;
  let m = Infinity;
  for (let q = 0; q < s.tasks.length; q++) {
    const o = s.tasks[q]!;
    if (o.state === 'sleep') continue;
    const v = o.state === 'run' ? o.vruntime + (tNow - o.runSince) : o.vruntime;
    if (v <= reach) {
      s.minHint = q;
      return;
    }
    if (v < m) m = v;
  }
  k.vruntime = Math.max(k.vruntime, (m === Infinity ? 0 : m) - s.c.latencyNs / 2);
}

function slice(s: Sim): number {
  return s.sliceFor[s.runnableCount]!;
}

/**
 * The slice a task starts: with per-pCPU runqueues, from half to one and a half slices (a
 * kernel ends a slice at the first tick after it expired, or earlier on a wakeup or a yield),
 * so each pCPU's phase drifts and the pCPUs meet in every relative phase over a run.
 */
function nextSlice(s: Sim): number {
  return s.movable ? Math.max(1, Math.round(slice(s) * (0.5 + s.rand()))) : slice(s);
}

/** The ready task with the least vruntime that may run on pCPU p (ties: the lowest id). */
function leastReady(s: Sim, p: number): HostTask | undefined {
  let best: HostTask | undefined;
  // The pinned tasks, then the unpinned: no closure per call (this runs for every pick).
  for (let pass = 0; pass < 2; pass++) {
    if (pass === 0 ? s.readyOn[p]! === 0 : s.readyAnywhere === 0) continue;
    const ids = pass === 0 ? s.pinnedOn[p]! : s.unpinned;
    for (let q = 0; q < ids.length; q++) {
      const k = s.tasks[ids[q]!]!;
      if (
        k.state === 'ready' &&
        (best === undefined ||
          k.vruntime < best.vruntime ||
          (k.vruntime === best.vruntime && k.id < best.id))
      )
        best = k;
    }
  }
  return best;
}

function switchIn(s: Sim, v: number): void {
  if (s.switchPending[v] === 0) return;
  s.switchPending[v] = 0;
  s.rec?.guestSwitch(s.now[0]!, v, -1, 'R', v);
}

function runOn(s: Sim, p: number, k: HostTask | undefined, prevState: 'R' | 'R+' | 'S'): void {
  const prev = s.pcpu[p]!;
  if (k !== undefined) {
    setState(s, k, 'run');
    if (k.pcpu >= 0 && k.pcpu !== p) {
      s.hostEvents++;
      s.rec?.hostMigrate?.(s.now[0]!, k.id, k.pcpu, p);
    }
    k.pcpu = p;
    s.slices.set(p, s.now[0]! + nextSlice(s));
    setPcpu(s, p, k.id);
  } else {
    setPcpu(s, p, -1);
    s.slices.set(p, Infinity);
  }
  s.hostEvents++;
  s.rec?.hostSwitch(s.now[0]!, p, prev, prevState, k?.id ?? -1);
  if (k !== undefined && k.id < s.c.threads) switchIn(s, k.id);
}

function fill(s: Sim): void {
  if (s.readyCount === 0) return;
  if (s.readyAnywhere === 0 && s.startable === 0) {
    if (s.movable) pull(s);
    return;
  }
  for (let p = 0; p < s.c.pcpus && s.readyCount > 0; p++) {
    if (s.pcpu[p] !== -1 || (s.readyOn[p] === 0 && s.readyAnywhere === 0)) continue;
    const best = leastReady(s, p);
    if (best !== undefined) runOn(s, p, best, 'S');
  }
  if (s.movable) pull(s);
}

/**
 * Per-pCPU runqueues: an idle pCPU with nothing queued pulls the least-vruntime ready task
 * queued on another (the kernel's idle balancing).
 */
function pull(s: Sim): void {
  for (let p = 0; p < s.c.pcpus && s.readyCount > 0; p++) {
    if (s.pcpu[p] !== -1) continue;
    let best: HostTask | undefined;
    for (let q = 0; q < s.nTasks; q++) {
      const k = s.tasks[q]!;
      if (k.state === 'ready' && (best === undefined || k.vruntime < best.vruntime)) best = k;
    }
    if (best === undefined) return;
    moveTo(s, best, p);
    runOn(s, p, best, 'S');
  }
}

function preempt(s: Sim, p: number, next: HostTask, state: 'R' | 'R+'): void {
  const cur = s.tasks[s.pcpu[p]!]!;
  setState(s, cur, 'ready');
  cur.preempted = true;
  if (cur.id < s.c.vcpus) s.preemptions[cur.id]!++;
  runOn(s, p, next, state);
}

function wakeHost(s: Sim, id: number): void {
  const k = s.tasks[id]!;
  if (k.state !== 'sleep') return;
  creditSleeper(s, k);
  if (s.movable && s.pcpu[k.aff] !== -1) {
    const idle = s.pcpu.indexOf(-1);
    if (idle >= 0) moveTo(s, k, idle);
  }
  setState(s, k, 'ready');
  k.preempted = false;
  const idle = k.aff >= 0 ? (s.pcpu[k.aff] === -1 ? k.aff : -1) : s.pcpu.indexOf(-1);
  const target = idle >= 0 ? idle : k.aff >= 0 ? k.aff : Math.max(0, k.pcpu);
  s.hostEvents++;
  s.rec?.hostWakeup(s.now[0]!, target, id, target);
  if (idle >= 0) {
    runOn(s, idle, k, 'S');
    return;
  }
  // A vCPU polling in halt stops as soon as another task is runnable on its pCPU (KVM polls
  // only while single_task_running()): its thread sleeps and the pCPU goes to the ready tasks.
  if (s.haltPollNs > 0) {
    for (let p = Math.max(0, k.aff), last = k.aff >= 0 ? k.aff : s.c.pcpus - 1; p <= last; p++) {
      const cur = s.pcpu[p]!;
      if (cur >= 0 && cur < s.c.threads && s.threads[cur]!.state === 'poll') {
        block(s, cur);
        if (s.tasks[id]!.state !== 'ready') return; // fill gave it the pCPU
      }
    }
  }
  // Wakeup preemption: the running task furthest ahead in vruntime, if far enough.
  let victim = -1;
  let victimVruntime = 0;
  for (let p = Math.max(0, k.aff), last = k.aff >= 0 ? k.aff : s.c.pcpus - 1; p <= last; p++) {
    const o = s.tasks[s.pcpu[p]!]!;
    const vr = o.state === 'run' ? o.vruntime + (s.now[0]! - o.runSince) : o.vruntime;
    if (vr > k.vruntime + s.c.wakeupGranNs && (victim < 0 || vr > victimVruntime)) {
      victim = p;
      victimVruntime = vr;
    }
  }
  if (victim >= 0) preempt(s, victim, k, 'R+');
}

function sleepHost(s: Sim, id: number): void {
  const k = s.tasks[id]!;
  if (k.state === 'run') {
    setState(s, k, 'sleep');
    runOn(s, k.pcpu, undefined, 'S');
    fill(s);
  } else if (k.state === 'ready') {
    // A shortcut of the model (a real task sleeps only from a CPU): it leaves the runqueue.
    setState(s, k, 'sleep');
    s.rec?.hostDequeue?.(s.now[0]!, id);
  }
}

/** Thread i's vCPU thread sleeps on the host (after the guest switched to idle). */
function block(s: Sim, i: number): void {
  const th = s.threads[i]!;
  const polling = th.state === 'poll';
  th.state = 'block';
  s.pieces.set(i, Infinity);
  if (s.tasks[i]!.state === 'run' && !polling) s.rec?.guestSwitch(s.now[0]!, i, i, 'S', -1);
  sleepHost(s, i);
}

/** Thread i stops (blocks or idles): the guest switches to idle and the vCPU halts. */
function halt(s: Sim, i: number): void {
  const k = s.tasks[i]!;
  // Polling only while nothing else is runnable on the pCPU (single_task_running()).
  if (
    s.haltPollNs > 0 &&
    k.state === 'run' &&
    s.readyAnywhere === 0 &&
    (k.aff < 0 ? s.readyCount === 0 : s.readyOn[k.aff] === 0)
  ) {
    s.rec?.guestSwitch(s.now[0]!, i, i, 'S', -1);
    setPiece(s, i, 'poll', s.haltPollNs);
  } else block(s, i);
}

/** Thread i starts waiting at the barrier by spinning, for at most `budget` ns. */
function startSpin(s: Sim, i: number, budget: number): void {
  s.threads[i]!.spinLeft = budget;
  nextSpinPiece(s, i);
}

/** The spin up to the next PLE exit (or the whole budget without PLE). */
function nextSpinPiece(s: Sim, i: number): void {
  const th = s.threads[i]!;
  const piece = !s.hasPle
    ? th.spinLeft
    : Math.min(th.spinLeft, Math.max(1, Math.round(s.pleWindow[i]! / s.pleGHz)));
  th.spinPiece = piece;
  setPiece(s, i, 'spin', piece);
}

/**
 * A PLE exit of vCPU v: grow its window and yield to a preempted vCPU of the VM, round robin
 * after the last one boosted (kvm_vcpu_on_spin -> yield_to).
 */
function pleExit(s: Sim, v: number): void {
  s.pleExits++;
  s.pleWindow[v] = Math.min(s.pleWindow[v]! * s.pleGrow, s.pleMaxCycles);
  for (let step = 1; step <= s.c.vcpus; step++) {
    const u = (s.lastBoosted + step + s.c.vcpus) % s.c.vcpus;
    const k = s.tasks[u]!;
    if (u === v || k.state !== 'ready' || !k.preempted) continue;
    const mine = s.tasks[v]!.pcpu;
    const p = k.aff >= 0 ? k.aff : mine;
    const cur = s.pcpu[p]!;
    if (cur < 0) continue;
    if (p !== mine && k.vruntime > vruntimeOf(s, s.tasks[cur]!) + s.c.wakeupGranNs) continue;
    s.lastBoosted = u;
    s.pleYields++;
    // On the spinner's own pCPU the boosted vCPU is only the next buddy: CFS runs it unless it
    // is more than a wakeup granularity ahead of the leftmost ready task, which runs instead
    // (the yielder is skipped). Without that, spinners that boost each other keep the pCPU
    // between them for ever while the vCPU they wait for never runs.
    const left = p === mine ? leastReady(s, p) : undefined;
    preempt(
      s,
      p,
      left !== undefined && k.vruntime > left.vruntime + s.c.wakeupGranNs ? left : k,
      'R',
    );
    return;
  }
}

function startWork(s: Sim, i: number): void {
  return setPiece(s, i, 'work', work(s));
}

/**
 * What the host shares with pvsched: vCPU v is preempted (ready, not running), or, with
 * per-pCPU runqueues, another task is runnable on its pCPU (it will be preempted within a slice).
 */
function contended(s: Sim, v: number): boolean {
  const k = s.tasks[v]!;
  if (k.state === 'ready') return true;
  if (k.aff < 0) return false;
  for (let h = s.c.vcpus; h < s.nTasks; h++)
    if (s.tasks[h]!.aff === k.aff && s.tasks[h]!.state !== 'sleep') return true;
  return false;
}

/** The next region's team: pvsched drops as many threads as vCPUs are preempted now. */
function chooseTeam(s: Sim, master: number): void {
  let size = s.c.dop === 'fixed' ? s.fixedSize : s.c.threads;
  if (s.c.dop === 'pvsched') {
    let preempted = 0;
    for (let v = 0; v < s.c.threads; v++) if (contended(s, v)) preempted++;
    size = Math.max(1, s.c.threads - preempted);
  }
  setTeam(s, size);
  s.teams.push(size);
  // Members: the master, then threads on uncontended vCPUs, then the rest, by index.
  s.inTeam.fill(0);
  s.inTeam[master] = 1;
  let n = 1;
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < s.c.threads && n < size; j++) {
      if (s.inTeam[j] === 1) continue;
      if (pass === 0 && (s.tasks[j]!.state !== 'run' || contended(s, j))) continue;
      s.inTeam[j] = 1;
      n++;
    }
  }
}

/** Thread i completed its piece of the region at t (its vCPU running). */
function arrive(s: Sim, i: number): void {
  s.arrived++;
  if (s.arrived < s.team) {
    if (s.c.policy === 'block') halt(s, i);
    else startSpin(s, i, s.c.policy === 'spin' ? Infinity : s.c.spinNs);
    return;
  }
  // The last arrival completes the barrier.
  s.arrived = 0;
  s.regions++;
  const th = s.threads[i]!;
  if (s.regions >= s.c.barriers) {
    s.done = true;
    return;
  }
  chooseTeam(s, i);
  for (let j = 0; j < s.c.threads; j++) {
    if (j === i) continue;
    const o = s.threads[j]!;
    if (s.inTeam[j] === 1) {
      if (o.state === 'spin') startWork(s, j);
      else if (o.state === 'block' || o.state === 'poll') th.toWake[th.wakeEnd++] = j;
    } else if (o.state !== 'block' && o.state !== 'poll') halt(s, j);
  }
  if (th.wakeEnd > 0) setPiece(s, i, 'waking', s.c.wakeCostNs);
  else startWork(s, i);
}

/** Thread v's piece ended at t (its vCPU running). */
function pieceEnded(s: Sim, v: number): void {
  const th = s.threads[v]!;
  s.guestEvents++;
  switch (th.state) {
    case 'work':
      arrive(s, v);
      break;
    case 'spin':
      th.spinLeft -= th.spinPiece;
      if (th.spinLeft <= 0)
        halt(s, v); // spin-then-block: spun long enough
      else {
        pleExit(s, v);
        nextSpinPiece(s, v);
      }
      break;
    case 'poll':
      block(s, v); // polled long enough: the vCPU thread sleeps
      break;
    case 'resume':
      switchIn(s, v);
      startWork(s, v);
      break;
    case 'waking': {
      const j = th.toWake[th.wakeNext++]!;
      s.rec?.guestWakeup(s.now[0]!, v, v, j, j);
      if (s.threads[j]!.state === 'poll') s.pollHits++;
      else {
        s.ipiAt[s.ipiLen] = s.now[0]! + s.c.ipiNs;
        s.ipiVcpu[s.ipiLen++] = j;
      }
      setPiece(s, j, 'resume', s.c.resumeCostNs);
      // A woken thread is switched in before its return from the wait runs (as a kernel
      // does): at once if its vCPU runs, else when the host runs it (runOn).
      if (s.rec !== null) {
        s.switchPending[j] = 1;
        if (s.tasks[j]!.state === 'run') switchIn(s, j);
      }
      if (th.wakeNext < th.wakeEnd) setPiece(s, v, 'waking', s.c.wakeCostNs);
      else {
        th.wakeNext = th.wakeEnd = 0;
        startWork(s, v);
      }
      break;
    }
  }
}

/** The oracle DoP: the best fixed team size in hindsight (one run per size). */
export function simulateOracle(c: SimConfig): SimResult & { bestDop: number } {
  let best: (SimResult & { bestDop: number }) | undefined;
  for (let d = 1; d <= c.threads; d++) {
    const r = simulate({ ...c, dop: 'fixed', fixedDop: d });
    if (best === undefined || r.wallNs < best.wallNs) best = { ...r, bestDop: d };
  }
  return best!;
}

let primed = false;

/**
 * Runs a few tiny simulations, once per process, that take every branch the what-if's runs take
 * (each wait policy, per-pCPU queues with a co-runner, VMM sleeps, times past 2^31 ns) before any
 * of them is hot. V8 optimises a step with the type feedback it has seen so far: a step optimised
 * during the first blocking runs met its spinning branch later with no feedback there, threw its
 * code away and was compiled again ("insufficient type feedback"), each time with the steps
 * inlined into it. These runs took 15-36 ms cold on a loaded two-core machine (2026-12-07; with
 * host-fit.ts primeHostFit's recorded runs 13-51 ms more), most of it the steps' first compile,
 * which the what-if's first run would pay anyway. Measured on the cold what-if, priming included:
 * the one-shape objects with the first six primings took 0.82x the main-thread CPU over the ten lab
 * pairs; the primings added after them (zero costs, spare pCPUs, the recorder) 0.66x
 * (noisy-active-tsc) to 0.91x (quiet-passive-tsc) of that again.
 */
export function primeSimulator(): void {
  if (primed) return;
  primed = true;
  const vmmSleeps = { runNs: [4e8 + 0.5, 9e8], sleepNs: [2e7, 5e7 + 0.5] };
  for (const policy of ['block', 'spin', 'spin-then-block'] as const)
    for (const vmm of [false, true]) simulate(primingConfig(policy, vmm ? { vmmSleeps } : {}));
  // A blocking run with free wakes and resumes (the what-if's blocking runs have no resume cost):
  // its zero-length pieces end at the time they are set, the runs' late-due path.
  simulate(primingConfig('block', { resumeCostNs: 0, wakeCostNs: 0, imbalance: 0 }));
  // More pCPUs than tasks: a woken task whose own queue's pCPU is busy moves to an idle one.
  simulate(primingConfig('block', { pcpus: 4, vcpus: 4, threads: 4 }));
}

/**
 * A tiny run of `policy` (3 threads on 2 pCPUs and a co-runner, times past 2^31 ns) for the
 * primings (primeSimulator, host-fit.ts primeHostFit), `extra` over it.
 */
export function primingConfig(policy: WaitPolicy, extra: Partial<SimConfig>): SimConfig {
  return {
    pcpus: 2,
    vcpus: 3,
    threads: 3,
    barriers: 4,
    workNs: 1.2e9 + 0.5,
    imbalance: 0.1,
    barrierNs: 1e5 + 0.5,
    policy,
    dop: 'fixed',
    spinNs: policy === 'spin-then-block' ? 3e8 + 0.5 : 0,
    hogs: 1,
    runqueues: 'per-cpu',
    hogOnNs: 0,
    hogOffNs: 0,
    latencyNs: 1e9 + 0.5,
    minSliceNs: 5e8 + 0.5,
    wakeupGranNs: 1e6 + 0.5,
    wakeCostNs: 5e3 + 0.5,
    resumeCostNs: 5e3 + 0.5,
    ipiNs: 2e4 + 0.5,
    seed: 7,
    ...extra,
  };
}
