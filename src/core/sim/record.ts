// Turns a simulation into a host trace and a guest trace (the same model the importers build),
// with the ground truth the simulator knows: which host thread is which vCPU, the clock offset.

import { DiagnosticSink } from '../model/diagnostics';
import { Trace, TraceBuilder } from '../model/trace';
import { simulate, SimConfig, SimRecorder, SimResult } from './engine';

export interface SimTraces {
  result: SimResult;
  host: Trace;
  guest: Trace;
  truth: {
    /** vCPU number → host thread id. */
    vcpuTids: number[];
    /** host - guest, ns. */
    offsetNs: number;
    /** Every preemption of a vCPU thread, in host trace time (ns), and who took its pCPU. */
    preemptions: TruePreemption[];
  };
}

export interface TruePreemption {
  vcpu: number;
  pcpu: number;
  /** Switched out still runnable, and switched back in (host trace clock, ns). */
  startNs: number;
  endNs: number;
  /** The host task that took the pCPU (tid, comm). */
  byTid: number;
  byComm: string;
}

const VCPU_TID = 5000;
const HOG_TID = 7000;
/** With `coRunnerKind: 'vm'`: the other VM's vCPU threads (another QEMU process). */
const OTHER_VM_TID = 9000;
const GUEST_TID = 600;
/** The guest clock starts this far behind the host's (host - guest), like a VM booted later. */
const OFFSET_NS = 4_706_668_880_000;
const HOST_START_NS = 5_000_000_000_000;
/** The guest scheduler tick (CONFIG_HZ=250). */
const TICK_NS = 4_000_000;

