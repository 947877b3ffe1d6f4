// The custom LSP messages between the extension and the language server (`vcpuLens/...`): each
// method once, as a RequestType / NotificationType carrying its params and result, so that a
// client or server using the wrong shape fails to compile. Both sides import this file (never
// the webview: the message types come from vscode-languageserver-protocol, node code).

import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { AnalyzeReport } from '../core/report/analyze';
import type { SimDashboardData, SimDashboardForm } from '../core/report/sim-dashboard';
import type { FleetRow } from '../core/view/fleet-table';
import type { FromWebview, ToWebview } from './webview';

/** Which machine a trace document is from (from its content, else its file name). */
export type TraceRole = 'host' | 'guest' | 'unknown';

/** Request: analyze a trace with its pair (explicit, or the `host.*` / `guest.*` sibling). */
export interface AnalyzeParams {
  uri: string;
}
export type AnalyzeResult =
  | {
      ok: true;
      hostUri: string;
      guestUri: string;
      report: AnalyzeReport;
      /** The advice and findings as lines of text, as the CLI prints them. */
      summary: string[];
      /** The whole analysis, and the advice alone, as Markdown for the editor's preview. */
      markdown: { analysis: string; advice: string };
    }
  | { ok: false; message: string };
export const ANALYZE = new RequestType<AnalyzeParams, AnalyzeResult, void>('vcpuLens/analyze');

/**
 * Request: pair a trace with the other machine's trace (remembered by the server per document);
 * true once the documents concerned are published again.
 */
export interface SetPairParams {
  uri: string;
  /** The other trace's URI, or null to forget the pair (and fall back to siblings). */
  pairUri: string | null;
}
export const SET_PAIR = new RequestType<SetPairParams, boolean, void>('vcpuLens/setPair');

/** Request: what the server knows of a document (role, pair, span), for the status bar. */
export interface DocStatusParams {
  uri: string;
}
export interface DocStatus {
  uri: string;
  parsed: boolean;
  role: TraceRole;
  events: number;
  /** Span of the trace in its unit, and that unit. */
  span: number;
  unit: 'ns' | 'count';
  pairUri: string | null;
  /**
   * With a pair: vCPU preemptions and preempted time over all vCPUs (host unit). A guest trace
   * alone (`guestOnly`): its inferred vCPU absences and their time instead, nobody's preemptions.
   */
  preemptions: number | null;
  preempted: number | null;
  guestOnly?: true;
  /** Parse diagnostics (all, including those past the cap). */
  problems: number;
  /** The findings published for it (beside the parse problems): Problems lists both. */
  findings: number;
  /** `span` and `preempted` as people read them (31.4 s, 6.245 ms; ticks with separators). */
  spanText: string;
  preemptedText: string | null;
}
export const DOC_STATUS = new RequestType<DocStatusParams, DocStatus, void>('vcpuLens/docStatus');

/**
 * Where a vCPU Lens diagnostic happened, as its `data` carries it: the pair whose timeline shows
 * it, the interval in model time (the timeline's units from its start, as `reveal` takes it)
 * and the lane it is on (core/view/lane-id.ts), when it is on one.
 */
export interface RevealTarget {
  hostUri: string;
  guestUri: string;
  startNs: number;
  endNs: number;
  lane?: string;
}

/** Request: the timeline interval of the vCPU Lens diagnostic at `range` of a document. */
export interface ShowInTimelineParams {
  uri: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
}
export const SHOW_IN_TIMELINE = new RequestType<ShowInTimelineParams, RevealTarget | null, void>(
  'vcpuLens/showInTimeline',
);

/**
 * Request: the trace line of a timeline interval (the webview's "Reveal in Trace"): the host or
 * guest trace the lane belongs to, and the 0-based line of the event that begins the interval.
 * For a `.dat` the line is in its `trace-cmd report`-style text (`vcpuLens/datText`).
 */
