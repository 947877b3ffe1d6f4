// The simulator dashboard drawn once for two places: the talk's five runs as a bar chart with the
// talk's numbers marked, a sweep as a line chart (wall time against pCPUs, threads, ... one line
// per policy), the ratios and the advice, as an element tree (vnode.ts) of HTML and SVG. The CLI
// writes it as `simulate --compare --out DIR`'s report.html (renderSimDashboardHtml); the VS Code
// dashboard webview builds the same tree into its DOM around its form.

import { scaleBand, scaleLinear } from 'd3-scale';
import { line } from 'd3-shape';
import { formatDuration } from '../model/time';
import { COMPARE_RUNS, CompareRun, PRESETS } from '../sim/presets';
import type { SweepParam } from '../sim/sweep';
import { h, toHtml, VNode } from './vnode';

/** The dashboard's form: what to simulate. */
export interface SimDashboardForm {
  preset: string;
  /** The wait policies of "your runs" and of the sweep's lines. */
  policies: ('spin' | 'block' | 'spin-then-block')[];
  dop: 'fixed' | 'dynamic' | 'pvsched' | 'oracle';
  seed: number;
  /** `NAME=FROM..TO[:STEP]` or `NAME=V1,V2,...` (sweep.ts), or '' for none. */
  sweep: string;
}

/** A run besides the five: one of the form's policies with its DoP, under host preemption. */
export interface OwnRun {
  /** `own:<policy>:<dop>`: what the dashboard asks the traces of. */
  id: string;
  label: string;
  wallS: number;
  /** With DoP oracle: the best fixed team size it ran with. */
  bestDop?: number;
}

/** The id of a run of the form's: `own:<policy>:<dop>`. */
export function ownRunId(policy: string, dop: string): string {
  return `own:${policy}:${dop}`;
}

/** Messages from the dashboard webview to the extension. */
export type DashboardFromWebview =
  | { kind: 'ready' }
  | { kind: 'run'; form: SimDashboardForm }
  /** Open the timeline of a run: a CompareRun name or an OwnRun id. */
  | { kind: 'open'; run: string };

/** Messages from the extension to the dashboard webview. */
export type DashboardToWebview =
  | { kind: 'init'; form: SimDashboardForm }
  | { kind: 'busy'; text: string }
  | { kind: 'result'; data: SimDashboardData }
  /** The advice of the run whose timeline opened (its analysis', as adviceLines reads it). */
  | { kind: 'advice'; run: string; advice: AdviceInput | null }
  | { kind: 'error'; message: string };

/** One of the five compared runs, as simulated. */
export interface DashboardRun {
  name: CompareRun;
  wallS: number;
}

/** A sweep: one line per policy (or run), a wall time per swept value (null: could not run). */
export interface DashboardSweep {
  param: SweepParam;
  values: number[];
  lines: { name: string; wallS: (number | null)[] }[];
}

/** What the dashboard shows: parameters, the five runs, an optional sweep, the advice. */
export interface SimDashboardData {
  preset: string;
  description: string;
  /** The parameters as the form had them (label, value, what it means). */
  params: { label: string; value: string; meaning?: string }[];
  /** The five runs, in COMPARE_RUNS order. */
  runs: DashboardRun[];
  /** The form's own runs (VS Code), listed with the five. */
  own?: OwnRun[];
  sweep?: DashboardSweep;
  /** The advice for a run (whose, in `adviceFor`), as lines of text. */
  advice?: string[];
  adviceFor?: string;
  /** Where each run's traces are (relative links in the HTML report). */
  links?: Partial<Record<CompareRun, string>>;
}

/** The talk's measured wall times (NPB UA class B, 36 vCPUs on 36 pCPUs), seconds. */
export const TALK_SECONDS: Record<CompareRun, number> = PRESETS['npb-ua-b']!.talk!;

/** What each run is, in words. */
export const RUN_MEANING: Record<CompareRun, string> = {
  'spin-ideal': 'spin, no host preemption',
  'block-ideal': 'block, no host preemption',
  'spin-preempted': 'spin, host preemption',
  'block-preempted': 'block, host preemption',
  'spin-pvdop': 'spin, DoP lowered by the preempted vCPUs',
};

/** What the seed means (the form and the report say it the same way). */
export const SEED_MEANING =
  "the random seed of the program's work imbalance and the co-runner's phases: the same seed gives the same run; other seeds show the spread";

