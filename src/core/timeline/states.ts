// Task states on a timeline, and how a sched_switch prev_state string maps onto them.

/** What a task was doing over an interval. Values index per-state arrays; never renumber. */
export const TaskState = {
  /** On a CPU. */
  running: 0,
  /** Woken (sched_waking / sched_wakeup / new task) and waiting for a CPU. */
  runnable: 1,
  /** Switched out while still runnable (`R`, `R+`): preempted. */
  preempted: 2,
  /** Voluntary sleep (`S`; also `I` idle kernel threads, which trace-cmd 3.1 prints as `W`). */
  sleeping: 3,
  /** Uninterruptible sleep (`D`, `D|K`...): usually I/O or a kernel lock. */
  uninterruptible: 4,
  /** Stopped or traced (`T`, `t`). */
  stopped: 5,
  /** Exited (`X`, `Z`). */
  dead: 6,
  /** Parked kthread (`P`) or another state letter we do not model. */
  other: 7,
  /** Before the trace showed anything about the task. */
  unknown: 8,
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];
export const TASK_STATE_COUNT = 9;

export const TASK_STATE_NAMES: readonly string[] = [
  'running',
  'runnable',
  'preempted',
  'sleeping',
  'uninterruptible',
  'stopped',
  'dead',
  'other',
  'unknown',
];

/** The state a task enters when switched out with `prevState` (as printed). */
export function stateAfterSwitchOut(prevState: string): TaskState {
  switch (prevState.charCodeAt(0)) {
    case 82: // R, R+
      return TaskState.preempted;
    case 83: // S
    case 73: // I
    case 87: // W (trace-cmd 3.1's letter for TASK_REPORT_IDLE)
    case 75: // K
    case 78: // N
      return TaskState.sleeping;
    case 68: // D
      return TaskState.uninterruptible;
    case 84: // T
    case 116: // t
      return TaskState.stopped;
    case 88: // X
    case 90: // Z
      return TaskState.dead;
    default:
      return TaskState.other;
  }
}
