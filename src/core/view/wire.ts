// The messages between the timeline webview and whoever answers it (the extension host in VS Code,
// or the in-page provider of the standalone HTML report), and the shapes they carry. Defined here,
// in the engine that answers them, because core imports nothing outside core; src/protocol/
// webview.ts re-exports them for the webview and the extension. Types only; versioned by
// PROTOCOL_VERSION. Times are model-relative integers in the host trace's unit (ns, or ticks for
// counter clocks): 0 is the start of the model (see `TimelineMeta.hostOriginAbs`). Trace-derived
// strings are untrusted.

import type { LaneGroup, PROTOCOL_VERSION } from './states';

/** Bumped when a message changes shape; the webview says which version it speaks in `ready`. */
export type ProtocolVersion = typeof PROTOCOL_VERSION;

/** Every message: an id, the id it answers, and a body discriminated on `kind`. */
export interface Envelope<B> {
  id: number;
  inReplyTo?: number;
  body: B;
}

/** Webview → provider. */
export type FromWebview =
  /** `firstView`: how the page will open, for the windows it draws first (first-view.ts). */
  | { kind: 'ready'; protocol: ProtocolVersion; firstView?: FirstView }
  | ({ kind: 'requestWindow' } & WindowRequest)
  | { kind: 'requestDetails'; lane: string; tNs: number; toleranceNs: number }
  | { kind: 'exportChromeTrace' }
  /** The advice's parts of the meta, when `init` said they come later (`advicePending`). */
  | { kind: 'requestAdvice' }
  | { kind: 'saveFile'; name: string; mime: string; base64: string }
  /** Details' "Reveal in Trace": open the trace line of the interval on `lane` at [startNs, endNs). */
  | { kind: 'revealInTrace'; lane: string; startNs: number; endNs: number };

/** Provider → webview. */
export type ToWebview =
  /** `windows`: the first windows the page's `firstView` asks for, answered (first-view.ts). */
  | { kind: 'init'; meta: TimelineMeta; windows?: WindowReply[] }
  | { kind: 'advice'; advice: AdviceMeta }
  | ({ kind: 'window' } & WindowReply)
  | { kind: 'details'; details: DetailsWire | null }
  | { kind: 'chromeTrace'; json: string }
  | { kind: 'error'; message: string }
  /**
   * "Show in Timeline": zoom to [startNs, endNs) (the view pads it) and select the interval on
   * `lane` there, emphasising its stall connectors. Sent by the editor side, unasked.
   */
  | { kind: 'reveal'; startNs: number; endNs: number; lane?: string };

export type FromWebviewMessage = Envelope<FromWebview>;
export type ToWebviewMessage = Envelope<ToWebview>;

/**
 * How a page will open, sent with `ready`: its canvas width in CSS pixels; the span, collapsed
 * groups and highlight of its saved view (none: the timeline's focus, the groups collapsed by
 * default, no highlight).
 */
export interface FirstView {
  widthPx: number;
  startNs?: number;
  endNs?: number;
  collapsed?: LaneGroup[];
  highlight?: { machine: 'host' | 'guest'; pid: number };
}

/** `requestWindow`: the lanes' summaries over [startNs, endNs) at one resolution. */
export interface WindowRequest {
  startNs: number;
  endNs: number;
  /** A power of two, in model units per pixel. */
  resolutionNs: number;
  lanes: readonly string[];
  /** Also return where this task ran on CPU lanes. */
  highlight?: { machine: 'host' | 'guest'; pid: number };
}

/** The answer to `requestWindow` (as `window`). */
export interface WindowReply {
  startNs: number;
  endNs: number;
  resolutionNs: number;
  lanes: LaneWindow[];
  links: LinkWire[];
  /** Per CPU lane id: where the highlighted task ran (merged at the resolution). */
  highlight?: Record<string, { start: number[]; end: number[] }>;
}

export interface LaneMeta {
  /** Stable id, e.g. `vcpu:2`, `gthread:563`. */
  id: string;
  group: LaneGroup;
  /** Trace-derived (task names): insert as text only. */
  label: string;
  machine: 'host' | 'guest';
  /** The task a task lane follows; the CPU a CPU lane shows. */
  pid?: number;
  cpu?: number;
  /** For vCPU lanes: the guest CPU number, which is also the guest CPU lane's `cpu`. */
  vcpu?: number;
  /** A guest thread of the analysed program (the timeline's "program threads" filter). */
  program?: true;
}