/** The four ratios the talk quotes, ours and the talk's. */
export function compareRatios(
  wallS: Record<CompareRun, number>,
): { name: string; ours: number; talk: number }[] {
  const pairs: [CompareRun, CompareRun][] = [
    ['block-ideal', 'spin-ideal'],
    ['spin-preempted', 'spin-ideal'],
    ['block-preempted', 'block-ideal'],
    ['spin-pvdop', 'spin-preempted'],
  ];
  return pairs.map(([a, b]) => ({
    name: `${a}/${b}`,
    ours: wallS[a] / wallS[b],
    talk: TALK_SECONDS[a] / TALK_SECONDS[b],
  }));
}

/**
 * Where the talk puts each run: its seconds when the preset is the talk's, else our spin-ideal
 * scaled by the talk's ratio to its spin-ideal (so the shape compares on any machine size).
 */
export function talkMarks(
  preset: string,
  wallS: Record<CompareRun, number>,
): Record<CompareRun, { atS: number; label: string }> {
  const own = PRESETS[preset]?.talk;
  const out = {} as Record<CompareRun, { atS: number; label: string }>;
  for (const r of COMPARE_RUNS) {
    const ratio = TALK_SECONDS[r] / TALK_SECONDS['spin-ideal'];
    out[r] =
      own !== undefined
        ? { atS: own[r], label: `talk ${own[r].toFixed(2)} s` }
        : { atS: wallS['spin-ideal'] * ratio, label: `talk ×${ratio.toFixed(2)}` };
  }
  return out;
}

// Okabe-Ito: told apart with any colour vision; the same hue per policy in both charts.
const COLOURS: Record<string, string> = {
  spin: '#0072B2',
  block: '#E69F00',
  'spin-then-block': '#CC79A7',
  pvdop: '#009E73',
};
const SPARE = ['#56B4E9', '#D55E00', '#F0E442', '#000000'];

function runColour(name: string): string {
  if (name.endsWith('pvdop')) return COLOURS['pvdop']!;
  if (name.startsWith('spin-then-block')) return COLOURS['spin-then-block']!;
  if (name.startsWith('block')) return COLOURS['block']!;
  return COLOURS['spin']!;
}

const secs = (s: number): string => formatDuration(s * 1e9);

/** The five runs as bars, the talk's marks across them. */
export function compareBarChart(
  preset: string,
  runs: readonly DashboardRun[],
  width = 680,
  height = 320,
): VNode {
  const m = { top: 28, right: 16, bottom: 76, left: 60 };
  const wall = Object.fromEntries(runs.map((r) => [r.name, r.wallS])) as Record<CompareRun, number>;
  const marks = runs.length === COMPARE_RUNS.length ? talkMarks(preset, wall) : undefined;
  const top = Math.max(
    ...runs.map((r) => r.wallS),
    ...Object.values(marks ?? {}).map((k) => k.atS),
  );
  const x = scaleBand<string>()
    .domain(runs.map((r) => r.name))
    .range([m.left, width - m.right])
    .padding(0.28);
  const y = scaleLinear()
    .domain([0, top > 0 ? top * 1.08 : 1])
    .nice()
    .range([height - m.bottom, m.top]);
  const kids: VNode[] = [
    h('title', {}, [`${preset}: wall time of the five runs`]),
    ...y.ticks(5).flatMap((t) => [
      h('line', {
        class: 'vl-grid',
        x1: m.left,
        x2: width - m.right,
        y1: y(t),
        y2: y(t),
      }),
      h('text', { class: 'vl-tick', x: m.left - 6, y: y(t), 'text-anchor': 'end', dy: '0.32em' }, [
        t === 0 ? '0' : secs(t),
      ]),
    ]),
    h('text', { class: 'vl-axis-label', x: 14, y: m.top - 12 }, ['wall time']),
  ];
  for (const r of runs) {
    const x0 = x(r.name)!;
    const bw = x.bandwidth();
    const mark = marks?.[r.name];
    kids.push(
      h('g', { class: 'vl-run', 'data-run': r.name }, [
        h(
          'rect',
          {
            class: 'vl-bar',
            x: x0,
            y: y(r.wallS),
            width: bw,
            height: Math.max(0, y(0) - y(r.wallS)),
            fill: runColour(r.name),
          },
          [h('title', {}, [`${r.name} (${RUN_MEANING[r.name]}): ${secs(r.wallS)}`])],
        ),
        h(
          'text',
          { class: 'vl-value', x: x0 + bw / 2, y: y(r.wallS) - 5, 'text-anchor': 'middle' },
          [secs(r.wallS)],
        ),
        h(
          'text',
          {
            class: 'vl-run-name',
            x: x0 + bw / 2,
            y: height - m.bottom + 16,
            'text-anchor': 'middle',
          },
          [r.name],
        ),
        h(
          'text',
          {
            class: 'vl-run-meaning',
            x: x0 + bw / 2,
            y: height - m.bottom + 31,
            'text-anchor': 'middle',
          },
          [RUN_MEANING[r.name].replace(/,.*$/, '')],
        ),
        mark !== undefined &&
          h('g', { class: 'vl-talk-mark' }, [
            h('line', { x1: x0 - 4, x2: x0 + bw + 4, y1: y(mark.atS), y2: y(mark.atS) }),
            // Under the run's name, where it cannot run into the bar's value.
            h('text', { x: x0 + bw / 2, y: height - m.bottom + 45, 'text-anchor': 'middle' }, [
              mark.label,
            ]),
          ]),
      ]),
    );
  }
  kids.push(
    h('line', { class: 'vl-axis', x1: m.left, x2: width - m.right, y1: y(0), y2: y(0) }),
    h('g', { class: 'vl-legend', transform: `translate(${m.left},${height - 14})` }, [
      h('line', { class: 'vl-talk-key', x1: 0, x2: 18, y1: -4, y2: -4 }),
      h('text', { x: 24, y: 0 }, [
        PRESETS[preset]?.talk !== undefined
          ? "the talk's measured time"
          : "the talk's ratio to spin-ideal, applied to ours",
      ]),
    ]),
  );
  return h(
    'svg',
    {
      class: 'vl-chart vl-bar-chart',
      xmlns: 'http://www.w3.org/2000/svg',
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-label': `${preset}: ${runs.map((r) => `${r.name} ${secs(r.wallS)}`).join(', ')}`,
    },
    kids,
  );
}

