// Stall attribution: every stretch a vCPU could not run (preempted, or woken and waiting for a
// host CPU), seen from inside the guest: which guest thread the guest believed was running on
// that vCPU (and so lost the time), and who ran on the host CPU instead (the preemptor).

import type { Trace } from '../model/trace';
import { intervalFinder, type Timelines } from '../timeline/build';
import { ClockMap, relativeMap } from './clock-map';
import { VcpuState, type VcpuStatesResult, type VcpuTimeline } from './vcpu-states';

export interface Stall {
  vcpu: number;
  kind: 'preempted' | 'waiting';
  /** Host-relative start and end (the host trace's unit). */
  hostStart: number;
  hostEnd: number;
  /** The guest thread that was "running" on this vCPU, or pid 0 when the guest CPU was idle; -1 unknown. */
  guestPid: number;
  guestComm: string;
  /** Who the host ran instead, on the host CPU the vCPU thread left (preempted only). */
  preemptorPid: number;
  preemptorComm: string;
  pcpu: number;
}

export interface ThreadStall {
  pid: number;
  comm: string;
  /** Time this guest thread lost to its vCPU not running, in the host's unit, and episodes. */
  lost: number;
  episodes: number;
  /** Of that, while its vCPU was preempted (the rest: vCPU woken and waiting). */
  lostPreempted: number;
}

export interface PreemptorStall {
  pid: number;
  comm: string;
  /** vCPU time it took (preempted episodes it started), and how many. */
  took: number;
  episodes: number;
}

/**
 * Every stall as columns (a long trace has millions: no object each). Row i is `get(i)`; kind 0 is
 * preempted, 1 waiting; comms are indices into `comms`. Rows are grouped by vCPU, each vCPU's in
 * time order.
 */
export class StallTable {
  readonly vcpu: Int32Array;
  readonly kind: Uint8Array;
  readonly hostStart: Float64Array;
  readonly hostEnd: Float64Array;
  readonly guestPid: Int32Array;
  readonly guestComm: Int32Array;
  readonly preemptorPid: Int32Array;
  readonly preemptorComm: Int32Array;
  readonly pcpu: Int32Array;
  readonly comms: string[] = [];
  private readonly commIds = new Map<string, number>();
  length = 0;

  constructor(capacity: number) {
    this.vcpu = new Int32Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.hostStart = new Float64Array(capacity);
    this.hostEnd = new Float64Array(capacity);
    this.guestPid = new Int32Array(capacity);
    this.guestComm = new Int32Array(capacity);
    this.preemptorPid = new Int32Array(capacity);
    this.preemptorComm = new Int32Array(capacity);
    this.pcpu = new Int32Array(capacity);
  }

  push(st: Stall): void {
    this.pushRow(
      st.vcpu,
      st.kind === 'preempted' ? 0 : 1,
      st.hostStart,
      st.hostEnd,
      st.guestPid,
      this.comm(st.guestComm),
      st.preemptorPid,
      this.comm(st.preemptorComm),
      st.pcpu,
    );
  }

  /** Appends a row given as columns; comms are ids from `comm` (no object per row). */
  pushRow(
    vcpu: number,
    kind: number,
    hostStart: number,
    hostEnd: number,
    guestPid: number,
    guestComm: number,
    preemptorPid: number,
    preemptorComm: number,
    pcpu: number,
  ): void {
    const i = this.length++;
    this.vcpu[i] = vcpu;
    this.kind[i] = kind;
    this.hostStart[i] = hostStart;
    this.hostEnd[i] = hostEnd;
    this.guestPid[i] = guestPid;
    this.guestComm[i] = guestComm;
    this.preemptorPid[i] = preemptorPid;
    this.preemptorComm[i] = preemptorComm;
    this.pcpu[i] = pcpu;
  }

  get(i: number): Stall {
    return {
      vcpu: this.vcpu[i]!,
      kind: this.kind[i] === 0 ? 'preempted' : 'waiting',
      hostStart: this.hostStart[i]!,
      hostEnd: this.hostEnd[i]!,
      guestPid: this.guestPid[i]!,
      guestComm: this.comms[this.guestComm[i]!]!,
      preemptorPid: this.preemptorPid[i]!,
      preemptorComm: this.comms[this.preemptorComm[i]!]!,
      pcpu: this.pcpu[i]!,
    };
  }

