// The simulator dashboard in VS Code: the form (preset, policies, DoP, seed with its meaning,
// sweep), then the results core draws (core/report/sim-dashboard.ts: the five runs as a bar chart
// with the talk's marks, the sweep as a line chart, the ratios), a timeline button per run and
// the advice of the run opened. The extension host runs nothing here: it asks the language server.

import {
  adviceLines,
  DASHBOARD_CSS,
  DashboardFromWebview,
  DashboardToWebview,
  dashboardResults,
  RUN_MEANING,
  SEED_MEANING,
  SimDashboardData,
  SimDashboardForm,
} from '../../src/core/report/sim-dashboard';
import { PRESETS } from '../../src/core/sim/presets';
import { parseSweep, SWEEP_PARAMS } from '../../src/core/sim/sweep';
import { build } from './dom';
import { treeMaker } from '../element';

const api = acquireVsCodeApi();
const post = (m: DashboardFromWebview): void => api.postMessage(m);
const doc = document;

const el = treeMaker(doc);

// The styles come with the script (one nonce for both): the CSP allows no other style.
const nonce = (doc.currentScript as HTMLScriptElement | null)?.nonce ?? '';
const style = el('style');
style.nonce = nonce;
style.textContent = `${DASHBOARD_CSS}
form.vl-form { display: grid; grid-template-columns: max-content 1fr; gap: 6px 12px; align-items: center; margin: 8px 0 4px; }
form.vl-form label.vl-check { margin-right: 12px; }
form.vl-form .vl-hint { grid-column: 2; opacity: 0.75; font-size: 12px; margin-top: -4px; }
input, select, button { font: inherit; color: var(--vscode-input-foreground); background: var(--vscode-input-background); border: 1px solid var(--vscode-input-border, rgba(128,128,128,0.4)); padding: 2px 4px; }
button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 4px 10px; cursor: pointer; }
button:disabled { opacity: 0.5; cursor: default; }
button.vl-secondary { color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); padding: 1px 8px; }
.vl-status { margin: 6px 0; min-height: 1.3em; }
.vl-status.vl-error { color: var(--vscode-errorForeground, #c00); }
`;
doc.head.append(style);

const root = doc.getElementById('vl-dashboard')!;
const presetSel = el('select', { id: 'vl-preset', name: 'preset' });
for (const p of Object.values(PRESETS)) presetSel.append(el('option', { value: p.name }, p.name));
const presetHint = el('div', { class: 'vl-hint' });
const policyBoxes = (['spin', 'block', 'spin-then-block'] as const).map((p) => {
  const box = el('input', { type: 'checkbox', name: 'policy', value: p });
  return { p, box, label: el('label', { class: 'vl-check' }, box, ` ${p}`) };
});
const dopSel = el('select', { id: 'vl-dop', name: 'dop' });
for (const [v, what] of [
  ['fixed', 'fixed: all threads every region'],
  ['pvsched', 'pvsched: threads minus the preempted vCPUs (the talk’s fix)'],
  ['dynamic', 'dynamic: OMP_DYNAMIC (guest load average)'],
  ['oracle', 'oracle: the best fixed DoP in hindsight'],
])
  dopSel.append(el('option', { value: v! }, what!));
const seedIn = el('input', { id: 'vl-seed', name: 'seed', type: 'number', min: '0', step: '1' });
const sweepParam = el('select', { id: 'vl-sweep-param', name: 'sweep-param' });
sweepParam.append(el('option', { value: '' }, 'none'));
for (const s of SWEEP_PARAMS) sweepParam.append(el('option', { value: s }, s));
const sweepValues = el('input', {
  id: 'vl-sweep-values',
  name: 'sweep-values',
  placeholder: 'e.g. 2..6 or 2,4,8',
  size: '16',
});
const runBtn = el('button', { type: 'submit', id: 'vl-run' }, 'Simulate');
const status = el('div', { class: 'vl-status', role: 'status' });
const form = el(
  'form',
  { class: 'vl-form' },
  el('label', { for: 'vl-preset' }, 'preset'),
  presetSel,
  presetHint,
  el('span', {}, 'policies'),
  el('span', {}, ...policyBoxes.map((b) => b.label)),
  el('div', { class: 'vl-hint' }, 'your runs (with the co-runner) and the sweep’s lines'),
  el('label', { for: 'vl-dop' }, 'DoP'),
  dopSel,
  el('label', { for: 'vl-seed' }, 'seed'),
  seedIn,
  el('div', { class: 'vl-hint' }, SEED_MEANING),
  el('label', { for: 'vl-sweep-param' }, 'sweep'),
  el('span', {}, sweepParam, ' = ', sweepValues),
  el(
    'div',
    { class: 'vl-hint' },
    'one run per value and policy: wall time against pCPUs, threads, …',
  ),
  el('span'),
  el('span', {}, runBtn),
);
const results = el('div', { id: 'vl-results', class: 'vl-pickable' });
const advice = el('section', { class: 'vl-section', id: 'vl-run-advice' });
root.append(el('h1', {}, 'vCPU Lens simulator'), form, status, results, advice);

