// The panel beside the timeline: keys help first (in reach), the details of the picked interval
// with "Reveal in Trace", the selection's totals per state, search hits, the legend, findings and
// the summary with the what-if chart after the advice. Every trace-derived string goes in as text.

import type { DetailsWire, LaneMeta, LinkWire, TimelineMeta } from '../src/protocol/webview';
import {
  LANE_GROUPS,
  LANE_KIND_STATES,
  VIEW_STATE_NAMES,
  ViewState,
} from '../src/core/view/states';
import type { Format } from './format';
import { whatIfSection } from './whatif-chart';
import { elementMaker, type ElementMaker } from './element';

export const KEYS_HELP =
  'Wheel: zoom at the pointer · drag: pan · Shift+wheel: scroll lanes · W/S zoom in/out · A/D pan · Shift+drag: select a span (totals per state) · Z: zoom to selection · 0: reset · Esc: clear';

export class SidePanel {
  readonly root: HTMLElement;
  readonly details: HTMLElement;
  readonly selection: HTMLElement;
  readonly searchResults: HTMLElement;
  /** The summaries (advice, program, vCPUs, clock) and the what-if chart. */
  private readonly summary: HTMLElement;

  constructor(
    private readonly doc: Document,
    private readonly meta: TimelineMeta,
    private readonly fmt: Format,
    private readonly revealInTrace: ((d: DetailsWire) => void) | undefined,
  ) {
    this.el = elementMaker(doc);
    const m = meta;
    const side = this.el('aside', 'vl-side');
    side.append(this.el('h2', undefined, 'Keys'));
    side.append(this.el('p', 'vl-help vl-keys', KEYS_HELP));
    side.append(this.el('h2', undefined, 'Details'));
    this.details = this.el('div', 'vl-details', 'Click an interval for its details.');
    side.append(this.details);
    this.selection = this.el('div', 'vl-selection-totals');
    side.append(this.selection);
    this.searchResults = this.el('div');
    side.append(this.searchResults);
    side.append(this.el('h2', undefined, 'Legend'));
    for (const g of LANE_GROUPS) {
      if (!m.lanes.some((l) => l.group === g.id)) continue;
      side.append(this.el('p', 'vl-help', g.label));
      const lg = this.el('div', 'vl-legend');
      for (const s of LANE_KIND_STATES[g.id]) {
        // Inferred absence exists only where there was no host trace.
        if (s === ViewState.absent && m.guestOnly !== true) continue;
        const item = this.el('span');
        const sw = this.el('span', 'vl-swatch');
        sw.dataset['state'] = String(s);
        const name = VIEW_STATE_NAMES[s]!;
        item.append(sw, doc.createTextNode(s === ViewState.absent ? `${name} (inferred)` : name));
        lg.append(item);
      }
      side.append(lg);
    }
    side.append(
      this.el(
        'p',
        'vl-help',
        'Thin bands: asleep, blocked or exited (not activity). Connectors: a stall — guest thread → its preempted vCPU → the host CPU and who preempted it; the selected interval’s stalls drawn thick.',
      ),
    );
    if (m.findings.length > 0) {
      side.append(this.el('h2', undefined, 'Findings'));
      const ul = this.el('ul');
      for (const f of m.findings)
        ul.append(this.el('li', undefined, `[${f.severity}] ${f.kind}: ${f.message}`));
      side.append(ul);
    }
    this.summary = this.el('div', 'vl-summary');
    side.append(this.summary);
    this.root = side;
    this.showSummary();
  }

  /** The summaries and the what-if chart, from the meta (again when the advice arrives later). */
  showSummary(): void {
    const m = this.meta;
    const box = this.summary;
    box.replaceChildren();
    // The what-if chart follows the advice's summary (or closes the summaries without one).
    let chartShown = m.whatIf === undefined;
    for (const s of m.summary) {
      box.append(this.el('h2', undefined, s.heading));
      const ul = this.el('ul');
      for (const line of s.lines) ul.append(this.el('li', undefined, line));
      box.append(ul);
      if (!chartShown && /advice/i.test(s.heading)) {
        box.append(whatIfSection(this.doc, m.whatIf!));
        chartShown = true;
      }
    }
    if (!chartShown) box.append(whatIfSection(this.doc, m.whatIf!));
  }

