// The timeline's axis and duration text (webview/format.ts, webview/tracks/axis.ts), drawn on a
// recording stand-in for the canvas: round labels through formatDuration ("4 s", never "4.000 s"),
// ticks with separators on counter clocks (never "24400.000M") with the hint how to get seconds,
// and no label past the plot's right edge (the PNG export cut the last one). Here, not in unit/, because
// webview code needs the DOM types of this folder's tsconfig; it needs no browser.

import * as d3 from 'd3';
import { describe, expect, it } from 'vitest';
import type { TimelineMeta } from '../../src/protocol/webview';
import { Format } from '../../webview/format';
import type { View } from '../../webview/track';
import { AxisTrack } from '../../webview/tracks/axis';

function meta(unit: 'ns' | 'count', spanNs: number): TimelineMeta {
  return {
    protocol: 1,
    title: 't',
    unit,
    spanNs,
    hostOriginAbs: '0',
    lanes: [],
    findings: [],
    summary: [],
  };
}

/** Draws the axis for [a, b] over `width` px and returns its labels with where they start and end. */
function labels(m: TimelineMeta, a: number, b: number, width: number) {
  const out: { text: string; x0: number; x1: number }[] = [];
  const charW = 6;
  const ctx = new Proxy(
    {
      fillText: (text: string, x: number) => out.push({ text, x0: x, x1: x + text.length * charW }),
      measureText: (text: string) => ({ width: text.length * charW }),
    } as Record<string, unknown>,
    { get: (t, k) => (k in t ? t[k as string] : () => undefined), set: () => true },
  ) as unknown as CanvasRenderingContext2D;
  const left = 220;
  const view: View = {
    x: d3.scaleLinear().domain([a, b]).range([0, width]),
    width,
    left,
    top: 0,
    clipHeight: 26,
    dpr: 1,
    theme: {
      states: [],
      rgba: new Uint32Array(256),
      highlight: '',
      fg: '',
      muted: '',
      border: '',
      bg: '',
    },
    tiles: [],
    picked: undefined,
    highlight: undefined,
  };
  new AxisTrack(new Format(m)).render(ctx, view);
  // The last label is the unit, at the left in the label column.
  return { unit: out[out.length - 1]!, ticks: out.slice(0, -1), left, width };
}

describe('timeline axis', () => {
  it('labels ns ticks with formatDuration: "4 s", not "4.000 s"', () => {
    const { ticks, unit } = labels(meta('ns', 17.4e9), 0, 17.4e9, 840);
    expect(ticks.map((t) => t.text)).toContain('4 s');
    expect(ticks.map((t) => t.text)).toContain('0');
    for (const t of ticks) expect(t.text).not.toMatch(/\.0+ |\.\d*0 /);
    expect(unit.text).toBe('time from start');
  });

  it('labels sub-second ticks in ms and µs', () => {
    expect(labels(meta('ns', 1e9), 0, 250e6, 840).ticks.map((t) => t.text)).toContain('100 ms');
    expect(labels(meta('ns', 1e9), 1e6, 1.5e6, 840).ticks.map((t) => t.text)).toContain('1.2 ms');
    expect(labels(meta('ns', 1e9), 0, 400e3, 840).ticks.map((t) => t.text)).toContain('200 µs');
  });

  it('labels counter ticks with separators and says how to get seconds', () => {
    const m = meta('count', 48_764_021_365);
    const { ticks, unit } = labels(m, 0, 48_764_021_365, 840);
    expect(ticks.map((t) => t.text)).toContain('20,000,000,000');
    for (const t of ticks) expect(t.text).toMatch(/^[\d,]+$/);
    expect(unit.text).toBe('TSC ticks from start');
    expect(new Format(m).unitHint()).toMatch(/vcpuLens\.tscHz.*--tsc-hz/);
    expect(new Format(meta('ns', 1)).unitHint()).toBeUndefined();
  });

  it('keeps every label inside the plot, the last one too', () => {
    for (const [a, b] of [
      [0, 17.4e9],
      [0, 4e9],
      [3.9e9, 4.0001e9],
    ] as const) {
      const { ticks, left, width } = labels(meta('ns', 17.4e9), a, b, 500);
      expect(ticks.length).toBeGreaterThan(1);
      for (const t of ticks) {
        expect(t.x0, t.text).toBeGreaterThanOrEqual(left);
        expect(t.x1, t.text).toBeLessThanOrEqual(left + width);
      }
    }
  });

  it('prints durations the engine way', () => {
    const f = new Format(meta('ns', 1));
    expect(f.dur(4.224e6)).toBe('4.224 ms');
    expect(f.dur(31_401.6e6)).toBe('31.4 s');
    expect(new Format(meta('count', 1)).dur(13_997_267)).toBe('13,997,267 ticks');
  });
});
