// The toolbar above the timeline: title, task search, the lane filter, view buttons, exports, the
// unit hint on counter clocks, and the status (view span, the cursor's time on both machines).

import { LANE_FILTERS, type LaneFilter } from './tracks/state-lanes';
import { elementMaker } from './element';

export interface ToolbarActions {
  search(q: string): void;
  filter(f: LaneFilter): void;
  reset(): void;
  zoomToSelection(): void;
  png(): void;
  svg(): void;
  chromeTrace(): void;
}

/** Builds the toolbar; returns it and its status element. */
export function buildToolbar(
  doc: Document,
  title: string,
  unitHint: string | undefined,
  act: ToolbarActions,
): { bar: HTMLElement; status: HTMLElement } {
  const el = elementMaker(doc);
  const bar = el('div', 'vl-toolbar');
  bar.append(el('h1', undefined, `vCPU Lens · ${title}`));
  const search = el('input');
  search.type = 'search';
  search.placeholder = 'task name or pid';
  search.setAttribute('aria-label', 'Search a task by name or pid');
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') act.search(search.value);
    e.stopPropagation();
  });
  bar.append(search);
  const filter = el('select', 'vl-filter');
  filter.setAttribute('aria-label', 'Lanes shown');
  filter.title = 'Lanes shown';
  for (const f of LANE_FILTERS) {
    const o = el('option', undefined, f.label);
    o.value = f.id;
    filter.append(o);
  }
  filter.addEventListener('change', () => act.filter(filter.value as LaneFilter));
  bar.append(filter);
  const button = (label: string, tip: string, f: () => void, id: string): void => {
    const b = el('button', undefined, label);
    b.title = tip;
    b.dataset['action'] = id;
    b.addEventListener('click', f);
    bar.append(b);
  };
  button('Reset', 'Show the whole trace (0)', act.reset, 'reset');
  button(
    'Zoom to selection',
    'Shift-drag to select a span, then Z',
    act.zoomToSelection,
    'zoom-selection',
  );
  button('PNG', 'Save the view as PNG', act.png, 'png');
  button('SVG', 'Save the view as SVG', act.svg, 'svg');
  button(
    'Perfetto JSON',
    'Save the merged host + guest timeline as Chrome trace-event JSON (Perfetto, chrome://tracing)',
    act.chromeTrace,
    'chrome-trace',
  );
  if (unitHint !== undefined) bar.append(el('span', 'vl-help vl-unit-hint', unitHint));
  const status = el('span', 'vl-status');
  bar.append(status);
  return { bar, status };
}