const PARAM_NAMES: Record<SweepParam, string> = {
  pcpus: 'pCPUs',
  vcpus: 'vCPUs',
  threads: 'threads',
  hogs: 'co-runners',
  barriers: 'barriers',
  seed: 'seed',
};

/** A sweep: wall time against the swept value, one line (and its points) per policy. */
export function sweepLineChart(s: DashboardSweep, width = 680, height = 300): VNode {
  const m = { top: 28, right: 150, bottom: 44, left: 60 };
  const all = s.lines.flatMap((l) => l.wallS.filter((v): v is number => v !== null));
  const lo = Math.min(...s.values);
  const hi = Math.max(...s.values);
  const x = scaleLinear()
    .domain(lo === hi ? [lo - 1, hi + 1] : [lo, hi])
    .range([m.left, width - m.right]);
  const y = scaleLinear()
    .domain([0, all.length > 0 ? Math.max(...all) * 1.08 : 1])
    .nice()
    .range([height - m.bottom, m.top]);
  const xTicks = s.values.length <= 12 ? s.values : x.ticks(8).filter(Number.isInteger);
  const kids: VNode[] = [
    h('title', {}, [`wall time against ${PARAM_NAMES[s.param]}`]),
    ...y
      .ticks(5)
      .flatMap((t) => [
        h('line', { class: 'vl-grid', x1: m.left, x2: width - m.right, y1: y(t), y2: y(t) }),
        h(
          'text',
          { class: 'vl-tick', x: m.left - 6, y: y(t), 'text-anchor': 'end', dy: '0.32em' },
          [t === 0 ? '0' : secs(t)],
        ),
      ]),
    ...xTicks.map((v) =>
      h('text', { class: 'vl-tick', x: x(v), y: height - m.bottom + 16, 'text-anchor': 'middle' }, [
        String(v),
      ]),
    ),
    h('line', { class: 'vl-axis', x1: m.left, x2: width - m.right, y1: y(0), y2: y(0) }),
    h(
      'text',
      {
        class: 'vl-axis-label',
        x: (m.left + width - m.right) / 2,
        y: height - 8,
        'text-anchor': 'middle',
      },
      [PARAM_NAMES[s.param]],
    ),
    h('text', { class: 'vl-axis-label', x: 14, y: m.top - 12 }, ['wall time']),
  ];
  let spare = 0;
  s.lines.forEach((l, i) => {
    const colour =
      COLOURS[l.name] ??
      (l.name.includes('-') ? runColour(l.name) : SPARE[spare++ % SPARE.length]!);
    const pts = s.values.map((v, k) => [v, l.wallS[k] ?? null] as const);
    const path = line<readonly [number, number | null]>()
      .defined((p) => p[1] !== null)
      .x((p) => x(p[0]))
      .y((p) => y(p[1] ?? 0))(pts);
    kids.push(
      h('g', { class: 'vl-sweep-line', 'data-line': l.name }, [
        h('path', { d: path ?? '', fill: 'none', stroke: colour, 'stroke-width': 2 }),
        ...pts
          .filter((p) => p[1] !== null)
          .map((p) =>
            h('circle', { cx: x(p[0]), cy: y(p[1]!), r: 3, fill: colour }, [
              h('title', {}, [`${l.name}, ${PARAM_NAMES[s.param]} ${p[0]}: ${secs(p[1]!)}`]),
            ]),
          ),
        h('line', {
          x1: width - m.right + 12,
          x2: width - m.right + 30,
          y1: m.top + i * 18,
          y2: m.top + i * 18,
          stroke: colour,
          'stroke-width': 2,
        }),
        h('text', { x: width - m.right + 36, y: m.top + i * 18, dy: '0.32em' }, [l.name]),
      ]),
    );
  });
  return h(
    'svg',
    {
      class: 'vl-chart vl-line-chart',
      xmlns: 'http://www.w3.org/2000/svg',
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-label': `wall time against ${PARAM_NAMES[s.param]}, one line per ${s.lines.map((l) => l.name).join(', ')}`,
    },
    kids,
  );
}

