// The time axis: ticks relative to the model's start, labelled with the duration formatter ("4 s",
// "250 ms", or ticks with separators on counter clocks), the unit said once at the left, and the
// last label kept inside the plot.

import type { Format } from '../format';
import type { Hit, Track, View } from '../track';

export class AxisTrack implements Track {
  readonly height = 26;

  constructor(private readonly fmt: Format) {}

  ticks(v: View): number[] {
    return v.x.ticks(Math.max(2, Math.floor(v.width / 110)));
  }

  render(ctx: CanvasRenderingContext2D, v: View): void {
    const base = v.top + this.height - 1;
    ctx.strokeStyle = v.theme.border;
    ctx.fillStyle = v.theme.muted;
    ctx.lineWidth = 1;
    ctx.font = '11px sans-serif';
    ctx.textBaseline = 'alphabetic';
    ctx.beginPath();
    ctx.moveTo(v.left, base + 0.5);
    ctx.lineTo(v.left + v.width, base + 0.5);
    for (const t of this.ticks(v)) {
      const X = Math.round(v.left + v.x(t)) + 0.5;
      ctx.moveTo(X, base);
      ctx.lineTo(X, base - 6);
      const label = this.fmt.tick(t);
      const w = ctx.measureText(label).width;
      // Centred on the tick, but never past the plot's edges.
      const tx = Math.min(v.left + v.width - w - 1, Math.max(v.left + 1, X - w / 2));
      ctx.fillText(label, tx, base - 9);
    }
    ctx.stroke();
    ctx.fillText(this.fmt.axisUnit(), 4, base - 9, v.left - 8);
  }

  hit(): Hit | undefined {
    return { kind: 'text', text: this.fmt.axisUnit() };
  }
}
