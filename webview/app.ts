// The annotated timeline: lanes (host CPUs, vCPU threads, guest CPUs, guest threads, co-runners)
// drawn on a canvas from level-of-detail windows the webview pulls, with the stalls as connectors,
// the findings as markers, the DoP chart below and the details beside. d3 for scales, zoom and
// axes; SVG only for axes and annotations; every trace-derived string goes in as text.

import * as d3 from 'd3';
import type {
  DetailsWire,
  LaneGroup,
  LaneMeta,
  LaneWindow,
  LinkWire,
  TimelineMeta,
  ViewStateSaved,
  WindowReply,
} from '../src/protocol/webview';
import {
  LANE_GROUPS,
  LANE_KIND_STATES,
  NO_STATE,
  VIEW_STATE_NAMES,
  ViewState,
} from '../src/core/view/states';
import { upperBound } from '../src/core/model/search';
import { laneId, parseLaneId } from '../src/core/view/lane-id';
import { resolutionFor } from '../src/core/view/lod';
import type { Transport } from './transport';

const LABEL_W = 220;
const LANE_H = 18;
const GROUP_H = 22;
const FINDINGS_H = 20;
/** Buckets per fetched tile: windows are quantised to tiles so panning reuses them. */
const TILE_PX = 1024;
const MAX_TILES = 96;

type Row =
  | { kind: 'findings'; y: number; h: number }
  | { kind: 'group'; group: LaneGroup; y: number; h: number }
  | { kind: 'lane'; lane: LaneMeta; y: number; h: number };

interface Tile {
  reply: WindowReply;
  byLane: Map<string, LaneRuns>;
}

/** A lane's runs with their start times, computed once when the window arrives. */
interface LaneRuns {
  /** Run i covers [starts[i], starts[i + 1]); starts has one more entry than states. */
  starts: Float64Array;
  states: Uint8Array;
  counts: Uint32Array;
}

function laneRuns(w: LaneWindow, startNs: number, res: number): LaneRuns {
  const n = w.runs.length;
  const starts = new Float64Array(n + 1);
  let t = startNs;
  for (let i = 0; i < n; i++) {
    starts[i] = t;
    t += w.runs[i]! * res;
  }
  starts[n] = t;
  return { starts, states: Uint8Array.from(w.states), counts: Uint32Array.from(w.counts) };
}

/** The first run ending after t. */
function firstRunEndingAfter(r: LaneRuns, t: number): number {
  // Run i ends at starts[i + 1].
  return upperBound(r.starts, t, 1, r.states.length + 1) - 1;
}

/** What the page exposes for tests and the benchmark (read-only views of the state). */
export interface TimelineDebug {
  view(): { startNs: number; endNs: number; resolutionNs: number; widthPx: number };
  laneY(id: string): { y: number; h: number } | undefined;
  canvas(): HTMLCanvasElement;
  frames: number[];
  pendingRequests(): number;
  zoomTo(startNs: number, endNs: number): void;
  stateColor(state: number): string;
  /** The stall connectors the last frame drew emphasised (the selected interval's), as `vcpu:startNs`. */
  emphasisedLinks(): string[];
}

/** Whether a stall connector belongs to the interval selected on `lane`: its lane and overlapping time. */
function linkOfSelection(k: LinkWire, sel: { lane: string; start: number; end: number }): boolean {
  if (k.startNs >= sel.end || k.endNs <= sel.start) return false;
  const id = parseLaneId(sel.lane);
  if (id === undefined) return false;
  switch (id.kind) {
    case 'vcpu':
    case 'gcpu':
      return k.vcpu === id.n;
    case 'gthread':
      return k.guestPid === id.n;
    case 'hcpu':
      return k.kind === 'preempted' && k.pcpu === id.n;
    case 'hthread':
      return k.kind === 'preempted' && k.preemptorPid === id.n;
  }
}

export class TimelineApp {
  private meta!: TimelineMeta;
  private rows: Row[] = [];
  private collapsed = new Set<LaneGroup>();
  private readonly tiles = new Map<string, Tile>();
  private readonly inflight = new Set<string>();
  private highlight: { machine: 'host' | 'guest'; pid: number } | undefined;
  private selection: { start: number; end: number } | undefined;
  private picked: { lane: string; start: number; end: number } | undefined;
  private cursorNs: number | undefined;
  private baseX = d3.scaleLinear();
  private x = d3.scaleLinear();
  private width = 800;
  /** Set once the scales have the model's span (resizes keep the visible span). */
  private sized = false;
  private colors: string[] = [];
  /** The state colours as canvas pixels (RGBA bytes in a little-endian u32; 0 = not drawn). */
  private rgba: Uint32Array = new Uint32Array(256);
  private highlightColor = '#000';
  private img: ImageData | undefined;
  private pixels: Uint32Array | undefined;
  private row: Uint32Array | undefined;
  private drawQueued = false;
  private emphasised: string[] = [];
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private zoom!: d3.ZoomBehavior<HTMLElement, unknown>;
  readonly frames: number[] = [];

  // DOM
  private root!: HTMLElement;
  private scroll!: HTMLDivElement;
  private spacer!: HTMLDivElement;
  private labels!: HTMLDivElement;
  private canvas!: HTMLCanvasElement;
  private overlay!: SVGSVGElement;
  private axisSvg!: SVGSVGElement;
  private dopSvg!: SVGSVGElement;
  private status!: HTMLElement;
  private detailsEl!: HTMLElement;
  private tooltip!: HTMLElement;
  private searchResults!: HTMLElement;

  constructor(
    private readonly transport: Transport,
    private readonly doc: Document,
  ) {}

  async start(root: HTMLElement): Promise<void> {
    this.root = root;
    const init = await this.transport.request({ kind: 'ready', protocol: 1 });
    if (init.kind !== 'init') {
      root.textContent = `vCPU Lens: could not load the timeline (${init.kind === 'error' ? init.message : init.kind})`;
      return;
    }
    this.meta = init.meta;
    this.buildDom();
    this.readColors();
    const saved = this.transport.getState();
    if (saved !== undefined) {
      for (const g of saved.collapsed) this.collapsed.add(g);
      if (saved.highlight !== undefined) this.highlight = saved.highlight;
    } else {
      // Many CPU lanes that say little (one vCPU each) start collapsed; a click opens them.
      for (const g of ['host-cpus', 'guest-cpus'] as const)
        if (this.meta.lanes.filter((l) => l.group === g).length > 8) this.collapsed.add(g);
    }
    this.layoutRows();
    this.resize();
    if (saved !== undefined && saved.endNs > saved.startNs) {
      this.zoomTo(saved.startNs, saved.endNs);
      this.scroll.scrollTop = saved.scrollTop;
    } else if (this.meta.focus !== undefined) {
      this.zoomTo(this.meta.focus.startNs, this.meta.focus.endNs);
    }
    new ResizeObserver(() => this.resize()).observe(this.scroll);
    // VS Code switches theme by changing the body's class.
    new MutationObserver(() => {
      this.readColors();
      this.requestDraw();
    }).observe(this.doc.body, { attributes: true, attributeFilter: ['class'] });
    this.transport.onPush((b) => {
      if (b.kind === 'reveal') void this.reveal(b.startNs, b.endNs, b.lane);
    });
    this.requestDraw();
  }

