// vCPU identification from activity, for hosts where names say nothing (QEMU without
// debug-threads=on: every thread is `qemu-system-x86`) and no kvm events were traced. A guest CPU
// can only log while its vCPU thread is on a host CPU: first the offset that puts the guest's
// events inside the candidate threads' combined on-CPU time, then, at that offset, for each guest
// CPU the candidate thread whose on-CPU time holds the most of that CPU's events.

import type { Trace } from '../model/trace';
import type { Timelines } from '../timeline/build';
import {
  fineOffset,
  offsetHistogram,
  firstEndingAfter,
  GuestEvent,
  OnCpu,
  onCpuIntervals,
  unionIntervals,
} from './clock-map';
import type { VcpuAssignment, VmThreads } from './vcpu-map';

/** Process names of VMMs (comms are cut to 15 characters). */
const VMM_COMM = /^(qemu-system-|qemu-kvm|firecracker|cloud-hypervis|crosvm|lkvm|kvmtool)/;

function containing(iv: OnCpu, t: number): boolean {
  const j = firstEndingAfter(iv, t);
  return j < iv.start.length && iv.start[j]! <= t;
}

/**
 * Infers which host thread runs each guest CPU. Undefined (with reasons) when the host shows no
 * VMM threads, the units differ, or no offset fits.
 */
