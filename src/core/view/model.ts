// The timeline model: the analysis of a host + guest pair laid out as lanes of intervals on one
// time axis (host time, shifted so the model starts at 0), with the stalls as links, the findings
// and the DoP series. What the level-of-detail index (lod.ts) answers windows from, and what the
// HTML report embeds (codec.ts).

import type { PairAnalysis } from '../analyze/types';
import { relativeMap } from '../correlate/clock-map';
import { VcpuState } from '../correlate/vcpu-states';
import { TaskState } from '../timeline/states';
import { formatAbsTs, formatClockDuration, formatClockOffset, TSC_RATE_HINT } from '../model/time';
import { whatIfChart } from '../whatif/chart';
import { laneId } from './lane-id';
import { ViewState } from './states';
import type { AdviceMeta, DopSeries, FindingMeta, LaneMeta, TimelineMeta } from './wire';
import { newLinkColumns, type LinkColumns } from './link-columns';

export type { LinkColumns } from './link-columns';

/** One lane's intervals, sorted by start and disjoint, in model time (integers). */
export interface LaneColumns {
  start: Float64Array;
  end: Float64Array;
  state: Uint8Array;
  /** Index into `TimelineModel.strings` of who ran (CPU lanes), or -1. */
  who: Int32Array;
  /** CPU lanes: the pid that ran (-1 unknown); task lanes: the CPU (-1 unknown). */
  aux: Int32Array;
}

export interface TimelineModel {
  meta: TimelineMeta;
  strings: string[];
  /** Parallel to `meta.lanes`. */
  lanes: LaneColumns[];
  links: LinkColumns;
}

export interface ModelOptions {
  title?: string;
  /** At most this many guest threads (the program's first, then by running time). */
  maxGuestThreads?: number;
  maxCoRunners?: number;
}

const VCPU_TO_VIEW_REC: Record<number, ViewState> = {
  [VcpuState.running]: ViewState.running,
  [VcpuState.preempted]: ViewState.preempted,
  [VcpuState.waiting]: ViewState.waiting,
  [VcpuState.halted]: ViewState.idle,
  [VcpuState.vmm]: ViewState.vmm,
  [VcpuState.blocked]: ViewState.blocked,
  [VcpuState.unknown]: ViewState.unknown,
};

const TASK_TO_VIEW_REC: Record<number, ViewState> = {
  [TaskState.running]: ViewState.running,
  [TaskState.runnable]: ViewState.waiting,
  [TaskState.preempted]: ViewState.descheduled,
  [TaskState.sleeping]: ViewState.sleeping,
  [TaskState.uninterruptible]: ViewState.blocked,
  [TaskState.stopped]: ViewState.blocked,
  [TaskState.dead]: ViewState.exited,
  [TaskState.other]: ViewState.unknown,
  [TaskState.unknown]: ViewState.unknown,
};

/**
 * The two maps as typed arrays indexed by state: the lane loops look one up per interval, and an
 * element load from a typed array stays monomorphic where a record's may not. Each record maps
 * every state of its kind, and the table ends at its largest: a state past it reads undefined,
 * as from the record.
 */
function viewTable(rec: Record<number, ViewState>): Uint8Array {
  const keys = Object.keys(rec).map(Number);
  const t = new Uint8Array(Math.max(...keys) + 1);
  for (const k of keys) t[k] = rec[k]!;
  return t;
}
const VCPU_TO_VIEW = viewTable(VCPU_TO_VIEW_REC);
const TASK_TO_VIEW = viewTable(TASK_TO_VIEW_REC);

/**
 * Lane columns while building: typed arrays from the start (sized by the caller's estimate, doubled
 * when it falls short), so a lane of 100k intervals is not five arrays of boxed growth copied at
 * the end. Its intervals come in start order.
 */
