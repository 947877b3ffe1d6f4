// What each vCPU's host thread was doing over host time: running guest code, preempted (switched
// out while runnable: steal), waiting for a CPU after a wakeup (also steal), halted (the guest CPU
// was idle), in the VMM (KVM or the VMM process handling an exit, or asleep for it: I/O
// emulation, a lock), or unknown. On KVM the exits say it: in the guest from kvm_entry to
// kvm_exit, halted from a HLT exit to the next kvm_entry (halt polling and the sleep alike), in
// the VMM after any other exit. Without KVM events, sleeps are told apart by the guest's own idle
// state (through the clock map); without either, they stay `blocked`. Preemption and waiting come
// from the host's sched_switch / wakeups only: a host trace without them cannot show either.

import { Kind, TASK_MASK } from '../model/event-kinds';
import { kvmAt, textAt } from '../model/payload';
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
  /** False when the host trace has no sched_switch at all: preemption is not seen. */
  schedulingSeen: boolean;
  /** What the states rest on, and what they cannot show, in words (for reports). */
  basis: string[];
}

/**
 * Whether a kvm_exit reason (as the trace printed it) is a HLT: `HLT` in VMX's table, `hlt` in
 * SVM's (arch/x86/include/uapi/asm/vmx.h, svm.h; libtraceevent's kvm plugin prints the same),
 * or the bare number a print fmt prints when it has no table: 12 (VMX) or 0x78 (SVM), which
 * name nothing on the other (SVM's 0x00c would be a read of CR12; VMX has no reason 120).
 */
