// PNG and SVG of the view: the same tracks the screen draws (axis, findings, every shown lane with
// its connectors, the DoP chart) rendered once the tiles of the view have all arrived, with the
// lane labels; the PNG through a canvas, the SVG as rectangles and text.

import { LANE_GROUPS, NO_STATE, VIEW_STATE_NAMES, ViewState } from '../src/core/view/states';
import type { Format } from './format';
import type { Tile } from './tiles';
import { forEachRun } from './tiles';
import type { Track, View } from './track';
import type { AxisTrack } from './tracks/axis';
import type { FindingsTrack } from './tracks/findings';
import type { StateLanesTrack } from './tracks/state-lanes';

/** What the exports read from the timeline. */
export interface ExportSource {
  readonly doc: Document;
  readonly labelW: number;
  readonly fmt: Format;
  readonly axis: AxisTrack;
  readonly findings: FindingsTrack;
  readonly lanes: StateLanesTrack;
  /** Drawn over the lanes (the connectors). */
  readonly overLanes: readonly Track[];
  readonly below: readonly Track[];
  /** The view's tiles once none is missing: what the screen shows when it has settled. */
  readyTiles(): Promise<readonly Tile[]>;
  /** The current view placed at (left, top) on a canvas of clipHeight. */
  view(
    tiles: readonly Tile[],
    at: { left: number; top: number; clipHeight: number; dpr: number },
  ): View;
}

function label(r: StateLanesTrack['rows'][number]): string {
  return r.kind === 'lane'
    ? r.lane.label
    : `${LANE_GROUPS.find((g) => g.id === r.group)!.label} (${r.lanes})`;
}

/** The whole view as a canvas: axis, findings, every shown lane (not only the scrolled-in ones), DoP. */
export async function renderPng(src: ExportSource): Promise<HTMLCanvasElement> {
  const tiles = await src.readyTiles();
  const dpr = window.devicePixelRatio || 1;
  const base = src.view(tiles, { left: src.labelW, top: 0, clipHeight: 1, dpr });
  const W = src.labelW + base.width + 4;
  const below = src.below.reduce((h, t) => h + t.height, 0);
  const lanesTop = src.axis.height + src.findings.height;
  const H = lanesTop + src.lanes.height + below;
  const c = src.doc.createElement('canvas');
  c.width = Math.round(W * dpr);
  c.height = Math.round(H * dpr);
  const ctx = c.getContext('2d')!;
  ctx.scale(dpr, dpr);
  ctx.fillStyle = base.theme.bg || '#fff';
  ctx.fillRect(0, 0, W, H);
  const at = (top: number): View => src.view(tiles, { left: src.labelW, top, clipHeight: H, dpr });
  src.axis.render(ctx, at(0));
  src.findings.render(ctx, at(src.axis.height));
  src.lanes.render(ctx, at(lanesTop));
  for (const t of src.overLanes) t.render(ctx, at(lanesTop));
  let y = lanesTop + src.lanes.height;
  for (const t of src.below) {
    t.render(ctx, at(y));
    y += t.height;
  }
  ctx.fillStyle = base.theme.fg || '#000';
  ctx.font = '12px sans-serif';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText('Findings', 4, src.axis.height + src.findings.height - 5, src.labelW - 8);
  for (const r of src.lanes.rows) {
    ctx.font = r.kind === 'group' ? 'bold 12px sans-serif' : '12px sans-serif';
    ctx.fillText(label(r), 4, lanesTop + r.y + r.h - 5, src.labelW - 8);
  }
  return c;
}

export async function exportPng(src: ExportSource): Promise<Uint8Array> {
  const c = await renderPng(src);
  const blob = await new Promise<Blob | null>((r) => c.toBlob(r, 'image/png'));
  if (blob === null) throw new Error('the PNG could not be encoded');
  return new Uint8Array(await blob.arrayBuffer());
}

/** The view as SVG: lanes as rectangles (the same runs the canvas draws), findings, axis, labels. */
export async function exportSvg(src: ExportSource): Promise<string> {
  const tiles = await src.readyTiles();
  const esc = (s: string): string =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const v = src.view(tiles, { left: src.labelW, top: 0, clipHeight: 1, dpr: 1 });
  const L = src.labelW;
  const W = L + v.width + 4;
  const [a, b] = v.x.domain() as [number, number];
  const lanesTop = src.axis.height + src.findings.height;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${lanesTop + src.lanes.height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="${esc(v.theme.bg || '#fff')}"/>`,
  ];
  for (const t of src.axis.ticks(v)) {
    const x = L + v.x(t);
    const anchor = x > W - 40 ? 'end' : x < L + 20 ? 'start' : 'middle';
    parts.push(
      `<text x="${x.toFixed(1)}" y="14" text-anchor="${anchor}">${esc(src.fmt.tick(t))}</text>`,
    );
  }
  parts.push(`<text x="4" y="14">${esc(src.fmt.axisUnit())}</text>`);
  parts.push(`<text x="4" y="${lanesTop - 5}">Findings</text>`);
  const sev = { high: ViewState.preempted, medium: ViewState.waiting, low: ViewState.sleeping };
  for (const [i, f] of src.findings.list.entries()) {
    if (f.endNs < a || f.startNs > b) continue;
    const x0 = Math.max(0, v.x(f.startNs));
    const x1 = Math.min(v.width, v.x(f.endNs));
    parts.push(
      `<rect x="${(L + x0).toFixed(1)}" y="${src.axis.height + 3 + (i % 3) * 5}" width="${Math.max(3, x1 - x0).toFixed(1)}" height="4" fill="${esc(v.theme.states[sev[f.severity]] ?? '#888')}"><title>${esc(`[${f.severity}] ${f.kind}: ${f.message}`)}</title></rect>`,
    );
  }
  const coarseFirst = [...tiles].sort((p, q) => q.reply.resolutionNs - p.reply.resolutionNs);
  for (const r of src.lanes.rows) {
    const y = lanesTop + r.y;
    parts.push(`<text x="4" y="${y + r.h - 5}">${esc(label(r))}</text>`);
    if (r.kind !== 'lane') continue;
    for (const tile of coarseFirst)
      forEachRun(tile, r.lane.id, (s0, e0, st) => {
        if (st === NO_STATE || st === ViewState.idle || e0 < a || s0 > b) return;
        const x0 = Math.max(0, v.x(s0));
        const x1 = Math.min(v.width, v.x(e0));
        const quiet =
          st === ViewState.sleeping || st === ViewState.exited || st === ViewState.blocked;
        const h = r.h - 4;
        parts.push(
          `<rect x="${(L + x0).toFixed(1)}" y="${(y + 2 + (quiet ? h / 3 : 0)).toFixed(1)}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${(quiet ? h / 3 : h).toFixed(1)}" fill="${esc(v.theme.states[st] ?? '#888')}"><title>${esc(VIEW_STATE_NAMES[st] ?? '')}</title></rect>`,
        );
      });
  }
  parts.push('</svg>');
  return parts.join('\n');
}