class LaneBuilder {
  private n = 0;
  private start: Float64Array;
  private end: Float64Array;
  private state: Uint8Array;
  private who: Int32Array;
  private aux: Int32Array;
  constructor(capacity: number) {
    const c = Math.max(16, capacity);
    this.start = new Float64Array(c);
    this.end = new Float64Array(c);
    this.state = new Uint8Array(c);
    this.who = new Int32Array(c);
    this.aux = new Int32Array(c);
  }
  push(s: number, e: number, st: number, who: number, aux: number): void {
    const n = this.n;
    // Rounding to integers can make a short interval start before the previous one ended.
    const s1 = n > 0 ? Math.max(s, this.end[n - 1]!) : s;
    if (e < s1) return;
    if (n === this.start.length) this.grow();
    this.start[n] = s1;
    this.end[n] = e;
    this.state[n] = st;
    this.who[n] = who;
    this.aux[n] = aux;
    this.n = n + 1;
  }
  private grow(): void {
    const c = this.start.length * 2;
    const more = <A extends Float64Array | Uint8Array | Int32Array>(
      a: A,
      make: new (n: number) => A,
    ): A => {
      const b = new make(c);
      b.set(a);
      return b;
    };
    this.start = more(this.start, Float64Array);
    this.end = more(this.end, Float64Array);
    this.state = more(this.state, Uint8Array);
    this.who = more(this.who, Int32Array);
    this.aux = more(this.aux, Int32Array);
  }
  done(): LaneColumns {
    const n = this.n;
    // Most lanes are sized exactly (one interval per source interval): no copy then.
    if (n === this.start.length)
      return { start: this.start, end: this.end, state: this.state, who: this.who, aux: this.aux };
    return {
      start: this.start.slice(0, n),
      end: this.end.slice(0, n),
      state: this.state.slice(0, n),
      who: this.who.slice(0, n),
      aux: this.aux.slice(0, n),
    };
  }
}

/**
 * Who ran, by task id, as one lane first named it (the model's string of "comm (pid)"): a typed
 * array reset per lane, where a Map per lane cost a hash lookup per interval; task ids are dense
 * below the task table's size, others (none seen) go to a Map.
 */
class WhoOfTask {
  private readonly ids: Int32Array;
  private readonly more = new Map<number, number>();
  constructor(
    tasks: number,
    private readonly name: (task: number, pid: number) => number,
  ) {
    this.ids = new Int32Array(tasks).fill(-1);
  }
  reset(): void {
    this.ids.fill(-1);
    this.more.clear();
  }
  of(task: number, pid: number): number {
    const ids = this.ids;
    if (task >= 0 && task < ids.length) {
      let w = ids[task]!;
      if (w < 0) ids[task] = w = this.name(task, pid);
      return w;
    }
    let w = this.more.get(task);
    if (w === undefined) this.more.set(task, (w = this.name(task, pid)));
    return w;
  }
}

/**
 * A host CPU's intervals as its lane: who ran (vCPU threads apart), in model time. The hot loops
 * of the model are small functions of their own: V8 optimises them after a few thousand
 * iterations, where one large function with every loop inside is compiled whole, late, once per
 * loop that needs it (a server builds each model once, cold).
 */
function hostCpuIntervals(
  b: LaneBuilder,
  hc: PairAnalysis['hostTimelines']['cpus'],
  c: number,
  origin: number,
  vcpuTids: ReadonlySet<number>,
  whoOf: WhoOfTask,
): void {
  whoOf.reset();
  for (let i = hc.offsets[c]!; i < hc.offsets[c + 1]!; i++) {
    const pid = hc.pid[i]!;
    const st =
      pid < 0
        ? ViewState.unknown
        : pid === 0
          ? ViewState.idle
          : vcpuTids.has(pid)
            ? ViewState.vcpu
            : ViewState.other;
    const who = pid > 0 ? whoOf.of(hc.task[i]!, pid) : -1;
    b.push(Math.round(hc.start[i]! - origin), Math.round(hc.end[i]! - origin), st, who, pid);
  }
}

/** A vCPU thread's host states as its lane; guest-only, preempted or waiting is inferred absence. */
function vcpuIntervals(
  b: LaneBuilder,
  tl: NonNullable<PairAnalysis['states']>['timelines'][number],
  origin: number,
  guestOnly: boolean,
): void {
  for (let j = 0; j < tl.state.length; j++) {
    const s = tl.state[j]!;
    const st =
      guestOnly && (s === VcpuState.preempted || s === VcpuState.waiting)
        ? ViewState.absent
        : VCPU_TO_VIEW[s]!;
    b.push(Math.round(tl.start[j]! - origin), Math.round(tl.end[j]! - origin), st, -1, tl.pcpu[j]!);
  }
}

type GuestAbsences = NonNullable<PairAnalysis['guestOnly']>['absence']['table'];

/**
 * Row numbers of the first `n` rows in order of `start` (ties: by row), by merging the runs
 * already in order: the stalls come one vCPU after the other, each in time order, so a few runs
 * merged in typed arrays replace a sort of every row through a comparator closure (the model is
 * built once per process, cold: the sort's callbacks ran unoptimised).
 */
