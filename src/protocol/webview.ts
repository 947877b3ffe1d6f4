// The messages between the timeline webview and whoever answers it: the extension host in VS Code,
// or the in-page provider of the standalone HTML report. Types only; versioned by PROTOCOL_VERSION.
// Times are model-relative integers in the host trace's unit (ns, or ticks for counter clocks):
// 0 is the start of the model (see `TimelineMeta.hostOriginAbs`).

import type { LaneGroup, ViewState } from '../core/view/states';
import type {
  DetailsWire,
  DopSeries,
  FindingMeta,
  LaneMeta,
  LaneWindow,
  LinkWire,
  TimelineMeta,
} from '../core/view/wire';

export type { LaneGroup, ViewState };
export type { DetailsWire, DopSeries, FindingMeta, LaneMeta, LaneWindow, LinkWire, TimelineMeta };
/** Bumped when a message changes shape; the webview says which version it speaks in `ready`. */
export type ProtocolVersion = 1;

/** Every message: an id, the id it answers, and a body discriminated on `kind`. */
export interface Envelope<B> {
  id: number;
  inReplyTo?: number;
  body: B;
}

/** Webview → provider. */
export type FromWebview =
  | { kind: 'ready'; protocol: ProtocolVersion }
  | {
      kind: 'requestWindow';
      startNs: number;
      endNs: number;
      /** A power of two, in model units per pixel. */
      resolutionNs: number;
      lanes: string[];
      /** Also return where this task ran on CPU lanes. */
      highlight?: { machine: 'host' | 'guest'; pid: number };
    }
  | { kind: 'requestDetails'; lane: string; tNs: number; toleranceNs: number }
  | { kind: 'exportChromeTrace' }
  | { kind: 'saveFile'; name: string; mime: string; base64: string };

/** Provider → webview. */
export type ToWebview =
  | { kind: 'init'; meta: TimelineMeta }
  | {
      kind: 'window';
      startNs: number;
      endNs: number;
      resolutionNs: number;
      lanes: LaneWindow[];
      links: LinkWire[];
      /** Per CPU lane id: where the highlighted task ran (merged at the resolution). */
      highlight?: Record<string, { start: number[]; end: number[] }>;
    }
  | { kind: 'details'; details: DetailsWire | null }
  | { kind: 'chromeTrace'; json: string }
  | { kind: 'error'; message: string };

export type FromWebviewMessage = Envelope<FromWebview>;
export type ToWebviewMessage = Envelope<ToWebview>;

/** What the webview persists across hide/show (VS Code `setState`, sessionStorage in the report). */
export interface ViewStateSaved {
  startNs: number;
  endNs: number;
  collapsed: LaneGroup[];
  highlight?: { machine: 'host' | 'guest'; pid: number };
  scrollTop: number;
}
