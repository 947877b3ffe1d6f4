// The what-if as a chart: its data for the webview's advice panel (view/wire.ts WhatIfChart) and
// the same chart as standalone SVG text for the HTML report, built here without a DOM: predicted
// wall time per thread count on a log scale, one line per wait policy with its range as a band,
// the traced configuration, the chosen one and the pvsched rule's marked.

import { formatDuration } from '../model/time';
import type { WaitPolicy } from '../sim/engine';
import type { WhatIfChart } from '../view/wire';
import { WAIT_POLICIES, type WhatIf } from './engine';

export function whatIfChart(w: WhatIf): WhatIfChart {
  const threads = [...new Set(w.candidates.map((c) => c.threads))].sort((a, b) => a - b);
  const at = (t: number, p: WaitPolicy) =>
    w.candidates.find((c) => c.threads === t && c.policy === p)!;
  return {
    threads,
    series: WAIT_POLICIES.map((policy) => ({
      policy,
      wallNs: threads.map((t) => at(t, policy).predictedWallNs),
      lowNs: threads.map((t) => at(t, policy).low),
      highNs: threads.map((t) => at(t, policy).high),
    })),
    measured: {
      threads: w.measured.threads,
      policy: w.measured.policy,
      wallNs: w.measured.measuredWallNs,
    },
    chosen: { threads: w.chosen.threads, policy: w.chosen.policy },
    pvsched: { threads: w.pvsched.threads, policy: w.pvsched.policy },
    speedup: { ...w.predictedSpeedup },
  };
}

const COLORS: Record<WaitPolicy, string> = {
  spin: '#d62728',
  block: '#1f77b4',
  'spin-then-block': '#2ca02c',
};
const LABEL: Record<WaitPolicy, string> = {
  spin: 'spin (active)',
  block: 'block (passive)',
  'spin-then-block': 'spin, then block',
};

function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** The chart as an `<svg>` element's text (every label escaped; no script, no external reference). */
export function whatIfSvg(c: WhatIfChart, width = 560, height = 300): string {
  const m = { l: 70, r: 150, t: 24, b: 40 };
  const pw = width - m.l - m.r;
  const ph = height - m.t - m.b;
  const all = c.series
    .flatMap((s) => [...s.lowNs, ...s.highNs, ...s.wallNs])
    .concat(c.measured.wallNs);
  const pos = all.filter((v) => v > 0);
  const lo = Math.log10(Math.min(...pos));
  const hi = Math.log10(Math.max(...pos));
  const y0 = Math.floor(lo);
  const y1 = Math.max(y0 + 1, Math.ceil(hi));
  const Y = (v: number): number =>
    m.t + ph - ((Math.log10(Math.max(v, 10 ** y0)) - y0) / (y1 - y0)) * ph;
  const n = c.threads.length;
  const X = (t: number): number => m.l + (n <= 1 ? pw / 2 : (c.threads.indexOf(t) / (n - 1)) * pw);
  const f = (v: number): string => v.toFixed(1);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="vl-whatif-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="predicted wall time per thread count and wait policy">`,
  );
  // Axes: decades on y, thread counts on x.
  for (let d = y0; d <= y1; d++) {
    const y = Y(10 ** d);
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${f(y)}" y2="${f(y)}" stroke="#8884" />`);
    out.push(
      `<text x="${m.l - 6}" y="${f(y + 4)}" text-anchor="end" font-size="11" fill="currentColor">${esc(formatDuration(10 ** d))}</text>`,
    );
  }
  for (const t of c.threads)
    out.push(
      `<text x="${f(X(t))}" y="${m.t + ph + 16}" text-anchor="middle" font-size="11" fill="currentColor">${t}</text>`,
    );
  out.push(
    `<text x="${m.l + pw / 2}" y="${height - 6}" text-anchor="middle" font-size="11" fill="currentColor">threads (OMP_NUM_THREADS)</text>`,
  );
  c.series.forEach((s, i) => {
    const col = COLORS[s.policy];
    const band = [
      ...c.threads.map((t, k) => `${f(X(t))},${f(Y(s.highNs[k]!))}`),
      ...c.threads.map((t, k) => `${f(X(t))},${f(Y(s.lowNs[k]!))}`).reverse(),
    ].join(' ');
    out.push(`<polygon points="${band}" fill="${col}" fill-opacity="0.08" stroke="none" />`);
    const line = c.threads.map((t, k) => `${f(X(t))},${f(Y(s.wallNs[k]!))}`).join(' ');
    out.push(`<polyline points="${line}" fill="none" stroke="${col}" stroke-width="2" />`);
    c.threads.forEach((t, k) =>
      out.push(
        `<circle cx="${f(X(t))}" cy="${f(Y(s.wallNs[k]!))}" r="3" fill="${col}"><title>${esc(`${t} threads, ${LABEL[s.policy]}: ${formatDuration(s.wallNs[k]!)} (${formatDuration(s.lowNs[k]!)}-${formatDuration(s.highNs[k]!)})`)}</title></circle>`,
      ),
    );
    const ly = m.t + 14 + i * 16;
    out.push(
      `<line x1="${m.l + pw + 12}" x2="${m.l + pw + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${col}" stroke-width="2" />`,
    );
    out.push(
      `<text x="${m.l + pw + 34}" y="${ly}" font-size="11" fill="currentColor">${esc(LABEL[s.policy])}</text>`,
    );
  });
  const mark = (t: number, v: number, shape: string, label: string, dy: number): void => {
    const x = X(t);
    const y = Y(v);
    out.push(shape.replace('X', f(x)).replace('Y', f(y)));
    out.push(
      `<text x="${f(x + 8)}" y="${f(y + dy)}" font-size="11" fill="currentColor">${esc(label)}</text>`,
    );
  };
  const wallOf = (p: { threads: number; policy: WaitPolicy }): number => {
    const s = c.series.find((x) => x.policy === p.policy)!;
    return s.wallNs[c.threads.indexOf(p.threads)]!;
  };
  mark(
    c.measured.threads,
    c.measured.wallNs,
    '<rect x="X" y="Y" width="8" height="8" transform="translate(-4,-4)" fill="none" stroke="currentColor" stroke-width="2" />',
    `traced: ${formatDuration(c.measured.wallNs)}`,
    -6,
  );
  mark(
    c.chosen.threads,
    wallOf(c.chosen),
    '<circle cx="X" cy="Y" r="7" fill="none" stroke="currentColor" stroke-width="2" />',
    `chosen (${c.speedup.value.toFixed(c.speedup.value >= 10 ? 0 : 1)}x)`,
    14,
  );
  mark(
    c.pvsched.threads,
    wallOf(c.pvsched),
    '<path d="M X Y m -6 6 l 6 -12 l 6 12 z" fill="none" stroke="currentColor" stroke-width="1.5" />',
    'pvsched rule',
    16,
  );
  out.push(
    `<text x="${m.l}" y="14" font-size="12" fill="currentColor">predicted wall time (log scale); bands: what the traces allow</text>`,
  );
  out.push('</svg>');
  return out.join('\n');
}