  /** The `n` longest stalls that `keep` accepts, longest first (ties: earlier row first). */
  longest(n: number, keep: (i: number) => boolean = () => true): Stall[] {
    // One pass with the n best so far, sorted (no array or sort of every row: a 10M-event pair
    // has millions of stalls and wants 50 of them).
    const rows: number[] = [];
    const durs: number[] = [];
    for (let i = 0; i < this.length; i++) {
      const d = this.hostEnd[i]! - this.hostStart[i]!;
      // Rows come in order, so an equal duration never beats one already kept.
      if (rows.length === n && !(d > durs[n - 1]!)) continue;
      if (!keep(i)) continue;
      let at = rows.length;
      while (at > 0 && durs[at - 1]! < d) at--;
      rows.splice(at, 0, i);
      durs.splice(at, 0, d);
      if (rows.length > n) {
        rows.pop();
        durs.pop();
      }
    }
    return rows.map((i) => this.get(i));
  }

  /** The id of comm `c` in `comms` (added when new). */
  comm(c: string): number {
    let id = this.commIds.get(c);
    if (id === undefined) {
      id = this.comms.length;
      this.comms.push(c);
      this.commIds.set(c, id);
    }
    return id;
  }
}

export interface StallsResult {
  stalls: StallTable;
  byGuestThread: ThreadStall[];
  byPreemptor: PreemptorStall[];
}

/** Attributes the vCPUs' preempted and waiting time to guest threads and host preemptors. */
export function attributeStalls(
  host: Trace,
  hostTl: Timelines,
  states: VcpuStatesResult,
  guest: Trace,
  guestTl: Timelines,
  clock: ClockMap,
): StallsResult {
  // The passes are functions of their own: V8 compiles a one-shot function for each loop that
  // runs long enough (on-stack replacement), the whole function each time, and each compile's
  // code is thrown away where it reaches the code after its loop, which has not run yet.
  // Each vCPU's stalls by state index first: their count sizes the table.
  const rowsOf = states.timelines.map((tl) => stallRows(tl.state, tl.start, tl.end));
  const stalls = new StallTable(rowsOf.reduce((n, rows) => n + rows.length, 0));
  const gc = guestTl.cpus;
  const hc = hostTl.cpus;
  const ctx: StallContext = {
    stalls,
    toGuestRel: relativeMap(clock, guest.tsBase, host.tsBase).toGuest,
    // Each vCPU's stalls come in time order: both lookups move forward.
    guestAt: intervalFinder(gc.offsets, gc.start, gc.end),
    hostAt: intervalFinder(hc.offsets, hc.start, hc.end),
    gcPid: gc.pid,
    gcTask: gc.task,
    hcPid: hc.pid,
    hcTask: hc.task,
    hostCpus: hc.offsets.length - 1,
    // Comm ids by task-table id, looked up once per task (millions of rows, a few hundred tasks).
    guestCommOf: new Int32Array(guest.tasks.size).fill(-1),
    preemptorCommOf: new Int32Array(host.tasks.size).fill(-1),
    unknownId: -1,
    host,
    guest,
    guestTl,
    threads: new Totals(guest.tasks.size),
    preemptors: new Totals(host.tasks.size),
  };
  // One call per vCPU, not a loop around the intervals' loop: V8 compiles the intervals' loop on
  // stack while the first vCPU's run, and code compiled then had no feedback for the outer loop's
  // step, so it was thrown away at the second vCPU and compiled again (~40 ms more of compiling,
  // the intervals interpreted meanwhile). Called again, the loop enters the code compiled then.
  for (let v = 0; v < states.timelines.length; v++)
    attributeVcpu(states.timelines[v]!, rowsOf[v]!, ctx);
  const { threads: th, preemptors: pr } = ctx;
  const byGuestThread: ThreadStall[] = th.pids.map((pid, q) => ({
    pid,
    comm: stalls.comms[th.comms[q]!]!,
    lost: th.time[q]!,
    episodes: th.episodes[q]!,
    lostPreempted: th.timePreempted[q]!,
  }));
  const byPreemptor: PreemptorStall[] = pr.pids.map((pid, q) => ({
    pid,
    comm: stalls.comms[pr.comms[q]!]!,
    took: pr.time[q]!,
    episodes: pr.episodes[q]!,
  }));
  return {
    stalls,
    byGuestThread: byGuestThread.sort((a, b) => b.lost - a.lost),
    byPreemptor: byPreemptor.sort((a, b) => b.took - a.took),
  };
}

