// What each vCPU's host thread was doing over host time: running guest code, preempted (switched
// out while runnable: steal), waiting for a CPU after a wakeup (also steal), halted (asleep because
// the guest CPU was idle), in the VMM (asleep for another reason: I/O emulation, a lock), or
// unknown. Halted and VMM are told apart by the guest's own idle state (through the clock map)
// or, on KVM, by the last kvm_exit before the sleep being HLT; without either, it stays `blocked`.
// On KVM, on-CPU time is also split at kvm_entry / kvm_exit: guest mode is `running`, the rest
// (exit handling in the host kernel and the VMM process) is `vmm`.

import { Kind } from '../model/event-kinds';
import { kvmAt } from '../model/payload';
import { upperBound } from '../model/search';
import type { Trace } from '../model/trace';
import { intervalContaining, type Timelines } from '../timeline/build';
import { TaskState } from '../timeline/states';
import { type ClockMap, relativeMap } from './clock-map';
import type { VcpuAssignment } from './vcpu-map';

export const VcpuState = {
  running: 0,
  preempted: 1,
  /** Woken and waiting for a host CPU. */
  waiting: 2,
  halted: 3,
  vmm: 4,
  /** Asleep, and nothing tells whether the guest was idle. */
  blocked: 5,
  unknown: 6,
} as const;
export type VcpuState = (typeof VcpuState)[keyof typeof VcpuState];
export const VCPU_STATE_NAMES = [
  'running',
  'preempted',
  'waiting',
  'halted',
  'vmm',
  'blocked',
  'unknown',
] as const;

export interface VcpuTimeline {
  vcpu: number;
  hostTid: number;
  /** Host-relative intervals (the host trace's unit). */
  start: Float64Array;
  end: Float64Array;
  state: Uint8Array;
  /** Host CPU while running / last CPU otherwise (-1 unknown). */
  pcpu: Int16Array;
}

export interface VcpuTime {
  vcpu: number;
  hostTid: number;
  hostComm: string;
  /** Time per state, in the host's unit. */
  running: number;
  preempted: number;
  waiting: number;
  halted: number;
  vmm: number;
  blocked: number;
  unknown: number;
  /** preempted + waiting: time the vCPU could have run and did not (what the guest sees as steal). */
  steal: number;
  /** Times switched out while runnable. */
  preemptions: number;
}

export interface VcpuStatesResult {
  timelines: VcpuTimeline[];
  time: VcpuTime[];
  /** How halted and VMM sleeps were told apart. */
  sleepSource: 'guest-idle' | 'kvm-hlt' | 'none';
}

/**
 * vCPU states from the host timelines of the vCPU threads; `guest` + `clock` (guest idle state)
 * or KVM HLT exits in `host` classify the sleeps.
 */
