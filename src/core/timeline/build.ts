// Per-CPU running intervals and per-task state intervals, derived from the sched_switch / wakeup
// stream in one pass in timestamp order. The first and last intervals of each CPU and task are
// clipped to the trace's span and flagged partial: the trace did not see them begin or end.

import { Kind, TASK_MASK } from '../model/event-kinds';
import type { Ts } from '../model/time';
import type { Trace } from '../model/trace';
import { stateAfterSwitchOut, TaskState, TASK_STATE_COUNT } from './states';

/** Interval flags. */
export const PARTIAL_START = 1;
export const PARTIAL_END = 2;

const BLOCK_BITS = 16;
const BLOCK = 1 << BLOCK_BITS;
const LOW = BLOCK - 1;

/** One block of interval columns (each dropped once grouping has copied it). */
class IntervalBlock {
  start: Float64Array | undefined = new Float64Array(BLOCK);
  end: Float64Array | undefined = new Float64Array(BLOCK);
  /** For CPUs: the task-table id that ran; for tasks: the state. */
  what: Int32Array | undefined = new Int32Array(BLOCK);
  /** For CPUs: the pid that ran; for tasks: the CPU (-1 unknown). */
  where: Int32Array | undefined = new Int32Array(BLOCK);
  readonly owner = new Int32Array(BLOCK);
  flags: Uint8Array | undefined = new Uint8Array(BLOCK);
}

/**
 * Growable columns of intervals in blocks of 65,536 (no doubling: on a 10M-event trace a doubled
 * array wasted up to half its size, and grouping copied it all while it was still held).
 */
class IntervalColumns {
  private blocks: (IntervalBlock | undefined)[] = [];
  n = 0;

  push(owner: number, start: number, what: number, where: number, flags: number): number {
    const i = this.n++;
    const k = i >>> BLOCK_BITS;
    if (k === this.blocks.length) this.blocks.push(new IntervalBlock());
    const b = this.blocks[k]!;
    const o = i & LOW;
    b.owner[o] = owner;
    b.start![o] = start;
    b.end![o] = NaN;
    b.what![o] = what;
    b.where![o] = where;
    b.flags![o] = flags;
    return i;
  }

  start(i: number): number {
    return this.blocks[i >>> BLOCK_BITS]!.start![i & LOW]!;
  }

  setEnd(i: number, t: number): void {
    this.blocks[i >>> BLOCK_BITS]!.end![i & LOW] = t;
  }

  where(i: number): number {
    return this.blocks[i >>> BLOCK_BITS]!.where![i & LOW]!;
  }

  addFlags(i: number, f: number): void {
    this.blocks[i >>> BLOCK_BITS]!.flags![i & LOW]! |= f;
  }

  /** Drops the last interval (pushed by mistake: empty). */
  pop(): void {
    this.n--;
  }

  /**
   * Groups by owner (stable: each owner's intervals stay in time order). The columns are
   * consumed: each block is released once copied, so the peak is the grouped copy plus what is
   * left to copy.
   */
  grouped(owners: number): Grouped {
    const n = this.n;
    const offsets = new Int32Array(owners + 1);
    for (let i = 0; i < n; i++) offsets[this.blocks[i >>> BLOCK_BITS]!.owner[i & LOW]! + 1]!++;
    for (let k = 0; k < owners; k++) offsets[k + 1]! += offsets[k]!;
    // Where each row goes, then one column at a time: each block's column is dropped once
    // copied, so the peak is the blocks plus one grouped column, not both copies whole.
    const fill = offsets.slice(0, owners);
    const dest = new Int32Array(n);
    for (let i = 0; i < n; i++) dest[i] = fill[this.blocks[i >>> BLOCK_BITS]!.owner[i & LOW]!]!++;
    const blocks = this.blocks;
    this.blocks = [];
    this.n = 0;
    const column = <A extends Float64Array | Int32Array | Uint8Array>(
      out: A,
      take: (b: IntervalBlock) => A,
      drop: (b: IntervalBlock) => void,
    ): A => {
      for (let k = 0; k < blocks.length; k++) {
        const b = blocks[k]!;
        const src = take(b);
        const m = Math.min(BLOCK, n - k * BLOCK);
        const base = k * BLOCK;
        for (let o = 0; o < m; o++) out[dest[base + o]!] = src[o]!;
        drop(b);
      }
      return out;
    };
    const g: Grouped = {
      offsets,
      start: column(
        new Float64Array(n),
        (b) => b.start!,
        (b) => (b.start = undefined),
      ),
      end: column(
        new Float64Array(n),
        (b) => b.end!,
        (b) => (b.end = undefined),
      ),
      what: column(
        new Int32Array(n),
        (b) => b.what!,
        (b) => (b.what = undefined),
      ),
      where: column(
        new Int32Array(n),
        (b) => b.where!,
        (b) => (b.where = undefined),
      ),
      flags: column(
        new Uint8Array(n),
        (b) => b.flags!,
        (b) => (b.flags = undefined),
      ),
    };
    return g;
  }
}

