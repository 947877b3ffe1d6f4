// The state lanes: one row per host CPU, vCPU thread, guest CPU, guest thread or co-runner, under
// collapsible group headers, each painted per device-pixel column in the colour of the finest
// window covering it. Quiet states (asleep, exited, blocked) are a thin band, not a bar that reads
// as activity; inferred states (guest-only absence) are hatched, so what was inferred never reads
// as what was seen; the highlighted task's places and the selected interval are outlined.

import type { LaneGroup, LaneMeta, TimelineMeta } from '../../src/protocol/webview';
import { LANE_GROUPS, ViewState } from '../../src/core/view/states';
import { firstRunEndingAfter } from '../tiles';
import type { Hit, Track, View } from '../track';

const LANE_H = 18;
const GROUP_H = 22;
/** States drawn as a thin band: time a task is not doing anything. */
const QUIET: ReadonlySet<number> = new Set([
  ViewState.sleeping,
  ViewState.exited,
  ViewState.blocked,
]);

/** States drawn hatched: inferred, not recorded (guest-only mode's vCPU absence). */
const HATCHED: ReadonlySet<number> = new Set([ViewState.absent]);
/** The hatch: diagonal stripes this many device pixels apart, half of them painted. */
const HATCH_PX = 6;

/** Which lanes to show: the program's threads (and the vCPUs they run on), the vCPUs, or all. */
export type LaneFilter = 'program' | 'vcpus' | 'all';
export const LANE_FILTERS: readonly { id: LaneFilter; label: string }[] = [
  { id: 'all', label: 'Everything' },
  { id: 'program', label: 'Program threads + vCPUs' },
  { id: 'vcpus', label: 'vCPUs + co-runners' },
];

export type Row =
  | { kind: 'group'; group: LaneGroup; y: number; h: number; lanes: number }
  | { kind: 'lane'; lane: LaneMeta; y: number; h: number };

/** Whether the filter shows a lane (`all`: the lanes, to know whether any is the program's). */
export function passesFilter(l: LaneMeta, f: LaneFilter, all: readonly LaneMeta[]): boolean {
  return passes(
    l,
    f,
    all.some((q) => q.program === true),
  );
}

function passes(l: LaneMeta, f: LaneFilter, anyProgram: boolean): boolean {
  switch (f) {
    case 'all':
      return true;
    case 'vcpus':
      return l.group === 'vcpus' || l.group === 'co-runners';
    case 'program':
      return (
        l.group === 'vcpus' || (l.group === 'guest-threads' && (l.program === true || !anyProgram))
      );
  }
}

export class StateLanesTrack implements Track {
  rows: Row[] = [];
  height = 0;
  private byId = new Map<string, Extract<Row, { kind: 'lane' }>>();
  private last: View | undefined;
  // Scratch: the frame's pixels, put on a canvas of their own, then drawn (composited) on the target.
  private scratch: HTMLCanvasElement | undefined;
  private img: ImageData | undefined;
  private pixels: Uint32Array | undefined;
  private full: Uint32Array | undefined;
  private thin: Uint32Array | undefined;
  private hatch: Uint8Array | undefined;

  constructor(
    private readonly meta: TimelineMeta,
    private readonly doc: Document,
  ) {}

  /** Lays the rows out for the open groups and the filter. */
  layout(collapsed: ReadonlySet<LaneGroup>, filter: LaneFilter): void {
    const anyProgram = this.meta.lanes.some((l) => l.program === true);
    const rows: Row[] = [];
    let y = 0;
    for (const g of LANE_GROUPS) {
      const lanes = this.meta.lanes.filter(
        (l) => l.group === g.id && passes(l, filter, anyProgram),
      );
      if (lanes.length === 0) continue;
      rows.push({ kind: 'group', group: g.id, y, h: GROUP_H, lanes: lanes.length });
      y += GROUP_H;
      if (collapsed.has(g.id)) continue;
      for (const l of lanes) {
        rows.push({ kind: 'lane', lane: l, y, h: LANE_H });
        y += LANE_H;
      }
    }
    this.rows = rows;
    this.height = y;
    this.byId = new Map(rows.filter((r) => r.kind === 'lane').map((r) => [r.lane.id, r] as const));
  }

  /** The lanes shown (what the tiles fetch). */
  shown(): LaneMeta[] {
    return [...this.byId.values()].map((r) => r.lane);
  }

  row(id: string): { y: number; h: number } | undefined {
    return this.byId.get(id);
  }

