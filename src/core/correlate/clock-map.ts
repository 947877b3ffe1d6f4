// The guest-to-host clock map: host = hostRef + (guest - guestRef) * slope, in the traces' own
// units, with an error bound. With nothing recorded to align by, it is estimated from the one
// thing that must hold: a guest CPU can only log an event while its vCPU thread is on a host
// CPU. Each guest event so confines the offset D = host - guest to the vCPU thread's on-CPU
// intervals shifted by the event's time; the offset that satisfies (nearly) all events, per
// stretch of the guest trace, and a line through those stretches (drift) is the map.

import { Kind } from '../model/event-kinds';
import { markerAt, textAt } from '../model/payload';
import { upperBound } from '../model/search';
import {
  formatClockDuration,
  formatClockOffset,
  formatCount,
  type TickRate,
  tickRate,
  tscToNsBig,
} from '../model/time';
import type { Trace } from '../model/trace';
import type { Timelines } from '../timeline/build';
import { TaskState } from '../timeline/states';
import type { VcpuAssignment } from './vcpu-map';

export interface ClockMap {
  /** `trace-cmd`: the TIME_SHIFT option trace-cmd's time sync wrote into the guest .dat. */
  /** `guest-only`: no host trace; the modelled host shares the guest's clock (analyze/guest-only.ts). */
  method: 'estimated' | 'user' | 'trace-cmd' | 'recorded' | 'paired' | 'guest-only';
  /** host = hostRef + (guest - guestRef) * slope; absolute values in the traces' units. */
  hostRef: bigint;
  guestRef: bigint;
  slope: number;
  /** Half-width of the uncertainty of host - guest, in the host's unit. */
  bound: number;
  unit: 'ns' | 'count';
  /** Share of the guest events the map puts inside their vCPU thread's on-CPU time (0..1). */
  agreement: number;
  /** Per stretch of the guest trace: the feasible offsets found (relative to hostRef - guestRef). */
  stretches: { guestMid: bigint; lo: number; hi: number; events: number; agreeing: number }[];
  reasoning: string[];
}

/** Host time (absolute, the host's unit) of a guest absolute time. */
export function toHost(m: ClockMap, guestAbs: bigint): number {
  return Number(m.hostRef) + Number(guestAbs - m.guestRef) * m.slope;
}

/** Guest-relative to host-relative times and back. */
export interface RelativeMap {
  toHost: (g: number) => number;
  toGuest: (h: number) => number;
}

/**
 * The map between the two traces' relative timestamps, as plain arithmetic (no bigint per call):
 * host-relative = guest-relative * slope + shift, and back.
 */
export function relativeMap(m: ClockMap, guestBase: bigint, hostBase: bigint): RelativeMap {
  const shift = Number(guestBase - m.guestRef) * m.slope + Number(m.hostRef - hostBase);
  return { toHost: (g) => g * m.slope + shift, toGuest: (h) => (h - shift) / m.slope };
}

/** host - guest at a guest absolute time, as an exact-enough bigint. */
export function offsetAt(m: ClockMap, guestAbs: bigint): bigint {
  const d = Number(guestAbs - m.guestRef) * (m.slope - 1);
  return m.hostRef - m.guestRef + BigInt(Math.round(d));
}

export interface OnCpu {
  start: Float64Array;
  end: Float64Array;
}

/**
 * The union of interval lists (each [start[k], end[k]), in any order), sorted and disjoint. Lists
 * whose starts, one list after the other, are already in order (a thread's stalls as they come)
 * are merged as they are; others are sorted by start first (a stable sort, as before).
 */
export function unionIntervals(lists: OnCpu[]): OnCpu {
  let n = 0;
  for (const l of lists) n += l.start.length;
  let s = new Float64Array(n);
  let e = new Float64Array(n);
  let inOrder = true;
  let m = 0;
  for (const l of lists)
    for (let i = 0; i < l.start.length; i++, m++) {
      s[m] = l.start[i]!;
      e[m] = l.end[i]!;
      if (m > 0 && !(s[m - 1]! <= s[m]!)) inOrder = false;
    }
  if (!inOrder) {
    const byStart = Array.from({ length: n }, (_, i) => i).sort((a, b) => s[a]! - s[b]!);
    s = Float64Array.from(byStart, (i) => s[i]!);
    e = Float64Array.from(byStart, (i) => e[i]!);
  }
  const ms = new Float64Array(n);
  const me = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const a = s[i]!;
    const b = e[i]!;
    if (k > 0 && a <= me[k - 1]!) me[k - 1] = Math.max(me[k - 1]!, b);
    else {
      ms[k] = a;
      me[k++] = b;
    }
  }
  return { start: ms.slice(0, k), end: me.slice(0, k) };
}

/** The times (host-relative) a thread may have been on a CPU: running, or an unknown gap. */
export function onCpuIntervals(tl: Timelines, tid: number): OnCpu {
  const k = tl.tasks.indexOf.get(tid);
  if (k === undefined) return { start: new Float64Array(0), end: new Float64Array(0) };
  const from = tl.tasks.offsets[k]!;
  const to = tl.tasks.offsets[k + 1]!;
  // At most one interval out per interval in (millions for a vCPU thread: no JS arrays).
  const s = new Float64Array(to - from);
  const e = new Float64Array(to - from);
  // The columns in locals: this loop runs once per vCPU, mostly before V8 optimizes it, where
  // every property load in it is paid per interval.
  const { state, start, end } = tl.tasks;
  let m = 0;
  for (let j = from; j < to; j++) {
    const st = state[j];
    if (st !== TaskState.running && st !== TaskState.unknown) continue;
    const a = start[j]!;
    const b = end[j]!;
    if (m > 0 && e[m - 1]! >= a) e[m - 1] = Math.max(e[m - 1]!, b);
    else {
      s[m] = a;
      e[m] = b;
      m++;
    }
  }
  return { start: s.slice(0, m), end: e.slice(0, m) };
}

/** First index with end > x (intervals sorted, disjoint). */
export function firstEndingAfter(iv: OnCpu, x: number): number {
  return upperBound(iv.end, x);
}

/**
 * The ranges [starts[k], ends[k]] (k < count) of offsets within [lo, hi] that put one of the
 * events inside one of its vCPU thread's on-CPU intervals, event by event.
 */
function feasibleOffsets(
  evs: Sample,
  lo: number,
  hi: number,
): { starts: Float64Array; ends: Float64Array; count: number } {
  let starts = new Float64Array(Math.max(16, 2 * evs.g.length));
  let ends = new Float64Array(starts.length);
  let count = 0;
  for (let q = 0; q < evs.g.length; q++) {
    const g = evs.g[q]!;
    const iv = evs.iv[q]!;
    for (let j = firstEndingAfter(iv, g + lo); j < iv.start.length && iv.start[j]! <= g + hi; j++) {
      const a = Math.max(iv.start[j]! - g, lo);
      const b = Math.min(iv.end[j]! - g, hi);
      if (b < a) continue;
      if (count === starts.length) {
        const s2 = new Float64Array(2 * count);
        s2.set(starts);
        starts = s2;
        const e2 = new Float64Array(2 * count);
        e2.set(ends);
        ends = e2;
      }
      starts[count] = a;
      ends[count++] = b;
    }
  }
  return { starts, ends, count };
}

/**
 * The largest drift between two clocks the estimate allows for, as a rate (100 ppm: crystal
 * clocks are specified to +-50 ppm or better, and host and guest usually share one).
 */
