// Guest-only inference of vCPU absence: the stretches when the host was not running a vCPU while
// the guest had work for it, read from the guest trace alone (no host trace). The evidence is
// time the guest expected to pass on that CPU and did not see pass: a timer that fired late (its
// hrtimer_start `expires=` against its hrtimer_expire_entry `now=`, or a periodic tick that came
// a period late), and a wakeup whose target CPU switched to the woken thread late. Lines read:
//   omp_barrier-270 [001] 27.169000: hrtimer_start: hrtimer=0xffff8b767baa35c0 function=tick_sched_timer/0x0 expires=27120000000 softexpires=27120000000
//   omp_barrier-270 [001] 27.171504: hrtimer_expire_entry: hrtimer=0xffff8b767baa35c0 now=27120150230 function=tick_sched_timer/0x0
//   omp_barrier-271 [003] 27.171503: local_timer_entry: vector=236
// (include/trace/events/timer.h, arch/x86/include/asm/trace/irq_vectors.h). `now` and `expires`
// are CLOCK_MONOTONIC, not the trace clock: only their difference (the lateness) is used, laid
// back from the event's own timestamp. A late timer says the vCPU was away from its expiry until
// the event; when the CPU was busy, the absence may have begun anywhere after the last event the
// CPU recorded before the expiry (nothing on a busy CPU is recorded between ticks), so each
// absence carries that window and a start estimated inside it. An idle CPU (the idle task
// running: NOHZ, halted) is not absent: it had no work, so there the absence starts at the expiry.

import { Kind } from '../model/event-kinds';
import { wakeupAt, switchAt } from '../model/payload';
import type { Trace } from '../model/trace';
import { lowerBound, upperBound } from '../model/search';
import { intervalContaining, type Timelines } from '../timeline/build';

/** What an inferred absence rests on. */
export const AbsenceEvidence = {
  /** A timer (hrtimer_start's expires against hrtimer_expire_entry's now) fired late. */
  lateTimer: 0,
  /** The periodic tick (local_timer_entry) came more than a period late on a busy CPU. */
  lateTick: 1,
  /** A thread woken onto an idle CPU ran late there (the vCPU was woken on the host late). */
  lateWakeup: 2,
} as const;
export type AbsenceEvidence = (typeof AbsenceEvidence)[keyof typeof AbsenceEvidence];
export const ABSENCE_EVIDENCE_NAMES = ['late-timer', 'late-tick', 'late-wakeup'] as const;

/** The guest events the inference reads, as `trace-cmd record -e` takes them. */
export const ABSENCE_EVENTS = [
  'irq_vectors:local_timer_entry',
  'timer:hrtimer_start',
  'timer:hrtimer_expire_entry',
  'sched:sched_stat_runtime',
] as const;

/** How to record a guest trace the inference can read (docs/guest-only.md explains it). */
export const ABSENCE_RECORD_HINT =
  'trace-cmd record -e sched -e irq_vectors:local_timer_entry -e timer:hrtimer_start -e timer:hrtimer_expire_entry -e sched:sched_stat_runtime -e irq_vectors:reschedule_entry -e irq_vectors:call_function_single_entry';

/**
 * Inferred absences of every vCPU as columns, grouped by vCPU, each vCPU's in time order and
 * disjoint. Times are guest-relative (the guest trace's unit, ns).
 */
export interface AbsenceTable {
  vcpu: Int32Array;
  start: Float64Array;
  end: Float64Array;
  /** Where the absence could have begun: after `earliest`, no later than `latest` (= a timer's expiry). */
  earliest: Float64Array;
  latest: Float64Array;
  evidence: Uint8Array;
  /** 0..1: how sure the interval is, and its extent (1 for an idle CPU's late timer: start known). */
  confidence: Float64Array;
  length: number;
}

export interface VcpuAbsence {
  vcpu: number;
  /** Inferred absent time and intervals; the part whose start is certain (`sureNs`: latest..end). */
  absentNs: number;
  intervals: number;
  sureNs: number;
  /** Time the guest CPU had work (a task other than idle on it), the span the inference can see. */
  busyNs: number;
}