interface Grouped {
  /** Intervals of owner k are [offsets[k], offsets[k+1]). */
  offsets: Int32Array;
  start: Float64Array;
  end: Float64Array;
  what: Int32Array;
  where: Int32Array;
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

interface TaskCursor {
  /** Index of the open interval in the columns, or -1. */
  open: number;
  state: number;
  /** A sched_waking arrived while the task was still running (it was about to sleep). */
  wakePending: boolean;
}

/** Builds CPU and task timelines. O(n) plus a sort when events are out of order. */
export function buildTimelines(trace: Trace): Timelines {
  const ev = trace.events;
  const tasks = trace.tasks;
  const kinds = trace.eventTypes.map((t) => t.kind);
  const order = ev.order();
  const n = ev.length;
  const at = (k: number): number => (order === undefined ? k : order[k]!);
  const t0 = n > 0 ? ev.ts(at(0)) : 0;
  const t1 = n > 0 ? ev.ts(at(n - 1)) : 0;

  const nCpu = Math.max(trace.cpuCount, 1);
  const cpuCols = new IntervalColumns();
  const cpuOpen = new Int32Array(nCpu).fill(-1);
  const taskCols = new IntervalColumns();
  const threadOf = new Map<number, number>();
  const pids: number[] = [];
  const comms: string[] = [];
  const cursors: TaskCursor[] = [];
  let inconsistencies = 0;

  const thread = (pid: number, taskId: number): number => {
    let k = threadOf.get(pid);
    if (k === undefined) {
      k = pids.length;
      threadOf.set(pid, k);
      pids.push(pid);
      comms.push(tasks.comm(taskId));
      cursors.push({ open: -1, state: TaskState.unknown, wakePending: false });
    } else if (taskId >= 0) {
      comms[k] = tasks.comm(taskId);
    }
    return k;
  };
  /** Moves thread k into `state` at t; opens a partial `before` interval on first sight. */
  const enter = (
    k: number,
    t: number,
    state: number,
    cpu: number,
    before: number,
    beforeCpu: number,
  ): void => {
    const c = cursors[k]!;
    if (c.open < 0) {
      if (t > t0) {
        const i = taskCols.push(k, t0, before, beforeCpu, PARTIAL_START);
        taskCols.setEnd(i, t);
      }
    } else {
      if (c.state === state && taskCols.where(c.open) === cpu) return;
      taskCols.setEnd(c.open, t);
    }
    c.open = taskCols.push(k, t, state, cpu, 0);
    c.state = state;
  };

  /** Who each CPU runs, by pid (-1 unknown), and the last time an event confirmed it. */
  const curPid = new Int32Array(nCpu).fill(-1);
  const lastSeen = new Float64Array(nCpu);

  /**
   * An event on `cpu` at t says `pid` is current there (common_pid is always `current`). The first
   * such evidence opens the CPU's first interval, partial from the trace start. When it contradicts
   * the last switch (events lost, or a scheduler path without the tracepoint, as in the real 6.18
   * host traces), the old task stopped somewhere after its last confirmation: close it there and
   * mark the gap unknown. `bySwitch`: the evidence is a switch's prev task, which the switch itself
   * then closes, so nothing new is opened for it here.
   */
  const confirm = (
    cpu: number,
    pid: number,
    taskId: number,
    t: number,
    bySwitch: boolean,
  ): void => {
    const cur = curPid[cpu]!;
    if (cur === pid) {
      lastSeen[cpu] = t;
      return;
    }
    if (cur < 0) {
      cpuOpen[cpu] = cpuCols.push(cpu, t0, taskId, pid, PARTIAL_START);
      if (pid !== 0) {
        const k = thread(pid, taskId);
        const c = cursors[k]!;
        if (c.open < 0) {
          c.open = taskCols.push(k, t0, TaskState.running, cpu, PARTIAL_START);
          c.state = TaskState.running;
        } else if (!bySwitch) {
          enter(k, t, TaskState.running, cpu, TaskState.unknown, -1);
        }
      }
    } else {
      inconsistencies++;
      const open = cpuOpen[cpu]!;
      const seen = lastSeen[cpu]!;
      cpuCols.setEnd(open, seen);
      cpuCols.addFlags(open, PARTIAL_END);
      // The gap: unknown who ran; `task` names the one that showed up at its end.
      const gap = cpuCols.push(cpu, seen, taskId, -1, PARTIAL_START | PARTIAL_END);
      cpuCols.setEnd(gap, t);
      cpuOpen[cpu] = cpuCols.push(cpu, t, taskId, pid, PARTIAL_START);
      if (cur !== 0) {
        const qk = threadOf.get(cur)!;
        const q = cursors[qk]!;
        if (q.state === TaskState.running && taskCols.where(q.open) === cpu)
          enter(qk, seen, TaskState.unknown, -1, TaskState.unknown, -1);
      }
      if (pid !== 0) {
        const k = thread(pid, taskId);
        const c = cursors[k]!;
        // It ran at some unknown time in the gap: what it was doing since the gap began is unknown
        // (even when its last known state began at that very moment: then it lasted 0 ns as known).
        if (c.open >= 0 && c.state !== TaskState.running && taskCols.start(c.open) <= seen)
          enter(k, seen, TaskState.unknown, -1, TaskState.unknown, -1);
        if (!bySwitch) enter(k, t, TaskState.running, cpu, TaskState.unknown, -1);
      }
    }
    curPid[cpu] = pid;
    lastSeen[cpu] = t;
  };

  for (let k = 0; k < n; k++) {
    const i = at(k);
    const t = ev.ts(i);
    const cpu = ev.cpu(i);
    const kind = kinds[ev.type(i)]!;
    if (cpu < nCpu && kind !== Kind.schedSwitch) {
      const owner = ev.task(i);
      confirm(cpu, tasks.pid(owner), owner, t, false);
    }
    if (kind === Kind.generic) continue;
    switch (kind) {
      case Kind.schedSwitch: {
        const a0 = ev.a0(i);
        const prev = a0 & TASK_MASK;
        const next = ev.a1(i);
        const prevPid = tasks.pid(prev);
        const nextPid = tasks.pid(next);
        if (cpu < nCpu) {
          confirm(cpu, prevPid, prev, t, true);
          const open = cpuOpen[cpu]!;
          cpuCols.setEnd(open, t);
          // A contradicting switch leaves a zero-length interval for prev after the gap: drop it.
          if (cpuCols.start(open) === t && open === cpuCols.n - 1) cpuCols.pop();
          cpuOpen[cpu] = cpuCols.push(cpu, t, next, nextPid, 0);
          curPid[cpu] = nextPid;
          lastSeen[cpu] = t;
        }
        if (prevPid !== 0) {
          const pk = thread(prevPid, prev);
          const c = cursors[pk]!;
          let after = stateAfterSwitchOut(trace.states.get(a0 >>> 22));
          // Woken while still on the CPU (sched_waking before the switch): the wakeup is in flight.
          if (
            c.wakePending &&
            (after === TaskState.sleeping || after === TaskState.uninterruptible)
          )
            after = TaskState.runnable;
          c.wakePending = false;
          enter(pk, t, after, cpu, TaskState.running, cpu);
        }
        if (nextPid !== 0) {
          const nk = thread(nextPid, next);
          const cur = cursors[nk]!;
          cur.wakePending = false;
          const before = cur.open < 0 ? TaskState.unknown : cur.state;
          enter(nk, t, TaskState.running, cpu, before, -1);
        }
        break;
      }
      case Kind.schedWaking:
      case Kind.schedWakeup:
      case Kind.schedWakeupNew: {
        const task = ev.a0(i);
        const pid = tasks.pid(task);
        if (pid === 0) break;
        const k2 = thread(pid, task);
        const c = cursors[k2]!;
        if (c.state === TaskState.running) {
          c.wakePending = true;
          break;
        }
        if (c.state === TaskState.runnable || c.state === TaskState.preempted) break;
        const target = ev.a1(i);
        enter(k2, t, TaskState.runnable, target >= 0 ? target : cpu, TaskState.sleeping, -1);
        break;
      }
      case Kind.schedProcessFork: {
        const child = ev.a1(i);
        const pid = tasks.pid(child);
        const k2 = thread(pid, child);
        const c = cursors[k2]!;
        if (c.open < 0) {
          // Born here: nothing before the fork, so no partial interval.
          c.open = taskCols.push(k2, t, TaskState.runnable, cpu, 0);
          c.state = TaskState.runnable;
        }
        break;
      }
      default:
        break;
    }
  }

  // Close what is still open at the end of the trace.
  for (let c = 0; c < nCpu; c++) {
    const open = cpuOpen[c]!;
    if (open >= 0) {
      cpuCols.setEnd(open, t1);
      cpuCols.addFlags(open, PARTIAL_END);
    }
  }
  for (const cur of cursors) {
    if (cur.open >= 0) {
      taskCols.setEnd(cur.open, t1);
      taskCols.addFlags(cur.open, PARTIAL_END);
    }
  }

  const cg = cpuCols.grouped(nCpu);
  const tg = taskCols.grouped(pids.length);
  const totals = new Float64Array(pids.length * TASK_STATE_COUNT);
  for (let k = 0; k < pids.length; k++) {
    for (let j = tg.offsets[k]!; j < tg.offsets[k + 1]!; j++) {
      totals[k * TASK_STATE_COUNT + tg.what[j]!]! += tg.end[j]! - tg.start[j]!;
    }
  }
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
      comms,
      offsets: tg.offsets,
      start: tg.start,
      end: tg.end,
      state: Uint8Array.from(tg.what),
      cpu: Int16Array.from(tg.where),
      flags: tg.flags,
      totals,
      indexOf: threadOf,
    },
    inconsistencies,
  };
}