export function isHaltExit(reason: string | undefined): boolean {
  if (reason === undefined) return false;
  if (reason === 'HLT' || reason === 'hlt') return true;
  if (!/^(?:\d+|0x[0-9a-fA-F]+)$/.test(reason)) return false;
  const n = Number(reason);
  return n === 12 || n === 0x78;
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
  const kvm = kvmEvents(host, new Set(vcpus.map((v) => v.hostTid)));
  const sleepSource =
    kvm.perThread.size > 0 ? 'kvm-hlt' : guest !== undefined ? 'guest-idle' : 'none';
  const guestIdleAt = guest !== undefined ? guestIdleLookup(guest, host.tsBase) : undefined;
  const timelines: VcpuTimeline[] = [];
  const time: VcpuTime[] = [];
  for (const v of vcpus) {
    const k = hostTl.tasks.indexOf.get(v.hostTid);
    const a = k === undefined ? 0 : hostTl.tasks.offsets[k]!;
    const b = k === undefined ? 0 : hostTl.tasks.offsets[k + 1]!;
    const n = b - a;
    const vx = kvm.perThread.get(v.hostTid);
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
    // Each state's time, summed by state number (a keyed store by name per interval went through
    // V8's generic keyed IC) and written to `t` once the thread's intervals are counted.
    const byState = new Float64Array(VCPU_STATE_NAMES.length);
    const totals = (): void => {
      for (let st = 0; st < VCPU_STATE_NAMES.length; st++) t[VCPU_STATE_NAMES[st]!] = byState[st]!;
      t.steal = t.preempted + t.waiting;
    };
    /** Counts what lies in the window (all of it without one). */
    const count = (from0: number, to0: number, st: VcpuState): void => {
      t.preemptions += countIn(byState, window, from0, to0, st);
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
    const stateOf = (ts: number, start: number): VcpuState =>
      intervalState(ts, start, v.vcpu, vx, guestIdleAt);
    if (vx === undefined) {
      // No kvm_entry/exit for this thread: one state per host interval, so the times and CPUs
      // are the thread's own columns (views, not copies: 18 of 19 bytes per interval).
      const state = new Uint8Array(n);
      t.preemptions += hostIntervalStates(hostTl, a, state, v.vcpu, guestIdleAt, window, byState);
      timelines.push({
        vcpu: v.vcpu,
        hostTid: v.hostTid,
        start: hostTl.tasks.start.subarray(a, b),
        end: hostTl.tasks.end.subarray(a, b),
        state,
        pcpu: hostTl.tasks.cpu.subarray(a, b),
      });
      totals();
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
      // KVM: on a host CPU, the thread is in the guest between kvm_entry and kvm_exit; out of
      // it, halted after a HLT exit (polling, or about to sleep, until the next entry) and in
      // KVM / the VMM after any other. A switch-in finds it out of the guest (a switch-out needs
      // an exit first), for the reason of the last exit. Unpaired events are taken as they come:
      // a second exit relabels from its time on, a second entry changes nothing.
      let at = start;
      let cur: VcpuState = outOfGuest(vx, start) ?? VcpuState.vmm;
      // Timestamps are integers: from half a unit before, an event at the switch-in itself counts.
      for (let q = upperBound(vx.ts, start - 0.5); q < vx.ts.length && vx.ts[q]! < end; q++) {
        const next = vx.after[q] as VcpuState;
        if (next === cur) continue;
        if (vx.ts[q]! > at) emit(at, vx.ts[q]!, cur, pcpu);
        at = vx.ts[q]!;
        cur = next;
      }
      emit(at, end, cur, pcpu);
    }
    const tl: VcpuTimeline = {
      vcpu: v.vcpu,
      hostTid: v.hostTid,
      start: len === cap ? out.start : out.start.slice(0, len),
      end: len === cap ? out.end : out.end.slice(0, len),
      state: len === cap ? out.state : out.state.slice(0, len),
      pcpu: len === cap ? out.pcpu : out.pcpu.slice(0, len),
    };
    totals();
    timelines.push(tl);
    time.push(t);
  }
  // A vCPU thread never switched out on a host that records sched_switch ran undisturbed: its
  // preemption would have been seen. Only a host trace without sched_switch hides it.
  const schedulingSeen = kvm.anySwitches > 0;
  return {
    timelines,
    time,
    sleepSource,
    schedulingSeen,
    basis: basisOf(kvm, sleepSource, schedulingSeen, vcpus.length),
  };
}

/**
 * The state of a vCPU thread's host interval (host task state `ts`, from `start`) that is not
 * split at KVM entries and exits.
 */
function intervalState(
  ts: number,
  start: number,
  vcpu: number,
  vx: KvmEvents | undefined,
  guestIdleAt: ((vcpu: number, hostRel: number) => boolean | undefined) | undefined,
): VcpuState {
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
      // The exit the thread sleeps after says why; the guest's idle state where none does.
      const out = vx !== undefined ? outOfGuest(vx, start) : undefined;
      if (out !== undefined) return out;
      const idle = guestIdleAt?.(vcpu, start);
      if (idle !== undefined) return idle ? VcpuState.halted : VcpuState.vmm;
      return VcpuState.blocked;
    }
    default:
      return VcpuState.unknown;
  }
}

/**
 * Adds what of [from0, to0) lies in the window (all of it without one) to its state's time;
 * returns 1 for a preemption that touches the window (even a zero-length one), else 0.
 */
function countIn(
  byState: Float64Array,
  window: { start: number; end: number } | undefined,
  from0: number,
  to0: number,
  st: VcpuState,
): number {
  if (window !== undefined && (to0 < window.start || from0 > window.end)) return 0;
  const from = window !== undefined ? Math.max(from0, window.start) : from0;
  const to = window !== undefined ? Math.min(to0, window.end) : to0;
  byState[st]! += Math.max(0, to - from);
  return st === VcpuState.preempted ? 1 : 0;
}

/**
 * The states of host task intervals a.. (as many as `state` holds) of a vCPU thread without
 * KVM events, into `state`, their time into `byState`; returns the preemptions counted. A
 * function of its own: V8 compiles this one-shot loop alone, not vcpuStates around it.
 */