/**
 * Per-thread totals of the stalls, added as each row is made (one pass, not a second over the
 * table with two Map lookups per row): a slot per pid, in order of first appearance, found by
 * task-table id (the slot is looked up once per task, when its comm is).
 */
class Totals {
  /** Slot by task-table id (-1: not yet seen, or not counted: pid 0, the idle task). */
  readonly of: Int32Array;
  readonly pids: number[] = [];
  /** Comm ids of the first stall of each slot's pid. */
  readonly comms: number[] = [];
  readonly time: Float64Array;
  readonly timePreempted: Float64Array;
  readonly episodes: Int32Array;
  private readonly slotOfPid = new Map<number, number>();

  constructor(tasks: number) {
    this.of = new Int32Array(tasks).fill(-1);
    // At most a slot per task (tasks that share a pid share one).
    this.time = new Float64Array(tasks);
    this.timePreempted = new Float64Array(tasks);
    this.episodes = new Int32Array(tasks);
  }

  /** Gives task `task` (thread `pid`, comm id `comm`) its pid's slot, new when first seen. */
  see(task: number, pid: number, comm: number): void {
    let slot = this.slotOfPid.get(pid);
    if (slot === undefined) {
      slot = this.pids.length;
      this.slotOfPid.set(pid, slot);
      this.pids.push(pid);
      this.comms.push(comm);
    }
    this.of[task] = slot;
  }
}

/** What attributeVcpu reads besides the vCPU's states, and the table it adds to. */
interface StallContext {
  stalls: StallTable;
  toGuestRel: (h: number) => number;
  guestAt: (k: number, t: number) => number;
  hostAt: (k: number, t: number) => number;
  gcPid: Int32Array;
  gcTask: Int32Array;
  hcPid: Int32Array;
  hcTask: Int32Array;
  hostCpus: number;
  guestCommOf: Int32Array;
  preemptorCommOf: Int32Array;
  /** The id of comm '?', given when first used, as every other comm (ids in order of first use). */
  unknownId: number;
  host: Trace;
  guest: Trace;
  guestTl: Timelines;
  /** Time lost per guest thread (pid > 0), and taken per preemptor. */
  threads: Totals;
  preemptors: Totals;
}

/**
 * The stalls of one vCPU's states, in time order, into ctx.stalls: which states are stalls, then
 * the guest's and the host's interval at each, then the rows, each pass a small loop of its own.
 * One loop did all of it: V8 compiled it on stack for ~30 ms (every lookup inlined into it), and
 * ran the first vCPU's stalls in the interpreter meanwhile.
 */
function attributeVcpu(tl: VcpuTimeline, rows: Int32Array, ctx: StallContext): void {
  const guestAt = guestIntervals(tl, rows, ctx);
  const hostAt = preemptorIntervals(tl, rows, ctx);
  addRows(tl, rows, guestAt, hostAt, ctx);
}

/** The states that are stalls of some length, by index. */
function stallRows(state: Uint8Array, start: Float64Array, end: Float64Array): Int32Array {
  let m = 0;
  const rows = new Int32Array(state.length);
  for (let j = 0; j < state.length; j++) {
    const s = state[j];
    if ((s === VcpuState.preempted || s === VcpuState.waiting) && end[j]! > start[j]!)
      rows[m++] = j;
  }
  return rows.subarray(0, m);
}

/** The guest's view at the middle of each stall: the interval of that guest CPU then, or -1. */
function guestIntervals(tl: VcpuTimeline, rows: Int32Array, ctx: StallContext): Int32Array {
  const { start, end, vcpu } = tl;
  const { toGuestRel, guestAt } = ctx;
  const out = new Int32Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const j = rows[r]!;
    out[r] = guestAt(vcpu, toGuestRel((start[j]! + end[j]!) / 2));
  }
  return out;
}

/**
 * Who the host CPU ran right after the vCPU thread left it, for each preempted stall: that host
 * CPU's interval, or -1 (and for waiting stalls).
 */