const MAX_DRIFT = 100e-6;
/** Events a histogram of offsets is built from (evenly spaced). */
const HISTOGRAM_SAMPLE = 150;
/** Peaks of the coarse histogram checked with more events, and the consecutive events that check. */
const COARSE_CANDIDATES = 16;
/** Bins either side of a coarse peak that belong to it. */
const COARSE_PEAK = 4;
const COARSE_CHECK = 1024;
/** Events that find a stretch's plateau within the drift's reach (then narrowed with more). */
const STRETCH_SAMPLE = 48;
/** Events that narrow a stretch's plateau before its exact sweep. */
const NARROW_SAMPLE = 1024;
/** Events in the exact sweeps, all stretches together (at least 256 per stretch). */
const FINE_SAMPLE = 262_144;
const MAX_STRETCHES = 1024;
/** Events the joint fit of one line sees at most (an even sample of the whole trace). */
const JOINT_SAMPLE = 16_384;
/** Offset bins of one joint sweep, drifts tried per zoom of the drift range, and zooms. */
const JOINT_BINS = 2048;
const JOINT_SLOPES = 17;
const JOINT_ZOOMS = 4;
/** On-CPU intervals the joint fit's last zoom visits at most (fewer events when they are dense). */
const JOINT_VISITS = 4e6;
/** How much smaller a share of the events the joint line may fit than the stretches' offsets. */
const JOINT_AGREEMENT_LOSS = 0.001;
/** A second of a tick clock (x86-tsc and the like) for sizing stretches: a typical TSC rate. */
const TICKS_PER_SECOND_GUESS = 3e9;

export interface GuestEvent {
  /** Guest-relative time. */
  g: number;
  vcpu: number;
}

/**
 * Guest events as columns: guest-relative times, and each one's vCPU thread's on-CPU time (what
 * the estimate samples, up to 262,144 events: no object each, no map lookup per event).
 */
interface Sample {
  g: Float64Array;
  iv: OnCpu[];
}

/** Events given as objects, as a Sample. */
function sampleOf(evs: readonly GuestEvent[], on: Map<number, OnCpu>): Sample {
  const g = new Float64Array(evs.length);
  const iv = new Array<OnCpu>(evs.length);
  for (let q = 0; q < evs.length; q++) {
    g[q] = evs[q]!.g;
    iv[q] = on.get(evs[q]!.vcpu)!;
  }
  return { g, iv };
}

export interface EstimateOptions {
  /** Leave these guest events out (e.g. the sync pings, to test the estimate against them). */
  skipGuestEvent?: (i: number) => boolean;
  /** Stretches of the guest trace with an offset each (more: drift seen in finer steps). */
  stretches?: number;
}

/**
 * Estimates the clock map from the guest's events and the host timelines of the vCPU threads.
 * Undefined (with reasons in `why`) when the units differ or nothing confines the offset.
 */
export function estimateClockMap(
  host: Trace,
  hostTl: Timelines,
  guest: Trace,
  vcpus: readonly VcpuAssignment[],
  opts: EstimateOptions = {},
  why: string[] = [],
): ClockMap | undefined {
  if (host.clock.unit !== guest.clock.unit) {
    why.push(
      `host timestamps are ${host.clock.unit} and guest ones ${guest.clock.unit}: give the counter's rate (--tsc-hz) or the offset (--offset)`,
    );
    return undefined;
  }
  const on = new Map<number, OnCpu>();
  for (const v of vcpus) on.set(v.vcpu, onCpuIntervals(hostTl, v.hostTid));
  const { gAll, vAll, n, order } = guestColumns(guest, on, opts.skipGuestEvent);
  if (n < 20) {
    why.push(
      `only ${n} guest events on CPUs with a known vCPU thread: too few to align the clocks`,
    );
    return undefined;
  }
  const at = (j: number): number => (order !== undefined ? order[j]! : j);
  // Each mapped vCPU's on-CPU time by vCPU number (an array: one load per sampled event).
  const ivOfVcpu: OnCpu[] = [];
  for (const [v, iv] of on) ivOfVcpu[v] = iv;
  /** At most `max` events of [lo, hi), evenly spaced. */
  const pick = (lo: number, hi: number, max: number): Sample =>
    pickSample(gAll, vAll, order, ivOfVcpu, lo, hi, max);
  const g0 = gAll[at(0)]!;
  const g1 = gAll[at(n - 1)]!;
  const h0 = hostTl.start;
  const h1 = hostTl.end;
  // Offsets (host-relative minus guest-relative) that put some guest events inside the host trace.
  const dMin = h0 - g1;
  const dMax = h1 - g0;

  // 1. Coarse: a histogram of feasible offsets over a sample of events, in bins.
  // Over every offset, each sampled event visits all its thread's on-CPU intervals: on a long
  // trace (hundreds of thousands of intervals per vCPU thread) fewer events, at least 32, keep
  // this pass to ~20M visits.
  let intervals = 0;
  for (const iv of on.values()) intervals += iv.start.length;
  const perThread = intervals / Math.max(1, on.size);
  const globalSample = Math.max(32, Math.min(HISTOGRAM_SAMPLE, Math.floor(20e6 / perThread)));
  const hist = peaksOfSample(pick(0, n, globalSample), dMin, dMax, globalSample);
  const check = pick(
    Math.max(0, (n >> 1) - COARSE_CHECK / 2),
    Math.min(n, (n >> 1) + COARSE_CHECK / 2),
    COARSE_CHECK,
  );
  const coarse = hist !== undefined ? bestOffsetOf(hist, check) : undefined;
  if (coarse === undefined || hist === undefined) {
    why.push(
      'no offset puts the guest events inside their vCPU threads’ on-CPU time (wrong vCPU map, or traces of different times?)',
    );
    return undefined;
  }
  // 2. Fine, per stretch of the guest trace: the offsets most events agree on. The offset moves
  // with drift (at most MAX_DRIFT: 100 microseconds per second), so each stretch looks for
  // its own best offset in a window around the coarse one that is wide enough for the drift over
  // the whole trace, first in a histogram over a sample of its events, then exactly (a sweep)
  // over an even sample of at most FINE_SAMPLE of them, around the best plateau.
  // Stretches of about a second at most (drift inside one stays below its events' resolution),
  // at least 8 and at least 50 events each.
  const second = guest.clock.unit === 'ns' ? 1e9 : TICKS_PER_SECOND_GUESS;
  const k = Math.max(
    1,
    Math.min(
      Math.max(opts.stretches ?? 8, Math.ceil((g1 - g0) / second)),
      MAX_STRETCHES,
      Math.floor(n / 50),
    ),
  );
  const stretches: ClockMap['stretches'] = [];
  const per = Math.ceil(n / k);
  const fineSample = Math.max(256, Math.floor(FINE_SAMPLE / k));
  const reach = Math.max(2 * coarse.halfWidth, MAX_DRIFT * (g1 - g0));
  for (let s = 0; s < n; s += per) {
    const e = Math.min(n, s + per);
    const local = histogramOf(
      pick(s, e, STRETCH_SAMPLE),
      coarse.center - reach,
      coarse.center + reach,
      4096,
      STRETCH_SAMPLE,
    );
    let around = local !== undefined ? bestPlateau(local) : undefined;
    // A wide plateau (few events pin the offset down): narrow it with more events before the
    // exact sweep, whose cost grows with the on-CPU intervals inside the window.
    if (around !== undefined) {
      const narrow = histogramOf(
        pick(s, e, NARROW_SAMPLE),
        around.lo,
        around.hi,
        4096,
        NARROW_SAMPLE,
      );
      const p2 = narrow !== undefined ? bestPlateau(narrow) : undefined;
      if (p2 !== undefined) around = p2;
    }
    const sample = pick(s, e, fineSample);
    const f = fineOffsetOf(
      sample,
      around?.lo ?? coarse.center - coarse.halfWidth,
      around?.hi ?? coarse.center + coarse.halfWidth,
    );
    const mid = (gAll[at(s)]! + gAll[at(e - 1)]!) / 2;
    stretches.push({
      guestMid: guest.tsBase + BigInt(Math.round(mid)),
      lo: f.lo,
      hi: f.hi,
      events: sample.g.length,
      agreeing: f.count,
    });
  }
  // 3. A line through the stretches: offset and drift.
  let line = fitLine(
    stretches.map((s) => ({ t: Number(s.guestMid - guest.tsBase), lo: s.lo, hi: s.hi })),
  );
  let agreeing = stretches.reduce((n, s) => n + s.agreeing, 0);
  let total = stretches.reduce((n, s) => n + s.events, 0);
  const reasoning = [
    `estimated from ${total === n ? total : `an even sample of ${total} of the ${n}`} guest events on ${on.size} vCPUs: each must fall inside its vCPU thread's on-CPU time on the host`,
    `${((100 * agreeing) / total).toFixed(2)}% of them fit the map; ${stretches.length} stretches of the guest trace, feasible offsets ${line.consistent ? 'consistent with one line' : 'not all on one line: the bound covers the spread'}`,
  ];
  // 4. All events at once. Where vCPUs are on CPU nearly all the time (spinning guests) a
  // stretch's events fit a wide range of offsets and only the whole trace's events, each ruling
  // out the offsets that put it in one of its thread's off-CPU gaps, pin the line down: the lines
  // (offset and drift together) that an even sample of the whole trace agrees on. The map is the
  // tighter of the two, the joint line only when it fits (about) as many events as the stretches'
  // own offsets do (a single line does not, e.g., when the offset stepped).
  const sampled = Math.min(n, JOINT_SAMPLE);
  const jg = new Float64Array(sampled);
  const jv = new Int32Array(sampled);
  const ivs = [...on.values()];
  const ivOf = new Map([...on.keys()].map((v, q) => [v, q]));
  for (let q = 0; q < sampled; q++) {
    const j = at(n <= JOINT_SAMPLE ? q : Math.floor((q * n) / JOINT_SAMPLE));
    jg[q] = gAll[j]!;
    jv[q] = ivOf.get(vAll[j]!)!;
  }
  const joint = jointFit(
    { g: jg, iv: jv, on: ivs, early: guest.clock.resolution, late: host.clock.resolution },
    line,
    Math.max(2 * line.bound, second * 4e-5),
    line.bound,
  );
  if (
    joint !== undefined &&
    joint.bound < line.bound &&
    joint.agreeing / sampled >= agreeing / total - JOINT_AGREEMENT_LOSS
  ) {
    line = { ...line, ...joint, consistent: true };
    agreeing = joint.agreeing;
    total = sampled;
    reasoning.push(
      `one line fits ${((100 * agreeing) / total).toFixed(2)}% of ${total === n ? 'all' : `an even sample of ${total} of`} the events at once, and every line that fits about as many stays within the bound (tighter than the stretches give)`,
    );
  }
  if (Math.abs(line.slope) > 0)
    reasoning.push(
      `drift ${(line.slope * 1e6).toFixed(2)} ppm of host - guest over the guest trace`,
    );
  // Ambiguity: when vCPU threads are on CPU nearly all the time (spinning guests), far-apart
  // offsets fit the sampled events about as well as the chosen one; the bound must cover them.
  let bound = line.bound;
  const maxCover = hist.max;
  // Bins the line itself passes through (its drift over a long trace spans several) do not count.
  let lineLo = Infinity;
  let lineHi = -Infinity;
  for (const s of stretches) {
    lineLo = Math.min(lineLo, s.lo - 2 * hist.w);
    lineHi = Math.max(lineHi, s.hi + 2 * hist.w);
  }
  let far = 0;
  // The peaks hold every bin within 80% of the highest: those within 2% are among them.
  for (let q = 0; q < hist.at.length; q++) {
    if (hist.cover[q]! < maxCover * 0.98) continue;
    const i = hist.at[q]!;
    const at = hist.dMin + (i + 0.5) * hist.w;
    if (at >= lineLo && at <= lineHi) continue;
    if (coarse.rejected.some((p) => Math.abs(p - i) <= COARSE_PEAK)) continue;
    far = Math.max(far, Math.abs(at - line.d0) + hist.w);
  }
  if (far > bound + 2 * hist.w) {
    bound = far;
    reasoning.push(
      `ambiguous: offsets up to ${formatClockDuration(far, host.clock.unit)} away fit the events almost as well (the vCPUs were on CPU nearly all the time); the bound says so: give --offset or paired events for a sharper map`,
    );
  }
  const guestRef = guest.tsBase + BigInt(Math.round(line.t0));
  const hostRef = host.tsBase + BigInt(Math.round(line.t0 + line.d0));
  return {
    method: 'estimated',
    hostRef,
    guestRef,
    slope: 1 + line.slope,
    bound,
    unit: host.clock.unit,
    agreement: agreeing / total,
    stretches: stretches.map((s) => ({
      ...s,
      lo: s.lo + Number(host.tsBase - guest.tsBase),
      hi: s.hi + Number(host.tsBase - guest.tsBase),
    })),
    reasoning,
  };
}

