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
  const rand = mulberry32(c.seed);
  const nTasks = c.vcpus + c.hogs;
  /** Per-pCPU runqueues whose tasks migrate (`aff` is then the queue a task is on). */
  const movable = c.pin !== true && c.runqueues === 'per-cpu';
  const periodic = c.hogOnNs > 0 && c.hogOffNs > 0;
  const tasks: HostTask[] = Array.from({ length: nTasks }, (_, id) => ({
    id,
    state: 'ready',
    pcpu: -1,
    vruntime: 0,
    runSince: 0,
    readySince: 0,
    periodEnd: Infinity,
    preempted: false,
    aff:
      c.pin === true
        ? id < c.vcpus
          ? id % c.pcpus
          : Math.floor(((id - c.vcpus) * c.pcpus) / Math.max(1, c.hogs))
        : movable
          ? id % c.pcpus
          : -1,
  }));
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
  let lateDue: boolean;
  const setDue = (i: number, time: number): void => {
    pieces.set(i, time);
    if (time <= now[0]!) lateDue = true;
  };
  const fixedSize = Math.max(1, Math.min(c.threads, c.fixedDop ?? c.threads));
  let team = c.dop === 'fixed' ? fixedSize : c.threads;
  const teams: number[] = [];
  const barrierNs = c.barrierNs ?? 0;
  /** A team member's share of a region's work, and the barrier's cost (set with the team). */
  let share = 0;
  let barrierCost = 0;
  const setTeam = (size: number): void => {
    team = size;
    share = (c.workNs * c.threads) / size;
    barrierCost = size > 1 ? barrierNs : 0;
  };
  setTeam(team);
  const work = (): number =>
    Math.max(1, Math.round(share * (1 + c.imbalance * (2 * rand() - 1)) + barrierCost));
  const threads: GuestThread[] = Array.from({ length: c.threads }, () => ({
    state: 'work',
    left: 0,
    spinLeft: 0,
    spinPiece: 0,
    toWake: new Int32Array(c.threads),
    wakeNext: 0,
    wakeEnd: 0,
  }));
  const haltPollNs = c.haltPollNs ?? 0;
  const vmm =
    c.vmmSleeps !== undefined && c.vmmSleeps.runNs.length > 0 && c.vmmSleeps.sleepNs.length > 0
      ? c.vmmSleeps
      : undefined;
  /** VMM sleeps: their own draws (the rest of the run draws as without them). */
  const vmmRand = mulberry32((c.seed ^ 0x5bd1e995) >>> 0);
  const vmmDraw = (xs: readonly number[]): number =>
    Math.max(1, Math.round(xs[Math.min(xs.length - 1, Math.floor(vmmRand() * xs.length))]!));
  /** Per thread: when its running vCPU next sleeps in the VMM, or, while it sleeps there, wakes. */
  const vmmTimers = new TimerHeap(c.threads);
  /** Host CPU left before the next VMM sleep, while the vCPU is not running. */
  const vmmLeft = Float64Array.from({ length: c.threads }, () =>
    vmm !== undefined ? vmmDraw(vmm.runNs) : Infinity,
  );
  const inVmm = new Uint8Array(c.threads);
  let vmmSleepCount = 0;
  const ple = c.ple;
  /** Each vCPU's current PLE window, cycles. */
  const pleWindow = new Float64Array(c.vcpus).fill(ple?.windowCycles ?? 0);
  let lastBoosted = -1;
  let pleExits = 0;
  let pleYields = 0;
  let pollHits = 0;
  for (const th of threads) th.left = work();
  // Threads beyond the first team wait asleep (their vCPUs halted).
  for (let i = team; i < c.threads; i++) {
    threads[i]!.state = 'block';
    tasks[i]!.state = 'sleep';
  }
  teams.push(team);
  // vCPUs with no program thread are idle: their host threads sleep from the start.
  for (let v = c.threads; v < c.vcpus; v++) tasks[v]!.state = 'sleep';
  // Periodic hogs start in a random phase of their cycle.
  if (periodic) {
    for (let h = c.vcpus; h < nTasks; h++) {
      const phase = rand() * (c.hogOnNs + c.hogOffNs);
      if (phase < c.hogOnNs) tasks[h]!.periodEnd = Math.round(c.hogOnNs - phase);
      else {
        tasks[h]!.state = 'sleep';
        tasks[h]!.periodEnd = Math.round(c.hogOnNs + c.hogOffNs - phase);
      }
    }
  }
  const waitNs = new Array<number>(c.vcpus).fill(0);
  const preemptedNs = new Array<number>(c.vcpus).fill(0);
  const preemptions = new Array<number>(c.vcpus).fill(0);
  const inTeam = Uint8Array.from({ length: c.threads }, (_, i) => (i < team ? 1 : 0));
  let arrived = 0;
  let regions = 0;
  let done = false;
  let hostEvents = 0;
  let guestEvents = 0;
  /**
   * The current time, ns. In a typed array, not a variable the closures share: a number past 2^30
   * kept in a closure's variable is a new heap object at every write (one per event, all garbage).
   */
  const now = new Float64Array(1);
  /**
   * Pending IPIs, a queue in time order: each is sent at the current time plus the constant
   * `ipiNs`, so the earliest is at the head (no scan, no per-IPI allocation).
   */
  const ipiAt: number[] = [];
  const ipiVcpu: number[] = [];
  let ipiHead = 0;

  let runnableCount = 0;
  /** Ready tasks (runnable, not on a pCPU): when none, there is nothing to pick. */
  let readyCount = 0;
  const countRunnable = (): void => {
    runnableCount = 0;
    readyCount = 0;
    for (const k of tasks) {
      if (k.state !== 'sleep') runnableCount++;
      if (k.state !== 'ready') continue;
      readyCount++;
      if (k.aff >= 0) readyOn[k.aff]!++;
      else readyAnywhere++;
    }
    startable = 0;
    for (let p = 0; p < c.pcpus; p++) startable += startableOn(p);
  };
  /** A thread consumes its piece while its vCPU runs and it is not blocked or done. */
  const active = (th: GuestThread): boolean => th.state !== 'block' && th.state !== 'done';
  /** Sets thread i's piece (its vCPU may be running: then the piece ends at t + left). */
  const setPiece = (i: number, state: GuestState, left: number): void => {
    const th = threads[i]!;
    th.state = state;
    th.left = left;
    setDue(i, tasks[i]!.state === 'run' && active(th) ? now[0]! + left : Infinity);
  };
  /**
   * Every state change goes through here, keeping the counts and accounting time lazily (all
   * times are integer ns, so differences of absolute times are exactly the sums of the steps).
   */
  const setState = (k: HostTask, st: HostTask['state']): void => {
    if (k.state === st) return;
    const id = k.id;
    if (k.state === 'run') {
      k.vruntime += now[0]! - k.runSince;
      if (id < c.threads) {
        if (dueAt[id]! !== Infinity) threads[id]!.left = dueAt[id]! - now[0]!;
        pieces.set(id, Infinity);
        if (vmm !== undefined && vmmTimers.at[id]! !== Infinity) {
          vmmLeft[id] = vmmTimers.at[id]! - now[0]!;
          vmmTimers.set(id, Infinity);
        }
      }
    } else if (k.state === 'ready') {
      readyCount--;
      if (k.aff >= 0) {
        startable -= startableOn(k.aff);
        readyOn[k.aff]!--;
        startable += startableOn(k.aff);
      } else readyAnywhere--;
      if (id < c.vcpus) {
        waitNs[id]! += now[0]! - k.readySince;
        if (k.preempted) preemptedNs[id]! += now[0]! - k.readySince;
      }
    }
    if (st === 'run') {
      k.runSince = now[0]!;
      if (ple !== undefined && id < c.vcpus) pleWindow[id] = ple.windowCycles;
      if (id < c.threads && active(threads[id]!)) setDue(id, now[0]! + threads[id]!.left);
      if (vmm !== undefined && id < c.threads) {
        inVmm[id] = 0;
        vmmTimers.set(id, active(threads[id]!) ? now[0]! + vmmLeft[id]! : Infinity);
      }
    } else if (st === 'ready') {
      readyCount++;
      if (k.aff >= 0) {
        startable -= startableOn(k.aff);
        readyOn[k.aff]!++;
        startable += startableOn(k.aff);
      } else readyAnywhere++;
      k.readySince = now[0]!;
    }
    if (k.state === 'sleep') runnableCount++;
    if (st === 'sleep') runnableCount--;
    k.state = st;
  };
  /** Virtual runtime now. */
  const vruntimeOf = (k: HostTask): number =>
    k.state === 'run' ? k.vruntime + (now[0]! - k.runSince) : k.vruntime;
  /** Ready tasks that may run on each pCPU, by affinity: pinned there, or anywhere. */
  const pinnedOn: number[][] = Array.from({ length: c.pcpus }, () => []);
  const unpinned: number[] = [];
  for (const k of tasks) (k.aff >= 0 ? pinnedOn[k.aff]! : unpinned).push(k.id);
  const readyOn = new Int32Array(c.pcpus);
  let readyAnywhere = 0;
  /** pCPUs that are idle with a pinned task ready for them: when none (and none unpinned), fill has nothing to do. */
  let startable = 0;
  const startableOn = (p: number): number => (readyOn[p]! > 0 && pcpu[p] === -1 ? 1 : 0);
  const setPcpu = (p: number, id: number): void => {
    startable -= startableOn(p);
    pcpu[p] = id;
    startable += startableOn(p);
  };
  /** Per-pCPU runqueues: task k now queues on pCPU p (a wakeup or an idle pCPU's pull). */
  const moveTo = (k: HostTask, p: number): void => {
    const from = k.aff;
    if (from === p) return;
    const list = pinnedOn[from]!;
    list.splice(list.indexOf(k.id), 1);
    pinnedOn[p]!.push(k.id);
    if (k.state === 'ready') {
      startable -= startableOn(from) + startableOn(p);
      readyOn[from]!--;
      readyOn[p]!++;
      startable += startableOn(from) + startableOn(p);
    }
    k.aff = p;
  };
  /**
   * Per-pCPU runqueues: a task preempted at the end of its slice on pCPU p queues on the pCPU with
   * the fewest ready tasks when that is fewer than p's (the kernel's periodic load balancing, in
   * its effect: three tasks on two pCPUs rotate and each gets two thirds of one, rather than one
   * keeping a pCPU to itself while two share the other).
   */
  const rebalance = (k: HostTask, p: number): void => {
    let q = -1;
    for (let r = 0; r < c.pcpus; r++) if (r !== p && (q < 0 || readyOn[r]! < readyOn[q]!)) q = r;
    // readyOn[p] counts k: it moves only where fewer wait than with it here.
    if (q >= 0 && readyOn[q]! < readyOn[p]!) moveTo(k, q);
  };
  /** A runnable task whose vruntime was within reach last time: its vruntime bounds the least from above. */
  let minHint = 0;
  /**
   * Sleeper credit: a woken task is put at most half a latency behind the least vruntime of the
   * runnable tasks. When some runnable task's vruntime (an upper bound of the least) is already
   * within that of it, nothing changes: the hint is tried first, and the search over the tasks
   * stops at the first such task, so only a task that is really behind costs the whole pass
   * (most wakes in a blocking run found the hint asleep and searched every task).
   */
  const creditSleeper = (k: HostTask): void => {
    const reach = k.vruntime + c.latencyNs / 2;
    const hint = tasks[minHint]!;
    // vruntimeOf written out here and below: this runs for every wake, and a call that is not
    // inlined returns its number boxed (a heap allocation per call).
    const tNow = now[0]!;
    if (
      hint.state !== 'sleep' &&
      reach >= (hint.state === 'run' ? hint.vruntime + (tNow - hint.runSince) : hint.vruntime)
    )
      return;
    let m = Infinity;
    for (let q = 0; q < tasks.length; q++) {
      const o = tasks[q]!;
      if (o.state === 'sleep') continue;
      const v = o.state === 'run' ? o.vruntime + (tNow - o.runSince) : o.vruntime;
      if (v <= reach) {
        minHint = q;
        return;
      }
      if (v < m) m = v;
    }
    k.vruntime = Math.max(k.vruntime, (m === Infinity ? 0 : m) - c.latencyNs / 2);
  };
  /** The time slice for each count of runnable tasks (a division per pick otherwise). */
  const sliceFor = Float64Array.from({ length: nTasks + 1 }, (_, n) =>
    Math.max(c.minSliceNs, Math.round((c.latencyNs * c.pcpus) / Math.max(1, n))),
  );
  const slice = (): number => sliceFor[runnableCount]!;
  /**
   * The slice a task starts: with per-pCPU runqueues, from half to one and a half slices (a
   * kernel ends a slice at the first tick after it expired, or earlier on a wakeup or a yield),
   * so each pCPU's phase drifts and the pCPUs meet in every relative phase over a run.
   */
  const nextSlice = (): number =>
    movable ? Math.max(1, Math.round(slice() * (0.5 + rand()))) : slice();
  /** The ready task with the least vruntime that may run on pCPU p (ties: the lowest id). */
  const leastReady = (p: number): HostTask | undefined => {
    let best: HostTask | undefined;
    // The pinned tasks, then the unpinned: no closure per call (this runs for every pick).
    for (let pass = 0; pass < 2; pass++) {
      if (pass === 0 ? readyOn[p]! === 0 : readyAnywhere === 0) continue;
      const ids = pass === 0 ? pinnedOn[p]! : unpinned;
      for (let q = 0; q < ids.length; q++) {
        const k = tasks[ids[q]!]!;
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
  };
  /** Recording: the guest switch-in of a woken thread not yet written (its vCPU did not run). */
  const switchPending = new Uint8Array(c.threads);
  const switchIn = (v: number): void => {
    if (switchPending[v] === 0) return;
    switchPending[v] = 0;
    rec?.guestSwitch(now[0]!, v, -1, 'R', v);
  };
  const runOn = (p: number, k: HostTask | undefined, prevState: 'R' | 'R+' | 'S'): void => {
    const prev = pcpu[p]!;
    if (k !== undefined) {
      setState(k, 'run');
      if (k.pcpu >= 0 && k.pcpu !== p) {
        hostEvents++;
        rec?.hostMigrate?.(now[0]!, k.id, k.pcpu, p);
      }
      k.pcpu = p;
      slices.set(p, now[0]! + nextSlice());
      setPcpu(p, k.id);
    } else {
      setPcpu(p, -1);
      slices.set(p, Infinity);
    }
    hostEvents++;
    rec?.hostSwitch(now[0]!, p, prev, prevState, k?.id ?? -1);
    if (k !== undefined && k.id < c.threads) switchIn(k.id);
  };
  const fill = (): void => {
    if (readyCount === 0) return;
    if (readyAnywhere === 0 && startable === 0) {
      if (movable) pull();
      return;
    }
    for (let p = 0; p < c.pcpus && readyCount > 0; p++) {
      if (pcpu[p] !== -1 || (readyOn[p] === 0 && readyAnywhere === 0)) continue;
      const best = leastReady(p);
      if (best !== undefined) runOn(p, best, 'S');
    }
    if (movable) pull();
  };
  /**
   * Per-pCPU runqueues: an idle pCPU with nothing queued pulls the least-vruntime ready task
   * queued on another (the kernel's idle balancing).
   */
  const pull = (): void => {
    for (let p = 0; p < c.pcpus && readyCount > 0; p++) {
      if (pcpu[p] !== -1) continue;
      let best: HostTask | undefined;
      for (let q = 0; q < nTasks; q++) {
        const k = tasks[q]!;
        if (k.state === 'ready' && (best === undefined || k.vruntime < best.vruntime)) best = k;
      }
      if (best === undefined) return;
      moveTo(best, p);
      runOn(p, best, 'S');
    }
  };
  const preempt = (p: number, next: HostTask, state: 'R' | 'R+'): void => {
    const cur = tasks[pcpu[p]!]!;
    setState(cur, 'ready');
    cur.preempted = true;
    if (cur.id < c.vcpus) preemptions[cur.id]!++;
    runOn(p, next, state);
  };
  const wakeHost = (id: number): void => {
    const k = tasks[id]!;
    if (k.state !== 'sleep') return;
    creditSleeper(k);
    if (movable && pcpu[k.aff] !== -1) {
      const idle = pcpu.indexOf(-1);
      if (idle >= 0) moveTo(k, idle);
    }
    setState(k, 'ready');
    k.preempted = false;
    const idle = k.aff >= 0 ? (pcpu[k.aff] === -1 ? k.aff : -1) : pcpu.indexOf(-1);
    const target = idle >= 0 ? idle : k.aff >= 0 ? k.aff : Math.max(0, k.pcpu);
    hostEvents++;
    rec?.hostWakeup(now[0]!, target, id, target);
    if (idle >= 0) {
      runOn(idle, k, 'S');
      return;
    }
    // A vCPU polling in halt stops as soon as another task is runnable on its pCPU (KVM polls
    // only while single_task_running()): its thread sleeps and the pCPU goes to the ready tasks.
    if (haltPollNs > 0) {
      for (let p = Math.max(0, k.aff), last = k.aff >= 0 ? k.aff : c.pcpus - 1; p <= last; p++) {
        const cur = pcpu[p]!;
        if (cur >= 0 && cur < c.threads && threads[cur]!.state === 'poll') {
          block(cur);
          if (tasks[id]!.state !== 'ready') return; // fill gave it the pCPU
        }
      }
    }
    // Wakeup preemption: the running task furthest ahead in vruntime, if far enough.
    let victim = -1;
    let victimVruntime = 0;
    for (let p = Math.max(0, k.aff), last = k.aff >= 0 ? k.aff : c.pcpus - 1; p <= last; p++) {
      const o = tasks[pcpu[p]!]!;
      const vr = o.state === 'run' ? o.vruntime + (now[0]! - o.runSince) : o.vruntime;
      if (vr > k.vruntime + c.wakeupGranNs && (victim < 0 || vr > victimVruntime)) {
        victim = p;
        victimVruntime = vr;
      }
    }
    if (victim >= 0) preempt(victim, k, 'R+');
  };
  const sleepHost = (id: number): void => {
    const k = tasks[id]!;
    if (k.state === 'run') {
      setState(k, 'sleep');
      runOn(k.pcpu, undefined, 'S');
      fill();
    } else if (k.state === 'ready') {
      // A shortcut of the model (a real task sleeps only from a CPU): it leaves the runqueue.
      setState(k, 'sleep');
      rec?.hostDequeue?.(now[0]!, id);
    }
  };

  /** Thread i's vCPU thread sleeps on the host (after the guest switched to idle). */
  const block = (i: number): void => {
    const th = threads[i]!;
    const polling = th.state === 'poll';
    th.state = 'block';
    pieces.set(i, Infinity);
    if (tasks[i]!.state === 'run' && !polling) rec?.guestSwitch(now[0]!, i, i, 'S', -1);
    sleepHost(i);
  };
  /** Thread i stops (blocks or idles): the guest switches to idle and the vCPU halts. */
  const halt = (i: number): void => {
    const k = tasks[i]!;
    // Polling only while nothing else is runnable on the pCPU (single_task_running()).
    if (
      haltPollNs > 0 &&
      k.state === 'run' &&
      readyAnywhere === 0 &&
      (k.aff < 0 ? readyCount === 0 : readyOn[k.aff] === 0)
    ) {
      rec?.guestSwitch(now[0]!, i, i, 'S', -1);
      setPiece(i, 'poll', haltPollNs);
    } else block(i);
  };
  /** Thread i starts waiting at the barrier by spinning, for at most `budget` ns. */
  const startSpin = (i: number, budget: number): void => {
    threads[i]!.spinLeft = budget;
    nextSpinPiece(i);
  };
  /** The spin up to the next PLE exit (or the whole budget without PLE). */
  const nextSpinPiece = (i: number): void => {
    const th = threads[i]!;
    const piece =
      ple === undefined
        ? th.spinLeft
        : Math.min(th.spinLeft, Math.max(1, Math.round(pleWindow[i]! / ple.cpuGHz)));
    th.spinPiece = piece;
    setPiece(i, 'spin', piece);
  };
  /**
   * A PLE exit of vCPU v: grow its window and yield to a preempted vCPU of the VM, round robin
   * after the last one boosted (kvm_vcpu_on_spin -> yield_to).
   */
  const pleExit = (v: number): void => {
    pleExits++;
    pleWindow[v] = Math.min(pleWindow[v]! * ple!.grow, ple!.maxCycles);
    for (let step = 1; step <= c.vcpus; step++) {
      const u = (lastBoosted + step + c.vcpus) % c.vcpus;
      const k = tasks[u]!;
      if (u === v || k.state !== 'ready' || !k.preempted) continue;
      const mine = tasks[v]!.pcpu;
      const p = k.aff >= 0 ? k.aff : mine;
      const cur = pcpu[p]!;
      if (cur < 0) continue;
      if (p !== mine && k.vruntime > vruntimeOf(tasks[cur]!) + c.wakeupGranNs) continue;
      lastBoosted = u;
      pleYields++;
      // On the spinner's own pCPU the boosted vCPU is only the next buddy: CFS runs it unless it
      // is more than a wakeup granularity ahead of the leftmost ready task, which runs instead
      // (the yielder is skipped). Without that, spinners that boost each other keep the pCPU
      // between them for ever while the vCPU they wait for never runs.
      const left = p === mine ? leastReady(p) : undefined;
      preempt(p, left !== undefined && k.vruntime > left.vruntime + c.wakeupGranNs ? left : k, 'R');
      return;
    }
  };
  const startWork = (i: number): void => setPiece(i, 'work', work());
  /**
   * What the host shares with pvsched: vCPU v is preempted (ready, not running), or, with
   * per-pCPU runqueues, another task is runnable on its pCPU (it will be preempted within a slice).
   */
  const contended = (v: number): boolean => {
    const k = tasks[v]!;
    if (k.state === 'ready') return true;
    if (k.aff < 0) return false;
    for (let h = c.vcpus; h < nTasks; h++)
      if (tasks[h]!.aff === k.aff && tasks[h]!.state !== 'sleep') return true;
    return false;
  };
  /** The next region's team: pvsched drops as many threads as vCPUs are preempted now. */
  const chooseTeam = (master: number): void => {
    let size = c.dop === 'fixed' ? fixedSize : c.threads;
    if (c.dop === 'pvsched') {
      let preempted = 0;
      for (let v = 0; v < c.threads; v++) if (contended(v)) preempted++;
      size = Math.max(1, c.threads - preempted);
    }
    setTeam(size);
    teams.push(size);
    // Members: the master, then threads on uncontended vCPUs, then the rest, by index.
    inTeam.fill(0);
    inTeam[master] = 1;
    let n = 1;
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < c.threads && n < size; j++) {
        if (inTeam[j] === 1) continue;
        if (pass === 0 && (tasks[j]!.state !== 'run' || contended(j))) continue;
        inTeam[j] = 1;
        n++;
      }
    }
  };
  /** Thread i completed its piece of the region at t (its vCPU running). */
  const arrive = (i: number): void => {
    arrived++;
    if (arrived < team) {
      if (c.policy === 'block') halt(i);
      else startSpin(i, c.policy === 'spin' ? Infinity : c.spinNs);
      return;
    }
    // The last arrival completes the barrier.
    arrived = 0;
    regions++;
    const th = threads[i]!;
    if (regions >= c.barriers) {
      done = true;
      return;
    }
    chooseTeam(i);
    for (let j = 0; j < c.threads; j++) {
      if (j === i) continue;
      const o = threads[j]!;
      if (inTeam[j] === 1) {
        if (o.state === 'spin') startWork(j);
        else if (o.state === 'block' || o.state === 'poll') th.toWake[th.wakeEnd++] = j;
      } else if (o.state !== 'block' && o.state !== 'poll') halt(j);
    }
    if (th.wakeEnd > 0) setPiece(i, 'waking', c.wakeCostNs);
    else startWork(i);
  };

  /** Thread v's piece ended at t (its vCPU running). */
  const pieceEnded = (v: number): void => {
    const th = threads[v]!;
    guestEvents++;
    switch (th.state) {
      case 'work':
        arrive(v);
        break;
      case 'spin':
        th.spinLeft -= th.spinPiece;
        if (th.spinLeft <= 0)
          halt(v); // spin-then-block: spun long enough
        else {
          pleExit(v);
          nextSpinPiece(v);
        }
        break;
      case 'poll':
        block(v); // polled long enough: the vCPU thread sleeps
        break;
      case 'resume':
        switchIn(v);
        startWork(v);
        break;
      case 'waking': {
        const j = th.toWake[th.wakeNext++]!;
        rec?.guestWakeup(now[0]!, v, v, j, j);
        if (threads[j]!.state === 'poll') pollHits++;
        else {
          ipiAt.push(now[0]! + c.ipiNs);
          ipiVcpu.push(j);
        }
        setPiece(j, 'resume', c.resumeCostNs);
        // A woken thread is switched in before its return from the wait runs (as a kernel
        // does): at once if its vCPU runs, else when the host runs it (runOn).
        if (rec !== undefined) {
          switchPending[j] = 1;
          if (tasks[j]!.state === 'run') switchIn(j);
        }
        if (th.wakeNext < th.wakeEnd) setPiece(v, 'waking', c.wakeCostNs);
        else {
          th.wakeNext = th.wakeEnd = 0;
          startWork(v);
        }
        break;
      }
    }
  };
  const dueList = new Int32Array(c.threads);
  const sliceList = new Int32Array(c.pcpus);
  const vmmList = new Int32Array(c.threads);
  countRunnable();
  fill();
  // Per-pCPU runqueues: each pCPU's slices in their own phase.
  if (movable)
    for (let p = 0; p < c.pcpus; p++)
      if (pcpu[p] !== -1) slices.set(p, Math.max(1, Math.round(rand() * slice())));
  const stepLimit = c.maxStepsPerBarrier ?? MAX_STEPS_PER_BARRIER;
  let steps = 0;
  let stepsFrom = 0;
  while (!done) {
    // A guard against a livelock in the model (tasks handing a pCPU back and forth while the
    // barrier waits on one that never runs): no input may hang the caller.
    if (++steps > stepLimit) {
      if (regions === stepsFrom)
        throw new Error(
          `simulation made no progress: ${formatCount(stepLimit)} events without a barrier completing (at ${formatDuration(now[0]!)} simulated, barrier ${formatCount(regions + 1)} of ${formatCount(c.barriers)}): a livelock in the model`,
        );
      steps = 0;
      stepsFrom = regions;
    }
    // The next event: a piece of guest work ends on a running vCPU, a slice ends while others
    // wait, an IPI lands, a periodic hog switches on or off.
    let next = pieces.min();
    if (periodic) for (let h = c.vcpus; h < nTasks; h++) next = Math.min(next, tasks[h]!.periodEnd);
    if (readyCount > 0) next = Math.min(next, slices.min());
    if (ipiHead < ipiAt.length) next = Math.min(next, ipiAt[ipiHead]!);
    if (vmm !== undefined) next = Math.min(next, vmmTimers.min());
    if (next === Infinity)
      throw new Error('simulation stalled: no runnable work and no pending wakeup');
    const t = next;
    now[0] = t;
    // IPIs that land now, the latest sent first (waking never sends one).
    let landed = ipiHead;
    while (landed < ipiAt.length && ipiAt[landed]! <= t) landed++;
    if (landed > ipiHead) {
      const first = ipiHead;
      ipiHead = landed;
      for (let q = landed - 1; q >= first; q--) wakeHost(ipiVcpu[q]!);
      if (ipiHead === ipiAt.length) {
        ipiAt.length = 0;
        ipiVcpu.length = 0;
        ipiHead = 0;
      }
    }
    if (periodic) {
      for (let h = c.vcpus; h < nTasks; h++) {
        const k = tasks[h]!;
        if (k.periodEnd > t) continue;
        if (k.state === 'sleep') {
          k.periodEnd = t + c.hogOnNs;
          wakeHost(h);
        } else {
          k.periodEnd = t + c.hogOffNs;
          sleepHost(h);
        }
      }
    }
    // Threads whose pieces end now, by index. Handling one can make another's piece end now
    // (zero-length pieces, a vCPU resumed mid-loop): from then on every later index is checked.
    const nDue = pieces.due(t, dueList);
    lateDue = false;
    let scanFrom = -1;
    for (let q = 0; q < nDue && !done; q++) {
      const v = dueList[q]!;
      if (dueAt[v]! > t) continue;
      pieceEnded(v);
      if (lateDue) {
        scanFrom = v + 1;
        break;
      }
    }
    if (scanFrom >= 0)
      for (let v = scanFrom; v < c.threads && !done; v++) if (dueAt[v]! <= t) pieceEnded(v);
    if (done) break;
    if (vmm !== undefined && vmmTimers.min() <= t) {
      const n = vmmTimers.due(t, vmmList);
      for (let q = 0; q < n; q++) {
        const v = vmmList[q]!;
        if (vmmTimers.at[v]! > t) continue;
        if (inVmm[v] === 1) {
          // Back from the VMM: woken, unless its guest halted meanwhile (then an IPI wakes it).
          inVmm[v] = 0;
          vmmTimers.set(v, Infinity);
          if (tasks[v]!.state === 'sleep' && active(threads[v]!)) wakeHost(v);
        } else if (tasks[v]!.state === 'run') {
          vmmSleepCount++;
          sleepHost(v);
          vmmLeft[v] = vmmDraw(vmm.runNs);
          inVmm[v] = 1;
          vmmTimers.set(v, t + vmmDraw(vmm.sleepNs));
        }
      }
    }
    // Slices that ended while others wait: the least-vruntime ready task takes the pCPU.
    const nSlices = slices.due(t, sliceList);
    for (let q = 0; q < nSlices; q++) {
      const p = sliceList[q]!;
      const best = readyCount > 0 ? leastReady(p) : undefined;
      const cur = tasks[pcpu[p]!]!;
      if (best !== undefined && best.vruntime < vruntimeOf(cur)) {
        preempt(p, best, 'R');
        if (movable) rebalance(cur, p);
      } else slices.set(p, t + nextSlice());
    }
    fill();
  }
  // The program ends: its threads exit and their vCPUs halt.
  for (let i = 0; i < c.threads; i++) {
    if (threads[i]!.state !== 'block') block(i);
    threads[i]!.state = 'done';
  }
  // Ready time still open at the end (vCPUs without program threads never are; kept exact anyway).
  for (let v = 0; v < c.vcpus; v++) {
    const k = tasks[v]!;
    if (k.state !== 'ready') continue;
    waitNs[v]! += now[0]! - k.readySince;
    if (k.preempted) preemptedNs[v]! += now[0]! - k.readySince;
  }
  return {
    wallNs: now[0]!,
    hostEvents,
    guestEvents,
    pleExits,
    pleYields,
    pollHits,
    vmmSleeps: vmmSleepCount,
    vcpuWaitNs: waitNs,
    vcpuPreemptedNs: preemptedNs,
    preemptions,
    teams,
  };
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
