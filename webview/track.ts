// The one interface every kind of timeline track implements (state lanes, stall links, findings,
// the DoP chart, the axis): a height, a canvas render for a view, and a hit test. The screen and
// the PNG export draw the same tracks, so what the export shows is what the page shows.

import type * as d3 from 'd3';
import type { FindingMeta, LaneGroup, LaneMeta } from '../src/protocol/webview';
import type { Tile } from './tiles';

/** The colours of the current theme, read from the CSS variables. */
export interface Theme {
  /** Per view state: a CSS colour ('' or 'transparent': not drawn). */
  states: string[];
  /** The same as canvas pixels (RGBA bytes in a little-endian u32; 0 = not drawn). */
  rgba: Uint32Array;
  highlight: string;
  fg: string;
  muted: string;
  border: string;
  bg: string;
}

/** The selected interval: what a click or a reveal picked. */
export interface Picked {
  lane: string;
  start: number;
  end: number;
}

/** What one frame draws: the scale, the place on the canvas, the data and the marks. */
export interface View {
  /** Model time → css px from the plot's left edge. */
  x: d3.ScaleLinear<number, number>;
  /** The plot's width, css px. */
  width: number;
  /** Where the plot's x = 0 and the track's y = 0 are on the canvas, css px. */
  left: number;
  top: number;
  /** The canvas's visible height, css px: a track draws only what falls in [0, clipHeight). */
  clipHeight: number;
  dpr: number;
  theme: Theme;
  tiles: readonly Tile[];
  picked: Picked | undefined;
  highlight: { machine: 'host' | 'guest'; pid: number } | undefined;
}

/** What is under the pointer. */
export type Hit =
  | { kind: 'lane'; lane: LaneMeta; tNs: number }
  | { kind: 'group'; group: LaneGroup }
  | { kind: 'finding'; finding: FindingMeta }
  | { kind: 'text'; text: string };

export interface Track {
  /** Css px. */
  readonly height: number;
  render(ctx: CanvasRenderingContext2D, view: View): void;
  /** x from the plot's left edge, y from the track's top, css px; uses the last rendered view. */
  hit(x: number, y: number): Hit | undefined;
}
