// The level-of-detail windows the timeline pulls, cached as tiles: a tile is TILE_PX buckets at one
// resolution, so panning reuses what it fetched and zooming shows a coarser tile until the finer
// one arrives (rendering never waits on fetching).

import type { LaneMeta, LaneWindow, WindowReply } from '../src/protocol/webview';
import { upperBound } from '../src/core/model/search';
import { NO_STATE } from '../src/core/view/states';
import { TILE_PX, tilesFor } from '../src/core/view/first-view';
import type { Transport } from './transport';

const MAX_TILES = 96;

/** A lane's runs with their start times, computed once when the window arrives. */
export interface LaneRuns {
  /** Run i covers [starts[i], starts[i + 1]); starts has one more entry than states. */
  starts: Float64Array;
  states: Uint8Array;
  counts: Uint32Array;
}

export interface Tile {
  reply: WindowReply;
  byLane: Map<string, LaneRuns>;
}

function laneRuns(w: LaneWindow, startNs: number, res: number): LaneRuns {
  const n = w.runs.length;
  const starts = new Float64Array(n + 1);
  let t = startNs;
  for (let i = 0; i < n; i++) {
    starts[i] = t;
    t += w.runs[i]! * res;
  }
  starts[n] = t;
  return { starts, states: Uint8Array.from(w.states), counts: Uint32Array.from(w.counts) };
}

/** The first run ending after t. */
export function firstRunEndingAfter(r: LaneRuns, t: number): number {
  // Run i ends at starts[i + 1].
  return upperBound(r.starts, t, 1, r.states.length + 1) - 1;
}

/** Calls f(startNs, endNs, state, count) for each run of a lane in a tile. */
export function forEachRun(
  tile: Tile,
  lane: string,
  f: (s: number, e: number, state: number, count: number) => void,
): void {
  const r = tile.byLane.get(lane);
  if (r === undefined) return;
  for (let i = 0; i < r.states.length; i++)
    f(r.starts[i]!, r.starts[i + 1]!, r.states[i]!, r.counts[i]!);
}

/** What the tiles are fetched for: the lanes shown and the highlighted task change the answer. */
export interface TileScope {
  lanes: readonly LaneMeta[];
  highlight: { machine: 'host' | 'guest'; pid: number } | undefined;
}

export class TileCache {
  private readonly tiles = new Map<string, Tile>();
  private readonly inflight = new Set<string>();
  private readonly idle: (() => void)[] = [];

  constructor(
    private readonly transport: Transport,
    private readonly spanNs: number,
    private readonly scope: () => TileScope,
    private readonly arrived: () => void,
  ) {}

  pending(): number {
    return this.inflight.size;
  }