export interface TraceLineParams {
  /** A trace of the timeline's pair (the one the panel was opened on). */
  uri: string;
  lane: string;
  startNs: number;
  endNs: number;
}
export type TraceLineResult =
  { ok: true; uri: string; line: number; dat: boolean } | { ok: false; message: string };
export const TRACE_LINE = new RequestType<TraceLineParams, TraceLineResult, void>(
  'vcpuLens/traceLine',
);

/** Request: a `.dat` as `trace-cmd report` text (one header line, then one line per event). */
export interface DatTextParams {
  uri: string;
}
export const DAT_TEXT = new RequestType<DatTextParams, string | null, void>('vcpuLens/datText');

/** Notification (server → client): a document's status changed (parsed, paired, analysed). */
export interface StatusChangedParams {
  uri: string;
}
export const STATUS_CHANGED = new NotificationType<StatusChangedParams>('vcpuLens/statusChanged');

/**
 * Notification (client → server): read this trace from its file rather than from synced text.
 * The client sends it for a `file:` trace over `vcpuLens.largeFileThresholdMB` whose document is
 * unmodified (or not open yet: a tab still loading, `version` null), instead of `didOpen` with
 * 18 MB of text; again after the document reloaded from disk. The server reads it with the core
 * reader (worker threads for big files, progress with cancel, the memory cap) and watches it.
 */
export interface OpenFromDiskParams {
  uri: string;
  /** The open document's version, or null when it is not open as a document. */
  version: number | null;
}
export const OPEN_FROM_DISK = new NotificationType<OpenFromDiskParams>('vcpuLens/openFromDisk');

/** Notification (client → server): a trace opened with `openFromDisk` was closed. */
export interface CloseFromDiskParams {
  uri: string;
}
export const CLOSE_FROM_DISK = new NotificationType<CloseFromDiskParams>('vcpuLens/closeFromDisk');

/** Notification (server → client): a trace file the server read changed on disk and was read again. */
export interface FileChangedParams {
  uri: string;
}
export const FILE_CHANGED = new NotificationType<FileChangedParams>('vcpuLens/fileChanged');

/** Request: run the simulator (in the server process), write its traces, return the summary. */
export interface SimulateParams {
  preset: string;
  policy: 'spin' | 'block' | 'spin-then-block';
  dop: 'fixed' | 'dynamic' | 'pvsched' | 'oracle';
  seed: number;
  /**
   * Folder for host.txt, guest.txt and truth.json (created). Files there are never replaced:
   * when it holds other files of those names, the run goes to a fresh `outDir-2`, `outDir-3`, ...
   * (the result's `outDir`); when it holds exactly this run's files, they are used as they are.
   */
  outDir: string;
  /** Also run the talk's five runs (spin/block, with/without preemption, pvsched DoP). */
  compare: boolean;
}
export type SimulateResult =
  | {
      ok: true;
      wallS: number;
      /** The folder written: `outDir`, or a fresh one beside it (said in `summary`). */
      outDir: string;
      hostPath: string;
      guestPath: string;
      truthPath: string;
      compare: { name: string; wallS: number }[] | null;
      summary: string[];
    }
  | { ok: false; message: string; cancelled?: boolean };
export const SIMULATE = new RequestType<SimulateParams, SimulateResult, void>('vcpuLens/simulate');

/**
 * Request: one timeline webview message for a trace (an open document or a file, e.g. a `.dat`)
 * and its pair; the server answers from its level-of-detail index, as the report's in-page
 * provider does. `saveFile` never reaches the server (the extension saves).
 */
export interface TimelineParams {
  uri: string;
  body: FromWebview;
}
export type TimelineResult = ToWebview;
export const TIMELINE = new RequestType<TimelineParams, TimelineResult, void>('vcpuLens/timeline');

/**
 * Notification: a timeline view of `uri` was opened; the server starts reading the pair and
 * building its timeline now, while the view's page loads, so the page's `ready` finds it done or
 * under way (the work is shared, never done twice).
 */