/**
 * The guest's events on mapped vCPUs as columns (millions of them: no object each; the estimate
 * takes even samples of them as GuestEvent objects), and their time order when they are not in it
 * (a trace's events almost always are). A function of its own: V8 compiles a loop that runs long
 * enough with the whole function around it, and the estimate is long.
 */
function guestColumns(
  guest: Trace,
  on: Map<number, OnCpu>,
  skip: ((i: number) => boolean) | undefined,
): { gAll: Float64Array; vAll: Int32Array; n: number; order: Uint32Array | undefined } {
  const ev = guest.events;
  const len = ev.length;
  // The mapped vCPUs as a mask by CPU number (a typed load per event, not a Map lookup).
  let top = 0;
  for (const v of on.keys()) top = Math.max(top, v + 1);
  const mapped = new Uint8Array(top);
  for (const v of on.keys()) if (v >= 0) mapped[v] = 1;
  const cols: GuestColumns = {
    gAll: new Float64Array(len),
    vAll: new Int32Array(len),
    n: 0,
    inOrder: true,
  };
  // Block by block, from the store's typed columns: two method calls per event cost more than
  // the rest of this one-shot loop (60k guest events on the lab pair, mostly run before V8
  // compiles it).
  ev.forEachBlock((b, count, first) =>
    addGuestBlock(b.ts, b.cpu, count, first, mapped, skip, cols),
  );
  const { gAll, vAll, n } = cols;
  const order = cols.inOrder
    ? undefined
    : Uint32Array.from({ length: n }, (_, j) => j).sort((a, b) => gAll[a]! - gAll[b]!);
  return { gAll, vAll, n, order };
}

/** The guest's events on mapped vCPUs so far, and whether their times are in order. */
interface GuestColumns {
  gAll: Float64Array;
  vAll: Int32Array;
  n: number;
  inOrder: boolean;
}

/** Appends the events of one block (`count` from event `first`) on mapped vCPUs to `cols`. */
function addGuestBlock(
  ts: Float64Array,
  cpu: Uint16Array,
  count: number,
  first: number,
  mapped: Uint8Array,
  skip: ((i: number) => boolean) | undefined,
  cols: GuestColumns,
): void {
  const { gAll, vAll } = cols;
  let n = cols.n;
  let inOrder = cols.inOrder;
  let last = n > 0 ? gAll[n - 1]! : -Infinity;
  for (let k = 0; k < count; k++) {
    if (skip !== undefined && skip(first + k)) continue;
    const vcpu = cpu[k]!;
    if (mapped[vcpu] !== 1) continue;
    const t = ts[k]!;
    if (t < last) inOrder = false;
    gAll[n] = t;
    vAll[n++] = vcpu;
    last = t;
  }
  cols.n = n;
  cols.inOrder = inOrder;
}

/**
 * At most `max` of the events lo..hi-1 (in time order: `order` when the columns are not),
 * evenly spaced, as a Sample; `ivOfVcpu` the on-CPU time by vCPU number.
 */
function pickSample(
  gAll: Float64Array,
  vAll: Int32Array,
  order: Uint32Array | undefined,
  ivOfVcpu: OnCpu[],
  lo: number,
  hi: number,
  max: number,
): Sample {
  const len = hi - lo;
  const m = Math.min(len, max);
  const g = new Float64Array(m);
  const iv = new Array<OnCpu>(m);
  for (let q = 0; q < m; q++) {
    const k = lo + (len <= max ? q : Math.floor((q * len) / max));
    const j = order !== undefined ? order[k]! : k;
    g[q] = gAll[j]!;
    iv[q] = ivOfVcpu[vAll[j]!]!;
  }
  return { g, iv };
}

/** How many of a sample of events each offset bin puts inside on-CPU time (w: bin width). */
export interface OffsetHistogram {
  cover: Int32Array;
  dMin: number;
  w: number;
  sample: number;
}

