// The requests the server answers: hover, symbols, CodeLens and definitions on trace lines, and
// the `vcpuLens/...` requests (pair, status, analyze, timeline, export, simulate, a folder's
// pairs). Answers wait for a parse in flight: VS Code caches an empty outline (or CodeLens) per
// document version, so answering "nothing yet" for a trace still being read would stick.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { CancellationToken, CodeAction, CodeActionKind } from 'vscode-languageserver';
import { formatClockDuration } from '../core/model/time';
import { analyzeReport } from '../core/report/analyze';
import { renderHtmlReport } from '../core/report/html';
import { answerView } from '../core/view/answer';
import { chromeTrace } from '../core/view/chrome-trace';
import type { TimelineIndex } from '../core/view/lod';
import { openLanes } from '../core/view/first-view';
import { initiallyCollapsed } from '../core/view/states';
import {
  ANALYZE,
  ANALYZE_FOLDER,
  DAT_TEXT,
  DatTextParams,
  AnalyzeParams,
  AnalyzeResult,
  DOC_STATUS,
  DocStatus,
  DocStatusParams,
  EXPORT,
  ExportParams,
  ExportResult,
  PREPARE_TIMELINE,
  PrepareTimelineParams,
  RevealTarget,
  SET_PAIR,
  SetPairParams,
  SHOW_IN_TIMELINE,
  ShowInTimelineParams,
  SIMULATE,
  SimulateParams,
  TIMELINE,
  TimelineParams,
  TRACE_LINE,
  TraceLineParams,
  TimelineResult,
  TraceRole,
} from '../protocol/lsp-ext';
import { analyzeFolder } from './analyze-folder';
import { filePath, nameOf, Server } from './context';
import { NO_PAIR } from './pairing';
import { renderReport } from './report-markdown';
import { runSimulation } from './simulate';
import { datText, traceLine } from './trace-line';
import { codeLenses, definition, hover, symbols } from './trace-doc';

/** The answers on a trace's lines: hover, outline, CodeLens, go to definition. */
export function answerOnLines(s: Server): void {
  const { connection, states } = s;
  connection.onHover(async (p) => {
    await s.parsedOrNot(p.textDocument.uri);
    const st = states.get(p.textDocument.uri);
    const text = s.lineText(p.textDocument.uri, p.position.line);
    if (st?.parsed === undefined || text === undefined) return null;
    const word = wordAt(text, p.position.character);
    const a = await s.analysisFor(p.textDocument.uri);
    const side: TraceRole =
      a === undefined ? st.parsed.role : a.host === st.parsed.trace ? 'host' : 'guest';
    return hover(st.parsed, p.position.line, word, a?.analysis, side) ?? null;
  });

  connection.onDocumentSymbol(async (p) => {
    await s.parsedOrNot(p.textDocument.uri);
    const parsed = states.get(p.textDocument.uri)?.parsed;
    return parsed === undefined ? [] : symbols(parsed);
  });

  connection.onCodeLens(async (p) => {
    await s.parsedOrNot(p.textDocument.uri);
    const parsed = states.get(p.textDocument.uri)?.parsed;
    if (parsed === undefined) return [];
    const other = await s.pairOf(p.textDocument.uri);
    return codeLenses(
      p.textDocument.uri,
      parsed.role,
      other !== undefined ? nameOf(other.uri) : undefined,
    );
  });

  // Every vCPU Lens diagnostic that knows its interval offers "Show in Timeline".
  connection.onCodeAction((p): CodeAction[] =>
    p.context.diagnostics
      .filter((d) => d.source === 'vcpu-lens' && isRevealTarget(d.data))
      .map((d) => ({
        title: 'Show in Timeline',
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: true,
        command: {
          title: 'Show in Timeline',
          command: 'vcpuLens.showInTimeline',
          arguments: [p.textDocument.uri, d.range],
        },
      })),
  );

  connection.onDefinition(async (p) => {
    await s.parsedOrNot(p.textDocument.uri);
    const parsed = states.get(p.textDocument.uri)?.parsed;
    const text = s.lineText(p.textDocument.uri, p.position.line);
    if (parsed === undefined || text === undefined) return null;
    return definition(parsed, p.textDocument.uri, text, p.position.character) ?? null;
  });
}