export function startOrder(start: Float64Array, n: number): Uint32Array {
  let src = new Uint32Array(n);
  for (let i = 0; i < n; i++) src[i] = i;
  let bounds = runBounds(start, n);
  if (bounds.length <= 2) return src;
  let dst = new Uint32Array(n);
  while (bounds.length > 2) {
    bounds = mergePass(start, src, dst, bounds);
    const t = src;
    src = dst;
    dst = t;
  }
  return src;
}

/** Where each run of rows in start order begins, and `n` last. */
function runBounds(start: Float64Array, n: number): Uint32Array {
  let runs = 1;
  for (let i = 1; i < n; i++) if (start[i]! < start[i - 1]!) runs++;
  const b = new Uint32Array(runs + 1);
  let r = 1;
  for (let i = 1; i < n; i++) if (start[i]! < start[i - 1]!) b[r++] = i;
  b[runs] = n;
  return b;
}

/** Merges runs two by two from `src` into `dst`; the bounds of the merged runs. */
function mergePass(
  start: Float64Array,
  src: Uint32Array,
  dst: Uint32Array,
  bounds: Uint32Array,
): Uint32Array {
  const runs = bounds.length - 1;
  const out = new Uint32Array(((runs + 1) >> 1) + 1);
  let o = 0;
  for (let r = 0; r < runs; r += 2) {
    const lo = bounds[r]!;
    const mid = bounds[r + 1]!;
    const hi = r + 2 <= runs ? bounds[r + 2]! : mid;
    out[o++] = lo;
    mergeTwo(start, src, dst, lo, mid, hi);
  }
  out[o] = bounds[runs]!;
  return out;
}

/** Stable merge of src[lo, mid) and src[mid, hi) by start: the left run's rows are the lower. */
function mergeTwo(
  start: Float64Array,
  src: Uint32Array,
  dst: Uint32Array,
  lo: number,
  mid: number,
  hi: number,
): void {
  let i = lo;
  let j = mid;
  let k = lo;
  while (i < mid && j < hi) {
    const a = src[i]!;
    const b = src[j]!;
    if (start[b]! < start[a]!) {
      dst[k++] = b;
      j++;
    } else {
      dst[k++] = a;
      i++;
    }
  }
  while (i < mid) dst[k++] = src[i++]!;
  while (j < hi) dst[k++] = src[j++]!;
}

/**
 * The links' rows grouped by guest thread (pid > 0), each thread's in start order: `rows` holds
 * them thread after thread, `from.get(pid)` the first and `from.get(pid) + count` past the last.
 */
interface StallsByThread {
  rows: Uint32Array;
  from: Map<number, number>;
  count: Map<number, number>;
}

/**
 * Groups the link columns' rows by guest thread (a counting sort: stable, so in start order). One
 * Map lookup per row, for its thread's slot; the second pass reads the slots from a typed column.
 */
function stallsByThread(guestPid: Int32Array): StallsByThread {
  const n = guestPid.length;
  const slotOf = new Map<number, number>();
  const slotPid: number[] = [];
  const slot = new Int32Array(n);
  let counts = new Int32Array(64);
  for (let q = 0; q < n; q++) {
    const pid = guestPid[q]!;
    if (pid <= 0) {
      slot[q] = -1;
      continue;
    }
    let k = slotOf.get(pid);
    if (k === undefined) {
      k = slotPid.length;
      slotOf.set(pid, k);
      slotPid.push(pid);
      if (k === counts.length) {
        const more = new Int32Array(2 * k);
        more.set(counts);
        counts = more;
      }
    }
    slot[q] = k;
    counts[k]!++;
  }
  const from = new Map<number, number>();
  const count = new Map<number, number>();
  const next = new Int32Array(slotPid.length);
  let at = 0;
  for (let k = 0; k < slotPid.length; k++) {
    from.set(slotPid[k]!, at);
    count.set(slotPid[k]!, counts[k]!);
    next[k] = at;
    at += counts[k]!;
  }
  const rows = new Uint32Array(at);
  for (let q = 0; q < n; q++) {
    const k = slot[q]!;
    if (k >= 0) rows[next[k]!++] = q;
  }
  return { rows, from, count };
}

/**
 * A guest thread's states as its lane, its guest times mapped to model time by
 * `round(g * slope + shift - origin)` (the relative clock map's toHost, spelled out here: no
 * closure call per interval), its running time cut where its vCPU was preempted or waiting: the
 * stalls `links.start/end[rows[from..to)]`, in start order, stalled there.
 */