/**
 * The histogram of feasible offsets in [dMin, dMax] over a sample of the events; `bins` by default
 * one per 20,000 units, 1,024 to 2^20.
 */
export function offsetHistogram(
  evs: GuestEvent[],
  on: Map<number, OnCpu>,
  dMin: number,
  dMax: number,
  binsWanted?: number,
  sampleMax = HISTOGRAM_SAMPLE,
): OffsetHistogram | undefined {
  return histogramOf(sampleOf(evs, on), dMin, dMax, binsWanted, sampleMax);
}

/** offsetHistogram of a Sample. */
function histogramOf(
  evs: Sample,
  dMin: number,
  dMax: number,
  binsWanted?: number,
  sampleMax = HISTOGRAM_SAMPLE,
): OffsetHistogram | undefined {
  const span = dMax - dMin;
  if (!(span > 0)) return undefined;
  const bins = binsWanted ?? Math.min(1 << 20, Math.max(1024, Math.ceil(span / 20_000)));
  const w = span / bins;
  const sample = Math.min(evs.g.length, sampleMax);
  const cover = rangeStarts(evs, dMin, dMax, bins, w, sample);
  let run = 0;
  for (let i = 0; i < bins; i++) cover[i] = run += cover[i]!;
  return { cover: cover.subarray(0, bins), dMin, w, sample };
}

/**
 * The top of an offset histogram: its highest count, and every bin within PEAK_SHARE of it (bin
 * indices in order, and their counts); what the coarse offset and its ambiguity read.
 */
export interface OffsetPeaks {
  dMin: number;
  w: number;
  sample: number;
  max: number;
  at: Int32Array;
  cover: Int32Array;
}

/** The share of the highest count a bin needs to be one of the peaks. */
const PEAK_SHARE = 0.8;
/** Bins of one tile of offsetPeaks: its counts stay in a core's cache while every event adds to them. */
const TILE_BINS = 1 << 15;

/** The peaks of a histogram whose every bin is counted. */
export function peaksOf(h: OffsetHistogram): OffsetPeaks {
  let max = 0;
  for (let i = 0; i < h.cover.length; i++) if (h.cover[i]! > max) max = h.cover[i]!;
  return peaksAbove(h.cover, h.cover.length, max, h);
}

function peaksAbove(
  cover: Int32Array,
  bins: number,
  max: number,
  h: Pick<OffsetPeaks, 'dMin' | 'w' | 'sample'>,
): OffsetPeaks {
  let m = 0;
  for (let i = 0; i < bins; i++) if (cover[i]! >= max * PEAK_SHARE) m++;
  const at = new Int32Array(m);
  const top = new Int32Array(m);
  for (let i = 0, q = 0; i < bins; i++)
    if (cover[i]! >= max * PEAK_SHARE) {
      at[q] = i;
      top[q++] = cover[i]!;
    }
  return { dMin: h.dMin, w: h.w, sample: h.sample, max, at, cover: top };
}

/**
 * The histogram's differences (bins + 1 of them: +1 where a feasible range starts, -1 past where
 * it ends) over `sample` events evenly spaced in `evs`. The ranges are added tile by tile of
 * TILE_BINS bins (each event resumes where it left the last tile), not event by event across the
 * whole histogram, which missed the cache at every range (a million bins, ~2M ranges on the lab's
 * 6 s host.dat).
 */
function rangeStarts(
  evs: Sample,
  dMin: number,
  dMax: number,
  bins: number,
  w: number,
  sample: number,
): Int32Array {
  // The sampled events' times and on-CPU intervals, and where each resumes.
  const gs = new Float64Array(sample);
  const ivs: OnCpu[] = new Array<OnCpu>(sample);
  const next = new Int32Array(sample);
  const len = evs.g.length;
  for (let q = 0; q < sample; q++) {
    const at = Math.floor((q * len) / sample);
    const g = evs.g[at]!;
    gs[q] = g;
    const iv = evs.iv[at]!;
    ivs[q] = iv;
    next[q] = firstEndingAfter(iv, g + dMin);
  }
  const diff = new Int32Array(bins + 1);
  for (let tileEnd = TILE_BINS; tileEnd < bins + TILE_BINS; tileEnd += TILE_BINS) {
    // The ranges that start in this tile, event by event.
    for (let q = 0; q < sample; q++)
      next[q] = addRanges(ivs[q]!, gs[q]!, next[q]!, dMin, dMax, w, bins, tileEnd, diff);
  }
  return diff;
}

/**
 * Adds to `diff` the feasible ranges of an event at `g` (its thread's on-CPU intervals `iv`, from
 * interval `j` on) that start before bin `tileEnd`; returns the interval the next tile resumes at.
 * A small function of its own, not rangeStarts' inner loop: it adds ~2M ranges on the lab pair,
 * the first of them before V8 has compiled it, and a small function is compiled sooner (cold
 * offsetPeaks of quiet-passive-tsc, main-thread CPU, median of 21: 50 -> 43 ms).
 */
function addRanges(
  iv: OnCpu,
  g: number,
  j: number,
  dMin: number,
  dMax: number,
  w: number,
  bins: number,
  tileEnd: number,
  diff: Int32Array,
): number {
  const st = iv.start;
  const en = iv.end;
  const hi = g + dMax;
  // The parameters the loop alone reads, as numbers before it: V8's optimized loop otherwise
  // loads each from the frame and checks whether it is a small integer or a heap number at every
  // range (~2M on the lab pair). x - 0 is x for every number, -0 included.
  const lo = dMin - 0;
  const width = w - 0;
  const last = bins | 0;
  const end = tileEnd | 0;
  for (; j < st.length && st[j]! <= hi; j++) {
    const a = Math.max(st[j]! - g, lo);
    const b = Math.min(en[j]! - g, dMax);
    if (b < a) continue;
    const first = Math.floor((a - lo) / width);
    // This range and the later ones of this event start in a later tile.
    if (first >= end) break;
    diff[first]!++;
    diff[Math.min(last, Math.floor((b - lo) / width) + 1)]!--;
  }
  return j;
}

/**
 * peaksOf(offsetHistogram(...)) with its default bins (up to 2^20), the same counts, summed in
 * place: no second array of a million bins, and no pass for the maximum of its own.
 */
export function offsetPeaks(
  evs: GuestEvent[],
  on: Map<number, OnCpu>,
  dMin: number,
  dMax: number,
  sampleMax = HISTOGRAM_SAMPLE,
): OffsetPeaks | undefined {
  return peaksOfSample(sampleOf(evs, on), dMin, dMax, sampleMax);
}

/** offsetPeaks of a Sample. */
function peaksOfSample(
  evs: Sample,
  dMin: number,
  dMax: number,
  sampleMax = HISTOGRAM_SAMPLE,
): OffsetPeaks | undefined {
  const span = dMax - dMin;
  if (!(span > 0)) return undefined;
  const bins = Math.min(1 << 20, Math.max(1024, Math.ceil(span / 20_000)));
  const w = span / bins;
  const sample = Math.min(evs.g.length, sampleMax);
  const cover = rangeStarts(evs, dMin, dMax, bins, w, sample);
  const blockMax = new Int32Array(Math.ceil(bins / PEAK_BLOCK));
  sumBlocks(cover, bins, blockMax);
  return peaksInBlocks(cover, bins, blockMax, { dMin, w, sample });
}

/** Bins of a block whose highest count sumBlocks notes: peaks are looked for in the highest blocks only. */
const PEAK_BLOCK = 1024;

/**
 * Sums a histogram's differences into counts (bins of them) in place, and notes each block's
 * highest count: the loop over the million bins does an addition and a comparison per bin, where
 * collecting every bin within reach of the highest so far (it rises from zero across the bins, so
 * early bins all qualify) cost twice as much and ran mostly before V8 had compiled it.
 */
function sumBlocks(cover: Int32Array, bins: number, blockMax: Int32Array): void {
  let run = 0;
  for (let b = 0, i = 0; i < bins; b++) {
    const to = i + PEAK_BLOCK < bins ? i + PEAK_BLOCK : bins;
    let max = 0;
    for (; i < to; i++) {
      run += cover[i]!;
      cover[i] = run;
      if (run > max) max = run;
    }
    blockMax[b] = max;
  }
}