export function vcpuStates(
  host: Trace,
  hostTl: Timelines,
  vcpus: readonly VcpuAssignment[],
  guest?: { trace: Trace; timelines: Timelines; clock: ClockMap },
  /** Count the totals only inside this host-relative window (the span both traces cover). */
  window?: { start: number; end: number },
): VcpuStatesResult {
  const kvm = kvmEvents(host);
  const sleepSource = guest !== undefined ? 'guest-idle' : kvm.size > 0 ? 'kvm-hlt' : 'none';
  const guestIdleAt = guest !== undefined ? guestIdleLookup(guest, host.tsBase) : undefined;
  const timelines: VcpuTimeline[] = [];
  const time: VcpuTime[] = [];
  // A sleep whose last kvm_exit was HLT, this close before it, is a halt: 1 ms (2.5M ticks of a TSC).
  const hltWindow = host.clock.unit === 'ns' ? 1_000_000 : 2_500_000;
  for (const v of vcpus) {
    const k = hostTl.tasks.indexOf.get(v.hostTid);
    const a = k === undefined ? 0 : hostTl.tasks.offsets[k]!;
    const b = k === undefined ? 0 : hostTl.tasks.offsets[k + 1]!;
    const n = b - a;
    const vx = kvm.get(v.hostTid);
    // With KVM events: typed columns sized for one interval per host interval (entries and exits
    // add more: they grow then); an array of numbers per vCPU cost 3x as much on a 10M-event host.
    // Without: the host's columns themselves (below), nothing to allocate here.
    let cap = vx === undefined ? 0 : Math.max(16, n);
    let len = 0;
    const out = {
      start: new Float64Array(cap),
      end: new Float64Array(cap),
      state: new Uint8Array(cap),
      pcpu: new Int16Array(cap),
    };
    const grow = (): void => {
      cap *= 2;
      const g = <A extends Float64Array | Uint8Array | Int16Array>(x: A, y: A): A => {
        y.set(x);
        return y;
      };
      out.start = g(out.start, new Float64Array(cap));
      out.end = g(out.end, new Float64Array(cap));
      out.state = g(out.state, new Uint8Array(cap));
      out.pcpu = g(out.pcpu, new Int16Array(cap));
    };
    const t: VcpuTime = {
      vcpu: v.vcpu,
      hostTid: v.hostTid,
      hostComm: v.hostComm,
      running: 0,
      preempted: 0,
      waiting: 0,
      halted: 0,
      vmm: 0,
      blocked: 0,
      unknown: 0,
      steal: 0,
      preemptions: 0,
    };
    /** Counts what lies in the window (all of it without one). */
    const count = (from0: number, to0: number, st: VcpuState): void => {
      // A preemption counts when its interval touches the window, even a zero-length one.
      if (window !== undefined && (to0 < window.start || from0 > window.end)) return;
      const from = window !== undefined ? Math.max(from0, window.start) : from0;
      const to = window !== undefined ? Math.min(to0, window.end) : to0;
      t[VCPU_STATE_NAMES[st]] += Math.max(0, to - from);
      if (st === VcpuState.preempted) t.preemptions++;
    };
    /** Appends one interval and counts it. */
    const emit = (from0: number, to0: number, st: VcpuState, pcpu: number): void => {
      if (len === cap) grow();
      out.start[len] = from0;
      out.end[len] = to0;
      out.state[len] = st;
      out.pcpu[len++] = pcpu;
      count(from0, to0, st);
    };
    /** The state of a host interval that is not split at KVM entries and exits. */
    const stateOf = (ts: number, start: number): VcpuState => {
      switch (ts) {
        case TaskState.running:
          return VcpuState.running;
        case TaskState.preempted:
          return VcpuState.preempted;
        case TaskState.runnable:
          return VcpuState.waiting;
        case TaskState.sleeping:
        case TaskState.uninterruptible:
        case TaskState.stopped: {
          const idle = guestIdleAt?.(v.vcpu, start);
          if (idle !== undefined) return idle ? VcpuState.halted : VcpuState.vmm;
          if (vx !== undefined)
            return haltedByExit(vx, start, hltWindow) ? VcpuState.halted : VcpuState.vmm;
          return VcpuState.blocked;
        }
        default:
          return VcpuState.unknown;
      }
    };
    if (vx === undefined) {
      // No kvm_entry/exit for this thread: one state per host interval, so the times and CPUs
      // are the thread's own columns (views, not copies: 18 of 19 bytes per interval).
      const state = new Uint8Array(n);
      for (let j = 0; j < n; j++) {
        const st = stateOf(hostTl.tasks.state[a + j]!, hostTl.tasks.start[a + j]!);
        state[j] = st;
        count(hostTl.tasks.start[a + j]!, hostTl.tasks.end[a + j]!, st);
      }
      timelines.push({
        vcpu: v.vcpu,
        hostTid: v.hostTid,
        start: hostTl.tasks.start.subarray(a, b),
        end: hostTl.tasks.end.subarray(a, b),
        state,
        pcpu: hostTl.tasks.cpu.subarray(a, b),
      });
      t.steal = t.preempted + t.waiting;
      time.push(t);
      continue;
    }
    for (let j = 0; j < n; j++) {
      const ts = hostTl.tasks.state[a + j]!;
      const start = hostTl.tasks.start[a + j]!;
      const end = hostTl.tasks.end[a + j]!;
      const pcpu = hostTl.tasks.cpu[a + j]!;
      if (ts !== TaskState.running) {
        emit(start, end, stateOf(ts, start), pcpu);
        continue;
      }
      // KVM: on a host CPU, the thread is in the guest between kvm_entry and kvm_exit and in the
      // VMM (host kernel, VMM process) otherwise, starting with the VMM after a switch-in.
      let at = start;
      let inGuest = false;
      // Timestamps are integers: from half a unit before, an entry at the switch-in itself counts.
      for (let q = upperBound(vx.ts, start - 0.5); q < vx.ts.length && vx.ts[q]! < end; q++) {
        const enter = vx.entry[q] === 1;
        if (enter === inGuest) continue;
        if (vx.ts[q]! > at) emit(at, vx.ts[q]!, inGuest ? VcpuState.running : VcpuState.vmm, pcpu);
        at = vx.ts[q]!;
        inGuest = enter;
      }
      emit(at, end, inGuest ? VcpuState.running : VcpuState.vmm, pcpu);
    }
    const tl: VcpuTimeline = {
      vcpu: v.vcpu,
      hostTid: v.hostTid,
      start: len === cap ? out.start : out.start.slice(0, len),
      end: len === cap ? out.end : out.end.slice(0, len),
      state: len === cap ? out.state : out.state.slice(0, len),
      pcpu: len === cap ? out.pcpu : out.pcpu.slice(0, len),
    };
    t.steal = t.preempted + t.waiting;
    timelines.push(tl);
    time.push(t);
  }
  return { timelines, time, sleepSource };
}

