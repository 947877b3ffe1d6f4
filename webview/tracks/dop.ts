// The degree-of-parallelism chart under the lanes: per bucket, the program threads wanting a CPU,
// the vCPUs running, and the advice's DoP, as step lines over the same time scale.

import type { DopSeries } from '../../src/protocol/webview';
import { ViewState } from '../../src/core/view/states';
import type { Hit, Track, View } from '../track';

const SERIES = [
  { key: 'requested', label: 'threads wanting a CPU', state: ViewState.waiting, dash: [] },
  { key: 'running', label: 'vCPUs running', state: ViewState.running, dash: [] },
  { key: 'recommended', label: 'recommended DoP', state: ViewState.vcpu, dash: [4, 2] },
] as const;

export class DopTrack implements Track {
  readonly height = 110;
  private last: View | undefined;

  constructor(private readonly d: DopSeries) {}

  private maxY(): number {
    const d = this.d;
    return Math.max(d.threads, d.vcpus, ...d.requested, ...d.running, 1) * 1.1;
  }

  private y(v: number): number {
    return this.height - 6 - (v / this.maxY()) * (this.height - 24);
  }

  render(ctx: CanvasRenderingContext2D, v: View): void {
    this.last = v;
    const d = this.d;
    const top = v.top;
    ctx.save();
    ctx.beginPath();
    ctx.rect(v.left, top, v.width, this.height);
    ctx.clip();
    for (const s of SERIES) {
      const vals = d[s.key];
      ctx.beginPath();
      let started = false;
      for (let i = 0; i < vals.length; i++) {
        const x0 = v.x(d.startNs[i]!);
        const x1 = v.x(d.startNs[i]! + d.widthNs);
        if (x1 < -5 || x0 > v.width + 5) continue;
        const yy = top + this.y(vals[i]!);
        if (started) ctx.lineTo(v.left + Math.max(-5, x0), yy);
        else ctx.moveTo(v.left + Math.max(-5, x0), yy);
        started = true;
        ctx.lineTo(v.left + Math.min(v.width + 5, x1), yy);
      }
      ctx.strokeStyle = v.theme.states[s.state] || '#000';
      ctx.lineWidth = 1.5;
      ctx.setLineDash([...s.dash]);
      ctx.stroke();
    }
    ctx.restore();
    // Left: the y ticks and the legend.
    ctx.font = '11px sans-serif';
    ctx.fillStyle = v.theme.muted;
    ctx.strokeStyle = v.theme.border;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(v.left - 0.5, top + this.y(0));
    ctx.lineTo(v.left - 0.5, top + this.y(this.maxY()));
    const step = Math.max(1, Math.ceil(this.maxY() / 4));
    for (let n = 0; n <= this.maxY(); n += step) {
      const yy = Math.round(top + this.y(n)) + 0.5;
      ctx.moveTo(v.left - 5, yy);
      ctx.lineTo(v.left, yy);
      const label = String(n);
      ctx.fillText(label, v.left - 8 - ctx.measureText(label).width, yy + 4);
    }
    ctx.stroke();
    SERIES.forEach((s, i) => {
      const yy = top + 14 + i * 14;
      ctx.fillStyle = v.theme.muted;
      ctx.fillText(s.label, 8, yy);
      ctx.beginPath();
      ctx.moveTo(150, yy - 4);
      ctx.lineTo(180, yy - 4);
      ctx.strokeStyle = v.theme.states[s.state] || '#000';
      ctx.lineWidth = 2;
      ctx.setLineDash([...s.dash]);
      ctx.stroke();
      ctx.setLineDash([]);
    });
  }

  hit(x: number): Hit | undefined {
    const v = this.last;
    if (v === undefined) return undefined;
    const t = v.x.invert(x);
    const d = this.d;
    const i = Math.floor((t - (d.startNs[0] ?? 0)) / d.widthNs);
    if (i < 0 || i >= d.startNs.length) return undefined;
    return {
      kind: 'text',
      text: `${d.requested[i]!.toFixed(1)} threads wanting a CPU · ${d.running[i]!.toFixed(1)} vCPUs running · recommended DoP ${d.recommended[i]!}`,
    };
  }
}