export function inferVcpusFromActivity(
  host: Trace,
  hostTl: Timelines,
  guest: Trace,
  why: string[],
): VmThreads | undefined {
  if (host.clock.unit !== guest.clock.unit) {
    why.push('activity inference needs host and guest timestamps in the same unit');
    return undefined;
  }
  const t = hostTl.tasks;
  const cands: { tid: number; comm: string; on: OnCpu }[] = [];
  for (let k = 0; k < t.pids.length; k++) {
    if (!VMM_COMM.test(t.comms[k]!)) continue;
    const on = onCpuIntervals(hostTl, t.pids[k]!);
    if (on.start.length > 0) cands.push({ tid: t.pids[k]!, comm: t.comms[k]!, on });
  }
  if (cands.length < guest.cpuCount) {
    why.push(
      `${cands.length} host threads named like a VMM process (qemu-system-*, firecracker, ...), fewer than the guest's ${guest.cpuCount} CPUs`,
    );
    return undefined;
  }
  const evs: GuestEvent[] = [];
  for (let i = 0; i < guest.events.length; i++)
    evs.push({ g: guest.events.ts(i), vcpu: guest.events.cpu(i) });
  if (evs.length < 20) {
    why.push('too few guest events to infer the vCPU threads');
    return undefined;
  }
  evs.sort((a, b) => a.g - b.g);
  // 1. Offsets at which the guest's events fall inside the VMM threads' combined on-CPU time.
  //    That alone is ambiguous when the VMM is busy most of the time, so each candidate offset is
  //    then judged by how well each guest CPU's events fit one single thread.
  const all = unionIntervals(cands.map((c) => c.on));
  const anyThread = new Map<number, OnCpu>();
  for (let c = 0; c < guest.cpuCount; c++) anyThread.set(c, all);
  const h = offsetHistogram(
    evs,
    anyThread,
    hostTl.start - evs[evs.length - 1]!.g,
    hostTl.end - evs[0]!.g,
  );
  if (h === undefined) {
    why.push('the guest trace does not overlap the host trace');
    return undefined;
  }
  let maxCover = 0;
  for (const c of h.cover) maxCover = Math.max(maxCover, c);
  if (maxCover < h.sample * 0.5) {
    why.push('no offset puts the guest events inside the VMM threads’ on-CPU time');
    return undefined;
  }
  const perCpu = new Map<number, number[]>();
  for (const e of evs) {
    let l = perCpu.get(e.vcpu);
    if (l === undefined) perCpu.set(e.vcpu, (l = []));
    l.push(e.g);
  }
  // 2. Per candidate offset, per guest CPU, the share of its (sampled) events each thread holds.
  const scoreAt = (at: number): { cpu: number; cand: number; score: number }[] => {
    const out: { cpu: number; cand: number; score: number }[] = [];
    for (const [cpu, gs] of perCpu) {
      const step = Math.max(1, Math.floor(gs.length / 500));
      for (let ci = 0; ci < cands.length; ci++) {
        let hit = 0;
        let n = 0;
        for (let i = 0; i < gs.length; i += step) {
          n++;
          if (containing(cands[ci]!.on, gs[i]! + at)) hit++;
        }
        out.push({ cpu, cand: ci, score: hit / n });
      }
    }
    return out;
  };
  const fit = (sc: { cpu: number; score: number }[]): number => {
    const best = new Map<number, number>();
    for (const x of sc) best.set(x.cpu, Math.max(best.get(x.cpu) ?? 0, x.score));
    return [...best.values()].reduce((a, b) => a + b, 0);
  };
  // Every offset bin the threads together allow is judged on a small sample per guest CPU; the
  // best few are refined and judged on more events.
  const quick = new Map<number, number[]>(
    [...perCpu].map(([c, gs]) => [
      c,
      gs.filter((_, i) => i % Math.max(1, Math.floor(gs.length / 24)) === 0),
    ]),
  );
  const ranked: { at: number; fit: number }[] = [];
  for (let i = 0; i < h.cover.length; i++) {
    if (h.cover[i]! < maxCover * 0.97) continue;
    const at = h.dMin + (i + 0.5) * h.w;
    let f = 0;
    for (const gs of quick.values()) {
      let best = 0;
      for (const c of cands) {
        let hit = 0;
        for (const g of gs) if (containing(c.on, g + at)) hit++;
        best = Math.max(best, hit / gs.length);
      }
      f += best;
    }
    ranked.push({ at, fit: f });
  }
  ranked.sort((x, y) => y.fit - x.fit);
  let scores: { cpu: number; cand: number; score: number }[] = [];
  let bestFit = -1;
  for (const o of ranked.slice(0, 8)) {
    const f = fineOffset(evs, anyThread, o.at - 2 * h.w, o.at + 2 * h.w);
    for (const at of [(f.lo + f.hi) / 2, o.at]) {
      const sc = scoreAt(at);
      const v = fit(sc);
      if (v > bestFit) {
        bestFit = v;
        scores = sc;
      }
    }
  }
  // 3. Greedy by score: each guest CPU and each thread used once.
  scores.sort((a, b) => b.score - a.score);
  const usedCpu = new Set<number>();
  const usedCand = new Set<number>();
  const vcpus: VcpuAssignment[] = [];
  for (const s of scores) {
    if (usedCpu.has(s.cpu) || usedCand.has(s.cand)) continue;
    usedCpu.add(s.cpu);
    usedCand.add(s.cand);
    const runnerUp = scores
      .filter((x) => x.cpu === s.cpu && x.cand !== s.cand)
      .reduce((m, x) => Math.max(m, x.score), 0);
    const c = cands[s.cand]!;
    vcpus.push({
      vcpu: s.cpu,
      hostTid: c.tid,
      hostComm: c.comm,
      method: 'activity',
      // How far it stands out from the next best thread.
      confidence: Math.max(0, Math.min(1, s.score - runnerUp)),
      evidence: `${(100 * s.score).toFixed(1)}% of guest CPU ${s.cpu}'s events fall in this thread's on-CPU time (next best thread: ${(100 * runnerUp).toFixed(1)}%)`,
    });
  }
  vcpus.sort((a, b) => a.vcpu - b.vcpu);
  if (vcpus.some((v) => v.confidence < 0.2)) {
    why.push(
      `guest CPU(s) ${vcpus
        .filter((v) => v.confidence < 0.2)
        .map((v) => v.vcpu)
        .join(', ')}: no thread stands out; give --vcpu-map`,
    );
  }
  return { key: 'inferred from activity', vmm: cands[0]!.comm, vcpus };
}