function guestThreadIntervals(
  b: LaneBuilder,
  gt: PairAnalysis['guestTimelines']['tasks'],
  k: number,
  lStart: Float64Array,
  lEnd: Float64Array,
  rows: Uint32Array,
  from: number,
  to: number,
  slope: number,
  shift: number,
  origin: number,
): void {
  let p = from;
  for (let j = gt.offsets[k]!; j < gt.offsets[k + 1]!; j++) {
    const s0 = Math.round(gt.start[j]! * slope + shift - origin);
    let s = s0;
    const e = Math.round(gt.end[j]! * slope + shift - origin);
    const st = TASK_TO_VIEW[gt.state[j]!]!;
    const cpu = gt.cpu[j]!;
    if (st !== ViewState.running) {
      b.push(s, e, st, -1, cpu);
      continue;
    }
    // Running in the guest's eyes; the slices its vCPU spent preempted or waiting are lost.
    while (p < to && lEnd[rows[p]!]! <= s) p++;
    for (let q = p; q < to && lStart[rows[q]!]! < e; q++) {
      const ls = Math.max(s, lStart[rows[q]!]!);
      const le = Math.min(e, lEnd[rows[q]!]!);
      if (ls > s) b.push(s, ls, ViewState.running, -1, cpu);
      if (le > ls) b.push(ls, le, ViewState.stalled, -1, cpu);
      s = Math.max(s, le);
    }
    if (e > s || e === s0) b.push(s, e, ViewState.running, -1, cpu);
  }
}

/**
 * A guest CPU's intervals as its lane, on host time (as guestThreadIntervals maps them):
 * who ran; guest-only, the inferred absences (`abs`, per vCPU in time order, from row `q`) laid
 * over them, hatched. The absences' next row.
 */
function guestCpuIntervals(
  b: LaneBuilder,
  gc: PairAnalysis['guestTimelines']['cpus'],
  c: number,
  abs: GuestAbsences | undefined,
  q0: number,
  program: ReadonlySet<number>,
  whoOf: WhoOfTask,
  slope: number,
  shift: number,
  origin: number,
): number {
  let q = q0;
  whoOf.reset();
  const everyone = program.size === 0;
  for (let i = gc.offsets[c]!; i < gc.offsets[c + 1]!; i++) {
    const pid = gc.pid[i]!;
    const st =
      pid < 0
        ? ViewState.unknown
        : pid === 0
          ? ViewState.idle
          : everyone || program.has(pid)
            ? ViewState.running
            : ViewState.other;
    const who = pid > 0 ? whoOf.of(gc.task[i]!, pid) : -1;
    const s0 = Math.round(gc.start[i]! * slope + shift - origin);
    let s = s0;
    const e = Math.round(gc.end[i]! * slope + shift - origin);
    if (abs !== undefined) {
      // Absences (guest-relative, per vCPU in time order) cut into this interval: hatched.
      while (q < abs.length && abs.vcpu[q] === c) {
        const as0 = Math.round(abs.start[q]! * slope + shift - origin);
        if (!(as0 < e)) break;
        const ae0 = Math.round(abs.end[q]! * slope + shift - origin);
        const as = Math.max(s, as0);
        const ae = Math.min(e, ae0);
        if (as > s) b.push(s, as, st, who, pid);
        if (ae > as) b.push(as, ae, ViewState.absent, who, pid);
        s = Math.max(s, ae);
        if (ae0 > e) break;
        q++;
      }
    }
    if (e > s || e === s0) b.push(s, e, st, who, pid);
  }
  return q;
}

/** A host task's intervals as its lane (co-runners), in model time. */
function hostTaskIntervals(
  b: LaneBuilder,
  ht: PairAnalysis['hostTimelines']['tasks'],
  k: number,
  origin: number,
): void {
  for (let j = ht.offsets[k]!; j < ht.offsets[k + 1]!; j++)
    b.push(
      Math.round(ht.start[j]! - origin),
      Math.round(ht.end[j]! - origin),
      TASK_TO_VIEW[ht.state[j]!]!,
      -1,
      ht.cpu[j]!,
    );
}

/**
 * The stalls in start order as link columns, in model time; their comms still the table's
 * (commColumns makes them the model's strings, once the lanes have named theirs).
 */
