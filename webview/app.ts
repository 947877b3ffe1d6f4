// The annotated timeline: a stack of tracks (findings, state lanes with their stall connectors,
// the DoP chart, the axis; see track.ts) drawn on canvases from level-of-detail tiles the webview
// pulls (tiles.ts), with zoom/pan/keys (interaction.ts), the side panel (side-panel.ts) and the
// PNG/SVG export (export.ts). This file lays them out and keeps the view state.

import type {
  DetailsWire,
  FirstView,
  LaneGroup,
  LaneMeta,
  TimelineMeta,
  ViewStateSaved,
} from '../src/protocol/webview';
import { initiallyCollapsed, LANE_GROUPS } from '../src/core/view/states';
import { resolutionFor } from '../src/core/view/lod';
import { type ExportSource, exportPng, exportSvg, renderPng } from './export';
import { Format } from './format';
import { Interaction } from './interaction';
import { SidePanel } from './side-panel';
import { readTheme } from './theme';
import { TileCache, type Tile, stateTotals } from './tiles';
import type { Hit, Picked, Theme, Track, View } from './track';
import { AxisTrack } from './tracks/axis';
import { DopTrack } from './tracks/dop';
import { FindingsTrack } from './tracks/findings';
import { LinksTrack } from './tracks/links';
import { type LaneFilter, StateLanesTrack, passesFilter } from './tracks/state-lanes';
import { buildToolbar } from './toolbar';
import { Tooltip } from './tooltip';
import type { Transport } from './transport';
import { elementMaker, type ElementMaker } from './element';

const LABEL_W = 220;

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
  /** The PNG export's canvas (drawn once the view's tiles have arrived). */
  exportCanvas(): Promise<HTMLCanvasElement>;
  exportSvg(): Promise<string>;
  /**
   * When (epoch ms, the page's clock) the first frame was drawn, and the first frame that drew
   * the view's lanes from their tiles with none still asked for: the benchmark's first paint.
   */
  paints(): { firstFrameAt?: number; tilesAt?: number };
}

export class TimelineApp implements ExportSource {
  private meta!: TimelineMeta;
  readonly labelW = LABEL_W;
  fmt!: Format;
  axis!: AxisTrack;
  findings!: FindingsTrack;
  lanes!: StateLanesTrack;
  private links!: LinksTrack;
  private dop: DopTrack | undefined;
  private tiles!: TileCache;
  private ix!: Interaction;
  private side!: SidePanel;
  private collapsed = new Set<LaneGroup>();
  private filter: LaneFilter = 'all';
  private highlight: { machine: 'host' | 'guest'; pid: number } | undefined;
  private picked: Picked | undefined;
  private width = 800;
  private theme: Theme = {
    states: [],
    rgba: new Uint32Array(256),
    highlight: '#000',
    fg: '#000',
    muted: '#666',
    border: '#ccc',
    bg: '#fff',
  };
  private drawQueued = false;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  readonly frames: number[] = [];
  private readonly painted: { firstFrameAt?: number; tilesAt?: number } = {};

  // DOM
  private root!: HTMLElement;
  private scroll!: HTMLDivElement;
  private spacer!: HTMLDivElement;
  private labels!: HTMLDivElement;
  private canvas!: HTMLCanvasElement;
  overlay!: SVGSVGElement;
  private axisCanvas!: HTMLCanvasElement;
  private dopCanvas!: HTMLCanvasElement;
  private status!: HTMLElement;
  private tip!: Tooltip;

  constructor(
    private readonly transport: Transport,
    readonly doc: Document,
  ) {
    this.el = elementMaker(doc);
  }

  get spanNs(): number {
    return this.meta.spanNs;
  }
  get overLanes(): readonly Track[] {
    return [this.links];
  }
  get below(): readonly Track[] {
    return this.dop === undefined ? [] : [this.dop];
  }

