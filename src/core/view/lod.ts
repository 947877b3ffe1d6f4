// The level-of-detail index over a timeline model: answers the webview's `requestWindow` with
// per-pixel summaries (dominant state, intervals begun) from a pyramid of power-of-two buckets,
// and with the intervals themselves once they are wider than a pixel. The cost of a window is
// its pixel count, not the trace's size: a 5M-event trace answers in kilobytes.

import { upperBound } from '../model/search';
import { laneId, parseLaneId } from './lane-id';
import type { LaneColumns, TimelineModel } from './model';
import { NO_STATE, VIEW_STATE_COUNT, VIEW_STATE_NAMES, ViewState } from './states';
import type { DetailsWire, LaneWindow, LinkWire, WindowReply, WindowRequest } from './wire';

/** One lane's pyramid: level L has buckets of 2^(kMin + L) units. */
interface Pyramid {
  kMin: number;
  dom: Uint8Array[];
  count: Uint32Array[];
}

/** At most this many links (the longest) per window. */
const MAX_LINKS = 400;

/** The largest power of two ≤ x (≥ 1). */
export function resolutionFor(unitsPerPixel: number): number {
  return 2 ** Math.max(0, Math.floor(Math.log2(Math.max(1, unitsPerPixel))));
}

function buildPyramid(c: LaneColumns, spanNs: number): Pyramid {
  const n = c.start.length;
  // The finest stored level has about one bucket per two intervals; finer windows read intervals.
  const target = Math.max(64, n >> 1);
  const kMin = Math.max(0, Math.ceil(Math.log2(Math.max(1, spanNs) / target)));
  let w = 2 ** kMin;
  let nb = Math.max(1, Math.ceil((spanNs + 1) / w));
  let hist = new Float64Array(nb * VIEW_STATE_COUNT);
  let count = new Uint32Array(nb);
  for (let i = 0; i < n; i++) {
    const s = c.start[i]!;
    const e = c.end[i]!;
    const st = c.state[i]!;
    const b0 = Math.min(nb - 1, Math.max(0, Math.floor(s / w)));
    count[b0]!++;
    let x = s;
    for (let b = b0; x < e && b < nb; b++) {
      const y = Math.min(e, (b + 1) * w);
      hist[b * VIEW_STATE_COUNT + st]! += y - x;
      x = y;
    }
  }
  const dom: Uint8Array[] = [];
  const counts: Uint32Array[] = [];
  for (;;) {
    // One pass per level: each bucket's dominant state, and its time added to the next level's.
    const last = nb === 1;
    const nb2 = Math.ceil(nb / 2);
    const h2 = last ? hist : new Float64Array(nb2 * VIEW_STATE_COUNT);
    const c2 = last ? count : new Uint32Array(nb2);
    const d = new Uint8Array(nb);
    for (let b = 0; b < nb; b++) {
      const from = b * VIEW_STATE_COUNT;
      const to = (b >> 1) * VIEW_STATE_COUNT;
      let best = NO_STATE;
      let bt = 0;
      for (let s = 0; s < VIEW_STATE_COUNT; s++) {
        const v = hist[from + s]!;
        if (v > bt) {
          bt = v;
          best = s;
        }
        if (!last) h2[to + s]! += v;
      }
      d[b] = best;
      if (!last) c2[b >> 1]! += count[b]!;
    }
    dom.push(d);
    counts.push(count);
    if (last) break;
    hist = h2;
    count = c2;
    nb = nb2;
    w *= 2;
  }
  return { kMin, dom, count: counts };
}

/** The engine side of the timeline: build once per model, then answer windows and details. */
export class TimelineIndex {
  /**
   * Each lane's pyramid, built by prepareLane (its owner's idle time: the language server's turns
   * between messages, the report page's idle callbacks), never by a window: a lane without one
   * is read from its intervals, one pass that costs less than building it, so no answer waits
   * for a build. Collapsed lanes never get one.
   */
  private readonly pyramids: (Pyramid | undefined)[];
  private readonly laneIndex = new Map<string, number>();
  /** Running maximum of the links' ends (links sorted by start): where a search may begin. */
  private readonly linkEndMax: Float64Array;

