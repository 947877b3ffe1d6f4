// The guest program the advice is about: the threads of one process, found by thread group when
// the trace records it, else by the name an OpenMP team shares, else (threads that name
// themselves, as a real-time runtime's do) by thread ids created together. The tracer recording
// the trace (trace-cmd, perf) and the kernel's own threads are never the program.

import type { Timelines } from '../timeline/build';
import { TASK_STATE_COUNT, TaskState } from '../timeline/states';
import type { Trace } from '../model/trace';

export interface Program {
  /** The command: the shared name, or the busiest thread's when the threads name themselves. */
  comm: string;
  pids: number[];
  /** Share of the threads' guest time spent sleeping (S/D): high for blocking waits, low for spinning. */
  sleepShare: number;
  /** How the threads were found to be one program, and what was left out, in words. */
  why: string;
}

/** The tools that record traces: their threads are the measurement, not the program. */
const TRACERS = new Set(['trace-cmd', 'perf', 'perf-exec']);

/**
 * Names Linux gives its own threads: per-CPU ones `name/N` (kworker/0:2, ksoftirqd/0,
 * migration/1, irq/25-virtio0, jbd2/vda1-8), and the rest by name (kernel/ and mm/ sources).
 */
const PER_CPU_KTHREAD = /^[\w.-]+\/(?:u?\d|[\w.-]*-\d)/;
const KTHREAD =
  /^(?:kthreadd|rcu_\w+|kcompactd\d+|kswapd\d+|khugepaged|kdevtmpfs|kauditd|khungtaskd|oom_reaper|ksmd|kblockd|writeback|kintegrityd|kthrotld|ipv6_addrconf|mm_percpu_wq|netns|edac-poller|devfreq_wq|watchdogd|kstrp|scsi_(?:eh|tmf)_\d+|ext4-rsv-conver|zswap\w*|inet_frag_wq|blkcg_punt_bio|kaluad|kmpath_rdacd|mld|tpm_dev_wq|md|kpsmoused|ata_sff|cryptd|hwrng|khvcd|pm_wq|acpi_thermal_pm|charger_manager|card\d+-crtc\d+)$/;

/** Whether a comm is one the kernel gives its own threads. */
export function isKernelThreadName(comm: string): boolean {
  return PER_CPU_KTHREAD.test(comm) || KTHREAD.test(comm);
}

/** Thread ids further apart than this are not taken as created together. */
const NEAR = 32;

interface Group {
  key: string;
  pids: number[];
  /** Task-timeline indices. */
  ks: number[];
  run: number;
}

/**
 * The program under study: of the guest's processes with at least two threads, the one whose
 * threads ran the longest. Undefined when there is none.
 */
export function findProgram(guest: Trace, tl: Timelines): Program | undefined {
  const t = tl.tasks;
  const run = (k: number): number => t.totals[k * TASK_STATE_COUNT + TaskState.running]!;
  const users: number[] = [];
  const tracers = new Set<string>();
  const kernel = new Set<string>();
  for (let k = 0; k < t.pids.length; k++) {
    const pid = t.pids[k]!;
    if (pid <= 0) continue;
    const c = t.comms[k]!;
    if (TRACERS.has(c)) tracers.add(c);
    else if (isKernelThreadName(c)) kernel.add(c);
    else users.push(k);
  }
  const left: string[] = [];
  if (tracers.size > 0) left.push(`${[...tracers].join(', ')} (the tracer)`);
  if (kernel.size > 0)
    left.push(
      `${kernel.size} kernel threads (${[...kernel].slice(0, 4).join(', ')}${kernel.size > 4 ? ', ...' : ''})`,
    );
  const leftOut = left.length > 0 ? `; left out ${left.join(' and ')}` : '';

  // Thread groups where the trace has them, else shared names.
  const groups = new Map<string, Group>();
  let byTgid = 0;
  for (const k of users) {
    const pid = t.pids[k]!;
    const tgid = guest.tasks.tgid(pid);
    if (tgid !== undefined) byTgid++;
    const key = tgid !== undefined ? `tgid ${tgid}` : `comm ${t.comms[k]!}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { key, pids: [], ks: [], run: 0 }));
    g.pids.push(pid);
    g.ks.push(k);
    g.run += run(k);
  }
  let how = byTgid > 0 ? 'thread group' : 'shared name';
  let multi = [...groups.values()].filter((g) => g.pids.length >= 2);
  if (multi.length === 0 && byTgid === 0) {
    // Threads that name themselves (pthread_setname_np) share nothing but their creation: runs
    // of nearby thread ids.
    how = `thread ids created together (within ${NEAR} of each other; the trace has no thread groups and the threads share no name)`;
    const sorted = [...users].sort((x, y) => t.pids[x]! - t.pids[y]!);
    let cur: Group | undefined;
    multi = [];
    for (const k of sorted) {
      const pid = t.pids[k]!;
      if (cur === undefined || pid - cur.pids[cur.pids.length - 1]! > NEAR) {
        if (cur !== undefined && cur.pids.length >= 2) multi.push(cur);
        cur = { key: `pids ${pid}`, pids: [], ks: [], run: 0 };
      }
      cur.pids.push(pid);
      cur.ks.push(k);
      cur.run += run(k);
    }
    if (cur !== undefined && cur.pids.length >= 2) multi.push(cur);
  }
  let best: Group | undefined;
  for (const g of multi) if (g.run > 0 && (best === undefined || g.run > best.run)) best = g;
  if (best === undefined) return undefined;
  let sleep = 0;
  let all = 0;
  let busiest = best.ks[0]!;
  for (const k of best.ks) {
    const base = k * TASK_STATE_COUNT;
    sleep += t.totals[base + TaskState.sleeping]! + t.totals[base + TaskState.uninterruptible]!;
    for (let s = 0; s < TASK_STATE_COUNT; s++)
      if (s !== TaskState.unknown) all += t.totals[base + s]!;
    if (run(k) > run(busiest)) busiest = k;
  }
  const pids = best.pids.sort((x, y) => x - y);
  const names = new Set(best.ks.map((k) => t.comms[k]!));
  const comm = names.size === 1 ? t.comms[best.ks[0]!]! : t.comms[busiest]!;
  return {
    comm,
    pids,
    sleepShare: all > 0 ? sleep / all : 0,
    why:
      `the guest process whose threads ran the longest, of those with at least two, grouped by ${how}` +
      (names.size > 1
        ? `: ${pids.length} threads, pids ${pids[0]}-${pids[pids.length - 1]} (${[...names].slice(0, 6).join(', ')}${names.size > 6 ? ', ...' : ''})`
        : '') +
      leftOut,
  };
}