  async start(root: HTMLElement): Promise<void> {
    this.root = root;
    // How it will open, so that its first windows come with its data (core/view/first-view.ts).
    const saved = this.transport.getState();
    const firstView: FirstView = {
      widthPx: this.canvasWidthAhead(root),
      ...(saved !== undefined && saved.endNs > saved.startNs
        ? { startNs: saved.startNs, endNs: saved.endNs }
        : {}),
      ...(saved !== undefined ? { collapsed: saved.collapsed } : {}),
      ...(saved?.highlight !== undefined ? { highlight: saved.highlight } : {}),
    };
    const init = await this.transport.request({ kind: 'ready', protocol: 1, firstView });
    if (init.kind !== 'init') {
      root.textContent = `vCPU Lens: could not load the timeline (${init.kind === 'error' ? init.message : init.kind})`;
      return;
    }
    const m = (this.meta = init.meta);
    this.fmt = new Format(m);
    this.axis = new AxisTrack(this.fmt);
    this.findings = new FindingsTrack(m.findings);
    this.lanes = new StateLanesTrack(m, this.doc);
    this.links = new LinksTrack(this.lanes);
    this.dop = m.dop === undefined ? undefined : new DopTrack(m.dop);
    this.tiles = new TileCache(
      this.transport,
      m.spanNs,
      () => ({ lanes: this.lanes.shown(), highlight: this.highlight }),
      () => this.requestDraw(),
    );
    this.buildDom();
    this.ix = new Interaction(this);
    this.doc.addEventListener('keydown', (e) => this.ix.onKey(e));
    this.readColors();
    if (saved !== undefined) {
      for (const g of saved.collapsed) this.collapsed.add(g);
      if (saved.highlight !== undefined) this.highlight = saved.highlight;
    } else {
      // Many CPU lanes that say little (one vCPU each) start collapsed; a click opens them.
      for (const g of initiallyCollapsed(m.lanes)) this.collapsed.add(g);
    }
    this.layoutRows();
    this.resize();
    if (saved !== undefined && saved.endNs > saved.startNs) {
      this.ix.zoomTo(saved.startNs, saved.endNs);
      this.scroll.scrollTop = saved.scrollTop;
    } else if (m.focus !== undefined) {
      this.ix.zoomTo(m.focus.startNs, m.focus.endNs);
    }
    if (init.windows !== undefined) this.tiles.seed(init.windows, firstView.highlight);
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
    // The advice (its what-if keeps the server busy a while) once the lanes have their data.
    if (m.advicePending === true) void this.readyTiles().then(() => this.loadAdvice());
  }

  /**
   * The lanes' canvas width before the page has its data: its layout's columns, laid out empty
   * and removed (the scroller keeps its scrollbar's gutter, so the lanes do not change it).
   */
  private canvasWidthAhead(root: HTMLElement): number {
    const body = this.el('div', 'vl-body');
    const tl = this.el('div', 'vl-timeline');
    const scroll = this.el('div', 'vl-scroll');
    tl.append(scroll);
    body.append(tl, this.el('aside', 'vl-side'));
    root.append(body);
    const w = Math.max(100, scroll.clientWidth - LABEL_W);
    body.remove();
    return w;
  }

  /** The advice's parts of the meta, asked for after the first paint: DoP lane, summary, chart. */
  private async loadAdvice(): Promise<void> {
    const r = await this.transport.request({ kind: 'requestAdvice' });
    const m = this.meta;
    delete m.advicePending;
    if (r.kind !== 'advice') {
      const why = r.kind === 'error' ? r.message : r.kind;
      m.summary = [{ heading: 'Advice', lines: [`not available: ${why}`] }, ...m.summary];
      this.side.showSummary();
      return;
    }
    delete m.dop;
    delete m.whatIf;
    Object.assign(m, r.advice);
    if (m.dop !== undefined) {
      this.dop = new DopTrack(m.dop);
      this.scroll.after(this.dopCanvas);
    }
    this.side.showSummary();
    this.resize();
  }

  debug(): TimelineDebug {
    return {
      view: () => {
        const [a, b] = this.ix.x.domain() as [number, number];
        return {
          startNs: a,
          endNs: b,
          resolutionNs: resolutionFor((b - a) / this.width),
          widthPx: this.width,
        };
      },
      laneY: (id) => {
        const r = this.lanes.row(id);
        return r === undefined ? undefined : { y: r.y + this.findings.height, h: r.h };
      },
      canvas: () => this.canvas,
      frames: this.frames,
      pendingRequests: () => this.tiles.pending(),
      zoomTo: (a, b) => this.ix.zoomTo(a, b),
      stateColor: (s) => this.theme.states[s] ?? '',
      emphasisedLinks: () => [...this.links.emphasised],
      exportCanvas: () => renderPng(this),
      exportSvg: () => exportSvg(this),
      paints: () => ({ ...this.painted }),
    };
  }

  // ---- DOM ----------------------------------------------------------------------------------

  private readonly el: ElementMaker;