function linkColumns(
  table: NonNullable<PairAnalysis['stalls']>['stalls'] | undefined,
  order: Uint32Array,
  origin: number,
): LinkColumns {
  const n = order.length;
  const out = newLinkColumns(n);
  if (table === undefined) return out;
  for (let q = 0; q < n; q++) {
    const i = order[q]!;
    out.start[q] = Math.round(table.hostStart[i]! - origin);
    out.end[q] = Math.round(table.hostEnd[i]! - origin);
    out.vcpu[q] = table.vcpu[i]!;
    out.guestPid[q] = table.guestPid[i]!;
    out.guestComm[q] = table.guestComm[i]!;
    out.pcpu[q] = table.pcpu[i]!;
    out.preemptorPid[q] = table.preemptorPid[i]!;
    out.preemptorComm[q] = table.preemptorComm[i]!;
    out.preempted[q] = table.kind[i] === 0 ? 1 : 0;
  }
  return out;
}

/** The links' comms, from the stall table's ids to the model's strings (`commStr`), in place. */
function commColumns(l: LinkColumns, commStr: Int32Array): void {
  for (let q = 0; q < l.guestComm.length; q++) {
    l.guestComm[q] = commStr[l.guestComm[q]!]!;
    l.preemptorComm[q] = commStr[l.preemptorComm[q]!]!;
  }
}

/**
 * Where model time 0 is, in host-relative time: the earlier start of the two traces (the guest's
 * through the clock map). Model time of host-relative h is `Math.round(h - modelOrigin(a))`; the
 * editor's "Show in Timeline" uses it without building the model.
 */
export function modelOrigin(a: PairAnalysis): number {
  const rel =
    a.clock !== undefined ? relativeMap(a.clock, a.guest.tsBase, a.host.tsBase) : undefined;
  const start = a.hostTimelines.start;
  return Math.floor(
    rel !== undefined ? Math.min(start, rel.toHost(a.guestTimelines.start)) : start,
  );
}

