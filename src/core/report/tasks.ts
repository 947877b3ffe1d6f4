// Per-thread and per-CPU time summaries from the timelines: what `vcpu-lens tasks` prints, and a
// first look at vCPU threads (time running vs. preempted) before the dual-level engine exists.

import type { Trace } from '../model/trace';
import { buildTimelines, PARTIAL_START, Timelines } from '../timeline/build';
import { TASK_STATE_COUNT, TASK_STATE_NAMES, TaskState } from '../timeline/states';

export const TASKS_SCHEMA = 'vcpu-lens.tasks/1';

export interface ThreadSummary {
  pid: number;
  comm: string;
  /** Time per state in the clock's unit; `partial` when the trace cut the first or last interval. */
  time: Record<string, number>;
  /** Times switched out while runnable (preemptions) and times switched in. */
  preemptions: number;
  switchIns: number;
}

export interface CpuSummary {
  cpu: number;
  /** Time known to run a task other than idle (pid 0), in the clock's unit. */
  busy: number;
  switches: number;
}

export interface TasksReport {
  schema: typeof TASKS_SCHEMA;
  name: string;
  unit: Trace['clock']['unit'];
  span: number;
  cpus: CpuSummary[];
  threads: ThreadSummary[];
  /** Times a task showed up on a CPU with no sched_switch to it (see Timelines.inconsistencies). */
  inconsistencies: number;
  /** Events whose line printed no CPU: then `cpus` is empty (per-CPU views are off). */
  eventsWithoutCpu?: number;
}

export function tasksReport(trace: Trace, tl: Timelines = buildTimelines(trace)): TasksReport {
  const span = tl.end - tl.start;
  const cpus: CpuSummary[] = [];
  const c = tl.cpus;
  for (let cpu = 0; cpu + 1 < c.offsets.length; cpu++) {
    let busy = 0;
    let switches = 0;
    for (let j = c.offsets[cpu]!; j < c.offsets[cpu + 1]!; j++) {
      // Unknown gaps (pid -1) are neither busy nor idle; intervals a switch opened count as switches.
      if (c.pid[j]! > 0) busy += c.end[j]! - c.start[j]!;
      if ((c.flags[j]! & PARTIAL_START) === 0) switches++;
    }
    cpus.push({ cpu, busy, switches });
  }
  const t = tl.tasks;
  const threads: ThreadSummary[] = [];
  for (let k = 0; k < t.pids.length; k++) {
    const time: Record<string, number> = {};
    for (let s = 0; s < TASK_STATE_COUNT; s++) {
      const v = t.totals[k * TASK_STATE_COUNT + s]!;
      if (v > 0) time[TASK_STATE_NAMES[s]!] = v;
    }
    let preemptions = 0;
    let switchIns = 0;
    for (let j = t.offsets[k]!; j < t.offsets[k + 1]!; j++) {
      if (t.state[j] === TaskState.preempted) preemptions++;
      if (t.state[j] === TaskState.running && (t.flags[j]! & PARTIAL_START) === 0) switchIns++;
    }
    threads.push({ pid: t.pids[k]!, comm: t.comms[k]!, time, preemptions, switchIns });
  }
  threads.sort((a, b) => (b.time['running'] ?? 0) - (a.time['running'] ?? 0) || a.pid - b.pid);
  return {
    schema: TASKS_SCHEMA,
    name: trace.name,
    unit: trace.clock.unit,
    span,
    cpus,
    threads,
    inconsistencies: tl.inconsistencies,
    ...(trace.header.eventsWithoutCpu !== undefined
      ? { eventsWithoutCpu: trace.header.eventsWithoutCpu }
      : {}),
  };
}