  private buildDom(): void {
    const m = this.meta;
    const root = this.root;
    root.replaceChildren();
    const { bar, status } = buildToolbar(this.doc, m.title, this.fmt.unitHint(), {
      search: (q) => this.search(q),
      filter: (f) => this.setFilter(f),
      reset: () => this.ix.reset(),
      zoomToSelection: () => this.ix.zoomToSelection(),
      png: () => void this.savePng(),
      svg: () => void this.saveSvg(),
      chromeTrace: () => void this.exportChromeTrace(),
    });
    this.status = status;
    root.append(bar);

    const body = this.el('div', 'vl-body');
    const tl = this.el('div', 'vl-timeline');
    this.axisCanvas = this.el('canvas', 'vl-axis');
    tl.append(this.axisCanvas);
    this.scroll = this.el('div', 'vl-scroll');
    this.spacer = this.el('div', 'vl-spacer');
    this.labels = this.el('div', 'vl-labels');
    this.canvas = this.el('canvas', 'vl-canvas');
    this.overlay = this.doc.createElementNS('http://www.w3.org/2000/svg', 'svg');
    this.overlay.classList.add('vl-overlay');
    this.spacer.append(this.labels, this.canvas, this.overlay);
    this.scroll.append(this.spacer);
    tl.append(this.scroll);
    this.dopCanvas = this.el('canvas', 'vl-dop');
    if (this.dop !== undefined) tl.append(this.dopCanvas);
    body.append(tl);
    this.side = new SidePanel(
      this.doc,
      m,
      this.fmt,
      this.transport.canRevealInTrace
        ? (d: DetailsWire): void =>
            this.transport.post({
              kind: 'revealInTrace',
              lane: d.lane,
              startNs: d.startNs,
              endNs: d.endNs,
            })
        : undefined,
    );
    body.append(this.side.root);
    root.append(body);
    const tooltip = this.el('div', 'vl-tooltip');
    root.append(tooltip);
    this.tip = new Tooltip(tooltip, this.transport, this.fmt);

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
  }

  private readColors(): void {
    this.theme = readTheme(this.doc);
  }

  /** Content height of the scrolled stack: the findings lane, then the state lanes. */
  private contentHeight(): number {
    return this.findings.height + this.lanes.height;
  }