/** Lays the analysis out as lanes. Guest lanes need a clock map; without one only host lanes. */
export function buildTimelineModel(a: PairAnalysis, o: ModelOptions = {}): TimelineModel {
  const hostTl = a.hostTimelines;
  const guestTl = a.guestTimelines;
  const rel =
    a.clock !== undefined ? relativeMap(a.clock, a.guest.tsBase, a.host.tsBase) : undefined;
  const origin = modelOrigin(a);
  const endRel = rel !== undefined ? Math.max(hostTl.end, rel.toHost(guestTl.end)) : hostTl.end;
  const T = (hostRel: number): number => Math.round(hostRel - origin);
  // rel.toHost(g) is g * slope + shift (correlate/clock-map.ts): the guest lanes' loops spell it
  // out, the same operations in the same order, instead of a closure call per interval.
  const slope = a.clock?.slope ?? 1;
  const shift = rel !== undefined ? rel.toHost(0) : 0;

  const strings: string[] = [];
  const stringIds = new Map<string, number>();
  const str = (s: string): number => {
    let i = stringIds.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      stringIds.set(s, i);
    }
    return i;
  };

  const lanes: LaneMeta[] = [];
  const cols: LaneColumns[] = [];
  const vcpuTids = new Set((a.vcpuMap.chosen?.vcpus ?? []).map((v) => v.hostTid));
  const program = new Set(a.program?.pids ?? []);

  // Guest-only: the host is a model of the guest's inferred absences, its CPUs unknown (no lanes),
  // a vCPU's preempted or waiting time is inferred absence.
  const guestOnly = a.guestOnly;

  // Host CPUs: who ran.
  const hc = hostTl.cpus;
  const hostWho = new WhoOfTask(a.host.tasks.size, (task, pid) =>
    str(`${a.host.tasks.comm(task)} (${pid})`),
  );
  for (let c = 0; guestOnly === undefined && c + 1 < hc.offsets.length; c++) {
    const b = new LaneBuilder(hc.offsets[c + 1]! - hc.offsets[c]!);
    hostCpuIntervals(b, hc, c, origin, vcpuTids, hostWho);
    lanes.push({
      id: laneId.hostCpu(c),
      group: 'host-cpus',
      label: `CPU ${c}`,
      machine: 'host',
      cpu: c,
    });
    cols.push(b.done());
  }

  // vCPU threads: their host state.
  for (const tl of a.states?.timelines ?? []) {
    const b = new LaneBuilder(tl.state.length);
    vcpuIntervals(b, tl, origin, guestOnly !== undefined);
    const v = a.vcpuMap.chosen?.vcpus.find((x) => x.vcpu === tl.vcpu);
    lanes.push({
      id: laneId.vcpu(tl.vcpu),
      group: 'vcpus',
      label:
        guestOnly !== undefined
          ? `vCPU ${tl.vcpu} (inferred: no host trace)`
          : `vCPU ${tl.vcpu} · ${v?.hostComm ?? '?'} (${tl.hostTid})`,
      machine: 'host',
      pid: tl.hostTid,
      vcpu: tl.vcpu,
    });
    cols.push(b.done());
  }

  // The stalls, in model time, sorted by start: the links, and per guest thread for the overlay
  // below.
  const table = a.stalls?.stalls;
  const stallOrder =
    table !== undefined ? startOrder(table.hostStart, table.length) : new Uint32Array(0);
  const links = linkColumns(table, stallOrder, origin);

  if (rel !== undefined) {
    // Guest CPUs: who ran, on host time; guest-only, the inferred absences laid over them.
    const gc = guestTl.cpus;
    const abs = guestOnly?.absence.table;
    const guestWho = new WhoOfTask(a.guest.tasks.size, (task, pid) =>
      str(`${a.guest.tasks.comm(task)} (${pid})`),
    );
    let q = 0;
    for (let c = 0; c + 1 < gc.offsets.length; c++) {
      const b = new LaneBuilder(gc.offsets[c + 1]! - gc.offsets[c]!);
      while (abs !== undefined && q < abs.length && abs.vcpu[q]! < c) q++;
      q = guestCpuIntervals(b, gc, c, abs, q, program, guestWho, slope, shift, origin);
      lanes.push({
        id: laneId.guestCpu(c),
        group: 'guest-cpus',
        label: `guest CPU ${c}`,
        machine: 'guest',
        cpu: c,
      });
      cols.push(b.done());
    }

    // Guest threads: the program's first, then the others that ran longest.
    const gt = guestTl.tasks;
    const ks: number[] = [];
    for (let k = 0; k < gt.pids.length; k++) if (gt.pids[k]! > 0) ks.push(k);
    const runOf = (k: number): number => gt.totals[k * 9 + TaskState.running]!;
    ks.sort((x, y) => {
      const px = program.has(gt.pids[x]!) ? 1 : 0;
      const py = program.has(gt.pids[y]!) ? 1 : 0;
      return py - px || runOf(y) - runOf(x);
    });
    const byThread = stallsByThread(links.guestPid);
    for (const k of ks.slice(0, o.maxGuestThreads ?? 48)) {
      const pid = gt.pids[k]!;
      if (!program.has(pid) && runOf(k) <= 0) continue;
      const from = byThread.from.get(pid) ?? 0;
      const mine = byThread.count.get(pid) ?? 0;
      // Each stall can split a running interval in three.
      const b = new LaneBuilder(gt.offsets[k + 1]! - gt.offsets[k]! + 2 * mine);
      guestThreadIntervals(
        b,
        gt,
        k,
        links.start,
        links.end,
        byThread.rows,
        from,
        from + mine,
        slope,
        shift,
        origin,
      );
      lanes.push({
        id: laneId.guestThread(pid),
        group: 'guest-threads',
        label: `${gt.comms[k]!} (${pid})`,
        machine: 'guest',
        pid,
        ...(program.has(pid) ? { program: true as const } : {}),
      });
      cols.push(b.done());
    }
  }

  // Co-runners: the host tasks that preempted vCPUs, by vCPU time taken.
  const ht = hostTl.tasks;
  for (const p of (a.stalls?.byPreemptor ?? [])
    .filter((x) => x.pid > 0 && !vcpuTids.has(x.pid))
    .slice(0, o.maxCoRunners ?? 12)) {
    const k = ht.indexOf.get(p.pid);
    if (k === undefined) continue;
    const b = new LaneBuilder(ht.offsets[k + 1]! - ht.offsets[k]!);
    hostTaskIntervals(b, ht, k, origin);
    lanes.push({
      id: laneId.hostThread(p.pid),
      group: 'co-runners',
      label: `${ht.comms[k]!} (${p.pid})`,
      machine: 'host',
      pid: p.pid,
    });
    cols.push(b.done());
  }

  // The links' comms in the model's string table, after the lanes' names (the strings' order).
  commColumns(
    links,
    Int32Array.from(table?.comms ?? [], (c) => str(c)),
  );

  const unit = a.host.clock.unit;
  const findings: FindingMeta[] = a.findings.map((f) => ({
    kind: f.kind,
    severity: f.severity,
    startNs: T(f.start),
    endNs: T(f.end),
    message: f.message,
  }));
  const spanNs = Math.max(1, T(endRel));
  const meta: TimelineMeta = {
    protocol: 1,
    title: o.title ?? `${a.host.name} + ${a.guest.name}`,
    unit,
    spanNs,
    hostOriginAbs: (a.host.tsBase + BigInt(origin)).toString(),
    lanes,
    findings,
    summary: summaryOf(a),
    ...(guestOnly !== undefined ? { guestOnly: true as const } : {}),
  };
  if (a.window !== undefined) meta.focus = { startNs: T(a.window.start), endNs: T(a.window.end) };
  if (rel !== undefined) {
    // guest-relative of host-relative h is rel.toGuest(h); model time t is host-relative t + origin.
    const g0 = rel.toGuest(origin);
    meta.guestClock = {
      guestOriginAbs: (a.guest.tsBase + BigInt(Math.round(g0))).toString(),
      slope: a.clock!.slope,
    };
  }
  const model: TimelineModel = { meta, strings, lanes: cols, links };
  Object.assign(meta, adviceMeta(a, model));
  return model;
}