/** The `vcpuLens/...` requests of protocol/lsp-ext.ts. */
export function answerRequests(s: Server): void {
  const { connection, states, log } = s;
  connection.onRequest(SET_PAIR, async (p: SetPairParams) =>
    s.busy(async () => {
      const old = s.pairs.get(p.uri);
      if (old !== undefined) s.pairs.delete(old);
      s.pairs.delete(p.uri);
      if (p.pairUri !== null) {
        s.pairs.set(p.uri, p.pairUri);
        s.pairs.set(p.pairUri, p.uri);
      }
      s.analyses.clear();
      for (const u of [p.uri, p.pairUri, old])
        if (u !== null && u !== undefined && states.get(u)?.parsed !== undefined)
          await s.publish(u);
      return true;
    }),
  );

  connection.onRequest(SHOW_IN_TIMELINE, async (p: ShowInTimelineParams) => {
    await s.parsedOrNot(p.uri);
    await s.idle();
    // The diagnostic at the range's line (as published), else the nearest one after it.
    const ours = (s.published.get(p.uri) ?? []).filter((d) => isRevealTarget(d.data));
    const line = p.range.start.line;
    const at =
      ours.find((d) => d.range.start.line <= line && line <= d.range.end.line) ??
      ours
        .filter((d) => d.range.start.line >= line)
        .sort((x, y) => x.range.start.line - y.range.start.line)[0];
    return (at?.data as RevealTarget | undefined) ?? null;
  });

  connection.onRequest(TRACE_LINE, async (p: TraceLineParams) =>
    s.busy(async () => {
      await s.parsedOrNot(p.uri);
      return traceLine(s, p);
    }),
  );
  connection.onRequest(DAT_TEXT, async (p: DatTextParams) => s.busy(() => datText(s, p.uri)));

  connection.onRequest(DOC_STATUS, async (p: DocStatusParams): Promise<DocStatus> => {
    const parsed = states.get(p.uri)?.parsed;
    const a = await s.analysisFor(p.uri);
    const other = await s.pairOf(p.uri);
    const time = a?.analysis.states?.time;
    const span = parsed !== undefined ? parsed.timelines.end - parsed.timelines.start : 0;
    const unit = parsed?.trace.clock.unit ?? 'ns';
    // A guest trace alone: its inferred absences (the modelled host's "preemptions" are those
    // and its waits, counted differently).
    const absence = a?.analysis.guestOnly?.absence;
    const preempted =
      absence !== undefined
        ? absence.perVcpu.reduce((n, v) => n + v.absentNs, 0)
        : time !== undefined
          ? time.reduce((n, t) => n + t.preempted, 0)
          : null;
    const preemptions =
      absence !== undefined
        ? absence.table.length
        : time !== undefined
          ? time.reduce((n, t) => n + t.preemptions, 0)
          : null;
    return {
      uri: p.uri,
      parsed: parsed !== undefined,
      role: parsed?.role ?? 'unknown',
      events: parsed?.trace.events.length ?? 0,
      span,
      unit,
      pairUri: other?.uri ?? null,
      preemptions,
      preempted,
      ...(absence !== undefined ? { guestOnly: true as const } : {}),
      problems: parsed?.trace.diagnosticsTotal ?? 0,
      findings: (s.published.get(p.uri) ?? []).filter((d) => !/^VL\d+$/.test(String(d.code)))
        .length,
      spanText: formatClockDuration(span, unit),
      preemptedText: preempted !== null ? formatClockDuration(preempted, unit) : null,
    };
  });

  connection.onRequest(ANALYZE, async (p: AnalyzeParams): Promise<AnalyzeResult> =>
    s.busy(async () => {
      await s.parsedOrNot(p.uri);
      const st = states.get(p.uri);
      if (st?.source === 'disk' && st.cancelled === true) {
        // Asked again after a cancelled read: read it again.
        st.cancelled = false;
        await s.readAndPublish(p.uri);
      }
      // Not open: read from its file (a big trace analysed from the explorer).
      if (
        states.has(p.uri)
          ? states.get(p.uri)?.parsed === undefined
          : !existsSync(filePath(p.uri) ?? '')
      )
        return { ok: false, message: 'not a trace vCPU Lens reads (or not read yet)' };
      const a = await s.analysisFor(p.uri, 'advice');
      if (a === undefined) {
        const opts = s.pairOptions();
        return { ok: false, message: typeof opts === 'string' ? opts : `no pair: ${NO_PAIR}` };
      }
      const report = analyzeReport(a.analysis);
      const summary = [
        ...a.analysis.findings.map((f) => `finding (${f.severity}): ${f.message}`),
        ...(a.analysis.advice?.reasoning ?? []),
        // A guest trace alone: what the inferred absence rests on (and cannot see).
        ...(a.analysis.guestOnly?.reasoning ?? []),
        ...a.analysis.reasoning,
      ];
      const markdown = {
        analysis: renderReport(report, summary, false),
        advice: renderReport(report, summary, true),
      };
      return { ok: true, hostUri: a.hostUri, guestUri: a.guestUri, report, summary, markdown };
    }),
  );

  // A view opened: its pair read, analysed and indexed while its page loads (timelineFor shares
  // the work with the page's own requests), then its lanes' level of detail built while the page
  // is quiet (its requests never wait for it: a lane without is read from its intervals).
  connection.onNotification(PREPARE_TIMELINE, (p: PrepareTimelineParams) => {
    void s
      .busy(async () => {
        await s.parsedOrNot(p.uri);
        const index = await s.timelineFor(p.uri);
        if (typeof index !== 'string') await prepareLanes(s, index);
      })
      .catch((e: unknown) => log(`preparing the timeline failed: ${String(e)}`));
  });

  connection.onRequest(TIMELINE, async (p: TimelineParams): Promise<TimelineResult> =>
    s.busy(() => pageRequest(s, () => answerTimeline(s, p))),
  );

  connection.onRequest(EXPORT, async (p: ExportParams): Promise<ExportResult> =>
    s.busy(async () => {
      await s.parsedOrNot(p.uri);
      const index = await s.timelineFor(p.uri, 'advice');
      if (typeof index === 'string') return { ok: false, message: index };
      try {
        const text =
          p.kind === 'html'
            ? renderHtmlReport(index.model, webviewAssets(), randomBytes(18).toString('base64'))
            : JSON.stringify(chromeTrace(index.model));
        // Never over a file the user did not agree to replace ('wx' fails if it exists).
        writeFileSync(p.path, text, { flag: p.overwrite === true ? 'w' : 'wx' });
        return { ok: true, path: p.path, bytes: Buffer.byteLength(text) };
      } catch (e) {
        const exists = (e as NodeJS.ErrnoException).code === 'EEXIST';
        return {
          ok: false,
          message: exists ? `${p.path} exists and was kept` : (e as Error).message,
          ...(exists ? { exists } : {}),
        };
      }
    }),
  );

  connection.onRequest(SIMULATE, async (p: SimulateParams, token: CancellationToken) =>
    s.busy(async () => runSimulation(p, token)),
  );

  connection.onRequest(ANALYZE_FOLDER, async (p, token: CancellationToken) =>
    s.busy(() => analyzeFolder(s, p, token)),
  );
}