/** Index of the interval of thread k that contains t, or -1. Binary search. */
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

/** The interval of owner k in grouped columns (CPU or task timelines) whose closed span holds t, or -1. */
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
 * Keeps the state intervals of the threads in `keep` only (in place; the other threads keep their
 * pid, comm and totals but no intervals). After a pair's analysis the host's intervals are read
 * only for the vCPU threads and their preemptors; on a 10M-event host the rest are ~200 MB.
 */
export function retainTaskIntervals(tl: TaskTimelines, keep: ReadonlySet<number>): void {
  const offsets = new Int32Array(tl.offsets.length);
  let n = 0;
  for (let k = 0; k < tl.pids.length; k++) {
    if (keep.has(tl.pids[k]!)) n += tl.offsets[k + 1]! - tl.offsets[k]!;
  }
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const state = new Uint8Array(n);
  const cpu = new Int16Array(n);
  const flags = new Uint8Array(n);
  let at = 0;
  for (let k = 0; k < tl.pids.length; k++) {
    offsets[k] = at;
    if (!keep.has(tl.pids[k]!)) continue;
    const a = tl.offsets[k]!;
    const b = tl.offsets[k + 1]!;
    start.set(tl.start.subarray(a, b), at);
    end.set(tl.end.subarray(a, b), at);
    state.set(tl.state.subarray(a, b), at);
    cpu.set(tl.cpu.subarray(a, b), at);
    flags.set(tl.flags.subarray(a, b), at);
    at += b - a;
  }
  offsets[tl.pids.length] = at;
  tl.offsets = offsets;
  tl.start = start;
  tl.end = end;
  tl.state = state;
  tl.cpu = cpu;
  tl.flags = flags;
}