  /**
   * "Show in Timeline": the interval in the middle half of the view, its lane opened and scrolled
   * to, the interval selected (Details filled from the engine) so its connectors stand out.
   */
  private async reveal(startNs: number, endNs: number, lane?: string): Promise<void> {
    const a = Math.min(startNs, endNs);
    const b = Math.max(startNs, endNs);
    const pad = Math.max((b - a) / 2, 1);
    this.selection = undefined;
    const meta = lane === undefined ? undefined : this.meta.lanes.find((l) => l.id === lane);
    if (meta !== undefined && this.collapsed.delete(meta.group)) {
      this.layoutRows();
      this.resize();
      this.scheduleSave();
    }
    this.zoomTo(a - pad, b + pad);
    this.scheduleSave();
    if (meta === undefined) {
      this.setPicked(undefined);
      this.requestDraw();
      return;
    }
    const r = this.rows.find((q) => q.kind === 'lane' && q.lane.id === meta.id);
    if (r !== undefined)
      this.scroll.scrollTop = Math.max(0, r.y + r.h / 2 - this.scroll.clientHeight / 2);
    this.setPicked({ lane: meta.id, start: a, end: b });
    this.requestDraw();
    const reply = await this.transport.request({
      kind: 'requestDetails',
      lane: meta.id,
      tNs: (a + b) / 2,
      toleranceNs: 0,
    });
    // A newer pick or reveal wins.
    if (reply.kind !== 'details' || this.picked?.lane !== meta.id || this.picked.start !== a)
      return;
    const d = reply.details;
    if (d !== null) this.setPicked({ lane: d.lane, start: d.startNs, end: d.endNs });
    this.showDetails(d, `${meta.label}: nothing here`);
    this.requestDraw();
  }

  /** The selected interval, mirrored on the body for tests (`data-selected-lane`). */
  private setPicked(p: { lane: string; start: number; end: number } | undefined): void {
    this.picked = p;
    if (p === undefined) delete this.doc.body.dataset['selectedLane'];
    else this.doc.body.dataset['selectedLane'] = p.lane;
  }

  debug(): TimelineDebug {
    return {
      view: () => {
        const [a, b] = this.x.domain() as [number, number];
        return {
          startNs: a,
          endNs: b,
          resolutionNs: resolutionFor((b - a) / this.width),
          widthPx: this.width,
        };
      },
      laneY: (id) => {
        const r = this.rows.find((q) => q.kind === 'lane' && q.lane.id === id);
        return r === undefined ? undefined : { y: r.y, h: r.h };
      },
      canvas: () => this.canvas,
      frames: this.frames,
      pendingRequests: () => this.inflight.size,
      zoomTo: (a, b) => this.zoomTo(a, b),
      stateColor: (s) => this.colors[s] ?? '',
      emphasisedLinks: () => [...this.emphasised],
    };
  }

  // ---- DOM ----------------------------------------------------------------------------------

