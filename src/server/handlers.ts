// The requests the server answers: hover, symbols, CodeLens and definitions on trace lines, and
// the `vcpuLens/...` requests (pair, status, analyze, timeline, export, simulate). Answers wait
// for a parse in flight: VS Code caches an empty outline (or CodeLens) per document version, so
// answering "nothing yet" for a trace still being read would stick.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CancellationToken } from 'vscode-languageserver';
import { analyzeReport } from '../core/report/analyze';
import { renderHtmlReport } from '../core/report/html';
import { answerView } from '../core/view/answer';
import { chromeTrace } from '../core/view/chrome-trace';
import {
  ANALYZE,
  AnalyzeParams,
  AnalyzeResult,
  DOC_STATUS,
  DocStatus,
  DocStatusParams,
  EXPORT,
  ExportParams,
  ExportResult,
  SET_PAIR,
  SetPairParams,
  SIMULATE,
  SimulateParams,
  TIMELINE,
  TimelineParams,
  TimelineResult,
  TraceRole,
} from '../protocol/lsp-ext';
import { filePath, nameOf, Server } from './context';
import { NO_PAIR } from './pairing';
import { runSimulation } from './simulate';
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

  connection.onRequest(DOC_STATUS, async (p: DocStatusParams): Promise<DocStatus> => {
    const parsed = states.get(p.uri)?.parsed;
    const a = await s.analysisFor(p.uri);
    const other = await s.pairOf(p.uri);
    const time = a?.analysis.states?.time;
    return {
      uri: p.uri,
      parsed: parsed !== undefined,
      role: parsed?.role ?? 'unknown',
      events: parsed?.trace.events.length ?? 0,
      span: parsed !== undefined ? parsed.timelines.end - parsed.timelines.start : 0,
      unit: parsed?.trace.clock.unit ?? 'ns',
      pairUri: other?.uri ?? null,
      preemptions: time !== undefined ? time.reduce((n, t) => n + t.preemptions, 0) : null,
      preempted: time !== undefined ? time.reduce((n, t) => n + t.preempted, 0) : null,
      problems: parsed?.trace.diagnosticsTotal ?? 0,
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
      const a = await s.analysisFor(p.uri);
      if (a === undefined) {
        const opts = s.pairOptions();
        return { ok: false, message: typeof opts === 'string' ? opts : `no pair: ${NO_PAIR}` };
      }
      const report = analyzeReport(a.analysis);
      const summary = [
        ...a.analysis.findings.map((f) => `finding (${f.severity}): ${f.message}`),
        ...(a.analysis.advice?.reasoning ?? []),
        ...a.analysis.reasoning,
      ];
      return { ok: true, hostUri: a.hostUri, guestUri: a.guestUri, report, summary };
    }),
  );

  connection.onRequest(TIMELINE, async (p: TimelineParams): Promise<TimelineResult> =>
    s.busy(async () => {
      await s.parsedOrNot(p.uri);
      const index = await s.timelineFor(p.uri);
      if (typeof index === 'string') return { kind: 'error', message: index };
      try {
        return answerView(index, p.body);
      } catch (e) {
        log(`timeline request failed: ${(e as Error).stack ?? String(e)}`);
        return { kind: 'error', message: (e as Error).message };
      }
    }),
  );

  connection.onRequest(EXPORT, async (p: ExportParams): Promise<ExportResult> =>
    s.busy(async () => {
      await s.parsedOrNot(p.uri);
      const index = await s.timelineFor(p.uri);
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
