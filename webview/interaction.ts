// Zoom, pan, keys and the pointer: d3's zoom keeps a base scale over the model's span and derives
// the visible scale per event; Shift+drag selects a span, a click picks what is under it.

import * as d3 from 'd3';
import type { Format } from './format';

export interface InteractionHost {
  readonly overlay: SVGSVGElement;
  readonly spanNs: number;
  /** The view or the selection changed: redraw (and remember the view). */
  changed(): void;
  pick(px: number, py: number): void;
  hover(e: PointerEvent | undefined, px: number, py: number): void;
  /** Esc: clear what is selected. */
  clear(): void;
}

export class Interaction {
  baseX = d3.scaleLinear();
  x = d3.scaleLinear();
  selection: { start: number; end: number } | undefined;
  cursorNs: number | undefined;
  private width = 1;
  private readonly zoom: d3.ZoomBehavior<HTMLElement, unknown>;
  private sized = false;

  constructor(private readonly host: InteractionHost) {
    this.zoom = d3
      .zoom<HTMLElement, unknown>()
      .filter((e: Event) => {
        if (e.type === 'wheel') return !(e as WheelEvent).shiftKey;
        const me = e as MouseEvent;
        return !me.shiftKey && !me.button && e.type !== 'dblclick';
      })
      .on('zoom', (e: d3.D3ZoomEvent<HTMLElement, unknown>) => {
        this.x = e.transform.rescaleX(this.baseX);
        this.host.changed();
      });
    d3.select(host.overlay as unknown as HTMLElement).call(this.zoom);
    this.setupPointer();
  }

  /** The plot is w px wide and h px tall: keep the visible span (the model's span the first time). */
  resize(w: number, h: number): void {
    const [a, b] = this.x.domain() as [number, number];
    this.width = w;
    const span = this.host.spanNs;
    this.baseX = d3.scaleLinear().domain([0, span]).range([0, w]);
    this.zoom
      .scaleExtent([1, Math.max(1, span / w)])
      .translateExtent([
        [0, -Infinity],
        [w, Infinity],
      ])
      .extent([
        [0, 0],
        [w, h],
      ]);
    if (this.sized) this.zoomTo(a, b);
    else this.x = this.baseX.copy();
    this.sized = true;
  }

  zoomTo(a: number, b: number): void {
    const span = this.host.spanNs;
    const lo = Math.max(0, Math.min(a, b));
    const hi = Math.min(span, Math.max(a, b));
    const w = Math.max(hi - lo, Math.max(1, this.width));
    const t = d3.zoomIdentity.scale(span / w).translate(-this.baseX(lo), 0);
    d3.select(this.host.overlay as unknown as HTMLElement).call(this.zoom.transform, t);
    this.x = t.rescaleX(this.baseX);
    this.host.changed();
  }

  reset(): void {
    this.zoomTo(0, this.host.spanNs);
  }

  zoomToSelection(): void {
    if (this.selection === undefined) return;
    const s = this.selection;
    this.selection = undefined;
    this.zoomTo(s.start, s.end);
  }

  onKey(e: KeyboardEvent): void {
    const t = e.target as HTMLElement | null;
    if (t !== null && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT'))
      return;
    const [a, b] = this.x.domain() as [number, number];
    const span = b - a;
    const at = this.cursorNs ?? (a + b) / 2;
    const zoomBy = (f: number): void => this.zoomTo(at - (at - a) / f, at + (b - at) / f);
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
        const nb = Math.min(this.host.spanNs, b + span * 0.2);
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
        this.host.clear();
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  /** The cursor line, the selection's band and its Δ, in the SVG overlay (totalH px tall). */
  renderOverlay(doc: Document, totalH: number, scrollTop: number, fmt: Format): void {
    const x = this.x;
    const ns = 'http://www.w3.org/2000/svg';
    const ov = this.host.overlay;
    ov.replaceChildren();
    const set = (e: Element, a: Record<string, string | number>): void => {
      for (const [k, v] of Object.entries(a)) e.setAttribute(k, String(v));
    };
    const cur = this.cursorNs;
    if (cur !== undefined) {
      const l = doc.createElementNS(ns, 'line');
      set(l, { class: 'vl-cursor-line', x1: x(cur), x2: x(cur), y1: 0, y2: totalH });
      ov.append(l);
    }
    const sel = this.selection;
    if (sel !== undefined) {
      const r = doc.createElementNS(ns, 'rect');
      const w = Math.max(1, x(sel.end) - x(sel.start));
      set(r, { class: 'vl-selection', x: x(sel.start), width: w, y: 0, height: totalH });
      const t = doc.createElementNS(ns, 'text');
      set(t, { class: 'vl-ruler-text', x: x(sel.end) + 4, y: scrollTop + 14 });
      t.textContent = `Δ ${fmt.dur(sel.end - sel.start)}`;
      ov.append(r, t);
    }
  }

  private setupPointer(): void {
    const ov = this.host.overlay;
    let rulerFrom: number | undefined;
    let downAt: { x: number; y: number } | undefined;
    ov.addEventListener('pointermove', (e) => {
      const [px, py] = d3.pointer(e, ov);
      this.cursorNs = this.x.invert(px);
      if (rulerFrom !== undefined) {
        const t = this.x.invert(px);
        this.selection = { start: Math.min(rulerFrom, t), end: Math.max(rulerFrom, t) };
      }
      this.host.hover(e, px, py);
      this.host.changed();
    });
    ov.addEventListener('pointerleave', () => {
      this.cursorNs = undefined;
      this.host.hover(undefined, 0, 0);
      this.host.changed();
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
        const s = this.selection;
        if (s !== undefined && this.x(s.end) - this.x(s.start) < 2) this.selection = undefined;
        this.host.changed();
        return;
      }
      if (downAt !== undefined && Math.abs(px - downAt.x) < 3 && Math.abs(py - downAt.y) < 3)
        this.host.pick(px, py);
      downAt = undefined;
    });
  }
}