/** A timeline page's request (`vcpuLens/timeline`): answered from the pair's index. */
async function answerTimeline(s: Server, p: TimelineParams): Promise<TimelineResult> {
  await s.parsedOrNot(p.uri);
  // The advice only for what shows it; the first paint (`ready`) and windows never wait on it.
  const k = p.body.kind;
  const index = await s.timelineFor(
    p.uri,
    k === 'requestAdvice' || k === 'exportChromeTrace' ? 'advice' : undefined,
  );
  if (typeof index === 'string') return { kind: 'error', message: index };
  // The page asks for the advice once its lanes are drawn: then (its answer sent first) the
  // timeline is kept for the next session.
  // A view opened without prepareTimeline has its lanes' level of detail built once the page
  // has drawn (it asks for the advice then), after this answer.
  if (k === 'requestAdvice') {
    setImmediate(() => void s.busy(() => s.saveTimeline(p.uri, index)));
    void s
      .busy(() => prepareLanes(s, index))
      .catch((e: unknown) => s.log(`preparing the lanes failed: ${String(e)}`));
  }
  try {
    return answerView(index, p.body);
  } catch (e) {
    s.log(`timeline request failed: ${(e as Error).stack ?? String(e)}`);
    return { kind: 'error', message: (e as Error).message };
  }
}

