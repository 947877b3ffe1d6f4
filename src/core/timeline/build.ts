// Per-CPU running intervals and per-task state intervals, derived from the sched_switch / wakeup
// stream in one pass in timestamp order. The first and last intervals of each CPU and task are
// clipped to the trace's span and flagged partial: the trace did not see them begin or end.

import { Kind, TASK_BITS, TASK_MASK } from '../model/event-kinds';
import { lowerBound } from '../model/search';
import type { Ts } from '../model/time';
import type { Trace } from '../model/trace';
import { ColumnSlabs, TypedArrayCtor } from '../model/slabs';
import { wakeTargetCpu } from '../model/payload';
import { stateAfterSwitchOut, TaskState, TASK_STATE_COUNT } from './states';

/** Interval flags. */
export const PARTIAL_START = 1;
export const PARTIAL_END = 2;

const BLOCK_BITS = 16;
const BLOCK = 1 << BLOCK_BITS;
const LOW = BLOCK - 1;
/** Smallest and largest run of one owner's intervals kept together in a block. */
const MIN_RUN = 8;
const MAX_RUN = 4096;

// The kinds and states the builder tests, as module constants: `Kind.x` and `TaskState.x` are
// property reads, and one in a branch first taken after V8 optimised the build (a fork, a CPU's
// first gap) had no feedback there, which threw the optimised code away mid-trace.
const GENERIC = Kind.generic;
const SWITCH = Kind.schedSwitch;
const WAKING = Kind.schedWaking;
const WAKEUP = Kind.schedWakeup;
const WAKEUP_NEW = Kind.schedWakeupNew;
const FORK = Kind.schedProcessFork;
const RUNNING = TaskState.running;
const RUNNABLE = TaskState.runnable;
const PREEMPTED = TaskState.preempted;
const SLEEPING = TaskState.sleeping;
const UNKNOWN = TaskState.unknown;
/** enter()'s `before` for a thread born at t (a fork's child): nothing before its first interval. */
const NO_BEFORE = -1;

type WhatArray = Int32Array | Uint8Array;
type WhereArray = Int32Array | Int16Array;