function hostIntervalStates(
  hostTl: Timelines,
  a: number,
  state: Uint8Array,
  vcpu: number,
  guestIdleAt: ((vcpu: number, hostRel: number) => boolean | undefined) | undefined,
  window: { start: number; end: number } | undefined,
  byState: Float64Array,
): number {
  // The columns in locals (a one-shot loop: its property loads are paid per interval until V8
  // optimizes it).
  const { state: hostState, start, end } = hostTl.tasks;
  let preemptions = 0;
  for (let j = 0; j < state.length; j++) {
    const st = intervalState(hostState[a + j]!, start[a + j]!, vcpu, undefined, guestIdleAt);
    state[j] = st;
    preemptions += countIn(byState, window, start[a + j]!, end[a + j]!, st);
  }
  return preemptions;
}

/** The states' basis in words: which events they come from and what they cannot show. */
function basisOf(
  kvm: KvmScan,
  sleepSource: VcpuStatesResult['sleepSource'],
  schedulingSeen: boolean,
  vcpus: number,
): string[] {
  const out: string[] = [];
  if (vcpus === 0) return out;
  if (schedulingSeen)
    out.push(
      `the host's sched_switch (${kvm.switches} switching a vCPU thread in or out) shows when the vCPU threads ran, slept, were preempted or waited for a host CPU`,
    );
  else
    out.push(
      "the host trace has no sched_switch: the vCPU threads' preemption and waiting for a host CPU cannot be seen (0 there means not seen, not none), and on-CPU time is taken from each thread's own events",
    );
  if (kvm.perThread.size > 0) {
    const w = kvm.wakeups;
    out.push(
      `states rest on kvm_entry / kvm_exit (${kvm.entries} entries, ${kvm.exits} exits, ${kvm.haltExits} of them HLT): running in the guest from entry to exit, idle (halted) from a HLT exit to the next entry, halt polling included, vmm after any other exit` +
        (w.poll + w.wait > 0
          ? `; kvm_vcpu_wakeup: ${w.poll} halts ended while KVM polled, ${w.wait} after the thread slept`
          : ''),
    );
    if (kvm.perThread.size < vcpus)
      out.push(
        `${vcpus - kvm.perThread.size} of the ${vcpus} vCPU threads have no kvm_entry / kvm_exit events`,
      );
  }
  if (sleepSource === 'guest-idle')
    out.push(
      "sleeps of the vCPU threads are told apart (halted or VMM) by the guest CPU's idle state, through the clock map",
    );
  else if (kvm.perThread.size > 0 && kvm.perThread.size < vcpus)
    out.push(
      "sleeps of vCPU threads without KVM events are told apart by the guest CPU's idle state, through the clock map, when there is one",
    );
  else if (sleepSource === 'none')
    out.push(
      'nothing tells halted from VMM sleeps (no guest idle state, no HLT exits): they are counted as blocked',
    );
  return out;
}

/** A host thread's kvm_entry / kvm_exit events in time order. */
interface KvmEvents {
  ts: Float64Array;
  /** The state each event starts: running (kvm_entry), halted (HLT exit) or vmm (other exits). */
  after: Uint8Array;
}

/** One pass over the host's events for the vCPU threads. */
interface KvmScan {
  perThread: Map<number, KvmEvents>;
  entries: number;
  exits: number;
  haltExits: number;
  /** kvm_vcpu_wakeup: halts that ended while KVM polled, and after the thread slept. */
  wakeups: { poll: number; wait: number };
  /** sched_switch events that switch a vCPU thread in or out. */
  switches: number;
  /** sched_switch events of any task: the tracer recorded scheduling at all. */
  anySwitches: number;
}