export interface GuestAbsence {
  table: AbsenceTable;
  perVcpu: VcpuAbsence[];
  /** The tick rate read from the data (tick hrtimer expiries' spacing), or undefined. */
  hz: number | undefined;
  /** Lateness a timer may have without the vCPU being away (the trace's usual lateness), ns. */
  slackNs: number;
  /** Events of each kind the inference could read. */
  seen: {
    ticks: number;
    timerStarts: number;
    timerExpiries: number;
    runtime: number;
    ipis: number;
  };
  /** Events to record for the inference to have something to go on (empty: it has). */
  missing: string[];
  /** What the intervals rest on and what they cannot show, in words. */
  basis: string[];
}

export interface AbsenceOptions {
  /** Smallest lateness that counts as absence even when the trace's timers are usually later, ns. */
  minLateNs?: number;
}

const TIMER_RE = /hrtimer=(\S+)/;
const EXPIRES_RE = /expires=(\d+)/;
const NOW_RE = /now=(\d+)/;
const TICK_FN = 'tick_sched_timer';
const MIN_LATE_NS = 200_000;

interface Raw {
  vcpu: number;
  start: number;
  end: number;
  earliest: number;
  latest: number;
  evidence: AbsenceEvidence;
  confidence: number;
}

/** Infers each guest CPU's absences from its own events (see the file's comment). */
export function inferAbsence(guest: Trace, tl: Timelines, opts: AbsenceOptions = {}): GuestAbsence {
  const ev = guest.events;
  const n = guest.cpuCount;
  const names = guest.eventTypes.map((t) => t.name.slice(t.name.lastIndexOf(':') + 1));
  const kinds = guest.eventTypes.map((t) => t.kind);
  const seen = { ticks: 0, timerStarts: 0, timerExpiries: 0, runtime: 0, ipis: 0 };
  const lastTs = new Float64Array(n).fill(-Infinity);
  /** Per CPU, every event's time (where an absence could have begun is the last one before it). */
  const times: number[][] = Array.from({ length: n }, () => []);
  /** Per CPU: timer address -> its last programmed expiry (monotonic ns, as printed). */
  const expiries: Map<string, bigint>[] = Array.from({ length: n }, () => new Map());
  const late: { cpu: number; ts: number; lateNs: number; tick: boolean }[] = [];
  const latenesses: number[] = [];
  /** Per CPU: each tick's time and the CPU's last event before it, in pairs. */
  const ticks: number[][] = Array.from({ length: n }, () => []);
  const tickExpiries: bigint[][] = Array.from({ length: n }, () => []);
  // Wakeups onto CPUs: the woken pid's wakeup time and target, until its switch-in.
  const pendingWake = new Map<number, { ts: number; cpu: number }>();
  const wakeLat: { cpu: number; from: number; to: number }[] = [];
  const c = tl.cpus;
  const idleAt = (cpu: number, t: number): boolean => {
    if (cpu + 1 >= c.offsets.length) return false;
    const i = intervalContaining(c.offsets, c.start, c.end, cpu, t);
    return i >= 0 && c.pid[i] === 0;
  };
  const order = ev.order();
  for (let q = 0; q < ev.length; q++) {
    const i = order !== undefined ? order[q]! : q;
    const cpu = ev.cpu(i);
    if (cpu >= n) continue;
    const ts = ev.ts(i);
    const type = ev.type(i);
    const k = kinds[type]!;
    if (k === Kind.schedStatRuntime) seen.runtime++;
    else if (k === Kind.schedWakeup || k === Kind.schedWakeupNew) {
      const w = wakeupAt(guest, i);
      const pid = guest.tasks.pid(w.task);
      if (w.targetCpu >= 0 && w.targetCpu < n) pendingWake.set(pid, { ts, cpu: w.targetCpu });
    } else if (k === Kind.schedSwitch) {
      const sw = switchAt(guest, i);
      const pid = guest.tasks.pid(sw.next);
      const w = pendingWake.get(pid);
      if (w !== undefined) {
        pendingWake.delete(pid);
        // Woken onto this CPU while it was idle: the wait to run is the vCPU's wakeup on the host.
        if (w.cpu === cpu && guest.tasks.pid(sw.prev) === 0 && idleAt(cpu, w.ts))
          wakeLat.push({ cpu, from: w.ts, to: ts });
      }
    } else if (k === Kind.generic) {
      const name = names[type]!;
      if (name === 'local_timer_entry') {
        seen.ticks++;
        ticks[cpu]!.push(ts, lastTs[cpu]!);
      } else if (name === 'reschedule_entry' || name === 'call_function_single_entry') seen.ipis++;
      else if (name === 'hrtimer_start') {
        seen.timerStarts++;
        const text = guest.texts.get(ev.a0(i));
        const t = TIMER_RE.exec(text)?.[1];
        const e = EXPIRES_RE.exec(text)?.[1];
        if (t !== undefined && e !== undefined) {
          expiries[cpu]!.set(t, BigInt(e));
          if (text.includes(TICK_FN)) tickExpiries[cpu]!.push(BigInt(e));
        }
      } else if (name === 'hrtimer_expire_entry') {
        seen.timerExpiries++;
        const text = guest.texts.get(ev.a0(i));
        const t = TIMER_RE.exec(text)?.[1];
        const now = NOW_RE.exec(text)?.[1];
        const e = t !== undefined ? expiries[cpu]!.get(t) : undefined;
        if (e !== undefined && now !== undefined) {
          expiries[cpu]!.delete(t!);
          const lateNs = Number(BigInt(now) - e);
          if (lateNs >= 0) {
            latenesses.push(lateNs);
            late.push({ cpu, ts, lateNs, tick: text.includes(TICK_FN) });
          }
        }
      }
    }
    lastTs[cpu] = ts;
    times[cpu]!.push(ts);
  }
  const hz = tickHz(tickExpiries) ?? tickGapHz(ticks);
  latenesses.sort((a, b) => a - b);
  // Timers run a little late on any machine (interrupt entry, an emulated APIC): the trace's
  // fastest handling (its 5th percentile; the median is itself late on an oversubscribed host)
  // twice over, at least minLateNs, is what a vCPU that never left can take.
  const floorNs = latenesses.length > 0 ? latenesses[Math.floor(latenesses.length / 20)]! : 0;
  const slackNs = Math.max(opts.minLateNs ?? MIN_LATE_NS, 2 * floorNs);
  const age = ageModel(late.map((l) => l.lateNs).filter((x) => x > slackNs));
  const raw: Raw[] = [];
  for (const l of late) {
    if (l.lateNs <= slackNs) continue;
    const expiry = l.ts - l.lateNs;
    if (idleAt(l.cpu, expiry)) {
      raw.push({
        vcpu: l.cpu,
        start: expiry,
        end: l.ts,
        earliest: expiry,
        latest: expiry,
        evidence: AbsenceEvidence.lateTimer,
        confidence: 0.9,
      });
      continue;
    }
    // Busy: the absence began after the CPU's last recorded event before the expiry (at most a
    // period before it on a ticking CPU), no later than the expiry; where in that window, the
    // age model says (ageModel), the window kept as the uncertainty.
    const tc = times[l.cpu]!;
    const before = lowerBound(tc, expiry) - 1;
    const earliest = Math.max(before >= 0 ? tc[before]! : expiry, expiry - period(hz));
    raw.push({
      vcpu: l.cpu,
      start: expiry - age(expiry - earliest),
      end: l.ts,
      earliest,
      latest: expiry,
      evidence: AbsenceEvidence.lateTimer,
      confidence: Math.max(0.3, Math.min(0.95, l.lateNs / (l.lateNs + (expiry - earliest)))),
    });
  }
  // Without timer expiries to pair: the periodic tick itself. On a CPU busy across a gap, a tick
  // more than a period (and the slack) after the one before says the vCPU was away from the
  // missed tick's time, a period after the last (itself late by an unknown bit: less sure).
  if (late.length === 0) {
    const p = period(hz);
    for (let v = 0; v < n; v++) {
      const l = ticks[v]!;
      for (let j = 2; j < l.length; j += 2) {
        const prevTick = l[j - 2]!;
        const ts = l[j]!;
        if (ts - prevTick <= p + slackNs) continue;
        const missed = prevTick + p;
        if (idleAt(v, missed) || idleAt(v, prevTick)) continue;
        const earliest = Math.max(prevTick, Math.min(l[j + 1]!, missed));
        raw.push({
          vcpu: v,
          start: (earliest + missed) / 2,
          end: ts,
          earliest,
          latest: missed,
          evidence: AbsenceEvidence.lateTick,
          confidence: 0.5,
        });
      }
    }
  }
  // Late wakeups onto idle CPUs: beyond the trace's usual wakeup wait (its low quartile: most
  // wakeups on an oversubscribed host wait some), the vCPU was woken and not run.
  const waits = wakeLat.map((w) => w.to - w.from).sort((a, b) => a - b);
  const usualWake = waits.length > 0 ? waits[waits.length >> 2]! : 0;
  for (const w of wakeLat) {
    const from = w.from + usualWake;
    if (w.to - from <= slackNs) continue;
    raw.push({
      vcpu: w.cpu,
      start: from,
      end: w.to,
      earliest: from,
      latest: from,
      evidence: AbsenceEvidence.lateWakeup,
      confidence: 0.6,
    });
  }
  const table = mergeRaw(raw, n);
  const perVcpu: VcpuAbsence[] = [];
  for (let v = 0; v < n; v++) {
    const p: VcpuAbsence = { vcpu: v, absentNs: 0, intervals: 0, sureNs: 0, busyNs: 0 };
    for (let j = c.offsets[v]!; j < c.offsets[v + 1]!; j++)
      if (c.pid[j]! > 0) p.busyNs += c.end[j]! - c.start[j]!;
    perVcpu.push(p);
  }
  for (let j = 0; j < table.length; j++) {
    const p = perVcpu[table.vcpu[j]!]!;
    p.absentNs += table.end[j]! - table.start[j]!;
    p.sureNs += Math.max(0, table.end[j]! - Math.max(table.start[j]!, table.latest[j]!));
    p.intervals++;
  }
  // Without timer pairs or ticks nothing shows time passing unseen: name what to record.
  const missing: string[] = [];
  if (late.length === 0 && seen.ticks === 0) {
    missing.push('irq_vectors:local_timer_entry');
    if (seen.timerStarts === 0) missing.push('timer:hrtimer_start');
    if (seen.timerExpiries === 0) missing.push('timer:hrtimer_expire_entry');
  }
  const basis: string[] = [];
  if (seen.timerExpiries > 0 && seen.timerStarts > 0)
    basis.push(
      `${late.length} timer expiries with their lateness (hrtimer_start's expires against hrtimer_expire_entry's now); late beyond ${(slackNs / 1e6).toFixed(3)} ms (twice the trace's fastest timer handling, its 5th percentile, and at least ${((opts.minLateNs ?? MIN_LATE_NS) / 1e6).toFixed(3)} ms) counts as absence`,
    );
  else if (seen.ticks > 0)
    basis.push(
      `no timer expiries to pair (record timer:hrtimer_start and timer:hrtimer_expire_entry for exact lateness): ${seen.ticks} periodic ticks read instead, a tick more than a period late on a busy CPU counting as absence (less sure: the tick before may itself have been late)`,
    );
  if (hz !== undefined)
    basis.push(`the guest's periodic tick runs at ${hz} Hz (from its tick's spacing)`);
  basis.push(
    "on a busy CPU an absence began somewhere after its last recorded event before the late expiry: its age at the expiry is taken as the mean measured lateness no longer than that window (in a renewal process the age and the time still to run have one law), the window kept as the uncertainty; absences shorter than the gap between a CPU's timers fall between them and are not seen",
  );
  if (wakeLat.length > 0)
    basis.push(
      `${wakeLat.length} wakeups onto idle CPUs: the wait beyond the usual (${(usualWake / 1e6).toFixed(3)} ms, the low quartile) counts as the vCPU woken on the host and not run`,
    );
  basis.push('idle CPUs (the idle task running: NOHZ, halted) are never counted absent');
  if (seen.runtime > 0)
    basis.push(
      "sched_stat_runtime is counted but not used: it excludes steal time only where the guest accounts steal time (KVM's steal clock), and there a late timer shows the same stretch",
    );
  return { table, perVcpu, hz, slackNs, seen, missing, basis };
}