/**
 * The peaks of summed counts: every bin within PEAK_SHARE of the highest, in bin order, read in
 * the blocks whose highest count is within it (a handful where the offset is clear; on a spinning
 * guest's histogram, most).
 */
function peaksInBlocks(
  cover: Int32Array,
  bins: number,
  blockMax: Int32Array,
  h: Pick<OffsetPeaks, 'dMin' | 'w' | 'sample'>,
): OffsetPeaks {
  let max = 0;
  for (let b = 0; b < blockMax.length; b++) if (blockMax[b]! > max) max = blockMax[b]!;
  let m = 0;
  for (let b = 0; b < blockMax.length; b++) {
    if (blockMax[b]! < max * PEAK_SHARE) continue;
    const to = Math.min(bins, (b + 1) * PEAK_BLOCK);
    for (let i = b * PEAK_BLOCK; i < to; i++) if (cover[i]! >= max * PEAK_SHARE) m++;
  }
  const at = new Int32Array(m);
  const top = new Int32Array(m);
  for (let b = 0, q = 0; b < blockMax.length; b++) {
    if (blockMax[b]! < max * PEAK_SHARE) continue;
    const to = Math.min(bins, (b + 1) * PEAK_BLOCK);
    for (let i = b * PEAK_BLOCK; i < to; i++)
      if (cover[i]! >= max * PEAK_SHARE) {
        at[q] = i;
        top[q++] = cover[i]!;
      }
  }
  return { dMin: h.dMin, w: h.w, sample: h.sample, max, at, cover: top };
}

/**
 * The best offset of a histogram (a bin center), widened to its neighbouring bins for the fine pass
 * to decide between them; undefined when no bin holds half the sampled events. The histogram's few
 * events (fewer still on a long trace) in wide bins can rank a wrong bin first: its leading peaks
 * (at most COARSE_CANDIDATES, within a fifth of the best) are each checked against `check`, a run
 * of consecutive events (short enough for drift not to spread their offsets), in bins fine enough
 * to see on-CPU slices; the peak most of them agree on wins, the coarse ranking among equals.
 * `rejected`: the peaks (+-COARSE_PEAK bins) that fit clearly fewer of them (under 90%).
 */
export function bestOffset(
  h: OffsetPeaks,
  check: GuestEvent[],
  on: Map<number, OnCpu>,
): { center: number; halfWidth: number; rejected: number[] } | undefined {
  return bestOffsetOf(h, sampleOf(check, on));
}

/** bestOffset, checked against a Sample. */
function bestOffsetOf(
  h: OffsetPeaks,
  check: Sample,
): { center: number; halfWidth: number; rejected: number[] } | undefined {
  const max = h.max;
  if (max < h.sample * 0.5) return undefined;
  // The highest bins in turn (the first among equals), each hiding its neighbours (no sort: a
  // spinning guest's histogram can have most of its million bins near the top).
  const near = h.at;
  const hidden = new Uint8Array(near.length);
  const peaks: number[] = [];
  while (peaks.length < COARSE_CANDIDATES) {
    let top = -1;
    for (let q = 0; q < near.length; q++)
      if (hidden[q] === 0 && (top < 0 || h.cover[q]! > h.cover[top]!)) top = q;
    if (top < 0) break;
    peaks.push(near[top]!);
    const from = upperBound(near, near[top]! - 2 * COARSE_PEAK - 1);
    for (let q = from; q < near.length && near[q]! <= near[top]! + 2 * COARSE_PEAK; q++)
      hidden[q] = 1;
  }
  const counts = peaks.map((p) => {
    if (peaks.length === 1) return 0;
    const center = h.dMin + (p + 0.5) * h.w;
    const reach = (COARSE_PEAK + 0.5) * h.w;
    const fine = histogramOf(check, center - reach, center + reach, 4096, check.g.length);
    let count = 0;
    for (const c of fine?.cover ?? []) count = Math.max(count, c);
    return count;
  });
  let best = 0;
  for (let q = 1; q < peaks.length; q++) if (counts[q]! > counts[best]!) best = q;
  return {
    center: h.dMin + (peaks[best]! + 0.5) * h.w,
    halfWidth: 2 * h.w,
    rejected: peaks.filter((_, q) => counts[q]! < 0.9 * counts[best]!),
  };
}

/**
 * The offsets of a histogram's best plateau (the bins holding the most sampled events, from the
 * first to the last of them), widened by two bins either side; undefined when no bin holds half.
 */
function bestPlateau(h: OffsetHistogram): { lo: number; hi: number } | undefined {
  let max = 0;
  for (let i = 0; i < h.cover.length; i++) max = Math.max(max, h.cover[i]!);
  if (max < h.sample * 0.5) return undefined;
  let first = -1;
  let last = -1;
  for (let i = 0; i < h.cover.length; i++) {
    if (h.cover[i] !== max) continue;
    if (first < 0) first = i;
    last = i;
  }
  return { lo: h.dMin + (first - 2) * h.w, hi: h.dMin + (last + 3) * h.w };
}

/**
 * The offsets inside [lo, hi] covered by the most events' feasible sets (exact sweep): from the
 * first to the last region that many events agree on. Where several far-apart regions tie (few
 * events, vCPUs on CPU nearly all the time), all of them: picking one would state a precision the
 * events do not give.
 */
export function fineOffset(
  evs: GuestEvent[],
  on: Map<number, OnCpu>,
  lo: number,
  hi: number,
): { lo: number; hi: number; count: number } {
  return fineOffsetOf(sampleOf(evs, on), lo, hi);
}

/** fineOffset of a Sample. */
function fineOffsetOf(
  evs: Sample,
  lo: number,
  hi: number,
): { lo: number; hi: number; count: number } {
  const { starts, ends, count } = feasibleOffsets(evs, lo, hi);
  return bestCovered(starts.subarray(0, count).sort(), ends.subarray(0, count).sort(), lo, hi);
}

/**
 * The offsets covered by the most of the closed ranges whose sorted starts and ends are S and E,
 * from the first to the last region that many agree on (lo..hi when there are none).
 */
function bestCovered(
  S: Float64Array,
  E: Float64Array,
  lo: number,
  hi: number,
): { lo: number; hi: number; count: number } {
  // Sweep the sorted starts and ends (closed intervals: a start before an end at the same offset).
  let run = 0;
  let best = -1;
  let bestLo = lo;
  let bestHi = hi;
  let i = 0;
  let j = 0;
  while (i < S.length) {
    if (S[i]! <= E[j]!) {
      run++;
      const at = S[i]!;
      i++;
      // The region lasts until the next boundary.
      const until = Math.min(i < S.length ? S[i]! : Infinity, E[j]!);
      if (run > best) {
        best = run;
        bestLo = at;
        bestHi = until;
      } else if (run === best) bestHi = until;
    } else {
      run--;
      j++;
    }
  }
  return { lo: bestLo, hi: bestHi, count: Math.max(best, 0) };
}

/** An even sample of guest events for the joint fit, as columns: time, and its vCPU's on-CPU time. */
interface JointEvents {
  /** Guest-relative times, and the index into `on` of each event's vCPU thread. */
  g: Float64Array;
  iv: Int32Array;
  on: OnCpu[];
  /** The guest's and the host's timestamp resolution: an event may be this much later than printed. */
  early: number;
  late: number;
}

/**
 * Under drift `slope` (host - guest = d + slope * (t - t0)), how many of `m` of the events (evenly
 * spaced) each offset bin [dLo + i * w, dLo + (i + 1) * w) of d puts inside their vCPU thread's
 * on-CPU time, into `cover`; returns the largest count. A bin counts an event when any offset in it
 * does (the counts can only err towards fitting). `from[k]`: an on-CPU interval of the k-th event's
 * thread at or before the first one that can count (found once per zoom, not per slope).
 */
