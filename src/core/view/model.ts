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

const VCPU_TO_VIEW: Record<number, ViewState> = {
  [VcpuState.running]: ViewState.running,
  [VcpuState.preempted]: ViewState.preempted,
  [VcpuState.waiting]: ViewState.waiting,
  [VcpuState.halted]: ViewState.idle,
  [VcpuState.vmm]: ViewState.vmm,
  [VcpuState.blocked]: ViewState.blocked,
  [VcpuState.unknown]: ViewState.unknown,
};

const TASK_TO_VIEW: Record<number, ViewState> = {
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
  whoName: (task: number, pid: number) => number,
): void {
  const whoOf = new Map<number, number>();
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
    let who = -1;
    if (pid > 0) {
      const task = hc.task[i]!;
      who = whoOf.get(task) ?? -1;
      if (who < 0) whoOf.set(task, (who = whoName(task, pid)));
    }
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

/** Per guest thread, its stalls in start order as [start, end, start, end, ...] in model time. */
function stallsByThread(
  table: NonNullable<PairAnalysis['stalls']>['stalls'],
  order: Uint32Array,
  origin: number,
): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let q = 0; q < order.length; q++) {
    const i = order[q]!;
    const pid = table.guestPid[i]!;
    if (pid <= 0) continue;
    let l = out.get(pid);
    if (l === undefined) out.set(pid, (l = []));
    l.push(Math.round(table.hostStart[i]! - origin), Math.round(table.hostEnd[i]! - origin));
  }
  return out;
}

/**
 * A guest thread's states as its lane (guest times through `G`), its running time cut where
 * its vCPU was preempted or waiting (`stalls`, from stallsByThread): stalled there.
 */
function guestThreadIntervals(
  b: LaneBuilder,
  gt: PairAnalysis['guestTimelines']['tasks'],
  k: number,
  stalls: readonly number[],
  G: (guestRel: number) => number,
): void {
  let p = 0;
  for (let j = gt.offsets[k]!; j < gt.offsets[k + 1]!; j++) {
    const s0 = G(gt.start[j]!);
    let s = s0;
    const e = G(gt.end[j]!);
    const st = TASK_TO_VIEW[gt.state[j]!]!;
    const cpu = gt.cpu[j]!;
    if (st !== ViewState.running) {
      b.push(s, e, st, -1, cpu);
      continue;
    }
    // Running in the guest's eyes; the slices its vCPU spent preempted or waiting are lost.
    while (p < stalls.length && stalls[p + 1]! <= s) p += 2;
    for (let q = p; q < stalls.length && stalls[q]! < e; q += 2) {
      const ls = Math.max(s, stalls[q]!);
      const le = Math.min(e, stalls[q + 1]!);
      if (ls > s) b.push(s, ls, ViewState.running, -1, cpu);
      if (le > ls) b.push(ls, le, ViewState.stalled, -1, cpu);
      s = Math.max(s, le);
    }
    if (e > s || e === s0) b.push(s, e, ViewState.running, -1, cpu);
  }
}