  /** Resolves once nothing is being fetched. */
  settled(): Promise<void> {
    if (this.inflight.size === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private key(res: number, i: number): string {
    const s = this.scope();
    const h = s.highlight;
    return `${res}:${i}:${h === undefined ? '' : `${h.machine}${h.pid}`}:${s.lanes.map((l) => l.id).join(',')}`;
  }

  /**
   * Windows answered before they were asked for (with `init`, for the page's first view): each
   * kept as the tile it is only if it is one this page asks for now (its lanes and highlight
   * the page's; a tile's position and size), so that what the page draws is never what it did
   * not ask for. The number kept.
   */
  seed(replies: readonly WindowReply[], highlight: TileScope['highlight']): number {
    const s = this.scope();
    const h = s.highlight;
    const lanes = s.lanes.map((l) => l.id).join(',');
    let kept = 0;
    for (const reply of replies) {
      const res = reply.resolutionNs;
      const i = reply.startNs / (res * TILE_PX);
      if (
        !Number.isInteger(i) ||
        h?.machine !== highlight?.machine ||
        h?.pid !== highlight?.pid ||
        reply.lanes.map((l) => l.lane).join(',') !== lanes
      )
        continue;
      this.store(this.key(res, i), reply);
      kept++;
    }
    return kept;
  }

  private store(key: string, reply: WindowReply): void {
    const byLane = new Map(
      reply.lanes.map((l) => [l.lane, laneRuns(l, reply.startNs, reply.resolutionNs)]),
    );
    this.tiles.set(key, { reply, byLane });
    if (this.tiles.size > MAX_TILES) {
      const oldest = this.tiles.keys().next().value;
      if (oldest !== undefined) this.tiles.delete(oldest);
    }
  }

  /** Tiles covering [a, b] drawn at widthPx (fetching what is missing and a tile either side). */
  visible(a: number, b: number, widthPx: number): Tile[] {
    const { res, shownFirst, shownLast, first, last } = tilesFor(a, b, widthPx, this.spanNs);
    const out: Tile[] = [];
    const seen = new Set<Tile>();
    for (let i = shownFirst; i <= shownLast; i++) {
      let tile = this.tiles.get(this.key(res, i));
      // Not here yet: draw what a coarser resolution has meanwhile.
      for (let up = 1; tile === undefined && up <= 8; up++)
        tile = this.tiles.get(this.key(res * 2 ** up, Math.floor(i / 2 ** up)));
      if (tile !== undefined && !seen.has(tile)) {
        seen.add(tile);
        out.push(tile);
      }
    }
    for (let i = first; i <= last; i++) this.fetch(res, i);
    return out;
  }

  /** The drawn run of a lane at time t, finest tile first. */
  segmentAt(
    tiles: readonly Tile[],
    lane: string,
    t: number,
  ): { start: number; end: number; state: number; count: number } | undefined {
    const sorted = [...tiles].sort((p, q) => p.reply.resolutionNs - q.reply.resolutionNs);
    for (const tile of sorted) {
      const r = tile.byLane.get(lane);
      if (r === undefined) continue;
      const i = firstRunEndingAfter(r, t);
      if (i < r.states.length && r.starts[i]! <= t && r.states[i] !== NO_STATE)
        return {
          start: r.starts[i]!,
          end: r.starts[i + 1]!,
          state: r.states[i]!,
          count: r.counts[i]!,
        };
    }
    return undefined;
  }

  private fetch(res: number, i: number): void {
    if (i * res * TILE_PX > this.spanNs) return;
    const key = this.key(res, i);
    if (this.tiles.has(key) || this.inflight.has(key)) return;
    this.inflight.add(key);
    const s = this.scope();
    void this.transport
      .request({
        kind: 'requestWindow',
        startNs: i * res * TILE_PX,
        endNs: (i + 1) * res * TILE_PX,
        resolutionNs: res,
        // Only the lanes shown: collapsed and filtered ones cost nothing.
        lanes: s.lanes.map((l) => l.id),
        ...(s.highlight !== undefined ? { highlight: s.highlight } : {}),
      })
      .then((reply) => {
        this.inflight.delete(key);
        if (reply.kind === 'window') this.store(key, reply);
        if (this.inflight.size === 0) for (const r of this.idle.splice(0)) r();
        this.arrived();
      });
  }
}

/**
 * Time per state per lane group inside [start, end) for the given lanes, from the finest of the
 * drawn tiles (bucket-exact: a run is the bucket's dominant state).
 */
export function stateTotals(
  tiles: readonly Tile[],
  lanes: readonly LaneMeta[],
  sel: { start: number; end: number },
): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  let res = Infinity;
  for (const t of tiles) res = Math.min(res, t.reply.resolutionNs);
  for (const l of lanes) {
    let g = out.get(l.group);
    if (g === undefined) out.set(l.group, (g = new Map()));
    for (const tile of tiles) {
      if (tile.reply.resolutionNs !== res) continue;
      const r = tile.byLane.get(l.id);
      if (r === undefined) continue;
      for (let i = firstRunEndingAfter(r, sel.start); i < r.states.length; i++) {
        if (r.starts[i]! >= sel.end) break;
        const s = Math.max(sel.start, r.starts[i]!);
        const e = Math.min(sel.end, r.starts[i + 1]!);
        const st = r.states[i]!;
        if (e > s && st !== NO_STATE) g.set(st, (g.get(st) ?? 0) + (e - s));
      }
    }
  }
  return out;
}