  constructor(readonly model: TimelineModel) {
    this.pyramids = new Array<Pyramid | undefined>(model.lanes.length);
    model.meta.lanes.forEach((l, i) => this.laneIndex.set(l.id, i));
    const L = model.links;
    this.linkEndMax = new Float64Array(L.start.length);
    let m = -Infinity;
    for (let i = 0; i < L.start.length; i++) this.linkEndMax[i] = m = Math.max(m, L.end[i]!);
  }

  /**
   * The window [startNs, endNs) at a power-of-two resolution: per lane, each bucket's dominant
   * state and intervals begun. The start is rounded down to a bucket boundary, so buckets are the
   * same whichever window holds them.
   */
  window(req: WindowRequest): WindowReply {
    const res = resolutionFor(req.resolutionNs);
    const start = Math.floor(Math.max(0, req.startNs) / res) * res;
    const end = Math.max(start + res, Math.min(req.endNs, this.model.meta.spanNs + res));
    const nb = Math.ceil((end - start) / res);
    const lanes: LaneWindow[] = [];
    for (const id of req.lanes) {
      const i = this.laneIndex.get(id);
      if (i === undefined) continue;
      lanes.push(this.laneWindow(id, i, start, nb, res));
    }
    const reply: WindowReply = {
      startNs: start,
      endNs: start + nb * res,
      resolutionNs: res,
      lanes,
      links: this.linksIn(start, start + nb * res, res),
    };
    if (req.highlight !== undefined)
      reply.highlight = this.highlight(req.highlight, start, start + nb * res, res);
    return reply;
  }

  /**
   * Builds a lane's pyramid, after which its windows cost their pixels, not its intervals. True
   * when it was built by this call; false when it was there already or the lane is unknown.
   * Windows are the same either way.
   */
  prepareLane(id: string): boolean {
    const i = this.laneIndex.get(id);
    if (i === undefined || this.pyramids[i] !== undefined) return false;
    this.pyramids[i] = buildPyramid(this.model.lanes[i]!, this.model.meta.spanNs);
    return true;
  }

  private laneWindow(id: string, i: number, a: number, nb: number, res: number): LaneWindow {
    const dom = new Uint8Array(nb).fill(NO_STATE);
    const cnt = new Uint32Array(nb);
    const p = this.pyramids[i];
    const k = Math.round(Math.log2(res));
    if (p !== undefined && k >= p.kMin) {
      // The pyramid level of this resolution: its buckets are the window's (past the top level,
      // the top's single bucket is the whole lane).
      const level = Math.min(k - p.kMin, p.dom.length - 1);
      const w = 2 ** (p.kMin + level);
      const ld = p.dom[level]!;
      const lc = p.count[level]!;
      for (let b = 0; b < nb; b++) {
        const q = Math.floor((a + b * res) / w);
        if (q >= ld.length) break;
        if (b > 0 && Math.floor((a + (b - 1) * res) / w) === q) continue;
        dom[b] = ld[q]!;
        cnt[b] = lc[q]!;
      }
    } else {
      // No pyramid yet, or finer than it: from the intervals, time per state per bucket. The same
      // buckets as a pyramid level's (the start is a multiple of the resolution; times are whole
      // units, so the sums are exact in any order).
      const c = this.model.lanes[i]!;
      const b1 = a + nb * res;
      const acc = new Float64Array(nb * VIEW_STATE_COUNT);
      for (let j = Math.max(0, upperBound(c.start, a) - 1); j < c.start.length; j++) {
        const s = c.start[j]!;
        if (s >= b1) break;
        const e = c.end[j]!;
        if (e < a) continue;
        const st = c.state[j]!;
        if (s >= a) cnt[Math.floor((s - a) / res)]!++;
        let x = Math.max(s, a);
        const y1 = Math.min(e, b1);
        for (let b = Math.floor((x - a) / res); x < y1 && b < nb; b++) {
          const y = Math.min(y1, a + (b + 1) * res);
          acc[b * VIEW_STATE_COUNT + st]! += y - x;
          x = y;
        }
      }
      for (let b = 0; b < nb; b++) {
        let best = NO_STATE;
        let bt = 0;
        for (let s = 0; s < VIEW_STATE_COUNT; s++) {
          const v = acc[b * VIEW_STATE_COUNT + s]!;
          if (v > bt) {
            bt = v;
            best = s;
          }
        }
        dom[b] = best;
      }
    }
    const out: LaneWindow = { lane: id, runs: [], states: [], counts: [] };
    for (let b = 0; b < nb; b++) {
      const last = out.states.length - 1;
      if (last >= 0 && out.states[last] === dom[b]) {
        out.runs[last]!++;
        out.counts[last]! += cnt[b]!;
      } else {
        out.runs.push(1);
        out.states.push(dom[b]!);
        out.counts.push(cnt[b]!);
      }
    }
    return out;
  }