/**
 * What the analysis' advice adds to a model's meta: the DoP series, the what-if chart, the
 * summary with the advice. For a model built before the advice was computed (the language server
 * draws the lanes first), from the same analysis with its advice added (analyze/pair.ts withAdvice).
 */
export function adviceMeta(a: PairAnalysis, m: TimelineModel): AdviceMeta {
  const origin = modelOrigin(a);
  const dop = dopSeries(a, m, (h) => Math.round(h - origin));
  return {
    ...(dop !== undefined ? { dop } : {}),
    ...(a.advice?.whatIf !== undefined ? { whatIf: whatIfChart(a.advice.whatIf) } : {}),
    summary: summaryOf(a),
  };
}

/** View states by whether a vCPU lane's interval counts as running (1) in the DoP series. */
const RUNNING_VCPU = new Uint8Array(256);
RUNNING_VCPU[ViewState.running] = 1;
RUNNING_VCPU[ViewState.vmm] = 1;
/** View states by whether a program thread's interval counts as wanting a CPU (1). */
const REQUESTING_THREAD = new Uint8Array(256);
REQUESTING_THREAD[ViewState.running] = 1;
REQUESTING_THREAD[ViewState.stalled] = 1;
REQUESTING_THREAD[ViewState.waiting] = 1;
REQUESTING_THREAD[ViewState.descheduled] = 1;

/**
 * Adds a lane's intervals whose state `counts` to the `n` buckets of `acc` (each `width` from
 * `w0`, clipped to [w0, w1)): a function over the lane's columns, with no closure per interval.
 */
function addStates(
  acc: Float64Array,
  c: LaneColumns,
  counts: Uint8Array,
  w0: number,
  w1: number,
  width: number,
  n: number,
): void {
  const state = c.state;
  const start = c.start;
  const end = c.end;
  for (let j = 0; j < state.length; j++) {
    if (counts[state[j]!] !== 1) continue;
    const a0 = Math.max(start[j]!, w0);
    const a1 = Math.min(end[j]!, w1);
    if (a1 <= a0) continue;
    let b = Math.min(n - 1, Math.floor((a0 - w0) / width));
    for (let x = a0; x < a1 && b < n; b++) {
      const be = w0 + (b + 1) * width;
      const y = Math.min(a1, be);
      acc[b]! += y - x;
      x = y;
    }
  }
}

/** Requested threads, running vCPUs and the recommended DoP over time, in ~400 buckets. */
function dopSeries(
  a: PairAnalysis,
  m: TimelineModel,
  T: (h: number) => number,
): DopSeries | undefined {
  if (a.advice === undefined || a.window === undefined) return undefined;
  const w0 = T(a.window.start);
  const w1 = T(a.window.end);
  const n = 400;
  const width = Math.max(1, (w1 - w0) / n);
  const running = new Float64Array(n);
  const requested = new Float64Array(n);
  const program = new Set(a.program?.pids ?? []);
  m.meta.lanes.forEach((l, i) => {
    const c = m.lanes[i]!;
    if (l.group === 'vcpus') addStates(running, c, RUNNING_VCPU, w0, w1, width, n);
    else if (l.group === 'guest-threads' && l.pid !== undefined && program.has(l.pid))
      addStates(requested, c, REQUESTING_THREAD, w0, w1, width, n);
  });
  const phases = a.advice.phases.map((p) => ({ s: T(p.start), e: T(p.end), dop: p.dop }));
  const out: DopSeries = {
    startNs: [],
    widthNs: width,
    requested: [],
    running: [],
    recommended: [],
    threads: a.advice.threads,
    vcpus: a.states?.timelines.length ?? 0,
  };
  for (let b = 0; b < n; b++) {
    const s = w0 + b * width;
    const mid = s + width / 2;
    out.startNs.push(Math.round(s));
    out.running.push(running[b]! / width);
    out.requested.push(requested[b]! / width);
    out.recommended.push(phases.find((p) => mid >= p.s && mid < p.e)?.dop ?? a.advice.dop);
  }
  return out;
}