/** The stalls in start order as link columns, in model time, comms as the model's strings. */
function linkColumns(
  table: NonNullable<PairAnalysis['stalls']>['stalls'] | undefined,
  order: Uint32Array,
  commStr: readonly number[],
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
    out.guestComm[q] = commStr[table.guestComm[i]!]!;
    out.pcpu[q] = table.pcpu[i]!;
    out.preemptorPid[q] = table.preemptorPid[i]!;
    out.preemptorComm[q] = commStr[table.preemptorComm[i]!]!;
    out.preempted[q] = table.kind[i] === 0 ? 1 : 0;
  }
  return out;
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
  const G = rel !== undefined ? (g: number): number => Math.round(rel.toHost(g) - origin) : T;

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
  for (let c = 0; guestOnly === undefined && c + 1 < hc.offsets.length; c++) {
    const b = new LaneBuilder(hc.offsets[c + 1]! - hc.offsets[c]!);
    hostCpuIntervals(b, hc, c, origin, vcpuTids, (task, pid) =>
      str(`${a.host.tasks.comm(task)} (${pid})`),
    );
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

  // The stalls, in model time, sorted by start; per guest thread for the overlay below.
  const table = a.stalls?.stalls;
  const stallOrder = table?.byStart() ?? new Uint32Array(0);
  const stallsOf = table !== undefined ? stallsByThread(table, stallOrder, origin) : new Map();

  if (rel !== undefined) {
    // Guest CPUs: who ran, on host time; guest-only, the inferred absences laid over them.
    const gc = guestTl.cpus;
    const abs = guestOnly?.absence.table;
    let q = 0;
    for (let c = 0; c + 1 < gc.offsets.length; c++) {
      const b = new LaneBuilder(gc.offsets[c + 1]! - gc.offsets[c]!);
      const whoOf = new Map<number, number>();
      while (abs !== undefined && q < abs.length && abs.vcpu[q]! < c) q++;
      for (let i = gc.offsets[c]!; i < gc.offsets[c + 1]!; i++) {
        const pid = gc.pid[i]!;
        const st =
          pid < 0
            ? ViewState.unknown
            : pid === 0
              ? ViewState.idle
              : program.size === 0 || program.has(pid)
                ? ViewState.running
                : ViewState.other;
        let who = -1;
        if (pid > 0) {
          const task = gc.task[i]!;
          who = whoOf.get(task) ?? -1;
          if (who < 0) whoOf.set(task, (who = str(`${a.guest.tasks.comm(task)} (${pid})`)));
        }
        let s = G(gc.start[i]!);
        const e = G(gc.end[i]!);
        // Absences (guest-relative, per vCPU in time order) cut into this interval: hatched.
        while (abs !== undefined && q < abs.length && abs.vcpu[q] === c && G(abs.start[q]!) < e) {
          const as = Math.max(s, G(abs.start[q]!));
          const ae = Math.min(e, G(abs.end[q]!));
          if (as > s) b.push(s, as, st, who, pid);
          if (ae > as) b.push(as, ae, ViewState.absent, who, pid);
          s = Math.max(s, ae);
          if (G(abs.end[q]!) > e) break;
          q++;
        }
        if (e > s || e === G(gc.start[i]!)) b.push(s, e, st, who, pid);
      }
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
    for (const k of ks.slice(0, o.maxGuestThreads ?? 48)) {
      const pid = gt.pids[k]!;
      if (!program.has(pid) && runOf(k) <= 0) continue;
      const mine = stallsOf.get(pid) ?? [];
      // Each stall can split a running interval in three.
      const b = new LaneBuilder(gt.offsets[k + 1]! - gt.offsets[k]! + mine.length);
      guestThreadIntervals(b, gt, k, mine, G);
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
    for (let j = ht.offsets[k]!; j < ht.offsets[k + 1]!; j++)
      b.push(T(ht.start[j]!), T(ht.end[j]!), TASK_TO_VIEW[ht.state[j]!]!, -1, ht.cpu[j]!);
    lanes.push({
      id: laneId.hostThread(p.pid),
      group: 'co-runners',
      label: `${ht.comms[k]!} (${p.pid})`,
      machine: 'host',
      pid: p.pid,
    });
    cols.push(b.done());
  }

  // Links: the stalls in start order, with their comms in the model's string table.
  const commStr = (table?.comms ?? []).map((c) => str(c));
  const links = linkColumns(table, stallOrder, commStr, origin);

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
  const add = (acc: Float64Array, s: number, e: number): void => {
    const a0 = Math.max(s, w0);
    const a1 = Math.min(e, w1);
    if (a1 <= a0) return;
    let b = Math.min(n - 1, Math.floor((a0 - w0) / width));
    for (let x = a0; x < a1 && b < n; b++) {
      const be = w0 + (b + 1) * width;
      const y = Math.min(a1, be);
      acc[b]! += y - x;
      x = y;
    }
  };
  const program = new Set(a.program?.pids ?? []);
  m.meta.lanes.forEach((l, i) => {
    const c = m.lanes[i]!;
    if (l.group === 'vcpus') {
      for (let j = 0; j < c.state.length; j++)
        if (c.state[j] === ViewState.running || c.state[j] === ViewState.vmm)
          add(running, c.start[j]!, c.end[j]!);
    } else if (l.group === 'guest-threads' && l.pid !== undefined && program.has(l.pid)) {
      for (let j = 0; j < c.state.length; j++) {
        const s = c.state[j];
        if (
          s === ViewState.running ||
          s === ViewState.stalled ||
          s === ViewState.waiting ||
          s === ViewState.descheduled
        )
          add(requested, c.start[j]!, c.end[j]!);
      }
    }
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