/**
 * How long an absence had lasted when a timer expired in it (its age), given it began within the
 * `w` before: absences come and go as a renewal process, in which the age at a random instant
 * has the same law as the time still to run, and that is what each late timer measures (expiry
 * to resume). So the expected age is the mean of the measured latenesses no longer than `w`
 * (the law cut at the window); with none measured, the window's middle.
 */
function ageModel(lateNs: number[]): (w: number) => number {
  const sorted = Float64Array.from(lateNs).sort();
  const prefix = new Float64Array(sorted.length + 1);
  for (let k = 0; k < sorted.length; k++) prefix[k + 1] = prefix[k]! + sorted[k]!;
  return (w) => {
    if (w <= 0) return 0;
    const k = upperBound(sorted, w);
    return k > 0 ? prefix[k]! / k : w / 2;
  };
}

/** The tick's rate from the spacing of its expiries (a whole number of periods apart). */
function tickHz(exp: bigint[][]): number | undefined {
  const gaps: number[] = [];
  for (const l of exp) for (let j = 1; j < l.length; j++) gaps.push(Number(l[j]! - l[j - 1]!));
  const pos = gaps.filter((g) => g > 0).sort((a, b) => a - b);
  if (pos.length < 8) return undefined;
  // The smallest common spacing: the 10th percentile of the gaps, rounded to a kernel HZ.
  const p = pos[Math.floor(pos.length / 10)]!;
  const hz = 1e9 / p;
  const known = [100, 250, 300, 1000];
  const best = known.reduce((a, b) => (Math.abs(b - hz) < Math.abs(a - hz) ? b : a));
  return Math.abs(best - hz) / best < 0.1 ? best : Math.round(hz);
}

