// The windows a timeline page draws first, answered with its `init`: one round trip fewer before
// its first frame with data (page → editor → server → editor → page: 0.2-0.3 s in VS Code under
// load, measured by bench-extension). The page says in `ready` how it will open (its canvas width,
// and its saved span, open groups and highlight if it has them); this predicts the tiles it will
// ask for, as webview/tiles.ts asks for them. The page keeps an answer only when it is the very
// tile it would ask for (resolution, position, lanes, highlight); otherwise it asks as before.

import { resolutionFor } from './lod';
import { initiallyCollapsed, LANE_GROUPS, type LaneGroup } from './states';
import type { FirstView, LaneMeta, TimelineMeta, WindowRequest } from './wire';

/** Buckets per fetched tile: windows are quantised to tiles so panning reuses them. */
export const TILE_PX = 1024;

/**
 * The tiles of a view of [a, b] drawn at widthPx: its resolution, the tile numbers it shows
 * (shownFirst..shownLast) and those it fetches (first..last: one more either side, none past
 * the span).
 */
export function tilesFor(
  a: number,
  b: number,
  widthPx: number,
  spanNs: number,
): { res: number; shownFirst: number; shownLast: number; first: number; last: number } {
  const res = resolutionFor((b - a) / widthPx);
  const span = res * TILE_PX;
  const lastTile = Math.floor(spanNs / span);
  const shownFirst = Math.max(0, Math.floor(a / span));
  const shownLast = Math.min(lastTile, Math.floor(b / span));
  return {
    res,
    shownFirst,
    shownLast,
    first: Math.max(0, shownFirst - 1),
    last: Math.min(shownLast + 1, lastTile),
  };
}

/** The lanes a page shows with these groups collapsed and no filter, in its row order. */
export function openLanes(
  lanes: readonly LaneMeta[],
  collapsed: ReadonlySet<LaneGroup>,
): LaneMeta[] {
  const out: LaneMeta[] = [];
  for (const g of LANE_GROUPS)
    if (!collapsed.has(g.id)) for (const l of lanes) if (l.group === g.id) out.push(l);
  return out;
}

/** The window requests of a page that opens as `view` says, on a timeline of `meta`. */
export function firstWindowRequests(meta: TimelineMeta, view: FirstView): WindowRequest[] {
  if (!(view.widthPx > 0)) return [];
  const saved = view.endNs !== undefined && view.startNs !== undefined && view.endNs > view.startNs;
  const range = saved ? view : (meta.focus ?? { startNs: 0, endNs: meta.spanNs });
  const a = Math.max(0, range.startNs!);
  const b = Math.min(meta.spanNs, range.endNs!);
  if (!(b > a)) return [];
  const collapsed =
    view.collapsed !== undefined ? new Set(view.collapsed) : initiallyCollapsed(meta.lanes);
  const lanes = openLanes(meta.lanes, collapsed).map((l) => l.id);
  const { res, first, last } = tilesFor(a, b, view.widthPx, meta.spanNs);
  const out: WindowRequest[] = [];
  for (let i = first; i <= last; i++)
    out.push({
      startNs: i * res * TILE_PX,
      endNs: (i + 1) * res * TILE_PX,
      resolutionNs: res,
      lanes,
      ...(view.highlight !== undefined ? { highlight: view.highlight } : {}),
    });
  return out;
}