/** The results part of the dashboard: runs and ratios, the charts, the sweep, the advice. */
export function dashboardResults(d: SimDashboardData): VNode[] {
  const wall = Object.fromEntries(d.runs.map((r) => [r.name, r.wallS])) as Record<
    CompareRun,
    number
  >;
  const complete = COMPARE_RUNS.every((r) => wall[r] !== undefined);
  const out: VNode[] = [
    h('section', { class: 'vl-section', id: 'vl-compare' }, [
      h('h2', {}, ['The five runs']),
      compareBarChart(d.preset, d.runs),
      h('table', { class: 'vl-runs' }, [
        h('thead', {}, [
          h('tr', {}, [
            h('th', {}, ['run']),
            h('th', {}, ['what']),
            h('th', {}, ['wall time']),
            h('th', {}, ['traces']),
          ]),
        ]),
        h('tbody', {}, [
          ...d.runs.map((r) =>
            h('tr', { 'data-run': r.name }, [
              h('td', {}, [r.name]),
              h('td', {}, [RUN_MEANING[r.name]]),
              h('td', { class: 'vl-num' }, [secs(r.wallS)]),
              h('td', { class: 'vl-open' }, [
                d.links?.[r.name] !== undefined
                  ? h('a', { href: d.links[r.name]! }, [d.links[r.name]!])
                  : '',
              ]),
            ]),
          ),
          ...(d.own ?? []).map((r) =>
            h('tr', { 'data-run': r.id, class: 'vl-own' }, [
              h('td', {}, [r.label]),
              h('td', {}, [
                `your run, with the co-runner${r.bestDop !== undefined ? ` (best fixed DoP ${r.bestDop})` : ''}`,
              ]),
              h('td', { class: 'vl-num' }, [secs(r.wallS)]),
              h('td', { class: 'vl-open' }, ['']),
            ]),
          ),
        ]),
      ]),
      complete &&
        h('table', { class: 'vl-ratios' }, [
          h('thead', {}, [
            h('tr', {}, [h('th', {}, ['ratio']), h('th', {}, ['ours']), h('th', {}, ['talk'])]),
          ]),
          h(
            'tbody',
            {},
            compareRatios(wall).map((r) =>
              h('tr', {}, [
                h('td', {}, [r.name]),
                h('td', { class: 'vl-num' }, [r.ours.toFixed(2)]),
                h('td', { class: 'vl-num' }, [r.talk.toFixed(2)]),
              ]),
            ),
          ),
        ]),
    ]),
  ];
  if (d.sweep !== undefined)
    out.push(
      h('section', { class: 'vl-section', id: 'vl-sweep' }, [
        h('h2', {}, [`Sweep: ${PARAM_NAMES[d.sweep.param]} ${d.sweep.values.join(', ')}`]),
        sweepLineChart(d.sweep),
      ]),
    );
  if (d.advice !== undefined)
    out.push(
      h('section', { class: 'vl-section', id: 'vl-advice' }, [
        h('h2', {}, [`Advice${d.adviceFor !== undefined ? ` for ${d.adviceFor}` : ''}`]),
        h(
          'ul',
          {},
          d.advice.map((l) => h('li', {}, [l])),
        ),
      ]),
    );
  return out;
}

