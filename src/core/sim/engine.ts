// The dual-level scheduling simulator: a host with pCPUs and a fair scheduler (CFS-like: virtual
// runtime, a time slice, wakeup preemption with a granularity, sleeper credit) running vCPU
// threads and co-runners; inside the guest, an OpenMP-style program of N threads (thread i on
// vCPU i) doing steps of work separated by barriers, waiting by spinning, blocking, or spinning
// then blocking. A guest thread progresses only while its vCPU thread runs on the host. Blocking
// halts the vCPU (its host thread sleeps); the last arriver wakes the sleepers one by one (IPIs).
// Next-event simulation in integer ns; deterministic for a seed.

import { mulberry32 } from './rng';

export type WaitPolicy = 'spin' | 'block' | 'spin-then-block';

export interface SimConfig {
  pcpus: number;
  vcpus: number;
  /** Program threads (the DoP); at most vcpus. */
  threads: number;
  /** Barriers (steps of work) the program runs. */
  barriers: number;
  /** Mean CPU work per thread per step, ns; each step draws within ±imbalance of it. */
  workNs: number;
  imbalance: number;
  policy: WaitPolicy;
  /** Spin before blocking (spin-then-block), ns. */
  spinNs: number;
  /** Co-runners: host tasks always runnable (CPU hogs). */
  hogs: number;
  /** Host scheduler: target latency, minimum slice, wakeup granularity (ns). */
  latencyNs: number;
  minSliceNs: number;
  wakeupGranNs: number;
  /** Guest side costs (ns of vCPU time): waking one sleeper (waker side), resuming after a wake. */
  wakeCostNs: number;
  resumeCostNs: number;
  /** Delay of an IPI to a halted vCPU until its host thread is woken (ns). */
  ipiNs: number;
  seed: number;
}

export type HostState = 'run' | 'ready' | 'sleep';

/** What the simulator reports to a recorder (trace writers, ground truth). */
export interface SimRecorder {
  /** Host switch on `pcpu` at t: prev (or -1 idle) left in `prevState`, next (or -1 idle) runs. */
  hostSwitch(
    t: number,
    pcpu: number,
    prev: number,
    prevState: 'R' | 'R+' | 'S',
    next: number,
  ): void;
  hostWakeup(t: number, pcpu: number, task: number, targetPcpu: number): void;
  /** Guest switch on `vcpu` at host time t: `prevThread` (-1 idle) leaves with state, next (-1 idle). */
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
  state: HostState;
  pcpu: number;
  vruntime: number;
  sliceEnd: number;
}

type GuestState = 'work' | 'spin' | 'block' | 'resume' | 'waking' | 'done';

interface GuestThread {
  state: GuestState;
  /** Remaining vCPU time of the current work / spin / resume / waking, ns. */
  left: number;
  step: number;
  /** For the waker: sleepers still to wake. */
  toWake: number[];
}

export interface SimResult {
  wallNs: number;
  /** Host events processed (switches + wakeups), for speed reports. */
  hostEvents: number;
  /** Time each vCPU thread spent ready but not running (preempted or waiting), ns. */
  vcpuWaitNs: number[];
  preemptions: number[];
}

