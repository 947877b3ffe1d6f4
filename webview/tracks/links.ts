// The stalls as connectors over the state lanes: a vertical line at the stall's start through the
// guest thread, its vCPU, the host CPU and the co-runner that preempted it. The selected interval's
// stalls are drawn thick and outlined, the others faint.

import type { LinkWire } from '../../src/protocol/webview';
import { laneId, parseLaneId } from '../../src/core/view/lane-id';
import { ViewState } from '../../src/core/view/states';
import type { Hit, Picked, Track, View } from '../track';
import type { StateLanesTrack } from './state-lanes';

/** Whether a stall belongs to the interval selected on a lane: that lane's, overlapping in time. */
export function linkOfSelection(k: LinkWire, sel: Picked): boolean {
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

export class LinksTrack implements Track {
  /** Drawn over the lanes: takes no height of its own. */
  readonly height = 0;
  /** The connectors the last frame drew emphasised, as `vcpu:startNs`. */
  emphasised: string[] = [];

  constructor(private readonly lanes: StateLanesTrack) {}

  private center(id: string): number | undefined {
    const r = this.lanes.row(id);
    return r === undefined ? undefined : r.y + r.h / 2;
  }

  render(ctx: CanvasRenderingContext2D, v: View): void {
    const seen = new Set<string>();
    const color = v.theme.states[ViewState.preempted] || '#d55e00';
    const line = new Path2D();
    const dots = new Path2D();
    const strong = new Path2D();
    const sel = v.picked;
    this.emphasised = [];
    for (const tile of v.tiles) {
      for (const k of tile.reply.links) {
        const key = `${k.vcpu}:${k.startNs}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const px = v.x(k.startNs);
        if (px < 0 || px > v.width) continue;
        const ys = [
          this.center(laneId.guestThread(k.guestPid)),
          this.center(laneId.vcpu(k.vcpu)),
          k.kind === 'preempted' ? this.center(laneId.hostCpu(k.pcpu)) : undefined,
          k.kind === 'preempted' ? this.center(laneId.hostThread(k.preemptorPid)) : undefined,
        ]
          .filter((y): y is number => y !== undefined)
          .map((y) => y + v.top);
        if (ys.length < 2) continue;
        const y0 = Math.min(...ys);
        const y1 = Math.max(...ys);
        if (y1 < 0 || y0 > v.clipHeight) continue;
        const mine = sel !== undefined && linkOfSelection(k, sel);
        if (mine) this.emphasised.push(key);
        const p = mine ? strong : line;
        const X = v.left + px + 0.5;
        p.moveTo(X, y0);
        p.lineTo(X, y1);
        for (const y of ys) dots.rect(X - 2, y - 2, 4, 4);
      }
    }
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 1;
    ctx.globalAlpha = 0.55;
    ctx.stroke(line);
    ctx.globalAlpha = 1;
    ctx.fill(dots);
    // The selected interval's stalls: solid, thick, outlined in the highlight colour.
    ctx.lineWidth = 5;
    ctx.strokeStyle = v.theme.highlight;
    ctx.stroke(strong);
    ctx.lineWidth = 3;
    ctx.strokeStyle = color;
    ctx.stroke(strong);
  }

  hit(): Hit | undefined {
    return undefined;
  }
}
