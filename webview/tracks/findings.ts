// The findings lane: each finding a short bar over its span, in three rows so neighbours stay
// apart, coloured by severity (the preempted / waiting / sleeping colours of the palette).

import type { FindingMeta } from '../../src/protocol/webview';
import { ViewState } from '../../src/core/view/states';
import type { Hit, Track, View } from '../track';

const SEVERITY_STATE = {
  high: ViewState.preempted,
  medium: ViewState.waiting,
  low: ViewState.sleeping,
};

export class FindingsTrack implements Track {
  readonly height = 20;
  private last: View | undefined;

  constructor(readonly list: readonly FindingMeta[]) {}

  render(ctx: CanvasRenderingContext2D, v: View): void {
    this.last = v;
    if (v.top + this.height <= 0 || v.top >= v.clipHeight) return;
    this.list.forEach((f, i) => {
      const x0 = Math.max(-2, v.x(f.startNs));
      const x1 = Math.min(v.width + 2, v.x(f.endNs));
      if (x1 < -2 || x0 > v.width + 2) return;
      ctx.fillStyle = v.theme.states[SEVERITY_STATE[f.severity]] || '#d55e00';
      ctx.fillRect(v.left + x0, v.top + 3 + (i % 3) * 5, Math.max(3, x1 - x0), 4);
    });
  }

  hit(x: number): Hit | undefined {
    const v = this.last;
    if (v === undefined) return undefined;
    const t = v.x.invert(x);
    const tol = v.x.invert(4) - v.x.invert(0);
    const f = this.list.find((q) => t >= q.startNs - tol && t <= q.endNs + tol);
    return f === undefined ? undefined : { kind: 'finding', finding: f };
  }
}