  private layoutRows(): void {
    this.lanes.layout(this.collapsed, this.filter);
    const y0 = this.findings.height;
    const total = this.contentHeight();
    this.spacer.style.height = `${total}px`;
    this.labels.style.height = `${total}px`;
    this.labels.replaceChildren();
    const place = (e: HTMLElement, y: number, h: number): void => {
      e.style.top = `${y}px`;
      e.style.height = `${h}px`;
      e.style.lineHeight = `${h}px`;
      this.labels.append(e);
    };
    place(this.el('div', 'vl-row', `Findings (${this.meta.findings.length})`), 0, y0);
    for (const r of this.lanes.rows) {
      let e: HTMLElement;
      if (r.kind === 'group') {
        const g = LANE_GROUPS.find((q) => q.id === r.group)!;
        const open = !this.collapsed.has(r.group);
        e = this.el('button', 'vl-row vl-group', `${open ? '▾' : '▸'} ${g.label} (${r.lanes})`);
        e.dataset['group'] = r.group;
        e.setAttribute('aria-expanded', String(open));
        e.addEventListener('click', () => this.toggleGroup(r.group));
      } else {
        e = this.el('div', 'vl-row', r.lane.label);
        e.dataset['lane'] = r.lane.id;
        e.title = r.lane.label;
        if (this.isHighlighted(r.lane)) e.classList.add('vl-hl');
      }
      place(e, y0 + r.y, r.h);
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

  private setFilter(f: LaneFilter): void {
    this.filter = f;
    this.doc.body.dataset['laneFilter'] = f;
    const sel = this.root.querySelector<HTMLSelectElement>('select.vl-filter');
    if (sel !== null) sel.value = f;
    this.layoutRows();
    this.resize();
  }

  /** Makes a lane visible: its group opened, the filter widened if it hides it. */
  private showLane(l: LaneMeta): void {
    const closed = this.collapsed.delete(l.group);
    if (
      this.lanes.row(l.id) === undefined &&
      passesFilter(l, this.filter, this.meta.lanes) === false
    )
      this.setFilter('all');
    else if (closed) {
      this.layoutRows();
      this.resize();
    }
  }

  private resize(): void {
    const w = Math.max(100, this.scroll.clientWidth - LABEL_W);
    const h = Math.max(50, this.scroll.clientHeight);
    const dpr = window.devicePixelRatio || 1;
    this.width = w;
    const size = (c: HTMLCanvasElement, cw: number, ch: number): void => {
      c.width = Math.round(cw * dpr);
      c.height = Math.round(ch * dpr);
      c.style.width = `${cw}px`;
      c.style.height = `${ch}px`;
    };
    size(this.canvas, w, h);
    size(this.axisCanvas, w + LABEL_W, this.axis.height);
    if (this.dop !== undefined) size(this.dopCanvas, w + LABEL_W, this.dop.height);
    this.canvas.style.top = `${this.scroll.scrollTop}px`;
    this.overlay.setAttribute('width', String(w));
    this.overlay.setAttribute('height', String(this.contentHeight()));
    this.ix.resize(w, this.contentHeight());
    this.requestDraw();
  }

  // ---- InteractionHost ------------------------------------------------------------------------

  changed(): void {
    this.requestDraw();
    this.scheduleSave();
  }

  clear(): void {
    this.setPicked(undefined);
    this.setHighlight(undefined);
  }

  /** What is under the pointer at (px, py) of the scrolled stack. */
  private hitAt(px: number, py: number): Hit | undefined {
    if (py < this.findings.height) return this.findings.hit(px);
    return this.lanes.hit(px, py - this.findings.height);
  }

  hover(e: PointerEvent | undefined, px: number, py: number): void {
    const hit = e === undefined ? undefined : this.hitAt(px, py);
    this.tip.show(e, hit, this.ix.x.invert(3) - this.ix.x.invert(0));
  }

  pick(px: number, py: number): void {
    const hit = this.hitAt(px, py);
    if (hit?.kind === 'finding') {
      const f = hit.finding;
      this.side.showDetails(null, `[${f.severity}] ${f.kind}: ${f.message}`);
      return;
    }
    if (hit?.kind !== 'lane') return;
    const lane = hit.lane;
    const tol = this.ix.x.invert(3) - this.ix.x.invert(0);
    void this.transport
      .request({ kind: 'requestDetails', lane: lane.id, tNs: hit.tNs, toleranceNs: tol })
      .then((reply) => {
        if (reply.kind !== 'details') return;
        const d = reply.details;
        this.setPicked(d === null ? undefined : { lane: d.lane, start: d.startNs, end: d.endNs });
        this.side.showDetails(d, d === null ? `${lane.label}: nothing here` : undefined);
        this.requestDraw();
      });
  }

  // ---- reveal, search, highlight ------------------------------------------------------------

  /**
   * "Show in Timeline": the interval in the middle half of the view, its lane shown, opened and
   * scrolled to, the interval selected (Details from the engine) so its connectors stand out.
   */
  private async reveal(startNs: number, endNs: number, lane?: string): Promise<void> {
    const a = Math.min(startNs, endNs);
    const b = Math.max(startNs, endNs);
    const pad = Math.max((b - a) / 2, 1);
    this.ix.selection = undefined;
    const meta = lane === undefined ? undefined : this.meta.lanes.find((l) => l.id === lane);
    if (meta !== undefined) this.showLane(meta);
    this.ix.zoomTo(a - pad, b + pad);
    if (meta === undefined) {
      this.setPicked(undefined);
      this.requestDraw();
      return;
    }
    const r = this.lanes.row(meta.id);
    if (r !== undefined)
      this.scroll.scrollTop = Math.max(
        0,
        this.findings.height + r.y + r.h / 2 - this.scroll.clientHeight / 2,
      );
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
    this.side.showDetails(d, `${meta.label}: nothing here`);
    this.requestDraw();
  }

  /** The selected interval, mirrored on the body for tests (`data-selected-lane`). */
  private setPicked(p: Picked | undefined): void {
    this.picked = p;
    if (p === undefined) delete this.doc.body.dataset['selectedLane'];
    else this.doc.body.dataset['selectedLane'] = p.lane;
    this.requestDraw();
  }

  private search(q: string): void {
    const query = q.trim().toLowerCase();
    if (query === '') {
      this.side.showSearch(undefined, () => undefined);
      this.setHighlight(undefined);
      return;
    }
    const hits = this.meta.lanes.filter(
      (l) =>
        l.pid !== undefined && (String(l.pid) === query || l.label.toLowerCase().includes(query)),
    );
    this.side.showSearch(hits, (l) => this.focusLane(l));
    if (hits[0] !== undefined) this.focusLane(hits[0]);
    else this.setHighlight(undefined);
  }

  private focusLane(l: LaneMeta): void {
    if (l.pid === undefined) return;
    this.showLane(l);
    this.setHighlight({ machine: l.machine, pid: l.pid });
    const r = this.lanes.row(l.id);
    if (r !== undefined)
      this.scroll.scrollTop = Math.max(
        0,
        this.findings.height + r.y - this.scroll.clientHeight / 3,
      );
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
      const [a, b] = this.ix.x.domain() as [number, number];
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

  // ---- drawing ------------------------------------------------------------------------------

  private visibleTiles(): Tile[] {
    const [a, b] = this.ix.x.domain() as [number, number];
    return this.tiles.visible(a, b, this.width);
  }

  /** The current view placed on a canvas (ExportSource). */
  view(
    tiles: readonly Tile[],
    at: { left: number; top: number; clipHeight: number; dpr: number },
  ): View {
    return {
      x: this.ix.x,
      width: this.width,
      ...at,
      theme: this.theme,
      tiles,
      picked: this.picked,
      highlight: this.highlight,
    };
  }

  async readyTiles(): Promise<readonly Tile[]> {
    // Ask for the view's tiles until none is missing (a fetch can reveal a finer need).
    for (let i = 0; i < 20; i++) {
      this.visibleTiles();
      if (this.tiles.pending() === 0) break;
      await this.tiles.settled();
    }
    return this.visibleTiles();
  }

  private requestDraw(): void {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      const t0 = performance.now();
      const drewTiles = this.draw();
      const t1 = performance.now();
      this.frames.push(t1 - t0);
      this.painted.firstFrameAt ??= performance.timeOrigin + t1;
      if (drewTiles && this.tiles.pending() === 0)
        this.painted.tilesAt ??= performance.timeOrigin + t1;
      if (this.frames.length > 2000) this.frames.splice(0, 1000);
    });
  }

  /** Draws a frame; true when it drew tiles (lanes with data, not only their layout). */
  private draw(): boolean {
    const tiles = this.visibleTiles();
    const dpr = window.devicePixelRatio || 1;
    const [a0, b0] = this.ix.x.domain() as [number, number];
    this.doc.body.dataset['viewStartNs'] = String(Math.round(a0));
    this.doc.body.dataset['viewEndNs'] = String(Math.round(b0));
    const paint = (c: HTMLCanvasElement, tracks: [Track, number][], left: number): void => {
      const ctx = c.getContext('2d')!;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, c.width, c.height);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      for (const [t, top] of tracks)
        t.render(ctx, this.view(tiles, { left, top, clipHeight: c.height / dpr, dpr }));
    };
    const top = -this.scroll.scrollTop;
    paint(
      this.canvas,
      [
        [this.findings, top],
        [this.lanes, top + this.findings.height],
        [this.links, top + this.findings.height],
      ],
      0,
    );
    paint(this.axisCanvas, [[this.axis, 0]], LABEL_W);
    if (this.dop !== undefined) paint(this.dopCanvas, [[this.dop, 0]], LABEL_W);
    this.ix.renderOverlay(this.doc, this.contentHeight(), this.scroll.scrollTop, this.fmt);
    const sel = this.ix.selection;
    this.side.showSelection(
      sel,
      sel === undefined ? new Map() : stateTotals(tiles, this.lanes.shown(), sel),
    );
    this.drawStatus();
    return tiles.length > 0;
  }

  private drawStatus(): void {
    const [a, b] = this.ix.x.domain() as [number, number];
    const t = this.ix.cursorNs;
    let s = `view ${this.fmt.dur(b - a)}`;
    if (t !== undefined) {
      s += `  |  host ${this.fmt.abs(this.meta.hostOriginAbs, t)}`;
      const g = this.meta.guestClock;
      if (g !== undefined) s += `  guest ${this.fmt.abs(g.guestOriginAbs, t / g.slope)}`;
    }
    this.status.textContent = s;
  }

  // ---- exports ------------------------------------------------------------------------------

  private async savePng(): Promise<void> {
    this.transport.save('vcpu-lens-timeline.png', 'image/png', await exportPng(this));
  }

  private async saveSvg(): Promise<void> {
    this.transport.save('vcpu-lens-timeline.svg', 'image/svg+xml', await exportSvg(this));
  }

  private async exportChromeTrace(): Promise<void> {
    const r = await this.transport.request({ kind: 'exportChromeTrace' });
    if (r.kind === 'chromeTrace')
      this.transport.save('vcpu-lens-trace.json', 'application/json', r.json);
  }
}