export interface PrepareTimelineParams {
  uri: string;
}
export const PREPARE_TIMELINE = new NotificationType<PrepareTimelineParams>(
  'vcpuLens/prepareTimeline',
);

/** Request: write the standalone HTML report or the Perfetto JSON of a trace and its pair. */
export interface ExportParams {
  uri: string;
  kind: 'html' | 'chrome-trace';
  /** Where to write. */
  path: string;
  /** Replace an existing file (the user confirmed it); otherwise an existing file is kept. */
  overwrite: boolean;
}
export type ExportResult =
  { ok: true; path: string; bytes: number } | { ok: false; message: string; exists?: boolean };
export const EXPORT = new RequestType<ExportParams, ExportResult, void>('vcpuLens/export');

/** Settings the server reads (section `vcpuLens`). */
export interface ServerSettings {
  /** vCPU → host thread id, e.g. "0=3315,1=3316" (empty: identify from the trace). */
  vcpuMap: string;
  /** host - guest timestamp offset in the traces' unit (empty: estimate). */
  clockOffset: string;
  maxDiagnostics: number;
  /** Severity of finding diagnostics. */
  findingsSeverity: 'error' | 'warning' | 'information' | 'hint';
  /** The longest this many preemptions become line diagnostics; the rest one "… and N more". */
  maxStallDiagnostics: number;
  /** The most memory a trace read from disk may take, in MB (0: no cap). */
  memoryCapMB: number;
  /** The TSC rate (Hz) of raw-TSC traces (0: the trace's own, or none). */
  tscHz: number;
}

export const DEFAULT_SERVER_SETTINGS: ServerSettings = {
  vcpuMap: '',
  clockOffset: '',
  maxDiagnostics: 1000,
  findingsSeverity: 'warning',
  maxStallDiagnostics: 3,
  memoryCapMB: 0,
  tscHz: 0,
};

/**
 * Request: the simulator dashboard's results for its form: the talk's five runs, one run per
 * policy of the form (with its DoP, under host preemption) and the sweep, if any. Nothing is
 * written; cancelling stops between runs.
 */
export type SimDashboardParams = SimDashboardForm;
export type SimDashboardResult =
  { ok: true; data: SimDashboardData } | { ok: false; message: string; cancelled?: boolean };
export const SIM_DASHBOARD = new RequestType<SimDashboardParams, SimDashboardResult, void>(
  'vcpuLens/simDashboard',
);

/**
 * Request: the host and guest traces (trace-cmd report text) of one dashboard run, for the
 * extension's read-only `vcpu-lens-sim:` documents (never files in the workspace).
 */
export interface SimRunTracesParams {
  form: SimDashboardForm;
  /** A CompareRun name or an OwnRun id (`own:<policy>:<dop>`). */
  run: string;
}
export type SimRunTracesResult =
  | { ok: true; host: string; guest: string; wallS: number }
  | { ok: false; message: string; cancelled?: boolean };
export const SIM_RUN_TRACES = new RequestType<SimRunTracesParams, SimRunTracesResult, void>(
  'vcpuLens/simRunTraces',
);

/**
 * Request: every pair folder (`host.*` + `guest.*`, core/io/pair-folder.ts) at or under the
 * folders, analysed one after another with work-done progress the user can cancel (as can the
 * request's own token). A pair that fails is a row with its reason; the others go on.
 */
export interface AnalyzeFolderParams {
  /** Folders on disk (paths, not URIs) to search for pair folders. */
  folders: string[];
}
export type AnalyzeFolderResult =
  | {
      ok: true;
      /** One row per pair found, in path order; cancelled: the pairs done before it. */
      rows: FleetRow[];
      cancelled: boolean;
    }
  | { ok: false; message: string };
export const ANALYZE_FOLDER = new RequestType<AnalyzeFolderParams, AnalyzeFolderResult, void>(
  'vcpuLens/analyzeFolder',
);
