// Typed readers for the payload words of decoded events (the layout is in event-kinds.ts): the
// one place that knows the bit packing, so analysis code never shifts and masks by hand.

import { Kind, TASK_BITS, TASK_MASK, WAKE_SUCCESS } from './event-kinds';
import type { Trace } from './trace';

/** The event's decoded kind. */
export function kindAt(t: Trace, i: number): Kind {
  return t.eventTypes[t.events.type(i)]!.kind;
}

/** sched_switch: the task switched out, the task switched in, and prev_state as printed. */
export function switchAt(t: Trace, i: number): { prev: number; next: number; prevState: string } {
  const a0 = t.events.a0(i);
  return { prev: a0 & TASK_MASK, next: t.events.a1(i), prevState: t.states.get(a0 >>> TASK_BITS) };
}

/**
 * sched_wakeup / sched_wakeup_new / sched_waking: the woken task, the target CPU (-1 if not
 * printed) and whether the kernel printed `success=1` (before 4.15).
 */
export function wakeupAt(
  t: Trace,
  i: number,
): { task: number; targetCpu: number; success: boolean } {
  const a1 = t.events.a1(i);
  return { task: t.events.a0(i), targetCpu: wakeTargetCpu(a1), success: a1 >= WAKE_SUCCESS };
}

/** A wakeup's target CPU (-1 if not printed) from its a1 word (for passes that read the columns). */
export function wakeTargetCpu(a1: number): number {
  return a1 >= WAKE_SUCCESS ? a1 - WAKE_SUCCESS : a1;
}

/** sched_migrate_task. */
export function migrateAt(t: Trace, i: number): { task: number; origCpu: number; destCpu: number } {
  const a1 = t.events.a1(i);
  return { task: t.events.a0(i), origCpu: a1 >>> 16, destCpu: a1 & 0xffff };
}

/** sched_process_fork. */
export function forkAt(t: Trace, i: number): { parent: number; child: number } {
  return { parent: t.events.a0(i), child: t.events.a1(i) };
}

/** sched_stat_runtime: runtime in ns and vruntime (NaN when the kernel does not print it). */
export function runtimeAt(
  t: Trace,
  i: number,
): { task: number; runtimeNs: number; vruntimeNs: number } {
  const a1 = t.events.a1(i);
  if (a1 >= 0) return { task: t.events.a0(i), runtimeNs: a1, vruntimeNs: NaN };
  const w = -(a1 + 1);
  return {
    task: t.events.a0(i),
    runtimeNs: t.events.wideAt(w),
    vruntimeNs: t.events.wideAt(w + 1),
  };
}

/** kvm_entry / kvm_exit: the vcpu id (-1 when not printed) and, for kvm_exit, the exit reason. */
export function kvmAt(
  t: Trace,
  i: number,
): { vcpu: number; reason: string | undefined; text: string } {
  const a0 = t.events.a0(i);
  const v = a0 & 0xffff;
  const r = a0 >>> 16;
  return {
    vcpu: v === 0xffff ? -1 : v,
    reason: r === 0 || r === 0x7fff ? undefined : t.exitReasons.get(r - 1),
    text: t.texts.get(t.events.a1(i)),
  };
}

/** print / trace marker: the message and the ip symbol it was written through (usually tracing_mark_write). */
export function markerAt(t: Trace, i: number): { message: string; symbol: string | undefined } {
  const a1 = t.events.a1(i);
  return { message: t.texts.get(t.events.a0(i)), symbol: a1 >= 0 ? t.strings.get(a1) : undefined };
}

/** Any event's field text as kept (generic, syscalls, kvm_vcpu_wakeup). */
export function textAt(t: Trace, i: number): string {
  const k = kindAt(t, i);
  if (k === Kind.kvmEntry || k === Kind.kvmExit || k === Kind.kvmVcpuWakeup)
    return t.texts.get(t.events.a1(i));
  return t.texts.get(t.events.a0(i));
}