function jointSweep(
  ev: JointEvents,
  m: number,
  from: Int32Array,
  t0: number,
  slope: number,
  dLo: number,
  w: number,
  cover: Int32Array,
): number {
  const bins = cover.length;
  const dHi = dLo + bins * w;
  const len = ev.g.length;
  cover.fill(0);
  // The numbers the loops read, as numbers before them (as in addRanges: V8's optimized loop
  // otherwise checks each parameter's representation at every use). x - 0 is x, -0 included.
  const lo = dLo - 0;
  const width = w - 0;
  const early = ev.early - 0;
  const late = ev.late - 0;
  // cover doubles as the difference array: bin i's count is the sum of cover[0..i].
  for (let k = 0; k < m; k++) {
    const q = m === len ? k : Math.floor((k * len) / m);
    const g = ev.g[q]!;
    const c = g + slope * (g - t0);
    const iv = ev.on[ev.iv[q]!]!;
    const st = iv.start;
    const en = iv.end;
    // Offsets d with start - early <= c + d <= end + late (printed times are rounded down).
    const endMin = c + lo - late;
    for (let j = from[k]!; j < st.length; j++) {
      if (en[j]! < endMin) continue;
      const a = st[j]! - early - c;
      if (a > dHi) break;
      const b = Math.min(en[j]! + late - c, dHi);
      const ia = Math.max(0, Math.floor((a - lo) / width));
      const ib = Math.floor((b - lo) / width) + 1;
      if (ib <= ia || ia >= bins) continue;
      cover[ia]!++;
      if (ib < bins) cover[ib]!--;
    }
  }
  let run = 0;
  let max = 0;
  for (let i = 0; i < bins; i++) {
    run += cover[i]!;
    cover[i] = run;
    if (run > max) max = run;
  }
  return max;
}

/**
 * The line that the most of the events agree on all at once, searched within +-w0 of `start` at
 * its reference time (offset and drift together: the drifts that move the offset at the sample's
 * ends by at most w0 as well), in zooms of the drift range, each over a larger share of the events.
 * The line goes through the middle of what the best-fitting lines (all within JOINT_SLACK of the
 * best count) give at the first and the last event, and the bound holds them all. When they reach
 * the edge of the window, the window is widened (x4, three times at most), or undefined.
 */
function jointFit(
  ev: JointEvents,
  start: { t0: number; d0: number; slope: number },
  w0: number,
  giveUp: number,
): { t0: number; d0: number; slope: number; bound: number; agreeing: number } | undefined {
  const len = ev.g.length;
  if (len === 0 || !(w0 > 0)) return undefined;
  let ta = Infinity;
  let tb = -Infinity;
  for (let i = 0; i < len; i++) {
    ta = Math.min(ta, ev.g[i]!);
    tb = Math.max(tb, ev.g[i]!);
  }
  const t0 = start.t0;
  const half = Math.max(Math.abs(ta - t0), Math.abs(tb - t0), 1);
  const covers = new Int32Array(JOINT_SLOPES * JOINT_BINS);
  const maxes = new Int32Array(JOINT_SLOPES);
  const from = new Int32Array(len);
  const slopeAt = (lo: number, hi: number, k: number): number =>
    lo + ((hi - lo) * k) / (JOINT_SLOPES - 1);
  // What the fitting lines of the last sweeps give at the sample's first and last event.
  const spread = (
    sLo: number,
    sHi: number,
    dLo: number,
    w: number,
    thr: number,
  ): { loA: number; hiA: number; loB: number; hiB: number; atEdge: boolean } => {
    const p = { loA: Infinity, hiA: -Infinity, loB: Infinity, hiB: -Infinity, atEdge: false };
    for (let k = 0; k < JOINT_SLOPES; k++) {
      if (maxes[k]! < thr) continue;
      const s = slopeAt(sLo, sHi, k);
      for (let i = 0; i < JOINT_BINS; i++) {
        if (covers[k * JOINT_BINS + i]! < thr) continue;
        if (i === 0 || i === JOINT_BINS - 1) p.atEdge = true;
        const d = dLo + i * w;
        p.loA = Math.min(p.loA, d + s * (ta - t0));
        p.hiA = Math.max(p.hiA, d + w + s * (ta - t0));
        p.loB = Math.min(p.loB, d + s * (tb - t0));
        p.hiB = Math.max(p.hiB, d + w + s * (tb - t0));
      }
    }
    return p;
  };
  for (let tries = 0, W = w0; tries < 4; tries++, W *= 4) {
    const dLo = start.d0 - W;
    const w = (2 * W) / JOINT_BINS;
    const reach = Math.min(W / half, 2 * MAX_DRIFT);
    let sLo = start.slope - reach;
    let sHi = start.slope + reach;
    // The events the last zoom sees: fewer where each has many on-CPU intervals within reach
    // (a wide window over a busy thread), so that the visits stay within JOINT_VISITS.
    let seen = 0;
    for (let k = 0; k < 256; k++) {
      const q = Math.floor((k * len) / 256);
      const c = ev.g[q]! + start.d0;
      const iv = ev.on[ev.iv[q]!]!;
      seen += upperBound(iv.start, c + 2 * W) - upperBound(iv.end, c - 2 * W);
    }
    const last = Math.min(len, Math.floor(JOINT_VISITS / (JOINT_SLOPES * (1 + seen / 256))));
    if (last < 256) return undefined;
    let edge = false;
    let thr = 0;
    for (let z = 0; z < JOINT_ZOOMS; z++) {
      const m = Math.max(Math.min(last, 256), last >> (2 * (JOINT_ZOOMS - 1 - z)));
      // Each event's first interval that any slope of this zoom can count.
      for (let k = 0; k < m; k++) {
        const q = m === len ? k : Math.floor((k * len) / m);
        const g = ev.g[q]!;
        const c = g + Math.min(sLo * (g - t0), sHi * (g - t0));
        from[k] = Math.max(0, upperBound(ev.on[ev.iv[q]!]!.end, c + dLo - ev.late) - 1);
      }
      let best = 0;
      for (let k = 0; k < JOINT_SLOPES; k++) {
        const cover = covers.subarray(k * JOINT_BINS, (k + 1) * JOINT_BINS);
        maxes[k] = jointSweep(ev, m, from, t0, slopeAt(sLo, sHi, k), dLo, w, cover);
        best = Math.max(best, maxes[k]!);
      }
      // Lines that fit nearly as many events count as fitting too: a line can pick up some of
      // the events no line fits (their number's square root) by chance.
      thr = Math.max(1, best - Math.ceil(Math.sqrt(m - best)));
      let ia = 0;
      while (maxes[ia]! < thr) ia++;
      let ib = JOINT_SLOPES - 1;
      while (maxes[ib]! < thr) ib--;
      if (z === 0 && (ia === 0 || ib === JOINT_SLOPES - 1) && reach < 2 * MAX_DRIFT) edge = true;
      if (z === JOINT_ZOOMS - 1) break;
      // Fewer events fit more lines; when a quarter of them already pins the lines down no
      // better than 1.25 times the stretches' bound, the rest will hardly beat it (passive guests).
      if (z === JOINT_ZOOMS - 2 && m < last && !edge) {
        const p = spread(sLo, sHi, dLo, w, thr);
        if (Math.max(p.hiA - p.loA, p.hiB - p.loB) / 2 > 1.25 * giveUp) return undefined;
      }
      [sLo, sHi] = [
        slopeAt(sLo, sHi, Math.max(ia - 1, 0)),
        slopeAt(sLo, sHi, Math.min(ib + 1, JOINT_SLOPES - 1)),
      ];
    }
    const { loA, hiA, loB, hiB, atEdge } = spread(sLo, sHi, dLo, w, thr);
    if (edge || atEdge) continue;
    // Lines between two slopes tried can reach one slope step further at the ends.
    const margin = ((sHi - sLo) / (JOINT_SLOPES - 1)) * half + w;
    const midA = (loA + hiA) / 2;
    const midB = (loB + hiB) / 2;
    const slope = tb > ta ? (midB - midA) / (tb - ta) : start.slope;
    const d0 = midA + slope * (t0 - ta);
    let agreeing = 0;
    for (let q = 0; q < len; q++) {
      const g = ev.g[q]!;
      const h = g + d0 + slope * (g - t0);
      const iv = ev.on[ev.iv[q]!]!;
      const j = upperBound(iv.end, h - ev.late);
      if (j < iv.start.length && iv.start[j]! - ev.early <= h) agreeing++;
    }
    return {
      t0,
      d0,
      slope,
      bound: Math.max(hiA - loA, hiB - loB) / 2 + margin,
      agreeing,
    };
  }
  return undefined;
}