function summaryOf(a: PairAnalysis): TimelineMeta['summary'] {
  const unit = a.host.clock.unit;
  const t = (v: number): string => formatClockDuration(v, unit);
  const out: TimelineMeta['summary'] = [];
  if (unit === 'count') out.push({ heading: 'Units', lines: [TSC_RATE_HINT] });
  if (a.advice !== undefined) {
    const ad = a.advice;
    out.push({
      heading: 'Advice',
      lines: [
        `OMP_NUM_THREADS=${ad.dop} (ran ${ad.threads}), OMP_WAIT_POLICY=${ad.waitPolicy === 'active' ? 'active' : 'passive'}` +
          `${ad.spinCount !== undefined ? `, GOMP_SPINCOUNT=${ad.spinCount}` : ''}; predicted ${ad.predictedSpeedup.toFixed(2)}x`,
        ...ad.reasoning,
      ],
    });
  }
  if (a.program !== undefined)
    out.push({
      heading: 'Program',
      lines: [
        `${a.program.comm}: ${a.program.pids.length} threads, ${(100 * a.program.sleepShare).toFixed(1)}% of their time asleep`,
      ],
    });
  const vm = a.vcpuMap.chosen;
  const go = a.guestOnly;
  if (go !== undefined) {
    out.push({
      heading: 'Guest-only (inferred: no host trace)',
      lines: [
        ...go.absence.perVcpu.map(
          (p) =>
            `vCPU ${p.vcpu}: absent ${t(p.absentNs)} in ${p.intervals} intervals (${t(p.sureNs)} of it sure)`,
        ),
        ...go.reasoning,
      ],
    });
    if (a.stalls !== undefined)
      out.push({
        heading: 'Guest threads that lost time (inferred)',
        lines: a.stalls.byGuestThread
          .slice(0, 8)
          .map((s) => `${s.comm} (${s.pid}): ${t(s.lost)} in ${s.episodes} episodes`),
      });
    if (a.reasoning.length > 0) out.push({ heading: 'Notes', lines: [...a.reasoning] });
    return out;
  }
  out.push({
    heading: 'vCPUs',
    lines:
      vm !== undefined
        ? (a.states?.time ?? []).map(
            (v) =>
              `vCPU ${v.vcpu} = host thread ${v.hostTid} '${v.hostComm}': steal ${t(v.steal)}, ${v.preemptions} preemptions`,
          )
        : ['no vCPU threads found', ...a.vcpuMap.reasoning],
  });
  if (a.clock !== undefined)
    out.push({
      heading: 'Clock map',
      lines: [
        `${a.clock.method}: host - guest = ${formatClockOffset(a.clock.hostRef - a.clock.guestRef, a.clock.unit)} at guest ${formatAbsTs(a.clock.guestRef, a.clock.unit, 9)}, rate ${a.clock.slope.toFixed(9)}, ± ${formatClockDuration(a.clock.bound, a.clock.unit)}`,
      ],
    });
  if (a.stalls !== undefined) {
    out.push({
      heading: 'Guest threads that lost time',
      lines: a.stalls.byGuestThread
        .slice(0, 8)
        .map((s) => `${s.comm} (${s.pid}): ${t(s.lost)} in ${s.episodes} episodes`),
    });
    out.push({
      heading: 'Preemptors',
      lines: a.stalls.byPreemptor
        .slice(0, 8)
        .map((p) => `${p.comm} (${p.pid}): took ${t(p.took)} in ${p.episodes} episodes`),
    });
  }
  if (a.reasoning.length > 0) out.push({ heading: 'Notes', lines: [...a.reasoning] });
  return out;
}