  render(ctx: CanvasRenderingContext2D, v: View): void {
    this.last = v;
    const dpr = v.dpr;
    const CW = Math.round(v.width * dpr);
    const CH = Math.round(v.clipHeight * dpr);
    if (CW <= 0 || CH <= 0) return;
    if (this.img === undefined || this.img.width !== CW || this.img.height !== CH) {
      this.scratch = this.doc.createElement('canvas');
      this.scratch.width = CW;
      this.scratch.height = CH;
      this.img = new ImageData(CW, CH);
      this.pixels = new Uint32Array(this.img.data.buffer);
      this.full = new Uint32Array(CW);
      this.thin = new Uint32Array(CW);
      this.hatch = new Uint8Array(CW);
    }
    const px = this.pixels!;
    const full = this.full!;
    const thin = this.thin!;
    const hatch = this.hatch!;
    const rgba = v.theme.rgba;
    const [a0, b0] = v.x.domain() as [number, number];
    const [r0, r1] = v.x.range() as [number, number];
    const kx = ((r1 - r0) / (b0 - a0)) * dpr;
    const ox = r0 * dpr;
    px.fill(0);
    // Lanes: per device-pixel column, the colour of the finest window that covers it (anything
    // under a pixel folds into its column); one row of columns per lane, copied down the lane's
    // height. Cost: pixels, not intervals.
    const coarseFirst = [...v.tiles].sort((p, q) => q.reply.resolutionNs - p.reply.resolutionNs);
    const hl = new Path2D();
    const x = v.x;
    const W = v.width;
    for (const r of this.rows) {
      if (r.kind !== 'lane' || v.top + r.y + r.h <= 0 || v.top + r.y >= v.clipHeight) continue;
      full.fill(0);
      thin.fill(0);
      hatch.fill(0);
      let hatched = false;
      for (const tile of coarseFirst) {
        const lr = tile.byLane.get(r.lane.id);
        if (lr === undefined) continue;
        const n = lr.states.length;
        for (let i = firstRunEndingAfter(lr, a0); i < n; i++) {
          const s = lr.starts[i]!;
          if (s > b0) break;
          // The scale inlined (this loop runs per run per lane per frame).
          const c0 = Math.max(0, Math.floor((s - a0) * kx + ox));
          const c1 = Math.min(CW, Math.max(c0 + 1, Math.floor((lr.starts[i + 1]! - a0) * kx + ox)));
          if (c1 <= c0) continue;
          const st = lr.states[i]!;
          const c = rgba[st]!;
          // A finer tile overrides a coarser one in both bands.
          thin.fill(c, c0, c1);
          full.fill(QUIET.has(st) ? 0 : c, c0, c1);
          const h = HATCHED.has(st) ? 1 : 0;
          hatch.fill(h, c0, c1);
          if (h === 1) hatched = true;
        }
      }
      const ly0 = v.top + r.y + 2;
      const ly1 = v.top + r.y + r.h - 2;
      const y0 = Math.max(0, Math.round(ly0 * dpr));
      const y1 = Math.min(CH, Math.round(ly1 * dpr));
      // The thin band: the lane's middle third.
      const t0 = Math.round((ly0 + (r.h - 4) / 3) * dpr);
      const t1 = Math.round((ly1 - (r.h - 4) / 3) * dpr);
      for (let yy = y0; yy < y1; yy++) {
        px.set(yy >= t0 && yy < t1 ? thin : full, yy * CW);
        if (!hatched) continue;
        // Diagonal stripes: in a hatched column, every other half-period along x + y is left clear.
        const row = yy * CW;
        for (let cx = 0; cx < CW; cx++)
          if (hatch[cx] === 1 && (cx + yy) % HATCH_PX >= HATCH_PX / 2) px[row + cx] = 0;
      }
      const y = v.top + r.y + 2;
      const h = r.h - 4;
      for (const tile of v.tiles) {
        const hw = tile.reply.highlight?.[r.lane.id];
        if (hw !== undefined)
          for (let i = 0; i < hw.start.length; i++) {
            const x0 = Math.max(-1, x(hw.start[i]!));
            const x1 = Math.min(W + 1, x(hw.end[i]!));
            if (x1 < 0 || x0 > W) continue;
            hl.rect(v.left + x0, y - 1, Math.max(1, x1 - x0), h + 2);
          }
      }
      const H = v.highlight;
      if (
        H !== undefined &&
        r.lane.pid === H.pid &&
        r.lane.machine === H.machine &&
        r.lane.group !== 'host-cpus' &&
        r.lane.group !== 'guest-cpus'
      )
        hl.rect(v.left, v.top + r.y + 0.5, W, r.h - 1);
    }
    this.scratch!.getContext('2d')!.putImageData(this.img, 0, 0);
    ctx.drawImage(this.scratch!, v.left, 0, v.width, v.clipHeight);
    ctx.strokeStyle = v.theme.highlight;
    ctx.lineWidth = 1.5;
    ctx.stroke(hl);
    const p = v.picked;
    const pr = p === undefined ? undefined : this.byId.get(p.lane);
    if (p !== undefined && pr !== undefined) {
      const x0 = x(p.start);
      const x1 = x(p.end);
      ctx.lineWidth = 2;
      ctx.strokeRect(v.left + x0 - 1, v.top + pr.y + 1, Math.max(2, x1 - x0 + 2), pr.h - 2);
    }
  }

  hit(x: number, y: number): Hit | undefined {
    const r = this.rows.find((q) => y >= q.y && y < q.y + q.h);
    if (r === undefined) return undefined;
    if (r.kind === 'group') return { kind: 'group', group: r.group };
    const tNs = this.last === undefined ? 0 : this.last.x.invert(x);
    return { kind: 'lane', lane: r.lane, tNs };
  }
}