/** A line d = d0 + slope * (t - t0) through intervals [lo, hi] at times t, with a bound. */
function fitLine(pts: { t: number; lo: number; hi: number }[]): {
  t0: number;
  d0: number;
  slope: number;
  bound: number;
  consistent: boolean;
} {
  const t0 = pts.reduce((s, p) => s + p.t, 0) / pts.length;
  // Feasible slopes: every pair of intervals must be crossed.
  let sLo = -Infinity;
  let sHi = Infinity;
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const dt = pts[j]!.t - pts[i]!.t;
      if (dt <= 0) continue;
      sLo = Math.max(sLo, (pts[j]!.lo - pts[i]!.hi) / dt);
      sHi = Math.min(sHi, (pts[j]!.hi - pts[i]!.lo) / dt);
    }
  }
  if (pts.length > 1 && sLo <= sHi) {
    const slope = Number.isFinite(sLo) && Number.isFinite(sHi) ? (sLo + sHi) / 2 : 0;
    let aLo = -Infinity;
    let aHi = Infinity;
    for (const p of pts) {
      aLo = Math.max(aLo, p.lo - slope * (p.t - t0));
      aHi = Math.min(aHi, p.hi - slope * (p.t - t0));
    }
    if (aLo <= aHi) {
      // The bound also covers the slope's own uncertainty at the ends of the trace.
      const reach = Math.max(...pts.map((p) => Math.abs(p.t - t0)));
      const slopeErr = Number.isFinite(sHi - sLo) ? ((sHi - sLo) / 2) * reach : 0;
      return {
        t0,
        d0: (aLo + aHi) / 2,
        slope,
        bound: (aHi - aLo) / 2 + slopeErr,
        consistent: true,
      };
    }
  }
  // The stretches disagree (e.g. a TSC offset that stepped): least squares through midpoints, and a
  // bound wide enough to hold every stretch's interval.
  const mids = pts.map((p) => ({ t: p.t - t0, d: (p.lo + p.hi) / 2 }));
  const n = mids.length;
  const mt = mids.reduce((s, p) => s + p.t, 0) / n;
  const md = mids.reduce((s, p) => s + p.d, 0) / n;
  const sxx = mids.reduce((s, p) => s + (p.t - mt) ** 2, 0);
  const slope = sxx > 0 ? mids.reduce((s, p) => s + (p.t - mt) * (p.d - md), 0) / sxx : 0;
  const d0 = md - slope * mt;
  let bound = 0;
  for (const p of pts) {
    const at = d0 + slope * (p.t - t0);
    bound = Math.max(bound, at - p.lo, p.hi - at);
  }
  return { t0, d0, slope, bound, consistent: false };
}

/**
 * The TSC offsets KVM recorded (kvm_write_tsc_offset `vcpu=0 prev=... next=...`, per
 * arch/x86/kvm/trace.h): guest TSC = host TSC + next. With the x86-tsc trace clock on both sides,
 * host - guest = -next. Returns the offset per vCPU at the last write before `before` (host
 * relative), or an empty map when the host trace has none.
 */
export function recordedTscOffsets(host: Trace, before = Infinity): Map<number, bigint> {
  const out = new Map<number, bigint>();
  // The event types that are kvm_write_tsc_offset, by type id: a typed load per host event, not a
  // name compare (a host without KVM events, the common case, skips the pass altogether).
  const isWrite = Uint8Array.from(host.eventTypes, (ty) =>
    ty.name === 'kvm_write_tsc_offset' || ty.name === 'kvm:kvm_write_tsc_offset' ? 1 : 0,
  );
  if (!isWrite.includes(1)) return out;
  const ev = host.events;
  for (let i = 0; i < ev.length; i++) {
    if (isWrite[ev.type(i)] !== 1) continue;
    if (ev.ts(i) > before) break;
    const m = /vcpu=(\d+) prev=(\d+) next=(\d+)/.exec(host.texts.get(ev.a0(i)));
    if (m === null) continue;
    out.set(Number(m[1]), BigInt.asIntN(64, BigInt(m[3]!)));
  }
  return out;
}

/**
 * A clock map from recorded TSC offsets, checked against the guest's events: if fewer than 90%
 * of them fall in their vCPU thread's on-CPU time under it, it is not used (the traces may not
 * both use x86-tsc, or the offset changed), and `why` says so.
 */
export function recordedClockMap(
  host: Trace,
  hostTl: Timelines,
  guest: Trace,
  vcpus: readonly VcpuAssignment[],
  why: string[],
): ClockMap | undefined {
  const offsets = recordedTscOffsets(host);
  if (offsets.size === 0) return undefined;
  // Ticks read as ns at one rate (--tsc-hz): the offset in ticks becomes ns the same way, to
  // within the 1 ns each side's rounding down may take.
  const hz = host.clock.tscHz;
  const sameRate = hz !== undefined && guest.clock.tscHz === hz;
  if (!sameRate && (host.clock.unit !== 'count' || guest.clock.unit !== 'count')) {
    why.push(
      'kvm_write_tsc_offset events are there, but the traces are not both on a counter clock (x86-tsc) read at one rate: not used',
    );
    return undefined;
  }
  const values = [...new Set([...offsets.values()].map(String))];
  if (values.length > 1)
    why.push(
      `vCPUs got different TSC offsets (${values.join(', ')}); using vCPU ${[...offsets.keys()][0]}'s`,
    );
  const tscTicks = [...offsets.values()][0]!;
  const rate = sameRate && hz !== undefined ? tickRate(hz) : undefined;
  const tscOffset =
    rate !== undefined ? (tscTicks * BigInt(rate.mult)) >> BigInt(rate.shift) : tscTicks;
  const map: ClockMap = {
    method: 'recorded',
    hostRef: guest.tsBase - tscOffset,
    guestRef: guest.tsBase,
    slope: 1,
    bound: rate !== undefined ? 1 : 0,
    unit: host.clock.unit,
    agreement: NaN,
    stretches: [],
    reasoning: [
      `TSC offset ${formatClockOffset(tscTicks, 'count')}${rate !== undefined ? ` (${formatClockOffset(tscOffset, 'ns')} at ${formatCount(hz ?? 0)} Hz)` : ''} recorded by kvm_write_tsc_offset: guest TSC = host TSC + offset (x86-tsc clock assumed on both sides)`,
    ],
  };
  // Check: the share of guest events inside their vCPU thread's on-CPU time under this map.
  const on = new Map<number, OnCpu>();
  for (const v of vcpus) on.set(v.vcpu, onCpuIntervals(hostTl, v.hostTid));
  const shift = Number(guest.tsBase - tscOffset - host.tsBase);
  let inside = 0;
  let n = 0;
  for (let i = 0; i < guest.events.length; i++) {
    const iv = on.get(guest.events.cpu(i));
    if (iv === undefined) continue;
    n++;
    const h = guest.events.ts(i) + shift;
    const j = firstEndingAfter(iv, h);
    if (j < iv.start.length && iv.start[j]! <= h) inside++;
  }
  map.agreement = n > 0 ? inside / n : NaN;
  if (n > 0 && inside / n < 0.9) {
    why.push(
      `the recorded TSC offset puts only ${((100 * inside) / n).toFixed(1)}% of guest events in their vCPU's on-CPU time: not used, estimating instead`,
    );
    return undefined;
  }
  map.reasoning.push(
    `${n > 0 ? ((100 * inside) / n).toFixed(2) : '-'}% of the guest's events fall in their vCPU thread's on-CPU time under it`,
  );
  return map;
}