export function simulate(c: SimConfig, rec?: SimRecorder): SimResult {
  if (c.threads > c.vcpus) throw new RangeError(`threads (${c.threads}) > vcpus (${c.vcpus})`);
  const rand = mulberry32(c.seed);
  const work = (): number =>
    Math.max(1, Math.round(c.workNs * (1 + c.imbalance * (2 * rand() - 1))));
  const nTasks = c.vcpus + c.hogs;
  const tasks: HostTask[] = Array.from({ length: nTasks }, (_, id) => ({
    id,
    state: 'ready',
    pcpu: -1,
    vruntime: 0,
    sliceEnd: 0,
  }));
  const pcpu: number[] = Array.from({ length: c.pcpus }, () => -1);
  const threads: GuestThread[] = Array.from({ length: c.threads }, () => ({
    state: 'work',
    left: work(),
    step: 0,
    toWake: [],
  }));
  // vCPUs with no program thread are idle: their host threads sleep from the start.
  for (let v = c.threads; v < c.vcpus; v++) tasks[v]!.state = 'sleep';
  const waitNs = new Array<number>(c.vcpus).fill(0);
  const preemptions = new Array<number>(c.vcpus).fill(0);
  let arrived = 0;
  let finished = 0;
  let hostEvents = 0;
  let t = 0;
  // Pending IPIs: [time, vcpu].
  const ipis: [number, number][] = [];

  const ready = (): HostTask[] => tasks.filter((k) => k.state === 'ready');
  const minVruntime = (): number => {
    let m = Infinity;
    for (const k of tasks) if (k.state !== 'sleep') m = Math.min(m, k.vruntime);
    return m === Infinity ? 0 : m;
  };
  const slice = (): number => {
    let runnable = 0;
    for (const k of tasks) if (k.state !== 'sleep') runnable++;
    return Math.max(c.minSliceNs, Math.round((c.latencyNs * c.pcpus) / Math.max(1, runnable)));
  };
  const runOn = (p: number, k: HostTask | undefined, prevState: 'R' | 'R+' | 'S'): void => {
    const prev = pcpu[p]!;
    if (k !== undefined) {
      k.state = 'run';
      k.pcpu = p;
      k.sliceEnd = t + slice();
      pcpu[p] = k.id;
    } else pcpu[p] = -1;
    hostEvents++;
    rec?.hostSwitch(t, p, prev, prevState, k?.id ?? -1);
  };
  /** Fills idle pCPUs with the ready tasks of least vruntime. */
  const fill = (): void => {
    for (let p = 0; p < c.pcpus; p++) {
      if (pcpu[p] !== -1) continue;
      let best: HostTask | undefined;
      for (const k of tasks)
        if (k.state === 'ready' && (best === undefined || k.vruntime < best.vruntime)) best = k;
      if (best === undefined) return;
      runOn(p, best, 'S');
    }
  };
  const wakeHost = (id: number): void => {
    const k = tasks[id]!;
    if (k.state !== 'sleep') return;
    // Sleeper credit: at most half a latency behind the queue.
    k.vruntime = Math.max(k.vruntime, minVruntime() - c.latencyNs / 2);
    k.state = 'ready';
    const idle = pcpu.indexOf(-1);
    hostEvents++;
    rec?.hostWakeup(
      t,
      idle >= 0 ? idle : k.pcpu >= 0 ? k.pcpu : 0,
      id,
      idle >= 0 ? idle : Math.max(0, k.pcpu),
    );
    if (idle >= 0) return runOn(idle, k, 'S');
    // Wakeup preemption: the running task with the largest vruntime, if far enough ahead.
    let victim = -1;
    for (let p = 0; p < c.pcpus; p++) {
      const cur = tasks[pcpu[p]!]!;
      if (
        cur.vruntime > k.vruntime + c.wakeupGranNs &&
        (victim < 0 || cur.vruntime > tasks[pcpu[victim]!]!.vruntime)
      )
        victim = p;
    }
    if (victim >= 0) preempt(victim, k, 'R+');
  };
  const preempt = (p: number, next: HostTask, state: 'R' | 'R+'): void => {
    const cur = tasks[pcpu[p]!]!;
    cur.state = 'ready';
    cur.pcpu = p;
    if (cur.id < c.vcpus) preemptions[cur.id]!++;
    runOn(p, next, state);
  };
  const sleepHost = (id: number): void => {
    const k = tasks[id]!;
    const p = k.pcpu;
    k.state = 'sleep';
    runOn(p, undefined, 'S');
    fill();
  };

  const nextWork = (th: GuestThread): void => {
    th.state = 'work';
    th.left = work();
  };
  /** Thread i reached the barrier at t (its vCPU running). */
  const arrive = (i: number): void => {
    const th = threads[i]!;
    th.step++;
    arrived++;
    if (arrived === c.threads) {
      arrived = 0;
      const done = th.step >= c.barriers;
      // Release: spinners go on at once; sleepers are woken one by one by this thread.
      for (let j = 0; j < c.threads; j++) {
        if (j === i) continue;
        const o = threads[j]!;
        if (o.state === 'spin') {
          if (done) finish(j);
          else nextWork(o);
        } else if (o.state === 'block') th.toWake.push(j);
      }
      if (th.toWake.length > 0) {
        th.state = 'waking';
        th.left = c.wakeCostNs;
      } else if (done) finish(i);
      else nextWork(th);
      return;
    }
    if (c.policy === 'block') block(i);
    else {
      th.state = 'spin';
      th.left = c.policy === 'spin' ? Infinity : c.spinNs;
    }
  };
  const block = (i: number): void => {
    threads[i]!.state = 'block';
    rec?.guestSwitch(t, i, i, 'S', -1);
    sleepHost(i);
  };
  const finish = (i: number): void => {
    threads[i]!.state = 'done';
    finished++;
    // The thread exits: its vCPU goes idle and halts.
    const k = tasks[i]!;
    if (k.state === 'run') {
      rec?.guestSwitch(t, i, i, 'S', -1);
      sleepHost(i);
    } else if (k.state === 'ready') k.state = 'sleep';
  };

  const dtOf = (k: HostTask): number => {
    if (k.state !== 'run' || k.id >= c.threads) return Infinity;
    const th = threads[k.id]!;
    return th.state === 'done' || th.state === 'block' ? Infinity : th.left;
  };

  fill();
  while (finished < c.threads) {
    // The next event: a guest thread's current piece ends, a slice ends (with others waiting), an IPI lands.
    let next = Infinity;
    for (const k of tasks) if (k.state === 'run') next = Math.min(next, t + dtOf(k));
    const waiting = ready().length > 0;
    if (waiting)
      for (let p = 0; p < c.pcpus; p++)
        if (pcpu[p]! >= 0) next = Math.min(next, tasks[pcpu[p]!]!.sliceEnd);
    for (const [at] of ipis) next = Math.min(next, at);
    if (next === Infinity)
      throw new Error('simulation stalled: no runnable work and no pending wakeup');
    const dt = next - t;
    for (const k of tasks) {
      if (k.state === 'run') {
        k.vruntime += dt;
        if (k.id < c.threads) {
          const th = threads[k.id]!;
          if (th.state !== 'done' && th.state !== 'block') th.left -= dt;
        }
      } else if (k.state === 'ready' && k.id < c.vcpus) waitNs[k.id]! += dt;
    }
    t = next;
    // IPIs first: a halted vCPU's host thread wakes.
    for (let q = ipis.length - 1; q >= 0; q--) {
      if (ipis[q]![0] <= t) {
        const v = ipis[q]![1];
        ipis.splice(q, 1);
        wakeHost(v);
      }
    }
    // Guest pieces that ended on running vCPUs.
    for (const k of tasks) {
      if (k.state !== 'run' || k.id >= c.threads) continue;
      const i = k.id;
      const th = threads[i]!;
      if (th.state === 'done' || th.state === 'block' || th.left > 0) continue;
      switch (th.state) {
        case 'work':
          arrive(i);
          break;
        case 'spin':
          block(i); // spin-then-block: spun long enough
          break;
        case 'resume':
          rec?.guestSwitch(t, i, -1, 'R', i);
          if (th.step >= c.barriers) finish(i);
          else nextWork(th);
          break;
        case 'waking': {
          const j = th.toWake.shift()!;
          rec?.guestWakeup(t, i, i, j, j);
          threads[j]!.state = 'resume';
          threads[j]!.left = c.resumeCostNs;
          ipis.push([t + c.ipiNs, j]);
          if (th.toWake.length > 0) th.left = c.wakeCostNs;
          else if (th.step >= c.barriers) finish(i);
          else nextWork(th);
          break;
        }
      }
    }
    // Slices that ended while others wait: the least-vruntime ready task takes the pCPU.
    for (let p = 0; p < c.pcpus; p++) {
      const cur = pcpu[p]!;
      if (cur < 0 || tasks[cur]!.sliceEnd > t) continue;
      let best: HostTask | undefined;
      for (const k of tasks)
        if (k.state === 'ready' && (best === undefined || k.vruntime < best.vruntime)) best = k;
      if (best !== undefined && best.vruntime < tasks[cur]!.vruntime) preempt(p, best, 'R');
      else tasks[cur]!.sliceEnd = t + slice();
    }
    fill();
  }
  return { wallNs: t, hostEvents, vcpuWaitNs: waitNs, preemptions };
}
