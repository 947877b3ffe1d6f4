// The what-if in the side panel (issue #24): predicted wall time per thread count on a log scale,
// one line per wait policy with its range as a band, the traced, chosen and pvsched configurations
// marked, then the same marks in words. Built with DOM calls (every label set as text, never as
// HTML); colours come from CSS variables so light, dark and high-contrast themes each get theirs.

import { formatDuration } from '../src/core/model/time';
import type { WhatIfChart } from '../src/protocol/webview';
import { elementMaker } from './element';

const SVG = 'http://www.w3.org/2000/svg';
type Policy = WhatIfChart['series'][number]['policy'];

/** How the panel names a wait policy (the OpenMP setting in brackets). */
export const POLICY_LABEL: Record<Policy, string> = {
  spin: 'spin (active)',
  block: 'block (passive)',
  'spin-then-block': 'spin, then block',
};

const W = 316;
const H = 190;
const M = { l: 54, r: 10, t: 10, b: 30 };

/** A speedup as people read it: 400x, 4.2x. */
const times = (v: number): string => `${v.toFixed(v >= 10 ? 0 : 1)}x`;

/** The what-if section (heading, chart, legend, marks in words) for the side panel. */
export function whatIfSection(doc: Document, c: WhatIfChart): HTMLElement {
  const el = elementMaker(doc);
  const box = el('section', 'vl-whatif-panel');
  box.append(el('h2', undefined, 'What-if: threads × wait policy'));
  box.append(
    el(
      'p',
      'vl-help',
      'Predicted wall time of the whole run (log scale); bands: what the traces allow.',
    ),
  );
  box.append(chartSvg(doc, c));
  const legend = el('div', 'vl-legend');
  for (const s of c.series) {
    const item = el('span');
    const sw = el('span', 'vl-whatif-key');
    sw.dataset['policy'] = s.policy;
    item.append(sw, doc.createTextNode(POLICY_LABEL[s.policy]));
    legend.append(item);
  }
  box.append(legend);
  const at = (p: {
    threads: number;
    policy: Policy;
  }): { wall: number; low: number; high: number } => {
    const s = c.series.find((x) => x.policy === p.policy)!;
    const k = c.threads.indexOf(p.threads);
    return { wall: s.wallNs[k]!, low: s.lowNs[k]!, high: s.highNs[k]! };
  };
  const conf = (p: { threads: number; policy: Policy }): string => {
    const v = at(p);
    return `${p.threads} thread${p.threads === 1 ? '' : 's'}, ${POLICY_LABEL[p.policy]}: ${formatDuration(v.wall)} (${formatDuration(v.low)}–${formatDuration(v.high)})`;
  };
  const ul = el('ul', 'vl-whatif-marks');
  const line = (mark: string, text: string): void => {
    const li = el('li', undefined, text);
    li.dataset['mark'] = mark;
    ul.append(li);
  };
  line(
    'chosen',
    `○ chosen: ${conf(c.chosen)}; predicted ${times(c.speedup.value)} (${times(c.speedup.low)}–${times(c.speedup.high)})`,
  );
  line('traced', `□ traced: ${conf(c.measured)}; measured ${formatDuration(c.measured.wallNs)}`);
  line('pvsched', `△ pvsched rule: ${conf(c.pvsched)}`);
  box.append(ul);
  return box;
}