  /** Stalls in the window at least a pixel long, the longest first, at most MAX_LINKS. */
  private linksIn(a: number, b: number, res: number): LinkWire[] {
    const L = this.model.links;
    const from = upperBound(this.linkEndMax, a - 1);
    const hits: number[] = [];
    for (let i = from; i < L.start.length && L.start[i]! < b; i++) {
      if (L.end[i]! <= a || L.end[i]! - L.start[i]! < res) continue;
      hits.push(i);
    }
    if (hits.length > MAX_LINKS) {
      hits.sort((x, y) => L.end[y]! - L.start[y]! - (L.end[x]! - L.start[x]!));
      hits.length = MAX_LINKS;
      hits.sort((x, y) => x - y);
    }
    return hits.map((i) => this.link(i));
  }

  private link(i: number): LinkWire {
    const L = this.model.links;
    const S = this.model.strings;
    return {
      startNs: L.start[i]!,
      endNs: L.end[i]!,
      vcpu: L.vcpu[i]!,
      guestPid: L.guestPid[i]!,
      guestComm: S[L.guestComm[i]!] ?? '?',
      pcpu: L.pcpu[i]!,
      preemptorPid: L.preemptorPid[i]!,
      preemptorComm: S[L.preemptorComm[i]!] ?? '?',
      kind: L.preempted[i] === 1 ? 'preempted' : 'waiting',
    };
  }

  /** Where one task ran, per CPU lane of its machine, merged at the resolution. */
  private highlight(
    h: { machine: 'host' | 'guest'; pid: number },
    a: number,
    b: number,
    res: number,
  ): Record<string, { start: number[]; end: number[] }> {
    const out: Record<string, { start: number[]; end: number[] }> = {};
    const add = (lane: string, s: number, e: number): void => {
      let r = out[lane];
      if (r === undefined) out[lane] = r = { start: [], end: [] };
      const last = r.end.length - 1;
      if (last >= 0 && s - r.end[last]! < res) r.end[last] = Math.max(r.end[last]!, e);
      else {
        r.start.push(s);
        r.end.push(Math.max(e, s + res));
      }
    };
    const cpuKind = h.machine === 'host' ? 'hcpu' : 'gcpu';
    // A task lane of the task tells where it ran cheaply; otherwise scan the CPU lanes.
    const meta = this.model.meta.lanes;
    const taskLane = meta.findIndex(
      (l) =>
        l.pid === h.pid &&
        l.machine === h.machine &&
        (l.group === 'guest-threads' || l.group === 'co-runners'),
    );
    if (taskLane >= 0) {
      const c = this.model.lanes[taskLane]!;
      for (let j = Math.max(0, upperBound(c.start, a) - 1); j < c.start.length; j++) {
        if (c.start[j]! >= b) break;
        const st = c.state[j];
        if ((st !== ViewState.running && st !== ViewState.stalled) || c.end[j]! < a) continue;
        if (c.aux[j]! >= 0) add(laneId.cpu(h.machine, c.aux[j]!), c.start[j]!, c.end[j]!);
      }
      return out;
    }
    meta.forEach((l, i) => {
      if (parseLaneId(l.id)?.kind !== cpuKind) return;
      const c = this.model.lanes[i]!;
      for (let j = Math.max(0, upperBound(c.start, a) - 1); j < c.start.length; j++) {
        if (c.start[j]! >= b) break;
        if (c.aux[j] === h.pid && c.end[j]! >= a) add(l.id, c.start[j]!, c.end[j]!);
      }
    });
    return out;
  }