/** What a user pairs: events that happen at the same moment on both sides (e.g. a sync ping). */
export interface EventPairing {
  /** Matched against `name: text` of each guest event (`print: <message>` for markers). */
  guest: RegExp;
  /** Matched against `name: text` of each host event. */
  host: RegExp;
}

/** `name: text` of an event, what pairing patterns match against. */
export function eventLabel(t: Trace, i: number): string {
  const ty = t.eventTypes[t.events.type(i)]!;
  if (ty.kind === Kind.print) return `print: ${markerAt(t, i).message}`;
  if (
    ty.kind === Kind.generic ||
    ty.kind === Kind.sysEnter ||
    ty.kind === Kind.sysExit ||
    ty.kind === Kind.kvmEntry ||
    ty.kind === Kind.kvmExit ||
    ty.kind === Kind.kvmVcpuWakeup
  ) {
    return `${ty.name}: ${textAt(t, i)}`;
  }
  return ty.name;
}

/**
 * A clock map from user-paired events: the k-th guest match and the k-th host match happened at
 * the same moment. A line through their differences gives offset and drift; the bound is the
 * largest residual (how far the pairs disagree with one line).
 */
export function pairedClockMap(
  host: Trace,
  guest: Trace,
  p: EventPairing,
  why: string[],
): ClockMap | undefined {
  const g: number[] = [];
  const h: number[] = [];
  for (let i = 0; i < guest.events.length; i++)
    if (p.guest.test(eventLabel(guest, i))) g.push(guest.events.ts(i));
  for (let i = 0; i < host.events.length; i++)
    if (p.host.test(eventLabel(host, i))) h.push(host.events.ts(i));
  if (g.length === 0 || h.length === 0) {
    why.push(`paired events: ${g.length} guest and ${h.length} host matches; none to pair`);
    return undefined;
  }
  if (host.clock.unit !== guest.clock.unit) {
    why.push('paired events need host and guest timestamps in the same unit');
    return undefined;
  }
  const n = Math.min(g.length, h.length);
  if (g.length !== h.length)
    why.push(
      `paired events: ${g.length} guest and ${h.length} host matches; pairing the first ${n} in order`,
    );
  // Relative offsets d = h - g; absolute host - guest = d + (hostBase - guestBase). A pair can
  // be late on one side (a vCPU preempted between the two), so the line is Theil-Sen (median of
  // pairwise slopes, median intercept) and the bound covers 90% of the pairs, not the outliers.
  const pts = Array.from({ length: n }, (_, k) => ({ t: g[k]!, d: h[k]! - g[k]! }));
  const slopes: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n && slopes.length < 200_000; j++) {
      const dt = pts[j]!.t - pts[i]!.t;
      if (dt !== 0) slopes.push((pts[j]!.d - pts[i]!.d) / dt);
    }
  }
  const slope = slopes.length > 0 ? median(slopes) : 0;
  const mt = median(pts.map((q) => q.t));
  const md = median(pts.map((q) => q.d - slope * (q.t - mt)));
  const resid = pts.map((q) => Math.abs(q.d - (md + slope * (q.t - mt)))).sort((x, y) => x - y);
  const bound = resid[Math.min(resid.length - 1, Math.ceil(0.9 * resid.length) - 1)]!;
  const worst = resid[resid.length - 1]!;
  const guestRef = guest.tsBase + BigInt(Math.round(mt));
  return {
    method: 'paired',
    hostRef: host.tsBase + BigInt(Math.round(mt + md)),
    guestRef,
    slope: 1 + slope,
    bound: Math.max(bound, Math.max(host.clock.resolution, guest.clock.resolution)),
    unit: host.clock.unit,
    agreement: NaN,
    stretches: [],
    reasoning: [
      `${n} paired events (guest /${p.guest.source}/ with host /${p.host.source}/), taken as simultaneous`,
      `drift ${(slope * 1e6).toFixed(2)} ppm; 90% of the pairs are within ${formatClockDuration(bound, host.clock.unit)} of the line (the worst ${formatClockDuration(worst, host.clock.unit)})`,
    ],
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 === 1 ? s[k]! : (s[k - 1]! + s[k]!) / 2;
}

/**
 * The clock map trace-cmd's host-guest time sync recorded in a guest .dat (the TIME_SHIFT option,
 * written by `trace-cmd agent` / `record -A`): per guest CPU, samples taken at guest times of
 * host = (guest * scaling >> fraction) + offset (trace-cmd's trace-input.c). The line through the
 * first CPU's first and last samples is the map; the spread of the CPUs' first offsets, halved,
 * is the bound. Not used when the host .dat's trace id is not the peer the option names.
 */
export function timeShiftClockMap(host: Trace, guest: Trace, why: string[]): ClockMap | undefined {
  const ts = guest.dat?.timeShift;
  if (ts === undefined) return undefined;
  const hostId = host.dat?.traceId;
  if (hostId !== undefined && hostId !== ts.peerTraceId) {
    why.push(
      `the guest .dat's TIME_SHIFT was measured against trace ${ts.peerTraceId}, the host trace is ${hostId}: not used`,
    );
    return undefined;
  }
  const cpus = ts.cpus.filter((c) => c.times.length > 0);
  if (cpus.length === 0) {
    why.push("the guest .dat's TIME_SHIFT has no samples: not used");
    return undefined;
  }
  // The samples are TSC counts; traces loaded as ns (TSC2NSEC) get them as ns too: the guest's
  // by its own conversion, the host's by the host's (trace-cmd report converts the shifted
  // count by the guest file's, the same numbers when both sides ran on one TSC).
  // Or by the rate the user gave (ImportOptions.tscHz), applied the same way at load.
  const gConv = countsToNs(guest);
  const hConv =
    host.dat !== undefined || host.clock.tscHz !== undefined
      ? countsToNs(host)
      : host.clock.unit === 'ns'
        ? gConv
        : undefined;
  const asNs = (x: bigint, c: { mult: number; shift: number } | undefined): bigint =>
    c === undefined ? x : tscToNsBig(x, c.mult, c.shift);
  const sample = (c: (typeof cpus)[number], k: number): { g: bigint; h: bigint } => {
    const g = BigInt(c.times[k]!);
    let scaling = BigInt(c.scalings[k]!);
    if (scaling === 0n) scaling = 1n;
    const h = ((g * scaling) >> BigInt(c.fractions[k] ?? 0)) + BigInt(c.offsets[k]!);
    return { g: asNs(g, gConv), h: asNs(h, hConv) };
  };
  const c0 = cpus[0]!;
  const first = sample(c0, 0);
  const last = sample(c0, c0.times.length - 1);
  const slope =
    last.g !== first.g
      ? Number(last.h - first.h) / Number(last.g - first.g)
      : Number(BigInt(c0.scalings[0]!) || 1n) / 2 ** (c0.fractions[0] ?? 0);
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of cpus) {
    const s0 = sample(c, 0);
    const d = Number(s0.h - s0.g);
    lo = Math.min(lo, d);
    hi = Math.max(hi, d);
  }
  const samples = cpus.reduce((n, c) => n + c.times.length, 0);
  return {
    method: 'trace-cmd',
    hostRef: first.h,
    guestRef: first.g,
    slope,
    bound: (hi - lo) / 2,
    unit: host.clock.unit,
    agreement: NaN,
    stretches: [],
    reasoning: [
      `recorded by trace-cmd's time sync (TIME_SHIFT in the guest .dat): ${samples} samples on ${cpus.length} guest CPU(s), host - guest = ${formatClockOffset(first.h - first.g, host.clock.unit)} at the first, slope ${slope}${gConv !== undefined || hConv !== undefined ? ` (TSC counts converted to ns ${guest.clock.tscHz !== undefined ? `at ${guest.clock.tscHz} Hz` : 'by the TSC2NSEC option'})` : ''}`,
    ],
  };
}

/** How a trace's counts became ns when it was loaded: its .dat's TSC2NSEC, or the given rate. */
function countsToNs(t: Trace): TickRate | undefined {
  if (t.dat?.tsc2nsec?.applied === true) return t.dat.tsc2nsec;
  return t.clock.tscHz !== undefined ? tickRate(t.clock.tscHz) : undefined;
}