/** A growable column (doubling; for the per-run and per-owner bookkeeping). */
function grow<A extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>>(
  a: A,
  need: number,
  fill = 0,
): A {
  if (need <= a.length) return a;
  const b = (
    a instanceof Float64Array
      ? new Float64Array(Math.max(need, a.length * 2))
      : new Int32Array(Math.max(need, a.length * 2))
  ) as A;
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

/**
 * Growable interval columns, kept grouped by owner as they are pushed: each owner's intervals
 * are runs of slots in 64K-slot blocks (a run doubles up to 4,096 slots as the owner grows),
 * chained in time order. Grouping is then a copy of whole runs per column (no scatter, no
 * per-row owner column), and no array is ever doubled: on a 10M-event trace a doubled array
 * wasted up to half its size.
 */
class IntervalColumns<W extends WhatArray, R extends WhereArray> {
  /**
   * The columns' blocks (block b of each column is slots b * 64K..). No end column: an owner's
   * intervals are contiguous, so an end is the next interval's start (or the owner's last end),
   * filled in when grouping. `what`: for CPUs the task-table id that ran, for tasks the state;
   * `where`: for CPUs the pid that ran, for tasks the CPU (-1 unknown). Each list is emptied
   * once grouping has copied its column, never replaced: a field written again after its first
   * value (or given another kind of value) throws away V8's optimized code that reads it, and the
   * CPU timelines are grouped before the tasks', and the guest's built after the host's.
   */
  private readonly startBlocks: Float64Array[] = [];
  private readonly whatBlocks: W[] = [];
  private readonly whereBlocks: R[] = [];
  private readonly flagBlocks: Uint8Array[] = [];
  /** Next free slot (blocks are filled in order). */
  private bump = 0;
  /** Runs: first slot, slots, slots used, next run of the same owner (-1 none). */
  private runStart = new Int32Array(1024);
  private runCap = new Int32Array(1024);
  private runUsed = new Int32Array(1024);
  private runNext = new Int32Array(1024);
  private runs = 0;
  /** Per owner: first and last run (-1 none), intervals, the end of its last interval (NaN open). */
  private head = new Int32Array(64).fill(-1);
  private tail = new Int32Array(64).fill(-1);
  private count = new Int32Array(64);
  private lastEnd = new Float64Array(64);
  /** Intervals in all. */
  n = 0;
  /** The slot of the last interval pushed (-1 after pop). */
  last = -1;
  private lastOwner = -1;

  /** Each column's blocks come from slabs of its own, so a column copied by grouping is freed. */
  private readonly slabs: {
    start: ColumnSlabs<Float64Array>;
    what: ColumnSlabs<W>;
    where: ColumnSlabs<R>;
    flags: ColumnSlabs<Uint8Array>;
  };

  constructor(
    private readonly whatType: TypedArrayCtor<W> & { new (length: number): W },
    private readonly whereType: TypedArrayCtor<R> & { new (length: number): R },
  ) {
    this.slabs = {
      start: new ColumnSlabs(Float64Array, BLOCK),
      what: new ColumnSlabs(whatType, BLOCK),
      where: new ColumnSlabs(whereType, BLOCK),
      flags: new ColumnSlabs(Uint8Array, BLOCK),
    };
  }

  private newRun(owner: number): number {
    const want = Math.min(MAX_RUN, Math.max(MIN_RUN, this.count[owner]!));
    let room = BLOCK - (this.bump & LOW);
    if (room < MIN_RUN || this.bump >>> BLOCK_BITS === this.startBlocks.length) {
      if (room < MIN_RUN) this.bump += room;
      const sl = this.slabs;
      this.startBlocks.push(sl.start.take());
      this.whatBlocks.push(sl.what.take());
      this.whereBlocks.push(sl.where.take());
      this.flagBlocks.push(sl.flags.take());
      room = BLOCK;
    }
    const cap = Math.min(want, room);
    const r = this.runs++;
    if (r === this.runStart.length) {
      this.runStart = grow(this.runStart, r + 1);
      this.runCap = grow(this.runCap, r + 1);
      this.runUsed = grow(this.runUsed, r + 1);
      this.runNext = grow(this.runNext, r + 1);
    }
    this.runStart[r] = this.bump;
    this.runCap[r] = cap;
    this.runUsed[r] = 0;
    this.runNext[r] = -1;
    this.bump += cap;
    const t = this.tail[owner]!;
    if (t < 0) this.head[owner] = r;
    else this.runNext[t] = r;
    this.tail[owner] = r;
    return r;
  }

  push(owner: number, start: number, what: number, where: number, flags: number): number {
    if (owner >= this.head.length) {
      this.head = grow(this.head, owner + 1, -1);
      this.tail = grow(this.tail, owner + 1, -1);
      this.count = grow(this.count, owner + 1);
      this.lastEnd = grow(this.lastEnd, owner + 1);
    }
    if (this.count[owner]! > 0 && this.lastEnd[owner] !== start)
      throw new Error(
        `timeline: interval of owner ${owner} at ${start} does not start where its last one ended (${this.lastEnd[owner]})`,
      );
    this.lastEnd[owner] = NaN;
    let r = this.tail[owner]!;
    if (r < 0 || this.runUsed[r] === this.runCap[r]) r = this.newRun(owner);
    const i = this.runStart[r]! + this.runUsed[r]!++;
    this.count[owner]!++;
    this.n++;
    this.last = i;
    this.lastOwner = owner;
    const b = i >>> BLOCK_BITS;
    const o = i & LOW;
    this.startBlocks[b]![o] = start;
    this.whatBlocks[b]![o] = what;
    this.whereBlocks[b]![o] = where;
    this.flagBlocks[b]![o] = flags;
    return i;
  }

  start(i: number): number {
    return this.startBlocks[i >>> BLOCK_BITS]![i & LOW]!;
  }

  /** Ends the owner's last interval at t (the next one it gets must start there). */
  close(owner: number, t: number): void {
    this.lastEnd[owner] = t;
  }

  addFlags(i: number, f: number): void {
    this.flagBlocks[i >>> BLOCK_BITS]![i & LOW]! |= f;
  }

  /** Drops the last interval pushed (pushed by mistake: empty). */
  pop(): void {
    if (this.last < 0) throw new Error('IntervalColumns.pop: nothing to pop');
    // The one before it ended where it started (contiguous).
    this.lastEnd[this.lastOwner] = this.start(this.last);
    this.runUsed[this.tail[this.lastOwner]!]!--;
    this.count[this.lastOwner]!--;
    this.n--;
    this.last = -1;
  }

  /**
   * The columns grouped by owner (each owner's intervals in push order), for owners 0..owners-1.
   * Consumes the columns: each block column is released once all of it is copied, so the peak is
   * the blocks plus one grouped column.
   */
  grouped(owners: number): Grouped<W, R> {
    const n = this.n;
    const offsets = new Int32Array(owners + 1);
    for (let k = 0; k < owners; k++) offsets[k + 1] = offsets[k]! + (this.count[k] ?? 0);
    const { runStart, runUsed, runNext, head } = this;
    /** Copies a column's runs, owner by owner, into `out`, and lets go of its blocks. */
    const copy = <A extends Float64Array | WhatArray | WhereArray>(out: A, blocks: A[]): A => {
      let at = 0;
      for (let k = 0; k < owners && k < head.length; k++) {
        for (let r = head[k]!; r >= 0; r = runNext[r]!) {
          const s = runStart[r]!;
          const m = runUsed[r]!;
          if (m === 0) continue;
          out.set(blocks[s >>> BLOCK_BITS]!.subarray(s & LOW, (s & LOW) + m) as never, at);
          at += m;
        }
      }
      blocks.length = 0;
      return out;
    };
    for (const sl of Object.values(this.slabs)) sl.release();
    const start = copy(new Float64Array(n), this.startBlocks);
    const end = new Float64Array(n);
    for (let k = 0; k < owners; k++) {
      const a = offsets[k]!;
      const z = offsets[k + 1]!;
      if (z === a) continue;
      end.set(start.subarray(a + 1, z), a);
      end[z - 1] = this.lastEnd[k]!;
    }
    const what = copy(new this.whatType(n), this.whatBlocks);
    const where = copy(new this.whereType(n), this.whereBlocks);
    const flags = copy(new Uint8Array(n), this.flagBlocks);
    this.n = 0;
    this.bump = 0;
    this.runs = 0;
    this.last = -1;
    return { offsets, start, end, what, where, flags };
  }
}

interface Grouped<W extends WhatArray, R extends WhereArray> {
  /** Intervals of owner k are [offsets[k], offsets[k+1]). */
  offsets: Int32Array;
  start: Float64Array;
  end: Float64Array;
  what: W;
  where: R;
  flags: Uint8Array;
}

/** Who ran on each CPU: intervals of CPU c are [offsets[c], offsets[c+1]); `task` is a task-table id. */
export interface CpuTimelines {
  offsets: Int32Array;
  start: Float64Array;
  end: Float64Array;
  task: Int32Array;
  pid: Int32Array;
  flags: Uint8Array;
}

/** Each thread's states: intervals of thread k (pid `pids[k]`) are [offsets[k], offsets[k+1]). */
export interface TaskTimelines {
  pids: Int32Array;
  /** The last comm the trace showed for the thread. */
  comms: string[];
  offsets: Int32Array;
  start: Float64Array;
  end: Float64Array;
  state: Uint8Array;
  /** CPU while running, target/last CPU while runnable or preempted, -1 when unknown. */
  cpu: Int16Array;
  flags: Uint8Array;
  /** Time per state: totals[k * TASK_STATE_COUNT + state], in the clock's unit. */
  totals: Float64Array;
  /** Thread index by pid. */
  indexOf: Map<number, number>;
}

export interface Timelines {
  /** The trace's span (first and last event), relative to tsBase. */
  start: Ts;
  end: Ts;
  cpus: CpuTimelines;
  tasks: TaskTimelines;
  /**
   * Events that contradicted the task the last switch put on their CPU (lost events, or a
   * scheduler path that does not emit sched_switch). Each leaves an unknown gap on that CPU.
   */
  inconsistencies: number;
}

/** Builds CPU and task timelines. O(n) plus a sort when events are out of order. */
/**
 * How many per-CPU timelines a trace gets: none when some of its lines printed no CPU (those
 * events cannot be placed, so every CPU's timeline would have holes that look like idle time).
 */
export function cpuLanes(trace: Trace): number {
  return trace.header.eventsWithoutCpu !== undefined ? 0 : Math.max(trace.cpuCount, 1);
}

export function buildTimelines(trace: Trace): Timelines {
  const b = startTimelines(trace, trace.events.order(), false);
  b.feed();
  return b.finish()!;
}

/**
 * Timelines built while a trace grows: `feed` takes in the events appended since the last call
 * (a file read in parts, each part joined in file order), `finish` closes what is still open.
 * The result is buildTimelines' on the whole trace, or undefined when the trace stopped being
 * one it can build in pieces: events out of timestamp order, or on a CPU past the count the
 * trace had when the build started (the count could still change); the caller then builds
 * the finished trace whole.
 */
export interface TimelineBuild {
  /** Takes in the events appended since the last call; false once the build is given up. */
  feed(): boolean;
  /** Takes in the rest and closes the timelines (once). */
  finish(): Timelines | undefined;
}

/**
 * The builder behind buildTimelines (`growing` false: the trace is whole, `order` its events'
 * timestamp order when they are not stored in it) and TimelineBuild (`growing`, no order).
 */
export function startTimelines(
  trace: Trace,
  order: Uint32Array | undefined,
  growing: boolean,
): TimelineBuild {
  return new TimelineBuilder(trace, order, growing);
}

/**
 * startTimelines' builder. A class, not closures over locals: a pair's two builds then call the
 * same step, enter, confirm and thread, where each build's closures were other call targets for
 * the code V8 had optimised on the first build's, thrown away as the second began.
 */
class TimelineBuilder implements TimelineBuild {
  private readonly ev: Trace['events'];
  private readonly tasks: Trace['tasks'];
  private kinds: number[];
  /**
   * By prev_state id (the trace's state table), 2 * id + (a sched_waking arrived while the task
   * still ran): the state a switch-out enters. A table filled per feed, not stateAfterSwitchOut
   * on the state's string per switch: a state first met after V8 optimised the step (a task's
   * first exit, its first wakeup in flight) read a constant that code had no feedback for.
   */
  private afterOut = new Uint8Array(0);
  /**
   * Events taken in so far; the first one's time (the trace's start, once there is one: NaN
   * before, a double from the start, as the timestamps it takes are).
   */
  private fed = 0;
  private t0 = NaN;
  private broken = false;
  private finished = false;

  private readonly nCpu: number;
  private readonly cpuCols = new IntervalColumns(Int32Array, Int32Array);
  private readonly cpuOpen: Int32Array;
  private readonly taskCols = new IntervalColumns(Uint8Array, Int16Array);
  private readonly threadOf = new Map<number, number>();
  // Per task-table id (sized to the table, grown with it as parts join): its thread index (-1
  // not seen yet), one typed load per event instead of a Map.
  private threadOfTask: Int32Array;
  private readonly pids: number[] = [];
  /** The last task-table id each thread was seen as (its comm is the thread's last comm). */
  private readonly lastTask: number[] = [];
  // Per thread: its open interval in taskCols (-1 none), that interval's state and CPU, and
  // whether a sched_waking arrived while it still ran (it was about to sleep). Threads are at
  // most the task-table ids.
  private curOpen: Int32Array;
  private curState: Uint8Array;
  private curCpu: Int16Array;
  private wakePending: Uint8Array;
  private inconsistencies = 0;
  /** Who each CPU runs, by pid (-1 unknown), and the last time an event confirmed it. */
  private readonly curPid: Int32Array;
  private readonly lastSeen: Float64Array;

  constructor(
    private readonly trace: Trace,
    private readonly order: Uint32Array | undefined,
    private readonly growing: boolean,
  ) {
    this.ev = trace.events;
    this.tasks = trace.tasks;
    this.kinds = trace.eventTypes.map((t) => t.kind);
    const nCpu = cpuLanes(trace);
    this.nCpu = nCpu;
    this.cpuOpen = new Int32Array(nCpu).fill(-1);
    const size = this.tasks.size;
    this.threadOfTask = new Int32Array(size).fill(-1);
    this.curOpen = new Int32Array(size + 1).fill(-1);
    this.curState = new Uint8Array(size + 1).fill(UNKNOWN);
    this.curCpu = new Int16Array(size + 1);
    this.wakePending = new Uint8Array(size + 1);
    this.curPid = new Int32Array(nCpu).fill(-1);
    this.lastSeen = new Float64Array(nCpu);
  }

  /** Room for the task table as it is now (parts joined since the last feed add tasks). */
  private fitTasks(): void {
    const size = this.tasks.size;
    if (this.threadOfTask.length >= size) return;
    const cap = Math.max(size, this.threadOfTask.length * 2);
    const t = new Int32Array(cap).fill(-1);
    t.set(this.threadOfTask);
    this.threadOfTask = t;
    const o = new Int32Array(cap + 1).fill(-1);
    o.set(this.curOpen);
    this.curOpen = o;
    const st = new Uint8Array(cap + 1).fill(UNKNOWN);
    st.set(this.curState);
    this.curState = st;
    const c = new Int16Array(cap + 1);
    c.set(this.curCpu);
    this.curCpu = c;
    const w = new Uint8Array(cap + 1);
    w.set(this.wakePending);
    this.wakePending = w;
  }

  /** afterOut for the state table as it is now. */
  private fitStates(): void {
    const states = this.trace.states;
    const n = states.size;
    if (this.afterOut.length >= 2 * n) return;
    const a = new Uint8Array(2 * n);
    for (let id = 0; id < n; id++) {
      const after = stateAfterSwitchOut(states.get(id));
      a[2 * id] = after;
      // Woken while still on the CPU (sched_waking before the switch): the wakeup is in flight.
      a[2 * id + 1] = after === SLEEPING || after === TaskState.uninterruptible ? RUNNABLE : after;
    }
    this.afterOut = a;
  }

  private thread(pid: number, taskId: number): number {
    let k = this.threadOfTask[taskId]!;
    if (k >= 0) {
      this.lastTask[k] = taskId;
      return k;
    }
    k = this.threadOf.get(pid) ?? -1;
    if (k < 0) {
      k = this.pids.length;
      this.threadOf.set(pid, k);
      this.pids.push(pid);
      this.lastTask.push(taskId);
    } else this.lastTask[k] = taskId;
    this.threadOfTask[taskId] = k;
    return k;
  }

  /**
   * Moves thread k into `state` at t; opens a partial `before` interval on first sight (none for
   * NO_BEFORE: born at t).
   */
  private enter(
    k: number,
    t: number,
    state: number,
    cpu: number,
    before: number,
    beforeCpu: number,
  ): void {
    const taskCols = this.taskCols;
    const open = this.curOpen[k]!;
    if (open < 0) {
      if (t > this.t0 && before !== NO_BEFORE) {
        taskCols.push(k, this.t0, before, beforeCpu, PARTIAL_START);
        taskCols.close(k, t);
      }
    } else {
      // Both read every time: a CPU read only when the state matched was first read after V8
      // optimised this, which threw that code away.
      const sameState = this.curState[k] === state;
      const sameCpu = this.curCpu[k] === cpu;
      if (sameState && sameCpu) return;
      taskCols.close(k, t);
    }
    this.curOpen[k] = taskCols.push(k, t, state, cpu, 0);
    this.curState[k] = state;
    this.curCpu[k] = cpu;
  }

  /**
   * An event on `cpu` at t says `pid` is current there (common_pid is always `current`). The first
   * such evidence opens the CPU's first interval, partial from the trace start. When it contradicts
   * the last switch (events lost, or a scheduler path without the tracepoint, as in the real 6.18
   * host traces), the old task stopped somewhere after its last confirmation: close it there and
   * mark the gap unknown. `bySwitch`: the evidence is a switch's prev task, which the switch itself
   * then closes, so nothing new is opened for it here.
   */
  private confirm(cpu: number, pid: number, taskId: number, t: number, bySwitch: boolean): void {
    const cur = this.curPid[cpu]!;
    if (cur === pid) {
      this.lastSeen[cpu] = t;
      return;
    }
    const cpuCols = this.cpuCols;
    const taskCols = this.taskCols;
    const curOpen = this.curOpen;
    // The CPU's first evidence: no interval yet (not `cur < 0`: perf prints -1 for a thread it
    // does not know, and a damaged trace may hold any negative pid).
    if (this.cpuOpen[cpu]! < 0) {
      this.cpuOpen[cpu] = cpuCols.push(cpu, this.t0, taskId, pid, PARTIAL_START);
      if (pid !== 0) {
        const k = this.thread(pid, taskId);
        if (curOpen[k]! < 0) {
          curOpen[k] = taskCols.push(k, this.t0, RUNNING, cpu, PARTIAL_START);
          this.curState[k] = RUNNING;
          this.curCpu[k] = cpu;
        } else if (!bySwitch) {
          this.enter(k, t, RUNNING, cpu, UNKNOWN, -1);
        }
      }
    } else {
      this.inconsistencies++;
      const open = this.cpuOpen[cpu]!;
      const seen = this.lastSeen[cpu]!;
      cpuCols.close(cpu, seen);
      cpuCols.addFlags(open, PARTIAL_END);
      // The gap: unknown who ran; `task` names the one that showed up at its end.
      cpuCols.push(cpu, seen, taskId, -1, PARTIAL_START | PARTIAL_END);
      cpuCols.close(cpu, t);
      this.cpuOpen[cpu] = cpuCols.push(cpu, t, taskId, pid, PARTIAL_START);
      if (cur !== 0) {
        const qk = this.threadOf.get(cur)!;
        if (this.curState[qk] === RUNNING && this.curCpu[qk] === cpu)
          this.enter(qk, seen, UNKNOWN, -1, UNKNOWN, -1);
      }
      if (pid !== 0) {
        const k = this.thread(pid, taskId);
        // It ran at some unknown time in the gap: what it was doing since the gap began is unknown
        // (even when its last known state began at that very moment: then it lasted 0 ns as known).
        const kOpen = curOpen[k]!;
        if (kOpen >= 0 && this.curState[k] !== RUNNING && taskCols.start(kOpen) <= seen)
          this.enter(k, seen, UNKNOWN, -1, UNKNOWN, -1);
        if (!bySwitch) this.enter(k, t, RUNNING, cpu, UNKNOWN, -1);
      }
    }
    this.curPid[cpu] = pid;
    this.lastSeen[cpu] = t;
  }

  feed(): boolean {
    const ev = this.ev;
    const order = this.order;
    if (this.growing && !ev.sorted) this.broken = true;
    if (this.broken) return false;
    const n = ev.length;
    const fed = this.fed;
    if (n === fed) return true;
    if (fed === 0) this.t0 = ev.ts(order === undefined ? 0 : order[0]!);
    this.fitTasks();
    this.fitStates();
    if (this.kinds.length < this.trace.eventTypes.length)
      this.kinds = this.trace.eventTypes.map((t) => t.kind);
    if (!this.steps(fed, n)) {
      this.broken = true;
      return false;
    }
    this.fed = n;
    return true;
  }

  /**
   * Events [from, to) in order; false at a CPU past the count of a growing trace (its count when
   * whole may be larger). The loop on its own: V8 optimises it while it runs, and code after the
   * loop in that function (first run after it) was thrown away at the loop's end.
   */
  private steps(from: number, to: number): boolean {
    const ev = this.ev;
    const order = this.order;
    const nCpu = this.nCpu;
    const growing = this.growing;
    for (let k = from; k < to; k++) {
      const i = order === undefined ? k : order[k]!;
      const t = ev.ts(i);
      const cpu = ev.cpu(i);
      if (cpu >= nCpu && growing) return false;
      this.step(i, t, cpu);
    }
    return true;
  }

  private step(i: number, t: number, cpu: number): void {
    const ev = this.ev;
    const tasks = this.tasks;
    const nCpu = this.nCpu;
    const kind = this.kinds[ev.type(i)]!;
    if (cpu < nCpu && kind !== SWITCH) {
      const owner = ev.task(i);
      this.confirm(cpu, tasks.pid(owner), owner, t, false);
    }
    if (kind === GENERIC) return;
    switch (kind) {
      case SWITCH: {
        const a0 = ev.a0(i);
        const prev = a0 & TASK_MASK;
        const next = ev.a1(i);
        const prevPid = tasks.pid(prev);
        const nextPid = tasks.pid(next);
        if (cpu < nCpu) {
          this.confirm(cpu, prevPid, prev, t, true);
          const cpuCols = this.cpuCols;
          const open = this.cpuOpen[cpu]!;
          cpuCols.close(cpu, t);
          // A contradicting switch leaves a zero-length interval for prev after the gap: drop it.
          if (cpuCols.start(open) === t && open === cpuCols.last) cpuCols.pop();
          this.cpuOpen[cpu] = cpuCols.push(cpu, t, next, nextPid, 0);
          this.curPid[cpu] = nextPid;
          this.lastSeen[cpu] = t;
        }
        const wakePending = this.wakePending;
        if (prevPid !== 0) {
          const pk = this.thread(prevPid, prev);
          const after = this.afterOut[2 * (a0 >>> TASK_BITS) + wakePending[pk]!]!;
          wakePending[pk] = 0;
          this.enter(pk, t, after, cpu, RUNNING, cpu);
        }
        if (nextPid !== 0) {
          const nk = this.thread(nextPid, next);
          wakePending[nk] = 0;
          // Its state, or unknown before its first interval (curState's initial value: not a
          // branch that reads TaskState.unknown, first run for a thread new in the second trace).
          this.enter(nk, t, RUNNING, cpu, this.curState[nk]!, -1);
        }
        break;
      }
      case WAKING:
      case WAKEUP:
      case WAKEUP_NEW:
      case FORK: {
        // A woken task (a0) becomes runnable on its target CPU; a fork's child (a1) is born
        // runnable on this CPU, with nothing before its birth. One path for both: forks are a few
        // per trace, mostly met after V8 optimised this, where calls and reads of their own had
        // no feedback and threw the optimised code away.
        const fork = kind === FORK;
        const a1 = ev.a1(i);
        const task = fork ? a1 : ev.a0(i);
        const pid = tasks.pid(task);
        if (pid === 0 && !fork) break;
        const k2 = this.thread(pid, task);
        const st = this.curState[k2];
        const unopened = this.curOpen[k2]! < 0;
        if (fork) {
          if (!unopened) break;
        } else if (st === RUNNING) {
          this.wakePending[k2] = 1;
          break;
        } else if (st === RUNNABLE || st === PREEMPTED) break;
        const target = fork ? cpu : wakeTargetCpu(a1);
        this.enter(k2, t, RUNNABLE, target >= 0 ? target : cpu, fork ? NO_BEFORE : SLEEPING, -1);
        break;
      }
      default:
        break;
    }
  }

  finish(): Timelines | undefined {
    // Closing consumes the interval columns: a second finish would read them emptied.
    if (this.finished) throw new Error('TimelineBuild.finish called twice');
    this.finished = true;
    if (!this.feed() || (this.growing && cpuLanes(this.trace) !== this.nCpu)) return undefined;
    return this.close();
  }

  private close(): Timelines {
    const { ev, order, nCpu, pids, cpuCols, taskCols, tasks } = this;
    const n = this.fed;
    const t0 = n > 0 ? this.t0 : 0;
    const t1 = n > 0 ? ev.ts(order === undefined ? n - 1 : order[n - 1]!) : 0;
    // Close what is still open at the end of the trace.
    for (let c = 0; c < nCpu; c++) {
      const open = this.cpuOpen[c]!;
      if (open >= 0) {
        cpuCols.close(c, t1);
        cpuCols.addFlags(open, PARTIAL_END);
      }
    }
    for (let k = 0; k < pids.length; k++) {
      const open = this.curOpen[k]!;
      if (open >= 0) {
        taskCols.close(k, t1);
        taskCols.addFlags(open, PARTIAL_END);
      }
    }

    const cg = cpuCols.grouped(nCpu);
    const tg = taskCols.grouped(pids.length);
    const totals = stateTotals(tg, pids.length);
    return {
      start: t0 as Ts,
      end: t1 as Ts,
      cpus: {
        offsets: cg.offsets,
        start: cg.start,
        end: cg.end,
        task: cg.what,
        pid: cg.where,
        flags: cg.flags,
      },
      tasks: {
        pids: Int32Array.from(pids),
        comms: this.lastTask.map((id) => tasks.comm(id)),
        offsets: tg.offsets,
        start: tg.start,
        end: tg.end,
        state: tg.what,
        cpu: tg.where,
        flags: tg.flags,
        totals,
        indexOf: this.threadOf,
      },
      inconsistencies: this.inconsistencies,
    };
  }
}

/**
 * Time per state of each of `threads` threads: totals[k * TASK_STATE_COUNT + state]. A function
 * of its own for the reason TimelineBuilder.steps is.
 */
function stateTotals(tg: Grouped<Uint8Array, Int16Array>, threads: number): Float64Array {
  const totals = new Float64Array(threads * TASK_STATE_COUNT);
  const { offsets, what, start, end } = tg;
  for (let k = 0; k < threads; k++) {
    for (let j = offsets[k]!; j < offsets[k + 1]!; j++) {
      totals[k * TASK_STATE_COUNT + what[j]!]! += end[j]! - start[j]!;
    }
  }
  return totals;
}

/** How many state intervals the threads `pids` have (pids the timelines do not hold: none). */
export function intervalCount(tl: TaskTimelines, pids: Iterable<number>): number {
  let n = 0;
  for (const pid of pids) {
    const k = tl.indexOf.get(pid);
    if (k !== undefined) n += tl.offsets[k + 1]! - tl.offsets[k]!;
  }
  return n;
}

/**
 * Index of the interval of thread k that contains t, or -1. Binary search, but not a bound of
 * model/search.ts: where a zero-length interval sits at t beside another holding t, the answer
 * is whichever the halving meets first, and callers' results depend on it.
 */
export function taskIntervalAt(tl: TaskTimelines, k: number, t: number): number {
  let lo = tl.offsets[k]!;
  let hi = tl.offsets[k + 1]! - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (tl.start[mid]! > t) hi = mid - 1;
    else if (tl.end[mid]! <= t && !(tl.end[mid] === tl.start[mid] && tl.start[mid] === t))
      lo = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * The interval of owner k in grouped columns (CPU or task timelines) whose closed span holds t,
 * or -1. Not a bound of model/search.ts: at a time two adjacent intervals share, the answer is
 * whichever the halving meets first (intervalFinder and the stalls agree with it on purpose).
 */
export function intervalContaining(
  offsets: Int32Array,
  start: Float64Array,
  end: Float64Array,
  k: number,
  t: number,
): number {
  let lo = offsets[k]!;
  let hi = offsets[k + 1]! - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (start[mid]! > t) hi = mid - 1;
    else if (end[mid]! < t) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * intervalContaining for queries that mostly move forward in time per owner (a vCPU's stalls in
 * order): each owner keeps where its last answer was, and the next one is searched from there by
 * galloping, so a pass over millions of queries reads the columns in order instead of a binary
 * search's cache misses. The answer is always intervalContaining's: a time strictly inside an
 * interval is held by that one only; a time on a boundary (or anything unusual) asks it.
 */
export function intervalFinder(
  offsets: Int32Array,
  start: Float64Array,
  end: Float64Array,
): (k: number, t: number) => number {
  const pos = offsets.slice(0, Math.max(0, offsets.length - 1));
  return (k, t) => {
    const lo = offsets[k]!;
    const last = offsets[k + 1]! - 1;
    // Outside the owner's span (a guest that was traced for part of the host's time): none.
    if (last < lo || t < start[lo]! || t > end[last]!) return -1;
    let j = pos[k]!;
    if (j > last || !(start[j]! <= t))
      return settle(k, intervalContaining(offsets, start, end, k, t));
    // Gallop to the first interval ending at or after t, then halve back.
    let step = 1;
    let prev = j;
    while (j <= last && end[j]! < t) {
      prev = j;
      j += step;
      step *= 2;
    }
    const l = lowerBound(end, t, prev, Math.min(j, last));
    if (start[l]! < t && t < end[l]!) {
      pos[k] = l;
      return l;
    }
    return settle(k, intervalContaining(offsets, start, end, k, t));
  };
  function settle(k: number, j: number): number {
    if (j >= 0) pos[k] = j;
    return j;
  }
}

/**
 * Keeps the state intervals of the threads in `keep` only (in place; the other threads keep their
 * pid, comm and totals but no intervals). A pair's analysis reads the host's intervals of the
 * vCPU threads and their preemptors only; the rest can be most of a busy host's intervals. The
 * kept intervals are moved down within each column (they keep their order), so nothing is
 * allocated; a column is copied out to a smaller one only when that frees more than half of it.
 */
export function retainTaskIntervals(tl: TaskTimelines, keep: ReadonlySet<number>): void {
  const threads = tl.pids.length;
  const offsets = new Int32Array(tl.offsets.length);
  let n = 0;
  for (let k = 0; k < threads; k++) {
    offsets[k] = n;
    if (keep.has(tl.pids[k]!)) n += tl.offsets[k + 1]! - tl.offsets[k]!;
  }
  offsets[threads] = n;
  const old = tl.offsets;
  if (n === old[threads]) return;
  const shrink = n * 2 < old[threads]!;
  const compact = <A extends Float64Array | Uint8Array | Int16Array>(col: A): A => {
    // Kept ranges only move down (offsets[k] <= old[k]), so copying in thread order is safe.
    for (let k = 0; k < threads; k++) {
      if (offsets[k + 1] === offsets[k] || offsets[k] === old[k]) continue;
      col.copyWithin(offsets[k]!, old[k]!, old[k + 1]!);
    }
    return (shrink ? col.slice(0, n) : col.subarray(0, n)) as A;
  };
  tl.start = compact(tl.start);
  tl.end = compact(tl.end);
  tl.state = compact(tl.state);
  tl.cpu = compact(tl.cpu);
  tl.flags = compact(tl.flags);
  tl.offsets = offsets;
}

/**
 * `tl` with its own copy of the thread intervals, for retainTaskIntervals to drop from while `tl`
 * keeps them all (the CPU timelines and the per-thread totals are shared: nothing changes them).
 */
export function withOwnTaskIntervals(tl: Timelines): Timelines {
  const t = tl.tasks;
  return {
    ...tl,
    tasks: {
      ...t,
      offsets: t.offsets.slice(),
      start: t.start.slice(),
      end: t.end.slice(),
      state: t.state.slice(),
      cpu: t.cpu.slice(),
      flags: t.flags.slice(),
    },
  };
}

/**
 * The host threads that took a host CPU from one of `tids` when it was preempted: who ran on
 * that CPU half a unit after the switch (what stall attribution names as the preemptor).
 */
export function preemptorsOf(tl: Timelines, tids: Iterable<number>): Set<number> {
  const out = new Set<number>();
  const t = tl.tasks;
  const c = tl.cpus;
  const at = intervalFinder(c.offsets, c.start, c.end);
  const { state, cpu: cpuOf, start } = t;
  const lanes = c.offsets.length - 1;
  const pidOf = c.pid;
  for (const tid of tids) {
    const k = t.indexOf.get(tid);
    if (k === undefined) continue;
    for (let j = t.offsets[k]!, z = t.offsets[k + 1]!; j < z; j++) {
      if (state[j] !== TaskState.preempted) continue;
      const cpu = cpuOf[j]!;
      if (cpu < 0 || cpu >= lanes) continue;
      const hi = at(cpu, start[j]! + 0.5);
      if (hi >= 0 && pidOf[hi]! >= 0) out.add(pidOf[hi]!);
    }
  }
  return out;
}
