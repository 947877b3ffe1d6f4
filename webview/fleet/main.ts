// The runs table of "Analyze Folder of Traces…": one row per host + guest pair (core/view/
// fleet-table.ts makes its cells and sorts it), a heading click sorts by that column, a row's
// click (or Enter) opens that pair's timeline. All trace-derived text goes in as text.

import {
  FLEET_COLUMNS,
  fleetCells,
  sortFleetRows,
  type FleetColumn,
  type FleetFromWebview,
  type FleetRow,
  type FleetToWebview,
} from '../../src/core/view/fleet-table';
import { treeMaker } from '../element';

interface Sort {
  by: FleetColumn;
  dir: 'asc' | 'desc';
}

const api = acquireVsCodeApi();
const post = (m: FleetFromWebview): void => api.postMessage(m);
const doc = document;

const el = treeMaker(doc);

// The styles come with the script (one nonce for both): the CSP allows no other style.
const style = el('style');
style.nonce = (doc.currentScript as HTMLScriptElement | null)?.nonce ?? '';
style.textContent = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--vscode-panel-border, rgba(128,128,128,0.3)); white-space: nowrap; }
td.vl-num, th.vl-num { text-align: right; font-variant-numeric: tabular-nums; }
th button { font: inherit; font-weight: 600; color: inherit; background: none; border: none; padding: 0; cursor: pointer; }
tbody tr.vl-ok { cursor: pointer; }
tbody tr.vl-ok:hover, tbody tr.vl-ok:focus { background: var(--vscode-list-hoverBackground); outline: none; }
tr.vl-failed td { color: var(--vscode-errorForeground, #c00); }
td.vl-reason { white-space: normal; }
.vl-status { margin: 6px 0; min-height: 1.3em; }
.vl-status.vl-error { color: var(--vscode-errorForeground, #c00); }
button.vl-rerun { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 4px 10px; cursor: pointer; }
`;
doc.head.append(style);

const NUMERIC = new Set<FleetColumn>(['vcpus', 'threads', 'lost', 'preempted', 'gain']);
const root = doc.getElementById('vl-fleet')!;
const status = el('div', { class: 'vl-status', role: 'status' });
const rerun = el('button', { class: 'vl-rerun', type: 'button' }, 'Analyze again');
rerun.addEventListener('click', () => post({ kind: 'rerun' }));
const table = el('table', { id: 'vl-runs' });
root.append(el('h2', {}, 'vCPU Lens: runs'), status, table, el('p', {}, rerun));

let rows: FleetRow[] = [];
// Most lost time first until the user picks another column.
let sort: Sort = savedSort(api.getState()) ?? { by: 'lost', dir: 'desc' };

function savedSort(x: unknown): Sort | undefined {
  const s = x as Partial<Sort> | undefined;
  return typeof s === 'object' &&
    s !== null &&
    FLEET_COLUMNS.some((c) => c.key === s.by) &&
    (s.dir === 'asc' || s.dir === 'desc')
    ? (s as Sort)
    : undefined;
}

function render(): void {
  table.replaceChildren();
  const head = el('tr');
  for (const c of FLEET_COLUMNS) {
    const b = el('button', { type: 'button', 'data-col': c.key, title: c.title }, c.label);
    b.addEventListener('click', () => {
      sort =
        sort.by === c.key
          ? { by: c.key, dir: sort.dir === 'asc' ? 'desc' : 'asc' }
          : { by: c.key, dir: NUMERIC.has(c.key) ? 'desc' : 'asc' };
      api.setState(sort);
      render();
    });
    const th = el('th', NUMERIC.has(c.key) ? { class: 'vl-num' } : {}, b);
    if (sort.by === c.key) {
      th.setAttribute('aria-sort', sort.dir === 'asc' ? 'ascending' : 'descending');
      b.append(sort.dir === 'asc' ? ' ▲' : ' ▼');
    }
    head.append(th);
  }
  const body = el('tbody');
  for (const r of sortFleetRows(rows, sort.by, sort.dir)) {
    const cells = fleetCells(r);
    const tr = el('tr', { class: r.ok ? 'vl-ok' : 'vl-failed', 'data-run': r.run });
    if (r.ok) {
      tr.tabIndex = 0;
      // Lines with errors were skipped: said on the row, not hidden.
      tr.title = [r.hostFile, r.guestFile, ...r.warnings, 'click: open the timeline'].join('\n');
      const open = (): void => post({ kind: 'open', hostFile: r.hostFile, guestFile: r.guestFile });
      tr.addEventListener('click', open);
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') open();
      });
      for (const c of FLEET_COLUMNS)
        tr.append(el('td', NUMERIC.has(c.key) ? { class: 'vl-num' } : {}, cells[c.key]));
      if (r.warnings.length > 0) tr.firstElementChild?.append(' ⚠');
    } else {
      tr.title = `${r.hostFile}\n${r.guestFile}`;
      tr.append(el('td', {}, cells.run), el('td', {}, cells.files));
      tr.append(
        el('td', { class: 'vl-reason', colspan: String(FLEET_COLUMNS.length - 2) }, cells.advice),
      );
    }
    body.append(tr);
  }
  table.append(el('thead', {}, head), body);
}

window.addEventListener('message', (e: MessageEvent<FleetToWebview>) => {
  const m = e.data;
  switch (m.kind) {
    case 'busy':
      status.className = 'vl-status';
      status.textContent = m.text;
      rerun.disabled = true;
      return;
    case 'rows': {
      rows = m.rows;
      const failed = rows.filter((r) => !r.ok).length;
      status.className = 'vl-status';
      status.textContent =
        `${rows.length - failed} pairs analysed, ${failed} failed, in ${m.folders.join(', ')}` +
        (m.cancelled ? ' (cancelled: the pairs done before it)' : '');
      rerun.disabled = false;
      render();
      return;
    }
    case 'error':
      status.className = 'vl-status vl-error';
      status.textContent = m.message;
      rerun.disabled = false;
      return;
  }
});

render();
post({ kind: 'ready' });