/** The parameters as a read-only list (the HTML report; the webview has its form instead). */
export function dashboardParams(d: SimDashboardData): VNode {
  return h(
    'dl',
    { class: 'vl-params' },
    d.params.flatMap((p) => [
      h('dt', {}, [p.label]),
      h('dd', {}, [
        p.value,
        p.meaning !== undefined ? h('span', { class: 'vl-meaning' }, [` (${p.meaning})`]) : '',
      ]),
    ]),
  );
}

/** Dashboard styles: VS Code's theme variables with fallbacks for a plain browser. */
export const DASHBOARD_CSS = `
body { font-family: var(--vscode-font-family, system-ui, sans-serif); font-size: 13px;
  color: var(--vscode-foreground, #1f1f1f); background: var(--vscode-editor-background, #fff); margin: 0; }
main { padding: 12px 20px; max-width: 980px; }
h1 { font-size: 18px; margin: 4px 0 2px; } h2 { font-size: 15px; margin: 18px 0 6px; }
.vl-description { opacity: 0.8; margin: 0 0 10px; }
.vl-chart { max-width: 100%; height: auto; display: block; }
.vl-chart text { fill: currentColor; font-size: 11px; }
.vl-chart .vl-run-name { font-weight: 600; }
.vl-chart .vl-run-meaning, .vl-chart .vl-tick { opacity: 0.75; }
.vl-grid { stroke: currentColor; stroke-opacity: 0.12; }
.vl-axis { stroke: currentColor; stroke-opacity: 0.6; }
.vl-talk-mark line, .vl-talk-key { stroke: currentColor; stroke-width: 2; stroke-dasharray: 4 3; }
.vl-talk-mark text { font-size: 10px; }
.vl-run { cursor: default; } .vl-pickable .vl-run, .vl-pickable tr[data-run] { cursor: pointer; }
.vl-run.vl-picked .vl-bar { stroke: currentColor; stroke-width: 2; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid rgba(128,128,128,0.25); }
.vl-num { text-align: right; font-variant-numeric: tabular-nums; }
.vl-params { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0; }
.vl-params dt { font-weight: 600; } .vl-params dd { margin: 0; }
.vl-meaning { opacity: 0.75; }
a { color: var(--vscode-textLink-foreground, #0b62c4); }
`;

/** The dashboard as a standalone page: inline SVG and CSS, no script, a CSP that loads nothing. */
export function renderSimDashboardHtml(d: SimDashboardData, nonce: string): string {
  const csp = [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    'img-src data:',
    "connect-src 'none'",
    "script-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const body = h('main', {}, [
    h('h1', {}, [`vCPU Lens simulator: ${d.preset}`]),
    h('p', { class: 'vl-description' }, [d.description]),
    dashboardParams(d),
    ...dashboardResults(d),
  ]);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vCPU Lens simulator: ${toHtml(d.preset)}</title>
<style nonce="${nonce}">${DASHBOARD_CSS}</style>
</head>
<body>
${toHtml(body)}
</body>
</html>
`;
}

/** What adviceLines reads of an advice (core's Advice, or the analyze JSON's). */
export interface AdviceInput {
  threads: number;
  dop: number;
  waitPolicy: string;
  spinCount?: number;
  predictedSpeedup: number;
  reasoning: readonly string[];
}

/** The advice of an analysis as lines of text. */
export function adviceLines(a: AdviceInput): string[] {
  return [
    `threads: ${a.threads} → ${a.dop} (OMP_NUM_THREADS), wait policy ${a.waitPolicy}${a.spinCount !== undefined ? ` (GOMP_SPINCOUNT=${a.spinCount})` : ''}`,
    `predicted: ${a.predictedSpeedup.toFixed(2)}× faster`,
    ...a.reasoning,
  ];
}