/** A host thread's kvm_entry / kvm_exit events in time order. */
interface KvmEvents {
  ts: Float64Array;
  /** 1 for kvm_entry, 0 for kvm_exit. */
  entry: Uint8Array;
  /** For exits: 1 when the reason was HLT. */
  hlt: Uint8Array;
}

/** Per host thread, its kvm_entry and kvm_exit events. */
function kvmEvents(host: Trace): Map<number, KvmEvents> {
  const per = new Map<number, { ts: number; entry: boolean; hlt: boolean }[]>();
  const ev = host.events;
  for (let i = 0; i < ev.length; i++) {
    const k = host.eventTypes[ev.type(i)]!.kind;
    if (k !== Kind.kvmEntry && k !== Kind.kvmExit) continue;
    const tid = host.tasks.pid(ev.task(i));
    let l = per.get(tid);
    if (l === undefined) per.set(tid, (l = []));
    l.push({
      ts: ev.ts(i),
      entry: k === Kind.kvmEntry,
      hlt: k === Kind.kvmExit && kvmAt(host, i).reason === 'HLT',
    });
  }
  const out = new Map<number, KvmEvents>();
  for (const [tid, l] of per) {
    l.sort((x, y) => x.ts - y.ts);
    out.set(tid, {
      ts: Float64Array.from(l, (x) => x.ts),
      entry: Uint8Array.from(l, (x) => (x.entry ? 1 : 0)),
      hlt: Uint8Array.from(l, (x) => (x.hlt ? 1 : 0)),
    });
  }
  return out;
}

/** Whether the thread's last kvm_exit before `at` was a HLT, no longer than `window` before. */
function haltedByExit(x: KvmEvents, at: number, window: number): boolean {
  let q = upperBound(x.ts, at) - 1;
  while (q >= 0 && x.entry[q] === 1) q--;
  return q >= 0 && x.hlt[q] === 1 && at - x.ts[q]! <= window;
}

/**
 * A lookup: was guest CPU `vcpu` idle (running pid 0) at host-relative time `hostRel`? Undefined
 * outside the guest trace or in an unknown gap of it.
 */
function guestIdleLookup(
  g: { trace: Trace; timelines: Timelines; clock: ClockMap },
  hostBase: bigint,
): (vcpu: number, hostRel: number) => boolean | undefined {
  const c = g.timelines.cpus;
  const toGuest = relativeMap(g.clock, g.trace.tsBase, hostBase).toGuest;
  return (vcpu, hostRel) => {
    if (vcpu + 1 >= c.offsets.length) return undefined;
    const i = intervalContaining(c.offsets, c.start, c.end, vcpu, toGuest(hostRel));
    return i < 0 || c.pid[i]! < 0 ? undefined : c.pid[i] === 0;
  };
}