/** The tick rate from the gaps between ticks (the common one), for traces without timers. */
function tickGapHz(ticks: number[][]): number | undefined {
  const gaps: number[] = [];
  for (const l of ticks) for (let j = 2; j < l.length; j += 2) gaps.push(l[j]! - l[j - 2]!);
  gaps.sort((a, b) => a - b);
  if (gaps.length < 8) return undefined;
  const hz = 1e9 / gaps[gaps.length >> 1]!;
  const known = [100, 250, 300, 1000];
  const best = known.reduce((a, b) => (Math.abs(b - hz) < Math.abs(a - hz) ? b : a));
  return Math.abs(best - hz) / best < 0.15 ? best : undefined;
}

function period(hz: number | undefined): number {
  return 1e9 / (hz ?? 250);
}

/** Sorts per vCPU and merges overlapping intervals (keeping the first's start window, the max confidence). */
function mergeRaw(raw: Raw[], n: number): AbsenceTable {
  raw.sort((a, b) => a.vcpu - b.vcpu || a.start - b.start);
  const out: Raw[] = [];
  for (const r of raw) {
    const last = out[out.length - 1];
    if (last !== undefined && last.vcpu === r.vcpu && r.start <= last.end) {
      if (r.end > last.end) last.end = r.end;
      last.confidence = Math.max(last.confidence, r.confidence);
      continue;
    }
    out.push({ ...r });
  }
  void n;
  const m = out.length;
  const t: AbsenceTable = {
    vcpu: new Int32Array(m),
    start: new Float64Array(m),
    end: new Float64Array(m),
    earliest: new Float64Array(m),
    latest: new Float64Array(m),
    evidence: new Uint8Array(m),
    confidence: new Float64Array(m),
    length: m,
  };
  out.forEach((r, j) => {
    t.vcpu[j] = r.vcpu;
    t.start[j] = r.start;
    t.end[j] = r.end;
    t.earliest[j] = r.earliest;
    t.latest[j] = r.latest;
    t.evidence[j] = r.evidence;
    t.confidence[j] = r.confidence;
  });
  return t;
}