export function simulateTraces(c: SimConfig): SimTraces {
  const hb = new TraceBuilder('host (simulated)', 'trace-cmd-report', new DiagnosticSink());
  const gb = new TraceBuilder('guest (simulated)', 'trace-cmd-report', new DiagnosticSink());
  hb.header.cpus = c.pcpus;
  gb.header.cpus = c.vcpus;
  const otherVm = c.coRunnerKind === 'vm';
  const hostPid = (id: number): number =>
    id < c.vcpus ? VCPU_TID + id : (otherVm ? OTHER_VM_TID : HOG_TID) + id - c.vcpus;
  const hostComm = (id: number): string =>
    id < c.vcpus ? `CPU ${id}/KVM` : otherVm ? `CPU ${id - c.vcpus}/KVM` : 'hog';
  const hostTask = (id: number, p: number): number =>
    id < 0
      ? hb.tasks.intern(0, `swapper/${p}`, 120)
      : hb.tasks.intern(hostPid(id), hostComm(id), 120);
  const hostOwner = (id: number): number =>
    id < 0 ? hb.tasks.intern(0, '<idle>') : hb.tasks.intern(hostPid(id), hostComm(id));
  const guestTask = (th: number, v: number): number =>
    th < 0 ? gb.tasks.intern(0, `swapper/${v}`, 120) : gb.tasks.intern(GUEST_TID + th, 'omp', 120);
  const guestOwner = (th: number): number =>
    th < 0 ? gb.tasks.intern(0, '<idle>') : gb.tasks.intern(GUEST_TID + th, 'omp');
  const split = (ns: number): { hi: number; lo: number } => ({
    hi: Math.floor(ns / 1e9),
    lo: ns % 1e9,
  });
  const hts = (t: number): number => hb.relTs(split(HOST_START_NS + t));
  const gts = (t: number): number => gb.relTs(split(HOST_START_NS + t - OFFSET_NS));
  const onPcpu: number[] = new Array<number>(c.pcpus).fill(-1);
  const T = {
    hSwitch: hb.typeId('sched_switch'),
    hWakeup: hb.typeId('sched_wakeup'),
    hMigrate: hb.typeId('sched_migrate_task'),
    gSwitch: gb.typeId('sched_switch'),
    gWaking: gb.typeId('sched_waking'),
    gWakeup: gb.typeId('sched_wakeup'),
    gRuntime: gb.typeId('sched_stat_runtime'),
  };
  // The guest's scheduler tick: every TICK_NS of host time, each vCPU that is running logs a
  // sched_stat_runtime for its current thread, as a guest kernel's tick would (spinning programs
  // otherwise leave the guest trace nearly empty, as they do on real hardware).
  const vcpuRunning = new Uint8Array(c.vcpus);
  const guestOn: number[] = Array.from({ length: c.vcpus }, (_, v) => (v < c.threads ? v : -1));
  let nextTick = TICK_NS;
  const tickUntil = (t: number): void => {
    while (nextTick < t) {
      for (let v = 0; v < c.vcpus; v++) {
        const th = guestOn[v]!;
        if (vcpuRunning[v] === 1 && th >= 0)
          gb.event(gts(nextTick), v, T.gRuntime, guestOwner(th), 0, guestOwner(th), TICK_NS);
      }
      nextTick += TICK_NS;
    }
  };
  const preemptions: TruePreemption[] = [];
  const open: (TruePreemption | undefined)[] = new Array<TruePreemption | undefined>(c.vcpus);
  const rec: SimRecorder = {
    hostSwitch(t, p, prev, prevState, next) {
      tickUntil(t);
      if (prev >= 0 && prev < c.vcpus && prevState !== 'S') {
        const e: TruePreemption = {
          vcpu: prev,
          pcpu: p,
          startNs: HOST_START_NS + t,
          endNs: -1,
          byTid: next < 0 ? 0 : hostPid(next),
          byComm: next < 0 ? 'swapper' : hostComm(next),
        };
        open[prev] = e;
        preemptions.push(e);
      }
      if (next >= 0 && next < c.vcpus && open[next] !== undefined) {
        open[next]!.endNs = HOST_START_NS + t;
        open[next] = undefined;
      }
      if (prev >= 0 && prev < c.vcpus) vcpuRunning[prev] = 0;
      if (next >= 0 && next < c.vcpus) vcpuRunning[next] = 1;
      const st = hb.stateId(prev < 0 ? 'R' : prevState);
      hb.event(
        hts(t),
        p,
        T.hSwitch,
        hostOwner(prev),
        0,
        hostTask(prev, p) | (st << 22),
        hostTask(next, p),
      );
      onPcpu[p] = next;
    },
    hostWakeup(t, p, task, target) {
      tickUntil(t);
      hb.event(hts(t), p, T.hWakeup, hostOwner(onPcpu[p]!), 0, hostTask(task, p), target);
    },
    hostDequeue(t, task) {
      if (task < c.vcpus && open[task] !== undefined) {
        open[task]!.endNs = HOST_START_NS + t;
        open[task] = undefined;
      }
    },
    hostMigrate(t, task, from, to) {
      tickUntil(t);
      hb.event(
        hts(t),
        to,
        T.hMigrate,
        hostOwner(onPcpu[to]!),
        0,
        hostTask(task, to),
        (from << 16) | to,
      );
    },
    guestSwitch(t, v, prev, prevState, next) {
      tickUntil(t);
      guestOn[v] = next;
      const st = gb.stateId(prev < 0 ? 'R' : prevState);
      gb.event(
        gts(t),
        v,
        T.gSwitch,
        guestOwner(prev),
        0,
        guestTask(prev, v) | (st << 22),
        guestTask(next, v),
      );
    },
    guestWakeup(t, v, by, th, target) {
      tickUntil(t);
      gb.event(gts(t), v, T.gWaking, guestOwner(by), 0, guestTask(th, target), target);
      gb.event(gts(t), v, T.gWakeup, guestOwner(by), 0, guestTask(th, target), target);
    },
  };
  const result = simulate(c, rec);
  for (const e of open) if (e !== undefined) e.endNs = HOST_START_NS + result.wallNs;
  const clock = { name: 'local', unit: 'ns' as const, source: 'file' as const, resolution: 1 };
  return {
    result,
    host: hb.finish(clock),
    guest: gb.finish(clock),
    truth: {
      vcpuTids: Array.from({ length: c.vcpus }, (_, v) => VCPU_TID + v),
      offsetNs: OFFSET_NS,
      preemptions,
    },
  };
}
