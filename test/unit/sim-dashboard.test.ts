// The simulator dashboard's tree (core/report/sim-dashboard.ts, vnode.ts): bars as tall as the runs'
// times on one scale, the talk's marks where the talk puts them, a sweep's lines with gaps where a
// value could not run, and every string escaped in the HTML.

import { describe, expect, it } from 'vitest';
import {
  compareBarChart,
  compareRatios,
  DashboardRun,
  renderSimDashboardHtml,
  sweepLineChart,
  talkMarks,
  TALK_SECONDS,
} from '../../src/core/report/sim-dashboard';
import { h, toHtml, VNode } from '../../src/core/report/vnode';

const RUNS: DashboardRun[] = [
  { name: 'spin-ideal', wallS: 1 },
  { name: 'block-ideal', wallS: 2 },
  { name: 'spin-preempted', wallS: 3 },
  { name: 'block-preempted', wallS: 2.5 },
  { name: 'spin-pvdop', wallS: 1.5 },
];

function all(n: VNode, pred: (v: VNode) => boolean, out: VNode[] = []): VNode[] {
  if (pred(n)) out.push(n);
  for (const c of n.children ?? []) if (typeof c !== 'string') all(c, pred, out);
  return out;
}
const cls = (c: string) => (v: VNode) =>
  String(v.attrs?.['class'] ?? '')
    .split(' ')
    .includes(c);
const text = (n: VNode): string =>
  (n.children ?? []).map((c) => (typeof c === 'string' ? c : text(c))).join('');

describe('simulator dashboard', () => {
  it('draws each run as a bar as tall as its time, on one scale from zero', () => {
    const svg = compareBarChart('small', RUNS);
    const bars = all(svg, cls('vl-bar'));
    expect(bars).toHaveLength(5);
    const hs = bars.map((b) => Number(b.attrs!['height']));
    const base = Number(bars[0]!.attrs!['y']) + hs[0]!;
    for (let i = 0; i < 5; i++) {
      expect(hs[i]! / hs[0]!).toBeCloseTo(RUNS[i]!.wallS / RUNS[0]!.wallS, 6);
      expect(Number(bars[i]!.attrs!['y']) + hs[i]!).toBeCloseTo(base, 6);
    }
    expect(all(svg, cls('vl-run-name')).map(text)).toEqual(RUNS.map((r) => r.name));
    expect(all(svg, cls('vl-value')).map(text)).toEqual(['1 s', '2 s', '3 s', '2.5 s', '1.5 s']);
  });

  it("marks the talk's seconds on the talk's preset and its ratios elsewhere", () => {
    const wall = Object.fromEntries(RUNS.map((r) => [r.name, r.wallS])) as Parameters<
      typeof talkMarks
    >[1];
    const own = talkMarks('npb-ua-b', wall);
    expect(own['spin-preempted']).toEqual({ atS: 19.95, label: 'talk 19.95 s' });
    const scaled = talkMarks('small', wall);
    expect(scaled['block-ideal'].atS).toBeCloseTo(17.43 / 9.68, 9);
    expect(scaled['block-ideal'].label).toBe('talk ×1.80');
    const ratios = compareRatios(wall);
    expect(ratios.map((r) => r.name)).toEqual([
      'block-ideal/spin-ideal',
      'spin-preempted/spin-ideal',
      'block-preempted/block-ideal',
      'spin-pvdop/spin-preempted',
    ]);
    expect(ratios[3]!.ours).toBeCloseTo(0.5, 9);
    expect(ratios[3]!.talk).toBeCloseTo(TALK_SECONDS['spin-pvdop'] / 19.95, 9);
    // The mark of a run sits at its value on the bars' scale.
    const svg = compareBarChart('npb-ua-b', RUNS);
    const bar = all(svg, cls('vl-bar'))[0]!;
    const mark = all(svg, cls('vl-talk-mark'))[0]!.children![0] as VNode;
    const y0 = Number(bar.attrs!['y']) + Number(bar.attrs!['height']);
    const perS = Number(bar.attrs!['height']) / RUNS[0]!.wallS;
    expect(y0 - Number(mark.attrs!['y1'])).toBeCloseTo(9.68 * perS, 6);
  });

  it('draws a sweep as one line per policy, broken where a value could not run', () => {
    const svg = sweepLineChart({
      param: 'pcpus',
      values: [2, 3, 4],
      lines: [
        { name: 'spin', wallS: [3, 2, 1] },
        { name: 'block', wallS: [2, null, 1.5] },
      ],
    });
    const lines = all(svg, cls('vl-sweep-line'));
    expect(lines.map((l) => l.attrs!['data-line'])).toEqual(['spin', 'block']);
    const d = (l: VNode): string => String((l.children![0] as VNode).attrs!['d']);
    expect(d(lines[0]!).match(/[ML]/g)).toEqual(['M', 'L', 'L']);
    expect(d(lines[1]!).match(/[ML]/g)).toEqual(['M', 'M']);
    expect(all(lines[1]!, (v) => v.tag === 'circle')).toHaveLength(2);
    expect(text(svg)).toContain('pCPUs');
  });

  it('escapes every string in the HTML and lets no script or handler in', () => {
    const evil = '<img src=x onerror=alert(1)>';
    const html = renderSimDashboardHtml(
      {
        preset: 'small',
        description: evil,
        params: [{ label: 'seed', value: evil }],
        runs: RUNS,
        advice: [evil],
      },
      'NONCE',
    );
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("script-src 'none'");
    expect(() => toHtml(h('div', { onclick: 'x' }))).toThrow(/attribute/);
    expect(() => toHtml(h('scr ipt'))).toThrow(/tag/);
  });
});
