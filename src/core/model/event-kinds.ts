// The event kinds vCPU Lens decodes into fields, and how each kind packs its fields into the two
// payload columns (a0, a1) of the event store. Any other event is kept generically (name + text).

/** Decoded event kinds. Values are stored in the event type table, never per event. */
export const Kind = {
  generic: 0,
  schedSwitch: 1,
  schedWakeup: 2,
  schedWakeupNew: 3,
  schedWaking: 4,
  schedMigrateTask: 5,
  schedProcessFork: 6,
  schedProcessExit: 7,
  schedProcessFree: 8,
  schedStatRuntime: 9,
  kvmEntry: 10,
  kvmExit: 11,
  kvmVcpuWakeup: 12,
  print: 13,
  sysEnter: 14,
  sysExit: 15,
  schedProcessWait: 16,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

const BY_NAME: Record<string, Kind> = {
  sched_switch: Kind.schedSwitch,
  sched_wakeup: Kind.schedWakeup,
  sched_wakeup_new: Kind.schedWakeupNew,
  sched_waking: Kind.schedWaking,
  sched_migrate_task: Kind.schedMigrateTask,
  sched_process_fork: Kind.schedProcessFork,
  sched_process_exit: Kind.schedProcessExit,
  sched_process_free: Kind.schedProcessFree,
  sched_process_wait: Kind.schedProcessWait,
  sched_stat_runtime: Kind.schedStatRuntime,
  kvm_entry: Kind.kvmEntry,
  kvm_exit: Kind.kvmExit,
  kvm_vcpu_wakeup: Kind.kvmVcpuWakeup,
  print: Kind.print,
  // Raw tracefs text prints the print event under its ip symbol, not under `print`.
  tracing_mark_write: Kind.print,
};

/**
 * The kind of an event by the name the trace printed: `sched_switch`, perf's `sched:sched_switch`,
 * `syscalls:sys_enter_writev`, `sys_exit_write`...
 */
export function kindOfEventName(name: string): Kind {
  const colon = name.lastIndexOf(':');
  const bare = colon >= 0 ? name.slice(colon + 1) : name;
  const k = BY_NAME[bare];
  if (k !== undefined) return k;
  if (bare.startsWith('sys_enter_')) return Kind.sysEnter;
  if (bare.startsWith('sys_exit_')) return Kind.sysExit;
  return Kind.generic;
}

/** Prints a kind's name for reports. */
export function kindName(k: Kind): string {
  for (const [name, v] of Object.entries(Kind)) if (v === k) return name;
  return 'unknown';
}

/*
 * Payload layout per kind (a0, a1 are int32):
 *   generic            a0 = text id of the field text            a1 = -1
 *   schedSwitch        a0 = prev task | state id << 22            a1 = next task
 *   schedWakeup/New,
 *   schedWaking        a0 = task                                 a1 = target cpu (-1 if not printed),
 *                      + WAKE_SUCCESS when `success=1` is printed (kernels before 4.15; target >= 0)
 *   schedMigrateTask   a0 = task                                 a1 = orig cpu << 16 | dest cpu
 *   schedProcessFork   a0 = parent task                          a1 = child task
 *   schedProcessExit/
 *   Free/Wait          a0 = task                                 a1 = group_dead (-1 if not printed)
 *   schedStatRuntime   a0 = task                                 a1 = runtime ns, or -(1 + wide index)
 *                      when it does not fit or a vruntime is present (wide[i] = runtime, wide[i+1] = vruntime)
 *   kvmEntry/kvmExit   a0 = vcpu id (0xffff if not printed)      a1 = text id of the field text
 *                      | (1 + exit reason id) << 16 (kvm_exit; 0x7fff = too many reasons)
 *   kvmVcpuWakeup      a0 = -1                                   a1 = text id of the field text
 *   print              a0 = text id of the message               a1 = string id of the ip symbol or -1
 *   sysEnter/sysExit   a0 = text id of the field text            a1 = -1
 * Tasks are ids in the task table (22 bits); state ids index the store's state table (10 bits).
 */
export const TASK_BITS = 22;
/** Added to a wakeup's target cpu when the kernel printed ` success=1` before it. */
export const WAKE_SUCCESS = 1 << 30;
export const TASK_MASK = (1 << TASK_BITS) - 1;
export const MAX_TASKS = TASK_MASK; // id TASK_MASK itself is reserved for "overflow"
export const STATE_BITS = 10;
export const MAX_STATES = 1 << STATE_BITS;
export const LAT_BITS = 10;
/** Latency id reserved for "the latency string is in the sparse overflow map". */
export const LAT_SPARSE = (1 << LAT_BITS) - 1;