function chartSvg(doc: Document, c: WhatIfChart): SVGSVGElement {
  const svg = doc.createElementNS(SVG, 'svg');
  const node = <K extends keyof SVGElementTagNameMap>(
    tag: K,
    attrs: Record<string, string | number>,
    parent: Element = svg,
  ): SVGElementTagNameMap[K] => {
    const e = doc.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    parent.append(e);
    return e;
  };
  const text = (x: number, y: number, s: string, cls: string, anchor = 'start'): void => {
    node('text', { x: f(x), y: f(y), 'text-anchor': anchor, class: cls }).textContent = s;
  };
  svg.setAttribute('class', 'vl-whatif-svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('width', String(W));
  svg.setAttribute('height', String(H));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'predicted wall time per thread count, one line per wait policy');
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const pos = c.series
    .flatMap((s) => [...s.lowNs, ...s.highNs, ...s.wallNs])
    .concat(c.measured.wallNs)
    .filter((v) => v > 0 && Number.isFinite(v));
  const y0 = Math.floor(Math.log10(pos.length > 0 ? Math.min(...pos) : 1));
  const y1 = Math.max(y0 + 1, Math.ceil(Math.log10(pos.length > 0 ? Math.max(...pos) : 10)));
  const Y = (v: number): number =>
    M.t + ph - ((Math.log10(Math.max(v, 10 ** y0)) - y0) / (y1 - y0)) * ph;
  const n = c.threads.length;
  const X = (t: number): number => M.l + (n <= 1 ? pw / 2 : (c.threads.indexOf(t) / (n - 1)) * pw);
  // Decades on y (every other one when there are many), thread counts on x.
  const step = y1 - y0 > 6 ? 2 : 1;
  for (let d = y0; d <= y1; d += step) {
    const y = Y(10 ** d);
    node('line', { x1: M.l, x2: M.l + pw, y1: f(y), y2: f(y), class: 'vl-whatif-grid' });
    text(M.l - 4, y + 4, formatDuration(10 ** d), 'vl-whatif-tick', 'end');
  }
  for (const t of c.threads) text(X(t), M.t + ph + 13, String(t), 'vl-whatif-tick', 'middle');
  text(M.l + pw / 2, H - 3, 'threads (OMP_NUM_THREADS)', 'vl-whatif-tick', 'middle');
  for (const s of c.series) {
    const g = node('g', { class: 'vl-whatif-series', 'data-policy': s.policy });
    const band = [
      ...c.threads.map((t, k) => `${f(X(t))},${f(Y(s.highNs[k]!))}`),
      ...c.threads.map((t, k) => `${f(X(t))},${f(Y(s.lowNs[k]!))}`).reverse(),
    ].join(' ');
    node('polygon', { points: band, class: 'vl-whatif-band' }, g);
    const pts = c.threads.map((t, k) => `${f(X(t))},${f(Y(s.wallNs[k]!))}`).join(' ');
    node('polyline', { points: pts, class: 'vl-whatif-line' }, g);
    c.threads.forEach((t, k) => {
      const dot = node(
        'circle',
        { cx: f(X(t)), cy: f(Y(s.wallNs[k]!)), r: 2.5, class: 'vl-whatif-dot' },
        g,
      );
      node('title', {}, dot).textContent =
        `${t} threads, ${POLICY_LABEL[s.policy]}: ${formatDuration(s.wallNs[k]!)} (${formatDuration(s.lowNs[k]!)}–${formatDuration(s.highNs[k]!)})`;
    });
  }
  const wallOf = (p: { threads: number; policy: Policy }): number =>
    c.series.find((x) => x.policy === p.policy)!.wallNs[c.threads.indexOf(p.threads)]!;
  const mark = (
    kind: 'traced' | 'chosen' | 'pvsched',
    p: { threads: number; policy: Policy },
    v: number,
    label: string,
  ): void => {
    const x = X(p.threads);
    const y = Y(v);
    const attrs = {
      class: 'vl-whatif-mark',
      'data-mark': kind,
      'data-threads': p.threads,
      'data-policy': p.policy,
    };
    const e =
      kind === 'traced'
        ? node('rect', { ...attrs, x: f(x - 5), y: f(y - 5), width: 10, height: 10 })
        : kind === 'chosen'
          ? node('circle', { ...attrs, cx: f(x), cy: f(y), r: 7 })
          : node('path', { ...attrs, d: `M ${f(x)} ${f(y - 8)} l 7 12 l -14 0 z` });
    node('title', {}, e).textContent = label;
    // Label left of marks in the right half so it stays inside the plot.
    const right = x > M.l + pw / 2;
    const dy = kind === 'traced' ? -8 : kind === 'chosen' ? 16 : -12;
    text(x + (right ? -9 : 9), y + dy, label, 'vl-whatif-label', right ? 'end' : 'start');
  };
  mark('traced', c.measured, c.measured.wallNs, `traced ${formatDuration(c.measured.wallNs)}`);
  mark('pvsched', c.pvsched, wallOf(c.pvsched), 'pvsched');
  mark('chosen', c.chosen, wallOf(c.chosen), `chosen ${times(c.speedup.value)}`);
  return svg;
}

const f = (v: number): string => v.toFixed(1);