function setForm(f: SimDashboardForm): void {
  presetSel.value = f.preset;
  presetHint.textContent = PRESETS[f.preset]?.description ?? '';
  for (const b of policyBoxes) b.box.checked = f.policies.includes(b.p);
  dopSel.value = f.dop;
  seedIn.value = String(f.seed);
  const m = /^(\w+)=(.*)$/.exec(f.sweep);
  sweepParam.value = m?.[1] ?? '';
  sweepValues.value = m?.[2] ?? '';
}

/** The form's values, or what is wrong with them. */
function readForm(): SimDashboardForm | string {
  const seed = Number(seedIn.value);
  if (!/^\d+$/.test(seedIn.value.trim()) || !Number.isSafeInteger(seed))
    return 'the seed is a whole number';
  let sweep = '';
  if (sweepParam.value !== '') {
    sweep = `${sweepParam.value}=${sweepValues.value.trim()}`;
    const s = parseSweep(sweep);
    if ('error' in s) return `sweep: ${s.error}`;
  }
  return {
    preset: presetSel.value,
    policies: policyBoxes.filter((b) => b.box.checked).map((b) => b.p),
    dop: dopSel.value as SimDashboardForm['dop'],
    seed,
    sweep,
  };
}

function say(text: string, error = false): void {
  status.textContent = text;
  status.classList.toggle('vl-error', error);
}

presetSel.addEventListener('change', () => {
  presetHint.textContent = PRESETS[presetSel.value]?.description ?? '';
});
form.addEventListener('submit', (e) => {
  e.preventDefault();
  const f = readForm();
  if (typeof f === 'string') {
    say(f, true);
    return;
  }
  post({ kind: 'run', form: f });
});

const runLabel = (d: SimDashboardData, id: string): string =>
  d.own?.find((r) => r.id === id)?.label ?? id;

function show(d: SimDashboardData): void {
  results.replaceChildren(...dashboardResults(d).map((n) => build(doc, n)));
  // A timeline button per run; a click on a bar opens its run as well.
  for (const row of results.querySelectorAll<HTMLTableRowElement>('tr[data-run]')) {
    const run = row.dataset['run']!;
    const cell = row.querySelector('.vl-open');
    const b = el('button', { type: 'button', class: 'vl-secondary', 'data-open': run }, 'Timeline');
    b.title = `open the timeline of ${runLabel(d, run)}${run in RUN_MEANING ? ` (${RUN_MEANING[run as keyof typeof RUN_MEANING]})` : ''}`;
    b.addEventListener('click', () => open(run));
    cell?.replaceChildren(b);
  }
  for (const g of results.querySelectorAll<SVGGElement>('g.vl-run[data-run]'))
    g.addEventListener('click', () => open(g.dataset['run']!));
  doc.body.dataset['ready'] = '1';
}

function open(run: string): void {
  for (const g of results.querySelectorAll<SVGGElement>('g.vl-run'))
    g.classList.toggle('vl-picked', g.dataset['run'] === run);
  post({ kind: 'open', run });
}

window.addEventListener('message', (e: MessageEvent<DashboardToWebview>) => {
  const m = e.data;
  switch (m.kind) {
    case 'init':
      setForm(m.form);
      break;
    case 'busy':
      say(m.text);
      runBtn.disabled = true;
      break;
    case 'result':
      say('');
      runBtn.disabled = false;
      advice.replaceChildren();
      show(m.data);
      break;
    case 'advice':
      advice.replaceChildren(
        el('h2', {}, `Advice for ${m.run}`),
        m.advice === null
          ? el('p', {}, 'no advice: vCPU Lens found no program to advise in this run')
          : el('ul', {}, ...adviceLines(m.advice).map((l) => el('li', {}, l))),
      );
      break;
    case 'error':
      say(m.message, true);
      runBtn.disabled = false;
      break;
  }
});
post({ kind: 'ready' });
