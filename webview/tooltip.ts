// The hover tooltip: a finding's text, the DoP values, or a lane's interval under the pointer as
// the engine has it (the same answer Details gives, not the drawn run: a run is whole buckets, so
// its length is not the interval's; that was the "4.260 ms" vs "4.224 ms" of issue #20).

import type { Format } from './format';
import type { Hit } from './track';
import type { Transport } from './transport';

export class Tooltip {
  private token = 0;

  constructor(
    private readonly el: HTMLElement,
    private readonly transport: Transport,
    private readonly fmt: Format,
  ) {}

  /** Shows what `hit` is at the pointer of `e` (hides it without one); tolNs: 3 px in model time. */
  show(e: PointerEvent | undefined, hit: Hit | undefined, tolNs: number): void {
    const token = ++this.token;
    const put = (text: string): void => {
      const tip = this.el;
      if (token !== this.token || e === undefined || text === '') {
        tip.style.display = 'none';
        return;
      }
      tip.textContent = text;
      tip.style.display = 'block';
      tip.style.left = `${e.clientX + 12}px`;
      tip.style.top = `${e.clientY + 12}px`;
    };
    if (e === undefined || hit === undefined || hit.kind === 'group') return put('');
    if (hit.kind === 'finding')
      return put(`[${hit.finding.severity}] ${hit.finding.kind}: ${hit.finding.message}`);
    if (hit.kind === 'text') return put(hit.text);
    const lane = hit.lane;
    void this.transport
      .request({ kind: 'requestDetails', lane: lane.id, tNs: hit.tNs, toleranceNs: tolNs })
      .then((r) => {
        const d = r.kind === 'details' ? r.details : null;
        put(
          d === null
            ? lane.label
            : `${lane.label}: ${d.state}, ${this.fmt.dur(d.endNs - d.startNs)}`,
        );
      });
  }
}