function preemptorIntervals(tl: VcpuTimeline, rows: Int32Array, ctx: StallContext): Int32Array {
  const { state, start, pcpu: pcpuOf } = tl;
  const { hostAt, hostCpus } = ctx;
  const out = new Int32Array(rows.length).fill(-1);
  for (let r = 0; r < rows.length; r++) {
    const j = rows[r]!;
    const pcpu = pcpuOf[j]!;
    // Timestamps are integers: half a unit past the switch is inside the next interval only.
    if (state[j] === VcpuState.preempted && pcpu >= 0 && pcpu < hostCpus)
      out[r] = hostAt(pcpu, start[j]! + 0.5);
  }
  return out;
}

/** The rows of one vCPU's stalls, and their totals, given the intervals found for them. */
function addRows(
  tl: VcpuTimeline,
  rows: Int32Array,
  guestAt: Int32Array,
  hostAt: Int32Array,
  ctx: StallContext,
): void {
  // The columns in locals (a one-shot loop: its property loads are paid per interval until V8
  // optimizes it).
  const { state, start, end, pcpu: pcpuOf, vcpu } = tl;
  const { stalls, gcPid, gcTask, hcPid, hcTask } = ctx;
  const { guestCommOf, preemptorCommOf } = ctx;
  const { of: threadOf, time: lost, timePreempted: lostPreempted, episodes } = ctx.threads;
  const { of: preemptorOf, time: took, episodes: tookEpisodes } = ctx.preemptors;
  for (let r = 0; r < rows.length; r++) {
    const j = rows[r]!;
    const s = state[j];
    const hs = start[j]!;
    const he = end[j]!;
    // The guest thread that ran on that guest CPU.
    const gi = guestAt[r]!;
    const guestPid = gi < 0 ? -1 : gcPid[gi]!;
    let guestComm: number;
    let thread = -1;
    if (gi < 0 || guestPid < 0) guestComm = unknownComm(ctx);
    else {
      const task = gcTask[gi]!;
      guestComm = guestCommOf[task]!;
      if (guestComm < 0) guestComm = guestCommOf[task] = seeGuestTask(ctx, guestPid, task);
      thread = threadOf[task]!;
    }
    // The preemptor.
    const hi = hostAt[r]!;
    let preemptorPid = -1;
    let preemptorComm = -1;
    let preemptor = -1;
    if (hi >= 0 && hcPid[hi]! >= 0) {
      preemptorPid = hcPid[hi]!;
      const task = hcTask[hi]!;
      preemptorComm = preemptorCommOf[task]!;
      if (preemptorComm < 0)
        preemptorComm = preemptorCommOf[task] = seeHostTask(ctx, preemptorPid, task);
      preemptor = preemptorOf[task]!;
    }
    if (preemptorComm < 0) preemptorComm = unknownComm(ctx);
    // The totals, row by row in table order (each thread's sums in the order a pass over the
    // table adds them).
    const d = he - hs;
    if (thread >= 0) {
      lost[thread]! += d;
      episodes[thread]!++;
      if (s === VcpuState.preempted) lostPreempted[thread]! += d;
    }
    if (preemptor >= 0) {
      took[preemptor]! += d;
      tookEpisodes[preemptor]!++;
    }
    stalls.pushRow(
      vcpu,
      s === VcpuState.preempted ? 0 : 1,
      hs,
      he,
      guestPid,
      guestComm,
      preemptorPid,
      preemptorComm,
      pcpuOf[j]!,
    );
  }
}

/** The id of comm '?' (given when first used). */
function unknownComm(ctx: StallContext): number {
  return ctx.unknownId >= 0 ? ctx.unknownId : (ctx.unknownId = ctx.stalls.comm('?'));
}

/**
 * A guest task's first stall: the comm id of its thread, its last name in the guest trace (it may
 * have exec'd since the switch), and its slot in the thread totals (pid > 0).
 */
function seeGuestTask(ctx: StallContext, pid: number, task: number): number {
  const gk = pid > 0 ? ctx.guestTl.tasks.indexOf.get(pid) : undefined;
  const comm = ctx.stalls.comm(
    gk !== undefined ? ctx.guestTl.tasks.comms[gk]! : ctx.guest.tasks.comm(task),
  );
  if (pid > 0) ctx.threads.see(task, pid, comm);
  return comm;
}

/** A host task's first preemption: its comm id, and its slot in the preemptor totals. */
function seeHostTask(ctx: StallContext, pid: number, task: number): number {
  const comm = ctx.stalls.comm(ctx.host.tasks.comm(task));
  ctx.preemptors.see(task, pid, comm);
  return comm;
}