  /** The interval of a lane at t (or the nearest within the tolerance), with its stalls. */
  details(laneId: string, t: number, toleranceNs: number): DetailsWire | null {
    const i = this.laneIndex.get(laneId);
    if (i === undefined) return null;
    const c = this.model.lanes[i]!;
    const l = this.model.meta.lanes[i]!;
    let j = upperBound(c.start, t) - 1;
    if (j < 0 || c.end[j]! < t) {
      // Nearest by distance, within the tolerance.
      const cands = [j, j + 1].filter((x) => x >= 0 && x < c.start.length);
      let best = -1;
      let bd = toleranceNs;
      for (const x of cands) {
        const d = t < c.start[x]! ? c.start[x]! - t : t - c.end[x]!;
        if (d <= bd) {
          bd = d;
          best = x;
        }
      }
      j = best;
    }
    if (j < 0) return null;
    const s = c.start[j]!;
    const e = c.end[j]!;
    const st = c.state[j]!;
    const lines: string[] = [];
    const isCpu = l.group === 'host-cpus' || l.group === 'guest-cpus';
    if (isCpu) {
      if (c.who[j]! >= 0) lines.push(`ran ${this.model.strings[c.who[j]!]}`);
      else if (c.aux[j] === 0) lines.push('idle');
      else lines.push('unknown who ran (events missing)');
    } else if (c.aux[j]! >= 0) {
      lines.push(`${l.group === 'vcpus' ? 'host CPU' : 'CPU'} ${c.aux[j]}`);
    }
    const L = this.model.links;
    const links: LinkWire[] = [];
    const from = upperBound(this.linkEndMax, s - 1);
    for (let q = from; q < L.start.length && L.start[q]! < Math.max(e, s + 1); q++) {
      if (L.end[q]! <= s && !(L.end[q] === s && e === s)) continue;
      const related =
        (l.group === 'vcpus' && L.vcpu[q] === l.vcpu) ||
        (l.group === 'guest-cpus' && L.vcpu[q] === l.cpu) ||
        (l.group === 'guest-threads' && L.guestPid[q] === l.pid) ||
        (l.group === 'co-runners' && L.preemptorPid[q] === l.pid) ||
        (l.group === 'host-cpus' && L.pcpu[q] === l.cpu && L.preemptorPid[q] === c.aux[j]);
      if (related) links.push(this.link(q));
      if (links.length >= 20) break;
    }
    return {
      lane: laneId,
      state: VIEW_STATE_NAMES[st] ?? String(st),
      startNs: s,
      endNs: e,
      lines,
      links,
    };
  }
}

/**
 * Builds the pyramids of the lanes windows asked for, one lane each time `idle` calls back (a
 * page's idle time): the HTML report's answerer, whose windows are read from the lanes'
 * intervals until then, gets them ready for the zooms and pans that follow without a frame
 * waiting.
 */
export class LanesWhenIdle {
  private readonly todo = new Set<string>();
  private waiting = false;

  constructor(
    private readonly index: TimelineIndex,
    private readonly idle: (f: () => void) => void,
  ) {}

  add(lanes: readonly string[]): void {
    for (const l of lanes) this.todo.add(l);
    if (this.waiting || this.todo.size === 0) return;
    this.waiting = true;
    this.idle(this.next);
  }

  private readonly next = (): void => {
    this.waiting = false;
    const lane = this.todo.values().next();
    if (lane.done === true) return;
    this.todo.delete(lane.value);
    this.index.prepareLane(lane.value);
    if (this.todo.size > 0) {
      this.waiting = true;
      this.idle(this.next);
    }
  };
}