  private el<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    cls?: string,
    text?: string,
  ): HTMLElementTagNameMap[K] {
    const e = this.doc.createElement(tag);
    if (cls !== undefined) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  private buildDom(): void {
    const m = this.meta;
    const root = this.root;
    root.replaceChildren();
    const bar = this.el('div', 'vl-toolbar');
    bar.append(this.el('h1', undefined, `vCPU Lens · ${m.title}`));
    const search = this.el('input');
    search.type = 'search';
    search.placeholder = 'task name or pid';
    search.setAttribute('aria-label', 'Search a task by name or pid');
    search.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') this.search(search.value);
      e.stopPropagation();
    });
    bar.append(search);
    const button = (label: string, title: string, f: () => void, id: string): void => {
      const b = this.el('button', undefined, label);
      b.title = title;
      b.dataset['action'] = id;
      b.addEventListener('click', f);
      bar.append(b);
    };
    button('Reset', 'Show the whole trace (0)', () => this.reset(), 'reset');
    button(
      'Zoom to selection',
      'Shift-drag to select a span, then Z',
      () => this.zoomToSelection(),
      'zoom-selection',
    );
    button('PNG', 'Save the current view as PNG', () => this.exportPng(), 'png');
    button('SVG', 'Save the current view as SVG', () => this.exportSvg(), 'svg');
    button(
      'Perfetto JSON',
      'Save the merged host + guest timeline as Chrome trace-event JSON (Perfetto, chrome://tracing)',
      () => void this.exportChromeTrace(),
      'chrome-trace',
    );
    this.status = this.el('span', 'vl-status');
    bar.append(this.status);
    root.append(bar);

    const body = this.el('div', 'vl-body');
    const tl = this.el('div', 'vl-timeline');
    this.axisSvg = this.doc.createElementNS('http://www.w3.org/2000/svg', 'svg');
    this.axisSvg.classList.add('vl-axis');
    tl.append(this.axisSvg);
    this.scroll = this.el('div', 'vl-scroll');
    this.spacer = this.el('div', 'vl-spacer');
    this.labels = this.el('div', 'vl-labels');
    this.canvas = this.el('canvas', 'vl-canvas');
    this.overlay = this.doc.createElementNS('http://www.w3.org/2000/svg', 'svg');
    this.overlay.classList.add('vl-overlay');
    this.spacer.append(this.labels, this.canvas, this.overlay);
    this.scroll.append(this.spacer);
    tl.append(this.scroll);
    this.dopSvg = this.doc.createElementNS('http://www.w3.org/2000/svg', 'svg');
    this.dopSvg.classList.add('vl-dop');
    if (m.dop !== undefined) tl.append(this.dopSvg);
    body.append(tl);

    const side = this.el('aside', 'vl-side');
    side.append(this.el('h2', undefined, 'Details'));
    this.detailsEl = this.el('div', 'vl-details', 'Click an interval for its details.');
    side.append(this.detailsEl);
    this.searchResults = this.el('div');
    side.append(this.searchResults);
    side.append(this.el('h2', undefined, 'Legend'));
    for (const g of LANE_GROUPS) {
      if (!m.lanes.some((l) => l.group === g.id)) continue;
      side.append(this.el('p', 'vl-help', g.label));
      const lg = this.el('div', 'vl-legend');
      for (const s of LANE_KIND_STATES[g.id]) {
        const item = this.el('span');
        const sw = this.el('span', 'vl-swatch');
        sw.dataset['state'] = String(s);
        item.append(sw, this.doc.createTextNode(VIEW_STATE_NAMES[s]!));
        lg.append(item);
      }
      side.append(lg);
    }
    side.append(
      this.el(
        'p',
        'vl-help',
        'Connectors: a stall — guest thread → its preempted vCPU → the host CPU and who preempted it.',
      ),
    );
    if (m.findings.length > 0) {
      side.append(this.el('h2', undefined, 'Findings'));
      const ul = this.el('ul');
      for (const f of m.findings) {
        const li = this.el('li', undefined, `[${f.severity}] ${f.kind}: ${f.message}`);
        ul.append(li);
      }
      side.append(ul);
    }
    for (const s of m.summary) {
      side.append(this.el('h2', undefined, s.heading));
      const ul = this.el('ul');
      for (const line of s.lines) ul.append(this.el('li', undefined, line));
      side.append(ul);
    }
    side.append(this.el('h2', undefined, 'Keys'));
    side.append(
      this.el(
        'p',
        'vl-help',
        'Wheel: zoom at the pointer · drag: pan · Shift+wheel: scroll lanes · W/S zoom in/out · A/D pan · Shift+drag: measure and select · Z: zoom to selection · 0: reset · Esc: clear',
      ),
    );
    body.append(side);
    root.append(body);
    this.tooltip = this.el('div', 'vl-tooltip');
    root.append(this.tooltip);

    this.scroll.addEventListener('scroll', () => {
      this.canvas.style.top = `${this.scroll.scrollTop}px`;
      this.requestDraw();
      this.scheduleSave();
    });
    this.scroll.addEventListener(
      'wheel',
      (e) => {
        if (e.shiftKey) {
          this.scroll.scrollTop += e.deltaY || e.deltaX;
          e.preventDefault();
        }
      },
      { passive: false },
    );
    this.setupZoom();
    this.setupPointer();
    this.doc.addEventListener('keydown', (e) => this.onKey(e));
  }

  private readColors(): void {
    const cs = getComputedStyle(this.doc.body);
    this.colors = VIEW_STATE_NAMES.map((n) => cs.getPropertyValue(`--vl-s-${n}`).trim());
    this.highlightColor = cs.getPropertyValue('--vl-highlight').trim() || '#000';
    // Resolve each colour to pixels once: paint it on a 1x1 canvas and read it back.
    const probe = this.doc.createElement('canvas');
    probe.width = probe.height = 1;
    const pc = probe.getContext('2d', { willReadFrequently: true })!;
    this.rgba = new Uint32Array(256);
    this.colors.forEach((c, st) => {
      if (c === '' || c === 'transparent' || st === ViewState.idle) return;
      pc.clearRect(0, 0, 1, 1);
      pc.fillStyle = c;
      pc.fillRect(0, 0, 1, 1);
      const d = pc.getImageData(0, 0, 1, 1).data;
      this.rgba[st] = ((d[3]! << 24) | (d[2]! << 16) | (d[1]! << 8) | d[0]!) >>> 0;
    });
    for (const sw of this.doc.querySelectorAll<HTMLElement>('.vl-swatch')) {
      const c = this.colors[Number(sw.dataset['state'])] ?? '';
      sw.style.background = c === 'transparent' || c === '' ? 'none' : c;
    }
  }

  private layoutRows(): void {
    const rows: Row[] = [];
    let y = 0;
    rows.push({ kind: 'findings', y, h: FINDINGS_H });
    y += FINDINGS_H;
    for (const g of LANE_GROUPS) {
      const lanes = this.meta.lanes.filter((l) => l.group === g.id);
      if (lanes.length === 0) continue;
      rows.push({ kind: 'group', group: g.id, y, h: GROUP_H });
      y += GROUP_H;
      if (this.collapsed.has(g.id)) continue;
      for (const l of lanes) {
        rows.push({ kind: 'lane', lane: l, y, h: LANE_H });
        y += LANE_H;
      }
    }
    this.rows = rows;
    this.spacer.style.height = `${y}px`;
    this.labels.style.height = `${y}px`;
    this.labels.replaceChildren();
    for (const r of rows) {
      let e: HTMLElement;
      if (r.kind === 'findings')
        e = this.el('div', 'vl-row', `Findings (${this.meta.findings.length})`);
      else if (r.kind === 'group') {
        const g = LANE_GROUPS.find((q) => q.id === r.group)!;
        const n = this.meta.lanes.filter((l) => l.group === r.group).length;
        e = this.el(
          'button',
          'vl-row vl-group',
          `${this.collapsed.has(r.group) ? '▸' : '▾'} ${g.label} (${n})`,
        );
        e.dataset['group'] = r.group;
        e.setAttribute('aria-expanded', String(!this.collapsed.has(r.group)));
        e.addEventListener('click', () => this.toggleGroup(r.group));
      } else {
        e = this.el('div', 'vl-row', r.lane.label);
        e.dataset['lane'] = r.lane.id;
        e.title = r.lane.label;
        if (this.isHighlighted(r.lane)) e.classList.add('vl-hl');
      }
      e.style.top = `${r.y}px`;
      e.style.height = `${r.h}px`;
      e.style.lineHeight = `${r.h}px`;
      this.labels.append(e);
    }
  }

  private isHighlighted(l: LaneMeta): boolean {
    const h = this.highlight;
    return (
      h !== undefined &&
      l.pid === h.pid &&
      l.machine === h.machine &&
      l.group !== 'host-cpus' &&
      l.group !== 'guest-cpus'
    );
  }

  private toggleGroup(g: LaneGroup): void {
    if (this.collapsed.has(g)) this.collapsed.delete(g);
    else this.collapsed.add(g);
    this.layoutRows();
    this.resize();
    this.scheduleSave();
  }

  private resize(): void {
    const w = Math.max(100, this.scroll.clientWidth - LABEL_W);
    const h = Math.max(50, this.scroll.clientHeight);
    const dpr = window.devicePixelRatio || 1;
    const [a, b] = this.x.domain() as [number, number];
    const had = this.sized;
    this.sized = true;
    this.width = w;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.canvas.style.top = `${this.scroll.scrollTop}px`;
    const total =
      this.rows.length > 0
        ? this.rows[this.rows.length - 1]!.y + this.rows[this.rows.length - 1]!.h
        : h;
    this.overlay.setAttribute('width', String(w));
    this.overlay.setAttribute('height', String(total));
    this.axisSvg.setAttribute('height', '26');
    this.baseX = d3.scaleLinear().domain([0, this.meta.spanNs]).range([0, w]);
    this.zoom
      .scaleExtent([1, Math.max(1, this.meta.spanNs / w)])
      .translateExtent([
        [0, -Infinity],
        [w, Infinity],
      ])
      .extent([
        [0, 0],
        [w, total],
      ]);
    if (had) this.zoomTo(a, b);
    else this.x = this.baseX.copy();
    this.requestDraw();
  }

  // ---- zoom, pan, keys, pointer -------------------------------------------------------------

  private setupZoom(): void {
    this.zoom = d3
      .zoom<HTMLElement, unknown>()
      .filter((e: Event) => {
        if (e.type === 'wheel') return !(e as WheelEvent).shiftKey;
        const me = e as MouseEvent;
        return !me.shiftKey && !me.button && e.type !== 'dblclick';
      })
      .on('zoom', (e: d3.D3ZoomEvent<HTMLElement, unknown>) => {
        this.x = e.transform.rescaleX(this.baseX);
        this.requestDraw();
        this.scheduleSave();
      });
    d3.select(this.overlay as unknown as HTMLElement).call(this.zoom);
  }

  private zoomTo(a: number, b: number): void {
    const span = this.meta.spanNs;
    const lo = Math.max(0, Math.min(a, b));
    const hi = Math.min(span, Math.max(a, b));
    const minSpan = Math.max(1, this.width);
    const w = Math.max(hi - lo, minSpan);
    const k = span / w;
    const t = d3.zoomIdentity.scale(k).translate(-this.baseX(lo), 0);
    d3.select(this.overlay as unknown as HTMLElement).call(this.zoom.transform, t);
    this.x = t.rescaleX(this.baseX);
    this.requestDraw();
  }

  private reset(): void {
    this.zoomTo(0, this.meta.spanNs);
  }

  private zoomToSelection(): void {
    if (this.selection === undefined) return;
    this.zoomTo(this.selection.start, this.selection.end);
    this.selection = undefined;
  }

  private onKey(e: KeyboardEvent): void {
    const t = e.target as HTMLElement | null;
    if (t !== null && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA')) return;
    const [a, b] = this.x.domain() as [number, number];
    const span = b - a;
    const at = this.cursorNs ?? (a + b) / 2;
    const zoomBy = (f: number): void => {
      const na = at - (at - a) / f;
      const nb = at + (b - at) / f;
      this.zoomTo(na, nb);
    };
    switch (e.key.toLowerCase()) {
      case 'w':
        zoomBy(1.5);
        break;
      case 's':
        zoomBy(1 / 1.5);
        break;
      case 'a':
        this.zoomTo(Math.max(0, a - span * 0.2), Math.max(0, a - span * 0.2) + span);
        break;
      case 'd': {
        const nb = Math.min(this.meta.spanNs, b + span * 0.2);
        this.zoomTo(nb - span, nb);
        break;
      }
      case 'z':
        this.zoomToSelection();
        break;
      case '0':
        this.reset();
        break;
      case 'escape':
        this.selection = undefined;
        this.setPicked(undefined);
        this.setHighlight(undefined);
        this.requestDraw();
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  private rowAt(y: number): Row | undefined {
    return this.rows.find((r) => y >= r.y && y < r.y + r.h);
  }

  private setupPointer(): void {
    const ov = this.overlay;
    let rulerFrom: number | undefined;
    let downAt: { x: number; y: number } | undefined;
    ov.addEventListener('pointermove', (e) => {
      const [px, py] = d3.pointer(e, ov);
      this.cursorNs = this.x.invert(px);
      if (rulerFrom !== undefined) {
        const t = this.x.invert(px);
        this.selection = { start: Math.min(rulerFrom, t), end: Math.max(rulerFrom, t) };
      }
      this.showTooltip(e, py);
      this.requestDraw();
    });
    ov.addEventListener('pointerleave', () => {
      this.cursorNs = undefined;
      this.tooltip.style.display = 'none';
      this.requestDraw();
    });
    ov.addEventListener('pointerdown', (e) => {
      const [px, py] = d3.pointer(e, ov);
      downAt = { x: px, y: py };
      if (e.shiftKey) {
        rulerFrom = this.x.invert(px);
        this.selection = { start: rulerFrom, end: rulerFrom };
        ov.setPointerCapture(e.pointerId);
      }
    });
    ov.addEventListener('pointerup', (e) => {
      const [px, py] = d3.pointer(e, ov);
      if (rulerFrom !== undefined) {
        rulerFrom = undefined;
        ov.releasePointerCapture(e.pointerId);
        if (
          this.selection !== undefined &&
          this.x(this.selection.end) - this.x(this.selection.start) < 2
        )
          this.selection = undefined;
        this.requestDraw();
        return;
      }
      if (downAt !== undefined && Math.abs(px - downAt.x) < 3 && Math.abs(py - downAt.y) < 3)
        void this.pick(px, py);
      downAt = undefined;
    });
  }

  private showTooltip(e: PointerEvent, py: number): void {
    const r = this.rowAt(py);
    const tip = this.tooltip;
    if (r === undefined || r.kind === 'group') {
      tip.style.display = 'none';
      return;
    }
    let text: string;
    if (r.kind === 'findings') {
      const t = this.cursorNs ?? 0;
      const tol = this.x.invert(4) - this.x.invert(0);
      const f = this.meta.findings.find((q) => t >= q.startNs - tol && t <= q.endNs + tol);
      text = f === undefined ? '' : `[${f.severity}] ${f.kind}: ${f.message}`;
    } else {
      const seg = this.segmentAt(r.lane.id, this.cursorNs ?? 0);
      text =
        seg === undefined
          ? r.lane.label
          : `${r.lane.label}: ${VIEW_STATE_NAMES[seg.state] ?? seg.state}${seg.count > 1 ? ` (${seg.count} intervals begin here)` : ''}, ${this.fmtDur(seg.end - seg.start)}`;
    }
    if (text === '') {
      tip.style.display = 'none';
      return;
    }
    tip.textContent = text;
    tip.style.display = 'block';
    tip.style.left = `${e.clientX + 12}px`;
    tip.style.top = `${e.clientY + 12}px`;
  }

  /** The drawn run of a lane at time t, from the cached windows (finest first). */
  private segmentAt(
    lane: string,
    t: number,
  ): { start: number; end: number; state: number; count: number } | undefined {
    const tiles = this.visibleTiles().sort((p, q) => p.reply.resolutionNs - q.reply.resolutionNs);
    for (const tile of tiles) {
      let found: { start: number; end: number; state: number; count: number } | undefined;
      forEachRun(tile, lane, (s, e, state, count) => {
        if (s <= t && t < e) found = { start: s, end: e, state, count };
      });
      if (found !== undefined && found.state !== NO_STATE) return found;
    }
    return undefined;
  }

  private async pick(px: number, py: number): Promise<void> {
    const r = this.rowAt(py);
    if (r === undefined) return;
    const t = this.x.invert(px);
    if (r.kind === 'findings') {
      const tol = this.x.invert(4) - this.x.invert(0);
      const f = this.meta.findings.find((q) => t >= q.startNs - tol && t <= q.endNs + tol);
      if (f !== undefined) this.showDetails(null, `[${f.severity}] ${f.kind}: ${f.message}`);
      return;
    }
    if (r.kind !== 'lane') return;
    const tol = this.x.invert(3) - this.x.invert(0);
    const reply = await this.transport.request({
      kind: 'requestDetails',
      lane: r.lane.id,
      tNs: t,
      toleranceNs: tol,
    });
    if (reply.kind !== 'details') return;
    const d = reply.details;
    this.setPicked(d === null ? undefined : { lane: d.lane, start: d.startNs, end: d.endNs });
    this.showDetails(d, d === null ? `${r.lane.label}: nothing here` : undefined);
    this.requestDraw();
  }

  private showDetails(d: DetailsWire | null, text?: string): void {
    const box = this.detailsEl;
    box.replaceChildren();
    if (d === null) {
      box.append(this.el('p', undefined, text ?? ''));
      return;
    }
    const lane = this.meta.lanes.find((l) => l.id === d.lane);
    box.append(this.el('p', 'vl-detail-lane', lane?.label ?? d.lane));
    box.append(this.el('p', 'vl-detail-state', `state: ${d.state}`));
    box.append(this.el('p', undefined, `from ${this.fmtTime(d.startNs)}`));
    box.append(this.el('p', undefined, `to   ${this.fmtTime(d.endNs)}`));
    box.append(this.el('p', undefined, `duration ${this.fmtDur(d.endNs - d.startNs)}`));
    for (const l of d.lines) box.append(this.el('p', undefined, l));
    if (d.links.length > 0) {
      box.append(this.el('p', undefined, `stalls (${d.links.length}):`));
      const ul = this.el('ul', 'vl-links');
      for (const k of d.links) ul.append(this.el('li', undefined, this.linkText(k)));
      box.append(ul);
    }
    if (this.transport.canRevealInTrace) {
      const b = this.el('button', undefined, 'Reveal in Trace');
      b.dataset['action'] = 'reveal-in-trace';
      b.title = 'Open the trace at the line of this event';
      b.addEventListener('click', () =>
        this.transport.post({
          kind: 'revealInTrace',
          lane: d.lane,
          startNs: d.startNs,
          endNs: d.endNs,
        }),
      );
      box.append(b);
    }
  }

  private linkText(k: LinkWire): string {
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
    return `${who} ← vCPU ${k.vcpu} ${by}, ${this.fmtDur(k.endNs - k.startNs)} at ${this.fmtRel(k.startNs)}`;
  }

  private search(q: string): void {
    const query = q.trim().toLowerCase();
    this.searchResults.replaceChildren();
    if (query === '') {
      this.setHighlight(undefined);
      return;
    }
    const hits = this.meta.lanes.filter(
      (l) =>
        l.pid !== undefined && (String(l.pid) === query || l.label.toLowerCase().includes(query)),
    );
    this.searchResults.append(this.el('h2', undefined, `Search: ${hits.length} task lanes`));
    const ul = this.el('ul');
    for (const l of hits.slice(0, 50)) {
      const li = this.el('li');
      const b = this.el('button', 'vl-search-hit', l.label);
      b.addEventListener('click', () => this.focusLane(l));
      li.append(b);
      ul.append(li);
    }
    this.searchResults.append(ul);
    if (hits[0] !== undefined) this.focusLane(hits[0]);
    else this.setHighlight(undefined);
  }

  private focusLane(l: LaneMeta): void {
    if (l.pid === undefined) return;
    if (this.collapsed.delete(l.group)) this.layoutRows();
    this.setHighlight({ machine: l.machine, pid: l.pid });
    const r = this.rows.find((q) => q.kind === 'lane' && q.lane.id === l.id);
    if (r !== undefined) this.scroll.scrollTop = Math.max(0, r.y - this.scroll.clientHeight / 3);
  }

  private setHighlight(h: { machine: 'host' | 'guest'; pid: number } | undefined): void {
    this.highlight = h;
    for (const e of this.labels.querySelectorAll<HTMLElement>('[data-lane]')) {
      const l = this.meta.lanes.find((q) => q.id === e.dataset['lane']);
      e.classList.toggle('vl-hl', l !== undefined && this.isHighlighted(l));
    }
    this.scheduleSave();
    this.requestDraw();
  }

  private scheduleSave(): void {
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      const [a, b] = this.x.domain() as [number, number];
      const s: ViewStateSaved = {
        startNs: a,
        endNs: b,
        collapsed: [...this.collapsed],
        scrollTop: this.scroll.scrollTop,
        ...(this.highlight !== undefined ? { highlight: this.highlight } : {}),
      };
      this.transport.setState(s);
    }, 150);
  }

  // ---- data ---------------------------------------------------------------------------------

  /** Windows are cached per resolution, tile, highlighted task and set of open groups. */
  private tileKey(res: number, i: number): string {
    const h = this.highlight;
    return `${res}:${i}:${h === undefined ? '' : `${h.machine}${h.pid}`}:${[...this.collapsed].sort().join(',')}`;
  }

  /** Tiles covering the view at the current resolution (fetching what is missing), best first. */
  private visibleTiles(): Tile[] {
    const [a, b] = this.x.domain() as [number, number];
    const res = resolutionFor((b - a) / this.width);
    const span = res * TILE_PX;
    const i0 = Math.max(0, Math.floor(a / span));
    const i1 = Math.min(Math.floor(this.meta.spanNs / span), Math.floor(b / span));
    const out: Tile[] = [];
    const seen = new Set<Tile>();
    for (let i = i0; i <= i1; i++) {
      let tile = this.tiles.get(this.tileKey(res, i));
      // Not here yet: draw what a coarser resolution has meanwhile.
      for (let up = 1; tile === undefined && up <= 8; up++)
        tile = this.tiles.get(this.tileKey(res * 2 ** up, Math.floor(i / 2 ** up)));
      if (tile !== undefined && !seen.has(tile)) {
        seen.add(tile);
        out.push(tile);
      }
    }
    // Padding: one tile either side, so a pan finds its data already here.
    for (let i = Math.max(0, i0 - 1); i <= i1 + 1; i++) this.fetch(res, i);
    return out;
  }

  private fetch(res: number, i: number): void {
    if (i * res * TILE_PX > this.meta.spanNs) return;
    const key = this.tileKey(res, i);
    if (this.tiles.has(key) || this.inflight.has(key)) return;
    this.inflight.add(key);
    const h = this.highlight;
    void this.transport
      .request({
        kind: 'requestWindow',
        startNs: i * res * TILE_PX,
        endNs: (i + 1) * res * TILE_PX,
        resolutionNs: res,
        // Only the lanes of open groups: collapsed ones cost nothing.
        lanes: this.meta.lanes.filter((l) => !this.collapsed.has(l.group)).map((l) => l.id),
        ...(h !== undefined ? { highlight: h } : {}),
      })
      .then((reply) => {
        this.inflight.delete(key);
        if (reply.kind !== 'window') return;
        const byLane = new Map(
          reply.lanes.map((l) => [l.lane, laneRuns(l, reply.startNs, reply.resolutionNs)]),
        );
        this.tiles.set(key, { reply, byLane });
        if (this.tiles.size > MAX_TILES) {
          const oldest = this.tiles.keys().next().value;
          if (oldest !== undefined) this.tiles.delete(oldest);
        }
        this.requestDraw();
      });
  }

  // ---- drawing ------------------------------------------------------------------------------

  private requestDraw(): void {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      const t0 = performance.now();
      this.draw();
      this.frames.push(performance.now() - t0);
      if (this.frames.length > 2000) this.frames.splice(0, 1000);
    });
  }

  private draw(): void {
    const tiles = this.visibleTiles();
    const ctx = this.canvas.getContext('2d')!;
    const dpr = window.devicePixelRatio || 1;
    const W = this.width;
    const H = this.canvas.height / dpr;
    const top = this.scroll.scrollTop;
    const x = this.x;
    const [a0, b0] = x.domain() as [number, number];
    this.doc.body.dataset['viewStartNs'] = String(Math.round(a0));
    this.doc.body.dataset['viewEndNs'] = String(Math.round(b0));
    // Lanes: per device-pixel column, the colour of the finest window that covers it (anything
    // under a pixel folds into its column); one row of columns per lane, copied down the lane's
    // height, then a single putImageData. Cost: pixels, not intervals.
    const CW = this.canvas.width;
    const CH = this.canvas.height;
    if (this.img === undefined || this.img.width !== CW || this.img.height !== CH) {
      this.img = ctx.createImageData(CW, CH);
      this.pixels = new Uint32Array(this.img.data.buffer);
      this.row = new Uint32Array(CW);
    }
    const px = this.pixels!;
    const row = this.row!;
    const rgba = this.rgba;
    const [r0, r1] = x.range() as [number, number];
    const kx = ((r1 - r0) / (b0 - a0)) * dpr;
    const ox = r0 * dpr;
    px.fill(0);
    const coarseFirst = [...tiles].sort((p, q) => q.reply.resolutionNs - p.reply.resolutionNs);
    const hl = new Path2D();
    const laneRows = this.rows.filter(
      (r): r is Extract<Row, { kind: 'lane' }> =>
        r.kind === 'lane' && r.y + r.h > top && r.y < top + H,
    );
    for (const r of laneRows) {
      row.fill(0);
      for (const tile of coarseFirst) {
        const lr = tile.byLane.get(r.lane.id);
        if (lr === undefined) continue;
        const n = lr.states.length;
        for (let i = firstRunEndingAfter(lr, a0); i < n; i++) {
          const s = lr.starts[i]!;
          if (s > b0) break;
          // The scale inlined (this loop runs per run per lane per frame).
          const c0 = Math.max(0, Math.floor((s - a0) * kx + ox));
          const c1 = Math.min(CW, Math.max(c0 + 1, Math.floor((lr.starts[i + 1]! - a0) * kx + ox)));
          if (c1 > c0) row.fill(rgba[lr.states[i]!]!, c0, c1);
        }
      }
      const y0 = Math.max(0, Math.round((r.y - top + 2) * dpr));
      const y1 = Math.min(CH, Math.round((r.y - top + r.h - 2) * dpr));
      for (let yy = y0; yy < y1; yy++) px.set(row, yy * CW);
      const y = r.y - top + 2;
      const h = r.h - 4;
      for (const tile of tiles) {
        const hw = tile.reply.highlight?.[r.lane.id];
        if (hw !== undefined)
          for (let i = 0; i < hw.start.length; i++) {
            const x0 = Math.max(-1, x(hw.start[i]!));
            const x1 = Math.min(W + 1, x(hw.end[i]!));
            if (x1 < 0 || x0 > W) continue;
            hl.rect(x0, y - 1, Math.max(1, x1 - x0), h + 2);
          }
      }
      if (this.highlight !== undefined && this.isHighlighted(r.lane))
        hl.rect(0, r.y - top + 0.5, W, r.h - 1);
    }
    ctx.putImageData(this.img, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const hlColor = this.highlightColor;
    ctx.strokeStyle = hlColor;
    ctx.lineWidth = 1.5;
    ctx.stroke(hl);
    this.drawLinks(ctx, tiles, top, H);
    if (this.picked !== undefined) {
      const r = this.rows.find((q) => q.kind === 'lane' && q.lane.id === this.picked!.lane);
      if (r !== undefined) {
        const x0 = x(this.picked.start);
        const x1 = x(this.picked.end);
        ctx.strokeStyle = hlColor;
        ctx.lineWidth = 2;
        ctx.strokeRect(x0 - 1, r.y - top + 1, Math.max(2, x1 - x0 + 2), r.h - 2);
      }
    }
    this.drawOverlay();
    this.drawAxis();
    this.drawDop();
    this.drawStatus();
  }

  private laneCenter(id: string, top: number): number | undefined {
    const r = this.rows.find((q) => q.kind === 'lane' && q.lane.id === id);
    return r === undefined ? undefined : r.y - top + r.h / 2;
  }

  private drawLinks(ctx: CanvasRenderingContext2D, tiles: Tile[], top: number, H: number): void {
    const seen = new Set<string>();
    const centers = new Map<string, number | undefined>();
    const center = (id: string): number | undefined => {
      if (!centers.has(id)) centers.set(id, this.laneCenter(id, top));
      return centers.get(id);
    };
    const color = this.colors[ViewState.preempted] ?? '#d55e00';
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 1;
    const W = this.width;
    const line = new Path2D();
    const dots = new Path2D();
    const strong = new Path2D();
    const sel = this.picked;
    this.emphasised = [];
    for (const tile of tiles) {
      for (const k of tile.reply.links) {
        const key = `${k.vcpu}:${k.startNs}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const px = this.x(k.startNs);
        if (px < 0 || px > W) continue;
        const ys = [
          center(laneId.guestThread(k.guestPid)),
          center(laneId.vcpu(k.vcpu)),
          k.kind === 'preempted' ? center(laneId.hostCpu(k.pcpu)) : undefined,
          k.kind === 'preempted' ? center(`hthread:${k.preemptorPid}`) : undefined,
        ].filter((y): y is number => y !== undefined);
        if (ys.length < 2) continue;
        const y0 = Math.min(...ys);
        const y1 = Math.max(...ys);
        if (y1 < 0 || y0 > H) continue;
        const mine = sel !== undefined && linkOfSelection(k, sel);
        if (mine) this.emphasised.push(key);
        const p = mine ? strong : line;
        p.moveTo(px + 0.5, y0);
        p.lineTo(px + 0.5, y1);
        for (const y of ys) dots.rect(px - 1.5, y - 2, 4, 4);
      }
    }
    ctx.globalAlpha = 0.55;
    ctx.stroke(line);
    ctx.globalAlpha = 1;
    ctx.fill(dots);
    // The selected interval's stalls: solid, thick, outlined in the highlight colour.
    ctx.lineWidth = 5;
    ctx.strokeStyle = this.highlightColor;
    ctx.stroke(strong);
    ctx.lineWidth = 3;
    ctx.strokeStyle = color;
    ctx.stroke(strong);
  }

  private drawOverlay(): void {
    const ov = d3.select(this.overlay);
    const x = this.x;
    const fr = this.rows[0]!;
    const f = ov
      .selectAll<SVGRectElement, TimelineMeta['findings'][number]>('rect.vl-finding')
      .data(this.meta.findings);
    f.join('rect')
      .attr('class', (d) => `vl-finding ${d.severity}`)
      .attr('x', (d) => Math.max(-2, x(d.startNs)))
      .attr('width', (d) =>
        Math.max(3, Math.min(this.width + 2, x(d.endNs)) - Math.max(-2, x(d.startNs))),
      )
      .attr('y', (_d, i) => fr.y + 3 + (i % 3) * 5)
      .attr('height', 4);
    const cur = this.cursorNs;
    const total =
      this.rows.length > 0
        ? this.rows[this.rows.length - 1]!.y + this.rows[this.rows.length - 1]!.h
        : 0;
    ov.selectAll('line.vl-cursor-line')
      .data(cur === undefined ? [] : [cur])
      .join('line')
      .attr('class', 'vl-cursor-line')
      .attr('x1', (d) => x(d))
      .attr('x2', (d) => x(d))
      .attr('y1', 0)
      .attr('y2', total);
    const sel = this.selection;
    ov.selectAll('rect.vl-selection')
      .data(sel === undefined ? [] : [sel])
      .join('rect')
      .attr('class', 'vl-selection')
      .attr('x', (d) => x(d.start))
      .attr('width', (d) => Math.max(1, x(d.end) - x(d.start)))
      .attr('y', 0)
      .attr('height', total);
    ov.selectAll('text.vl-ruler-text')
      .data(sel === undefined ? [] : [sel])
      .join('text')
      .attr('class', 'vl-ruler-text')
      .attr('x', (d) => x(d.end) + 4)
      .attr('y', this.scroll.scrollTop + 14)
      .text((d) => `Δ ${this.fmtDur(d.end - d.start)}`);
  }

  private drawAxis(): void {
    const svg = d3.select(this.axisSvg);
    svg.attr('width', this.width + LABEL_W);
    const g = svg
      .selectAll<SVGGElement, number>('g.ax')
      .data([0])
      .join('g')
      .attr('class', 'ax')
      .attr('transform', `translate(${LABEL_W},24)`);
    const axis = d3
      .axisTop(this.x)
      .ticks(Math.max(2, Math.floor(this.width / 110)))
      .tickFormat((d) => this.fmtRel(Number(d)));
    g.call(axis);
  }

  private drawDop(): void {
    const d = this.meta.dop;
    if (d === undefined) return;
    const svg = d3.select(this.dopSvg);
    const H = 110;
    svg.attr('width', this.width + LABEL_W).attr('height', H);
    const maxY = Math.max(d.threads, d.vcpus, ...d.requested, ...d.running) * 1.1;
    const y = d3
      .scaleLinear()
      .domain([0, maxY])
      .range([H - 6, 18]);
    const x = this.x;
    const series: { cls: string; label: string; values: number[] }[] = [
      { cls: 'requested', label: 'threads wanting a CPU', values: d.requested },
      { cls: 'running', label: 'vCPUs running', values: d.running },
      { cls: 'recommended', label: 'recommended DoP', values: d.recommended },
    ];
    const line = (vals: number[]): string => {
      let p = '';
      for (let i = 0; i < vals.length; i++) {
        const x0 = x(d.startNs[i]!);
        const x1 = x(d.startNs[i]! + d.widthNs);
        if (x1 < -5 || x0 > this.width + 5) continue;
        const yy = y(vals[i]!);
        p += `${p === '' ? 'M' : 'L'}${Math.max(-5, x0).toFixed(1)},${yy.toFixed(1)}H${Math.min(this.width + 5, x1).toFixed(1)}`;
      }
      return p === '' ? 'M0,0' : p;
    };
    const g = svg
      .selectAll<SVGGElement, number>('g.plot')
      .data([0])
      .join('g')
      .attr('class', 'plot')
      .attr('transform', `translate(${LABEL_W},0)`);
    g.selectAll<SVGPathElement, (typeof series)[number]>('path.series')
      .data(series)
      .join('path')
      .attr('class', (s) => `series ${s.cls}`)
      .attr('d', (s) => line(s.values));
    g.selectAll<SVGGElement, number>('g.yax')
      .data([0])
      .join('g')
      .attr('class', 'yax')
      .call(d3.axisLeft(y).ticks(4));
    const lg = svg
      .selectAll<SVGGElement, number>('g.legend')
      .data([0])
      .join('g')
      .attr('class', 'legend');
    lg.selectAll<SVGTextElement, (typeof series)[number]>('text')
      .data(series)
      .join('text')
      .attr('x', (_s, i) => 8 + (i === 0 ? 0 : 0))
      .attr('y', (_s, i) => 14 + i * 14)
      .text((s) => s.label);
    lg.selectAll<SVGLineElement, (typeof series)[number]>('line')
      .data(series)
      .join('line')
      .attr('class', (s) => `series ${s.cls}`)
      .attr('x1', 150)
      .attr('x2', 190)
      .attr('y1', (_s, i) => 10 + i * 14)
      .attr('y2', (_s, i) => 10 + i * 14)
      .attr('stroke-width', 2);
  }

  private drawStatus(): void {
    const [a, b] = this.x.domain() as [number, number];
    const t = this.cursorNs;
    let s = `view ${this.fmtDur(b - a)}`;
    if (t !== undefined) {
      s += `  |  host ${this.fmtAbs(this.meta.hostOriginAbs, t)}`;
      const g = this.meta.guestClock;
      if (g !== undefined) s += `  guest ${this.fmtAbs(g.guestOriginAbs, t / g.slope)}`;
    }
    this.status.textContent = s;
  }

  // ---- formatting ---------------------------------------------------------------------------

  private fmtDur(v: number): string {
    const u = this.meta.unit === 'ns' ? '' : ' ticks';
    if (u !== '') return `${Math.round(v).toLocaleString('en-US')}${u}`;
    const a = Math.abs(v);
    if (a >= 1e9) return `${(v / 1e9).toFixed(3)} s`;
    if (a >= 1e6) return `${(v / 1e6).toFixed(3)} ms`;
    if (a >= 1e3) return `${(v / 1e3).toFixed(3)} µs`;
    return `${Math.round(v)} ns`;
  }

  /** Model-relative time as the axis shows it. */
  private fmtRel(v: number): string {
    if (this.meta.unit !== 'ns') return `${(v / 1e6).toFixed(3)}M`;
    const [a, b] = this.x.domain() as [number, number];
    const span = b - a;
    if (span >= 5e8) return `${(v / 1e9).toFixed(3)} s`;
    if (span >= 5e5) return `${(v / 1e6).toFixed(span >= 5e6 ? 1 : 3)} ms`;
    return `${(v / 1e3).toFixed(3)} µs`;
  }

  /** An absolute timestamp: origin (exact decimal string) + offset, as the trace prints it. */
  private fmtAbs(origin: string, offset: number): string {
    let v: bigint;
    try {
      v = BigInt(origin) + BigInt(Math.round(offset));
    } catch {
      return '?';
    }
    if (this.meta.unit !== 'ns') return v.toString();
    const neg = v < 0n;
    const abs = neg ? -v : v;
    const s = abs / 1_000_000_000n;
    const f = (abs % 1_000_000_000n).toString().padStart(9, '0');
    return `${neg ? '-' : ''}${s}.${f}`;
  }

  private fmtTime(v: number): string {
    return `${this.fmtRel(v)} (host ${this.fmtAbs(this.meta.hostOriginAbs, v)})`;
  }

  // ---- exports ------------------------------------------------------------------------------

  private exportPng(): void {
    const dpr = window.devicePixelRatio || 1;
    const c = this.doc.createElement('canvas');
    const W = this.width + LABEL_W;
    const H = this.canvas.height / dpr + 26;
    c.width = W * dpr;
    c.height = H * dpr;
    const ctx = c.getContext('2d')!;
    ctx.scale(dpr, dpr);
    const cs = getComputedStyle(this.doc.body);
    ctx.fillStyle = cs.getPropertyValue('--vl-bg').trim() || '#fff';
    ctx.fillRect(0, 0, W, H);
    ctx.drawImage(this.canvas, LABEL_W, 26, this.width, H - 26);
    ctx.fillStyle = cs.getPropertyValue('--vl-fg').trim() || '#000';
    ctx.font = '12px sans-serif';
    const top = this.scroll.scrollTop;
    for (const r of this.rows) {
      const y = r.y - top + 26;
      if (y < 26 || y > H) continue;
      const label =
        r.kind === 'lane'
          ? r.lane.label
          : r.kind === 'group'
            ? LANE_GROUPS.find((g) => g.id === r.group)!.label
            : 'Findings';
      ctx.fillText(label, 4, y + r.h - 5, LABEL_W - 8);
    }
    for (const t of this.x.ticks(Math.max(2, Math.floor(this.width / 110)))) {
      ctx.fillText(this.fmtRel(t), LABEL_W + this.x(t) + 2, 14);
    }
    c.toBlob((blob) => {
      if (blob === null) return;
      void blob
        .arrayBuffer()
        .then((buf) =>
          this.transport.save('vcpu-lens-timeline.png', 'image/png', new Uint8Array(buf)),
        );
    }, 'image/png');
  }

  /** The current view as SVG: lanes as rectangles (the same segments the canvas drew), labels as text. */
  svgOfView(): string {
    const esc = (s: string): string =>
      s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    const W = this.width + LABEL_W;
    const tiles = this.visibleTiles();
    const [a, b] = this.x.domain() as [number, number];
    const total =
      this.rows.length > 0
        ? this.rows[this.rows.length - 1]!.y + this.rows[this.rows.length - 1]!.h
        : 0;
    const parts: string[] = [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${total + 26}" font-family="sans-serif" font-size="11">`,
    ];
    for (const t of this.x.ticks(Math.max(2, Math.floor(this.width / 110))))
      parts.push(
        `<text x="${(LABEL_W + this.x(t)).toFixed(1)}" y="14">${esc(this.fmtRel(t))}</text>`,
      );
    for (const r of this.rows) {
      const y = r.y + 26;
      const label =
        r.kind === 'lane'
          ? r.lane.label
          : r.kind === 'group'
            ? LANE_GROUPS.find((g) => g.id === r.group)!.label
            : 'Findings';
      parts.push(`<text x="4" y="${y + r.h - 5}">${esc(label)}</text>`);
      if (r.kind !== 'lane') continue;
      for (const tile of [...tiles].sort((p, q) => q.reply.resolutionNs - p.reply.resolutionNs))
        forEachRun(tile, r.lane.id, (s0, e0, st) => {
          if (st === NO_STATE || st === ViewState.idle || e0 < a || s0 > b) return;
          const x0 = Math.max(0, this.x(s0));
          const x1 = Math.min(this.width, this.x(e0));
          parts.push(
            `<rect x="${(LABEL_W + x0).toFixed(1)}" y="${y + 2}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${r.h - 4}" fill="${esc(this.colors[st] ?? '#888')}"><title>${esc(VIEW_STATE_NAMES[st] ?? '')}</title></rect>`,
          );
        });
    }
    parts.push('</svg>');
    return parts.join('\n');
  }

  private exportSvg(): void {
    this.transport.save('vcpu-lens-timeline.svg', 'image/svg+xml', this.svgOfView());
  }

  private async exportChromeTrace(): Promise<void> {
    const r = await this.transport.request({ kind: 'exportChromeTrace' });
    if (r.kind === 'chromeTrace')
      this.transport.save('vcpu-lens-trace.json', 'application/json', r.json);
  }
}

/** Calls f(startNs, endNs, state, count) for each run of a lane in a window. */
function forEachRun(
  tile: Tile,
  lane: string,
  f: (s: number, e: number, state: number, count: number) => void,
): void {
  const r = tile.byLane.get(lane);
  if (r === undefined) return;
  for (let i = 0; i < r.states.length; i++)
    f(r.starts[i]!, r.starts[i + 1]!, r.states[i]!, r.counts[i]!);
}
