// Stall attribution: every stretch a vCPU could not run (preempted, or woken and waiting for a
// host CPU), seen from inside the guest: which guest thread the guest believed was running on
// that vCPU (and so lost the time), and who ran on the host CPU instead (the preemptor).

import type { Trace } from '../model/trace';
import { intervalContaining, type Timelines } from '../timeline/build';
import { ClockMap, relativeMap } from './clock-map';
import { VcpuState, VcpuStatesResult } from './vcpu-states';

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

export interface StallsResult {
  stalls: Stall[];
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
  const stalls: Stall[] = [];
  const toGuestRel = relativeMap(clock, guest.tsBase, host.tsBase).toGuest;
  const gc = guestTl.cpus;
  const hc = hostTl.cpus;
  for (const tl of states.timelines) {
    for (let j = 0; j < tl.state.length; j++) {
      const s = tl.state[j];
      if (s !== VcpuState.preempted && s !== VcpuState.waiting) continue;
      const hs = tl.start[j]!;
      const he = tl.end[j]!;
      if (he <= hs) continue;
      // The guest's view at the middle of the stall: who ran on that guest CPU.
      const gMid = toGuestRel((hs + he) / 2);
      const gi = intervalContaining(gc.offsets, gc.start, gc.end, tl.vcpu, gMid);
      const guestPid = gi < 0 ? -1 : gc.pid[gi]!;
      // The thread's last name in the guest trace (it may have exec'd since the switch).
      const gk = guestPid > 0 ? guestTl.tasks.indexOf.get(guestPid) : undefined;
      const guestComm =
        gi < 0 || guestPid < 0
          ? '?'
          : gk !== undefined
            ? guestTl.tasks.comms[gk]!
            : guest.tasks.comm(gc.task[gi]!);
      // The preemptor: who the host CPU ran right after the vCPU thread left it.
      const pcpu = tl.pcpu[j]!;
      let preemptorPid = -1;
      let preemptorComm = '?';
      if (s === VcpuState.preempted && pcpu >= 0 && pcpu + 1 < hc.offsets.length) {
        // Timestamps are integers: half a unit past the switch is inside the next interval only.
        const hi = intervalContaining(hc.offsets, hc.start, hc.end, pcpu, hs + 0.5);
        if (hi >= 0 && hc.pid[hi]! >= 0) {
          preemptorPid = hc.pid[hi]!;
          preemptorComm = host.tasks.comm(hc.task[hi]!);
        }
      }
      stalls.push({
        vcpu: tl.vcpu,
        kind: s === VcpuState.preempted ? 'preempted' : 'waiting',
        hostStart: hs,
        hostEnd: he,
        guestPid,
        guestComm,
        preemptorPid,
        preemptorComm,
        pcpu,
      });
    }
  }
  const threads = new Map<number, ThreadStall>();
  const preemptors = new Map<number, PreemptorStall>();
  for (const st of stalls) {
    const d = st.hostEnd - st.hostStart;
    if (st.guestPid > 0) {
      let t = threads.get(st.guestPid);
      if (t === undefined)
        threads.set(
          st.guestPid,
          (t = { pid: st.guestPid, comm: st.guestComm, lost: 0, episodes: 0, lostPreempted: 0 }),
        );
      t.lost += d;
      t.episodes++;
      if (st.kind === 'preempted') t.lostPreempted += d;
    }
    if (st.kind === 'preempted' && st.preemptorPid >= 0) {
      let p = preemptors.get(st.preemptorPid);
      if (p === undefined)
        preemptors.set(
          st.preemptorPid,
          (p = { pid: st.preemptorPid, comm: st.preemptorComm, took: 0, episodes: 0 }),
        );
      p.took += d;
      p.episodes++;
    }
  }
  return {
    stalls,
    byGuestThread: [...threads.values()].sort((a, b) => b.lost - a.lost),
    byPreemptor: [...preemptors.values()].sort((a, b) => b.took - a.took),
  };
}