export interface FindingMeta {
  kind: string;
  severity: 'high' | 'medium' | 'low';
  startNs: number;
  endNs: number;
  message: string;
}

export interface DopSeries {
  /** Bucket starts (model time) and width. */
  startNs: number[];
  widthNs: number;
  /** Mean program threads wanting a CPU (running, runnable or stalled) in the guest. */
  requested: number[];
  /** Mean vCPUs actually running guest code or the VMM. */
  running: number[];
  /** The advice's DoP for the phase holding the bucket. */
  recommended: number[];
  threads: number;
  vcpus: number;
}

/**
 * The advice's what-if as a chart: predicted wall time (ns) per thread count, one series per
 * wait policy with its range, the traced configuration (measured), the chosen one and the
 * pvsched rule's candidate marked (core/whatif/chart.ts draws it as SVG for the report).
 */
export interface WhatIfChart {
  threads: number[];
  series: {
    policy: 'spin' | 'block' | 'spin-then-block';
    /** Per entry of `threads`: predicted wall, and the range the traces allow. */
    wallNs: number[];
    lowNs: number[];
    highNs: number[];
  }[];
  measured: { threads: number; policy: 'spin' | 'block' | 'spin-then-block'; wallNs: number };
  chosen: { threads: number; policy: 'spin' | 'block' | 'spin-then-block' };
  pvsched: { threads: number; policy: 'spin' | 'block' | 'spin-then-block' };
  /** Predicted old/new, traced configuration → chosen, with its range. */
  speedup: { value: number; low: number; high: number };
}

/** Everything the webview needs before it pulls windows: lanes, span, summary, findings. */
export interface TimelineMeta {
  protocol: 1;
  title: string;
  unit: 'ns' | 'count';
  /** The model's span: [0, spanNs]. */
  spanNs: number;
  /** Absolute host timestamp (trace unit, decimal string) of model time 0. */
  hostOriginAbs: string;
  /** guest absolute = guestOriginAbs + (model time) / slope; undefined without a clock map. */
  guestClock?: { guestOriginAbs: string; slope: number };
  /** Where both traces overlap (the analysis window): the initial view. */
  focus?: { startNs: number; endNs: number };
  lanes: LaneMeta[];
  findings: FindingMeta[];
  dop?: DopSeries;
  /** The advice panel's chart (absent when the advice has no what-if). */
  whatIf?: WhatIfChart;
  /** Short summary lines (advice, program, clock): trace-derived, text only. */
  summary: { heading: string; lines: string[] }[];
  /**
   * The advice (its what-if runs the simulator) is not in this meta yet: `dop` and `whatIf` are
   * absent and `summary` lacks it. The page draws the lanes first and then asks for it
   * (`requestAdvice`), which answers the three as they will be.
   */
  advicePending?: true;
  /**
   * A guest trace alone (no host trace): vCPU absence is inferred (state `absent`, drawn
   * hatched), and there are no host CPU lanes (the host is not known).
   */
  guestOnly?: true;
}

/** What the advice adds to the meta (the DoP lane, the what-if chart, the summary with it). */
export type AdviceMeta = Pick<TimelineMeta, 'dop' | 'whatIf' | 'summary'>;

/**
 * One lane of a window, per bucket of `resolutionNs` from the window's start: the dominant state
 * (by time covered) and the intervals begun, run-length encoded. A window of P buckets costs at
 * most P runs whatever the trace's size.
 */
export interface LaneWindow {
  lane: string;
  /** Run lengths in buckets; they add up to the window's bucket count. */
  runs: number[];
  /** State of each run (NO_STATE: nothing there). */
  states: number[];
  /** Intervals that begin in each run. */
  counts: number[];
}

/** A stall drawn as a connector: guest thread lane → vCPU lane → host CPU lane (the preemptor). */
export interface LinkWire {
  startNs: number;
  endNs: number;
  vcpu: number;
  guestPid: number;
  guestComm: string;
  pcpu: number;
  preemptorPid: number;
  preemptorComm: string;
  kind: 'preempted' | 'waiting';
}

export interface DetailsWire {
  lane: string;
  state: string;
  startNs: number;
  endNs: number;
  /** Who ran (CPU lanes) or where (task lanes): text only. */
  lines: string[];
  links: LinkWire[];
}
