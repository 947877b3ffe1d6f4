// Scores a guest-only inference against the host's truth: for a pair analysed with both traces,
// each vCPU's off-CPU time on the host (its thread preempted, waiting for a host CPU or blocked,
// through the pair's clock map) beside the absent time the guest alone gave, and interval by
// interval, recall (host absences of at least `minNs` that an inferred absence overlaps) and
// precision (inferred absences of at least `minNs` that overlap a host absence).

import { relativeMap } from '../correlate/clock-map';
import type { AbsenceTable } from '../correlate/absence';
import { VcpuState } from '../correlate/vcpu-states';
import type { PairAnalysis } from './types';

export interface VcpuScore {
  vcpu: number;
  /** Host truth: preempted + waiting + blocked, in the guest's window, ns. */
  hostOffNs: number;
  inferredNs: number;
  /** inferred / host - 1. */
  error: number;
  hostLong: number;
  hostLongFound: number;
  inferredLong: number;
  inferredLongTrue: number;
}

export interface GuestOnlyScore {
  minNs: number;
  /** Guest-relative stretch scored (both traces' overlap). */
  window: { start: number; end: number };
  perVcpu: VcpuScore[];
  recall: number;
  precision: number;
}

/** Host truth absences of each vCPU, guest-relative, merged where they touch. */
export function hostAbsences(pair: PairAnalysis): Map<number, [number, number][]> {
  const out = new Map<number, [number, number][]>();
  if (pair.states === undefined || pair.clock === undefined) return out;
  const toGuest = relativeMap(pair.clock, pair.guest.tsBase, pair.host.tsBase).toGuest;
  for (const tl of pair.states.timelines) {
    const l: [number, number][] = [];
    for (let j = 0; j < tl.state.length; j++) {
      const s = tl.state[j];
      if (s !== VcpuState.preempted && s !== VcpuState.waiting && s !== VcpuState.blocked) continue;
      const a = toGuest(tl.start[j]!);
      const b = toGuest(tl.end[j]!);
      const last = l[l.length - 1];
      if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
      else l.push([a, b]);
    }
    out.set(tl.vcpu, l);
  }
  return out;
}

/** Scores `table` (guest-relative) against the pair's host truth. */
export function scoreGuestOnly(
  pair: PairAnalysis,
  table: AbsenceTable,
  minNs = 8_000_000,
): GuestOnlyScore | undefined {
  if (pair.clock === undefined || pair.window === undefined || pair.states === undefined)
    return undefined;
  const toGuest = relativeMap(pair.clock, pair.guest.tsBase, pair.host.tsBase).toGuest;
  const window = { start: toGuest(pair.window.start), end: toGuest(pair.window.end) };
  const clip = (a: number, b: number): number =>
    Math.max(0, Math.min(b, window.end) - Math.max(a, window.start));
  const truth = hostAbsences(pair);
  const perVcpu: VcpuScore[] = [];
  let hl = 0;
  let hf = 0;
  let il = 0;
  let it = 0;
  for (const [vcpu, host] of truth) {
    const inf: [number, number][] = [];
    for (let j = 0; j < table.length; j++)
      if (table.vcpu[j] === vcpu) inf.push([table.start[j]!, table.end[j]!]);
    const s: VcpuScore = {
      vcpu,
      hostOffNs: host.reduce((x, [a, b]) => x + clip(a, b), 0),
      inferredNs: inf.reduce((x, [a, b]) => x + clip(a, b), 0),
      error: 0,
      hostLong: 0,
      hostLongFound: 0,
      inferredLong: 0,
      inferredLongTrue: 0,
    };
    s.error = s.hostOffNs > 0 ? s.inferredNs / s.hostOffNs - 1 : s.inferredNs > 0 ? Infinity : 0;
    const overlaps = (l: [number, number][], a: number, b: number): boolean =>
      l.some(([x, y]) => x < b && a < y);
    for (const [a, b] of host)
      if (b - a >= minNs && clip(a, b) > 0) {
        s.hostLong++;
        if (overlaps(inf, a, b)) s.hostLongFound++;
      }
    for (const [a, b] of inf)
      if (b - a >= minNs && clip(a, b) > 0) {
        s.inferredLong++;
        if (overlaps(host, a, b)) s.inferredLongTrue++;
      }
    hl += s.hostLong;
    hf += s.hostLongFound;
    il += s.inferredLong;
    it += s.inferredLongTrue;
    perVcpu.push(s);
  }
  perVcpu.sort((a, b) => a.vcpu - b.vcpu);
  return {
    minNs,
    window,
    perVcpu,
    recall: hl > 0 ? hf / hl : 1,
    precision: il > 0 ? it / il : 1,
  };
}