/** The timeline pages' requests of a server: how many are being answered, when the last was. */
interface PageTraffic {
  inFlight: number;
  lastAt: number;
}
const traffic = new WeakMap<Server, PageTraffic>();

function trafficOf(s: Server): PageTraffic {
  let t = traffic.get(s);
  if (t === undefined) traffic.set(s, (t = { inFlight: 0, lastAt: 0 }));
  return t;
}

/** A page's request, counted: the lanes' builder keeps out of its way. */
async function pageRequest<T>(s: Server, f: () => Promise<T>): Promise<T> {
  const t = trafficOf(s);
  t.inFlight++;
  try {
    return await f();
  } finally {
    t.inFlight--;
    t.lastAt = Date.now();
  }
}

/**
 * How long after a page's answer the lanes' builder waits: the page's next requests come within
 * it (its first windows follow its `ready` by 0.05-0.25 s, measured in VS Code under load).
 */
const PAGE_QUIET_MS = 300;

/** Resolves once no page request is being answered and none was for PAGE_QUIET_MS. */
async function pagesQuiet(s: Server): Promise<void> {
  const t = trafficOf(s);
  for (;;) {
    const wait = t.inFlight > 0 ? PAGE_QUIET_MS : t.lastAt + PAGE_QUIET_MS - Date.now();
    if (wait <= 0) return;
    await sleep(wait);
  }
}

/** Indexes whose lanes are prepared or being prepared. */
const preparing = new WeakSet<TimelineIndex>();

/**
 * The level-of-detail pyramids of the lanes a page opens with (openLanes: those of groups it does
 * not collapse, in its row order), so that its windows cost their pixels. One lane at a time, and only while the pages
 * are quiet (pagesQuiet): a page's `ready` and first windows never wait behind a lane (nor
 * behind the turns its answer takes to be written), and a lane not built yet is answered from its
 * intervals (TimelineIndex never builds one in a window's answer). Built while a page loads
 * (after prepareTimeline), or after its first paint. Stops when the index is replaced.
 */
async function prepareLanes(s: Server, index: TimelineIndex): Promise<void> {
  // Asked more than once (a custom editor's document, then its view; the advice): the first
  // does it.
  if (preparing.has(index)) return;
  preparing.add(index);
  // A page's request may be waiting unread (the event loop was busy building the index): the
  // builder starts after the same quiet period as after an answer, so it comes first.
  trafficOf(s).lastAt = Date.now();
  const { lanes } = index.model.meta;
  let built = 0;
  let ms = 0;
  for (const l of openLanes(lanes, initiallyCollapsed(lanes))) {
    await nextTurn();
    await pagesQuiet(s);
    if (![...s.indexes.values()].includes(index)) return;
    const t0 = performance.now();
    if (index.prepareLane(l.id)) built++;
    ms += performance.now() - t0;
  }
  s.log(
    `timeline of ${index.model.meta.title}: ${built} lanes' level of detail built in ${Math.round(ms)} ms`,
  );
}

/** The webview bundle beside the server's own bundle (dist/). */
function webviewAssets(): { js: string; css: string } {
  return {
    js: readFileSync(path.join(__dirname, 'webview.js'), 'utf8'),
    css: readFileSync(path.join(__dirname, 'webview.css'), 'utf8'),
  };
}

function wordAt(line: string, ch: number): string | undefined {
  let s = ch;
  let e = ch;
  while (s > 0 && /\w/.test(line[s - 1]!)) s--;
  while (e < line.length && /\w/.test(line[e]!)) e++;
  return s < e ? line.slice(s, e) : undefined;
}

function isRevealTarget(x: unknown): x is RevealTarget {
  const t = x as Partial<RevealTarget> | undefined;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.hostUri === 'string' &&
    typeof t.guestUri === 'string' &&
    typeof t.startNs === 'number' &&
    typeof t.endNs === 'number'
  );
}