/** The vCPU threads' kvm_entry and kvm_exit events, and what else says how they were scheduled. */
function kvmEvents(host: Trace, tids: ReadonlySet<number>): KvmScan {
  const per = new Map<number, { ts: number; after: VcpuState }[]>();
  const scan: KvmScan = {
    perThread: new Map(),
    entries: 0,
    exits: 0,
    haltExits: 0,
    wakeups: { poll: 0, wait: 0 },
    switches: 0,
    anySwitches: 0,
  };
  const ev = host.events;
  // Per event type its kind, and per task-table id whether it is a vCPU thread: typed loads per
  // event (a pass over every host event), not a property chain, an object and a Set lookup.
  const kinds = Uint8Array.from(host.eventTypes, (t) => t.kind);
  const vcpuTask = new Uint8Array(host.tasks.size);
  for (let id = 0; id < vcpuTask.length; id++) if (tids.has(host.tasks.pid(id))) vcpuTask[id] = 1;
  // The pass over every host event block by block, from the store's typed columns (method calls
  // per event cost more than the rest of this one-shot loop, mostly run before V8 compiles it):
  // it counts the switches and finds the vCPU threads' KVM events, read below.
  const found: KvmFound = { anySwitches: 0, switches: 0, kvm: [] };
  ev.forEachBlock((b, count, first) =>
    scanBlock(b.type, b.a0, b.a1, b.taskLat, count, first, kinds, vcpuTask, found),
  );
  scan.anySwitches = found.anySwitches;
  scan.switches = found.switches;
  for (const i of found.kvm) {
    const k = kinds[ev.type(i)]!;
    const tid = host.tasks.pid(ev.task(i));
    if (k === Kind.kvmVcpuWakeup) {
      // `wait time 1234 ns, polling valid` / `poll time ...`: read, not a state change.
      if (textAt(host, i).startsWith('poll')) scan.wakeups.poll++;
      else scan.wakeups.wait++;
      continue;
    }
    let after: VcpuState = VcpuState.running;
    if (k === Kind.kvmEntry) scan.entries++;
    else {
      scan.exits++;
      const halt = isHaltExit(kvmAt(host, i).reason);
      if (halt) scan.haltExits++;
      after = halt ? VcpuState.halted : VcpuState.vmm;
    }
    let l = per.get(tid);
    if (l === undefined) per.set(tid, (l = []));
    l.push({ ts: ev.ts(i), after });
  }
  for (const [tid, l] of per) {
    l.sort((x, y) => x.ts - y.ts);
    scan.perThread.set(tid, {
      ts: Float64Array.from(l, (x) => x.ts),
      after: Uint8Array.from(l, (x) => x.after),
    });
  }
  return scan;
}

/** What scanBlock finds: sched_switch counts, and the vCPU threads' KVM events by index. */
interface KvmFound {
  anySwitches: number;
  switches: number;
  kvm: number[];
}

/** kvmEvents' pass over one block of host events (`count` from event `first`), into `out`. */
function scanBlock(
  type: Uint16Array,
  a0: Int32Array,
  a1: Int32Array,
  taskLat: Uint32Array,
  count: number,
  first: number,
  kinds: Uint8Array,
  vcpuTask: Uint8Array,
  out: KvmFound,
): void {
  let anySwitches = out.anySwitches;
  let switches = out.switches;
  const kvm = out.kvm;
  for (let k = 0; k < count; k++) {
    const kind = kinds[type[k]!]!;
    if (kind === Kind.schedSwitch) {
      anySwitches++;
      if (vcpuTask[a0[k]! & TASK_MASK] === 1 || vcpuTask[a1[k]!] === 1) switches++;
      continue;
    }
    if (kind !== Kind.kvmEntry && kind !== Kind.kvmExit && kind !== Kind.kvmVcpuWakeup) continue;
    if (vcpuTask[taskLat[k]! & TASK_MASK] === 1) kvm.push(first + k);
  }
  out.anySwitches = anySwitches;
  out.switches = switches;
}

/**
 * What an exit left the thread doing at `at` (halted after a HLT, vmm after another), when its
 * last KVM event before `at` is an exit; undefined after an entry (its exit was not traced) or
 * before any event.
 */
function outOfGuest(x: KvmEvents, at: number): VcpuState | undefined {
  const q = upperBound(x.ts, at) - 1;
  if (q < 0 || x.after[q] === VcpuState.running) return undefined;
  return x.after[q] as VcpuState;
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