  readonly el: ElementMaker;

  showDetails(d: DetailsWire | null, text?: string): void {
    const box = this.details;
    box.replaceChildren();
    if (d === null) {
      box.append(this.el('p', undefined, text ?? ''));
      return;
    }
    const lane = this.meta.lanes.find((l) => l.id === d.lane);
    box.append(this.el('p', 'vl-detail-lane', lane?.label ?? d.lane));
    box.append(this.el('p', 'vl-detail-state', `state: ${d.state}`));
    box.append(this.el('p', undefined, `from ${this.fmt.time(d.startNs)}`));
    box.append(this.el('p', undefined, `to   ${this.fmt.time(d.endNs)}`));
    box.append(this.el('p', 'vl-detail-duration', `duration ${this.fmt.dur(d.endNs - d.startNs)}`));
    for (const l of d.lines) box.append(this.el('p', undefined, l));
    if (d.links.length > 0) {
      box.append(this.el('p', undefined, `stalls (${d.links.length}):`));
      const ul = this.el('ul', 'vl-links');
      for (const k of d.links) ul.append(this.el('li', undefined, this.linkText(k)));
      box.append(ul);
    }
    const reveal = this.revealInTrace;
    if (reveal !== undefined) {
      const b = this.el('button', undefined, 'Reveal in Trace');
      b.dataset['action'] = 'reveal-in-trace';
      b.title = 'Open the trace at the line of this event';
      b.addEventListener('click', () => reveal(d));
      box.append(b);
    }
  }

  /** A Shift+drag selection: its span and, per lane group, the time in each state. */
  showSelection(
    span: { start: number; end: number } | undefined,
    totals: Map<string, Map<number, number>>,
  ): void {
    const box = this.selection;
    box.replaceChildren();
    if (span === undefined) return;
    box.append(this.el('h2', undefined, `Selection: ${this.fmt.dur(span.end - span.start)}`));
    for (const g of LANE_GROUPS) {
      const t = totals.get(g.id);
      if (t === undefined || t.size === 0) continue;
      const parts = [...t.entries()]
        .filter(([, v]) => v > 0)
        .sort((p, q) => q[1] - p[1])
        .map(([st, v]) => `${VIEW_STATE_NAMES[st] ?? st} ${this.fmt.dur(v)}`);
      if (parts.length === 0) continue;
      const p = this.el('p', 'vl-help');
      p.dataset['group'] = g.id;
      p.textContent = `${g.label}: ${parts.join(' · ')}`;
      box.append(p);
    }
  }

  /** Search hits as buttons (the first 50); undefined clears them. */
  showSearch(hits: readonly LaneMeta[] | undefined, focus: (l: LaneMeta) => void): void {
    const box = this.searchResults;
    box.replaceChildren();
    if (hits === undefined) return;
    box.append(this.el('h2', undefined, `Search: ${hits.length} task lanes`));
    const ul = this.el('ul');
    for (const l of hits.slice(0, 50)) {
      const li = this.el('li');
      const b = this.el('button', 'vl-search-hit', l.label);
      b.addEventListener('click', () => focus(l));
      li.append(b);
      ul.append(li);
    }
    box.append(ul);
  }

  linkText(k: LinkWire): string {
    const who =
      k.guestPid > 0
        ? `guest ${k.guestComm} (${k.guestPid})`
        : k.guestPid === 0
          ? 'guest idle'
          : 'guest ?';
    const by =
      k.kind === 'preempted'
        ? `preempted on host CPU ${k.pcpu} by ${k.preemptorComm}${k.preemptorPid >= 0 ? ` (${k.preemptorPid})` : ''}`
        : 'woken, waiting for a host CPU';
    return `${who} ← vCPU ${k.vcpu} ${by}, ${this.fmt.dur(k.endNs - k.startNs)} at ${this.fmt.tick(k.startNs)}`;
  }
}
