// The vCPU Lens language server: parses trace documents on open and change (debounced; a newer
// version cancels an older parse), pairs host and guest traces (explicitly, or `host.*` with its
// `guest.*` sibling), runs the engine's analysis, and answers diagnostics, hover, symbols,
// CodeLens, definitions and the `vcpuLens/...` requests. Transport-agnostic: main.ts gives it a
// node-IPC connection, tests give it in-memory streams.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CancellationToken,
  Connection,
  Diagnostic,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyzePair, PairAnalysis, PairOptions } from '../core/analyze/pair';
import { parseVcpuMapFlag } from '../core/correlate/vcpu-map';
import { writeTraceCmdText } from '../core/export/trace-cmd-text';
import { readTraceFile } from '../core/io/read-trace-file';
import { analyzeReport } from '../core/report/analyze';
import { renderHtmlReport } from '../core/report/html';
import { chromeTrace } from '../core/export/chrome-trace';
import { answerView } from '../core/view/answer';
import { TimelineIndex } from '../core/view/lod';
import { buildTimelineModel } from '../core/view/model';
import { simulate, simulateOracle, SimConfig } from '../core/sim/engine';
import { COMPARE_RUNS, compareConfig, PRESETS } from '../core/sim/presets';
import { simulateTraces } from '../core/sim/record';
import { spinBeforeBlockNs } from '../core/sim/runtime';
import {
  ANALYZE,
  AnalyzeParams,
  AnalyzeResult,
  DEFAULT_SERVER_SETTINGS,
  DOC_STATUS,
  EXPORT,
  ExportParams,
  ExportResult,
  TIMELINE,
  TimelineParams,
  TimelineResult,
  DocStatus,
  DocStatusParams,
  ServerSettings,
  SET_PAIR,
  SetPairParams,
  SIMULATE,
  SimulateParams,
  SimulateResult,
  STATUS_CHANGED,
  TraceRole,
} from '../protocol/lsp-ext';
import {
  analysisDiagnostics,
  codeLenses,
  definition,
  hover,
  parseDiagnostics,
  parseDoc,
  ParsedDoc,
  roleOf,
  siblingName,
  symbols,
} from './trace-doc';

/** Debounce of re-parsing while the user types. */
const PARSE_DELAY_MS = 300;

interface DocState {
  version: number;
  parsed: ParsedDoc | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A trace that is the pair of an open document: open too, or read from disk. */
interface PairSide {
  key: string;
  uri: string;
  trace: ParsedDoc['trace'];
  role: TraceRole;
}

export interface ServerHandle {
  /** Resolves when every scheduled parse and analysis has finished (tests wait on it). */
  idle(): Promise<void>;
}

export function startServer(connection: Connection): ServerHandle {
  const documents = new TextDocuments(TextDocument);
  const states = new Map<string, DocState>();
  /** Explicit pairs, both directions. */
  const pairs = new Map<string, string>();
  const diskCache = new Map<string, { mtimeMs: number; side: PairSide | undefined }>();
  const analyses = new Map<string, PairAnalysis | undefined>();
  let settings: ServerSettings = { ...DEFAULT_SERVER_SETTINGS };
  /** Scheduled or running parses and requests: `idle()` resolves when none is left. */
  let pending = 0;
  let waiters: (() => void)[] = [];
  const leave = (): void => {
    if (--pending > 0) return;
    const w = waiters;
    waiters = [];
    for (const r of w) r();
  };
  const busy = async <T>(f: () => Promise<T>): Promise<T> => {
    pending++;
    try {
      return await f();
    } finally {
      leave();
    }
  };

  const log = (s: string): void => connection.console.log(s);

  connection.onInitialize((params) => {
    const init = params.initializationOptions as Partial<ServerSettings> | undefined;
    if (init !== undefined) settings = { ...settings, ...init };
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        documentSymbolProvider: true,
        codeLensProvider: { resolveProvider: false },
        definitionProvider: true,
      },
      serverInfo: { name: 'vcpu-lens', version: '0.1.0' },
    };
  });

  connection.onDidChangeConfiguration((change) => {
    const s = (change.settings as { vcpuLens?: Partial<ServerSettings> } | undefined)?.vcpuLens;
    if (s === undefined) return;
    settings = { ...settings, ...s };
    analyses.clear();
    for (const uri of states.keys()) schedule(uri, 0);
  });

  const nameOf = (uri: string): string => {
    try {
      return path.basename(fileURLToPath(uri));
    } catch {
      return uri.replace(/^.*\//, '');
    }
  };

  const schedule = (uri: string, delay: number): void => {
    const st = states.get(uri);
    if (st === undefined) return;
    pending++;
    if (st.timer !== undefined) {
      clearTimeout(st.timer);
      leave();
    }
    st.timer = setTimeout(() => {
      st.timer = undefined;
      void busy(() => parseAndPublish(uri))
        .catch((e: unknown) => log(`parse failed: ${(e as Error).stack ?? String(e)}`))
        .finally(leave);
    }, delay);
  };

  const parseAndPublish = async (uri: string): Promise<void> => {
    const doc = documents.get(uri);
    const st = states.get(uri);
    if (doc === undefined || st === undefined) return;
    const version = doc.version;
    const t0 = Date.now();
    const parsed = parseDoc(doc.getText(), nameOf(uri), settings);
    // A newer version arrived while parsing: its own parse will publish.
    if (documents.get(uri)?.version !== version) return;
    st.parsed = parsed;
    st.version = version;
    analyses.clear();
    if (parsed === undefined) {
      await connection.sendDiagnostics({ uri, version, diagnostics: [] });
      return;
    }
    log(
      `${nameOf(uri)}: ${parsed.trace.events.length} events, ${parsed.role} trace, ${Date.now() - t0} ms`,
    );
    await publish(uri);
    // Its pair (if open) gets the analysis on its lines too.
    const other = await pairOf(uri);
    if (other !== undefined && states.get(other.uri)?.parsed !== undefined)
      await publish(other.uri);
  };

  const publish = async (uri: string): Promise<void> => {
    const st = states.get(uri);
    const parsed = st?.parsed;
    if (st === undefined || parsed === undefined) return;
    const diagnostics: Diagnostic[] = parseDiagnostics(parsed);
    const a = await analysisFor(uri);
    if (a !== undefined) {
      const side = a.host === parsed.trace ? 'host' : 'guest';
      diagnostics.push(...analysisDiagnostics(parsed, a.analysis, side, settings));
    }
    await connection.sendDiagnostics({ uri, version: st.version, diagnostics });
    void connection.sendNotification(STATUS_CHANGED, { uri });
  };

  /** The other machine's trace for `uri`: explicit pair, else the sibling file. */
  const pairOf = async (uri: string): Promise<PairSide | undefined> => {
    let other = pairs.get(uri);
    if (other === undefined) {
      let file: string;
      try {
        file = fileURLToPath(uri);
      } catch {
        return undefined;
      }
      const sib = siblingName(path.basename(file));
      if (sib === undefined) return undefined;
      const sibPath = path.join(path.dirname(file), sib);
      if (!existsSync(sibPath)) return undefined;
      other = pathToFileURL(sibPath).toString();
    }
    const open = states.get(other);
    if (open?.parsed !== undefined)
      return {
        key: `${other}@${open.version}`,
        uri: other,
        trace: open.parsed.trace,
        role: open.parsed.role,
      };
    if (documents.get(other) !== undefined) return undefined; // open, not parsed yet
    return loadFromDisk(other);
  };

  const loadFromDisk = async (uri: string): Promise<PairSide | undefined> => {
    let file: string;
    try {
      file = fileURLToPath(uri);
    } catch {
      return undefined;
    }
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      return undefined;
    }
    const cached = diskCache.get(file);
    if (cached !== undefined && cached.mtimeMs === mtimeMs) return cached.side;
    const r = await readTraceFile(file, { diagnosticsCap: settings.maxDiagnostics });
    const trace = r.traces[0];
    const side =
      trace === undefined
        ? undefined
        : { key: `${uri}@${mtimeMs}`, uri, trace, role: roleOf(trace, path.basename(file)) };
    diskCache.set(file, { mtimeMs, side });
    if (side !== undefined) log(`read ${path.basename(file)} from disk as the pair`);
    return side;
  };

  const pairOptions = (): PairOptions | string => {
    const o: PairOptions = {};
    if (settings.vcpuMap.trim() !== '') {
      const m = parseVcpuMapFlag(settings.vcpuMap);
      if (typeof m === 'string') return `vcpuLens.vcpuMap: ${m}`;
      o.vcpuMap = m;
    }
    if (settings.clockOffset.trim() !== '') {
      if (!/^-?\d+$/.test(settings.clockOffset.trim()))
        return `vcpuLens.clockOffset: a whole number in the traces' unit, not '${settings.clockOffset}'`;
      o.offset = BigInt(settings.clockOffset.trim());
    }
    return o;
  };

  /** The analysis of `uri` with its pair, cached per pair of versions. */
  const analysisFor = async (
    uri: string,
  ): Promise<
    | {
        analysis: PairAnalysis;
        key: string;
        host: ParsedDoc['trace'];
        hostUri: string;
        guestUri: string;
      }
    | undefined
  > => {
    // An open document, or a file on disk (a .dat in the custom editor, a pair not open).
    const st = states.get(uri);
    const me: PairSide | undefined =
      st?.parsed !== undefined
        ? { key: `${uri}@${st.version}`, uri, trace: st.parsed.trace, role: st.parsed.role }
        : documents.get(uri) === undefined
          ? await loadFromDisk(uri)
          : undefined;
    if (me === undefined) return undefined;
    const other = await pairOf(uri);
    if (other === undefined) return undefined;
    // Roles: from content and names; when both or neither claim host, the file names decide.
    let [host, guest] = me.role === 'guest' || other.role === 'host' ? [other, me] : [me, other];
    if (host.role === 'guest' && guest.role === 'host') [host, guest] = [guest, host];
    const key = `${host.key}|${guest.key}`;
    if (!analyses.has(key)) {
      const opts = pairOptions();
      if (typeof opts === 'string') {
        log(opts);
        analyses.set(key, undefined);
      } else {
        const t0 = Date.now();
        const a = analyzePair(host.trace, guest.trace, opts);
        log(`analysed ${nameOf(host.uri)} + ${nameOf(guest.uri)} in ${Date.now() - t0} ms`);
        analyses.set(key, a);
      }
    }
    const analysis = analyses.get(key);
    return analysis === undefined
      ? undefined
      : { analysis, key, host: host.trace, hostUri: host.uri, guestUri: guest.uri };
  };

  /** The timeline of a trace and its pair: the engine's model and level-of-detail index. */
  const indexes = new Map<string, TimelineIndex>();
  const timelineFor = async (uri: string): Promise<TimelineIndex | string> => {
    const a = await analysisFor(uri);
    if (a === undefined)
      return 'no pair for this trace: open or pick the other machine’s trace (vCPU Lens: Pair Host and Guest Traces…), or name them host.* and guest.*';
    let index = indexes.get(a.key);
    if (index === undefined) {
      const t0 = Date.now();
      const model = buildTimelineModel(a.analysis, {
        title: `${nameOf(a.hostUri)} + ${nameOf(a.guestUri)}`,
      });
      index = new TimelineIndex(model);
      // One index per pair of versions: drop the ones of older versions.
      indexes.clear();
      indexes.set(a.key, index);
      log(`timeline of ${nameOf(a.hostUri)} + ${nameOf(a.guestUri)} in ${Date.now() - t0} ms`);
    }
    return index;
  };

  documents.onDidOpen((e) => {
    states.set(e.document.uri, {
      version: e.document.version,
      parsed: undefined,
      timer: undefined,
    });
    schedule(e.document.uri, 0);
  });
  documents.onDidChangeContent((e) => {
    if (!states.has(e.document.uri)) return;
    schedule(e.document.uri, PARSE_DELAY_MS);
  });
  documents.onDidClose((e) => {
    const st = states.get(e.document.uri);
    states.delete(e.document.uri);
    if (st?.timer !== undefined) {
      clearTimeout(st.timer);
      leave();
    }
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onHover(async (p) => {
    const st = states.get(p.textDocument.uri);
    const doc = documents.get(p.textDocument.uri);
    if (st?.parsed === undefined || doc === undefined) return null;
    const lineText = doc.getText({
      start: { line: p.position.line, character: 0 },
      end: { line: p.position.line + 1, character: 0 },
    });
    const word = wordAt(lineText, p.position.character);
    const a = await analysisFor(p.textDocument.uri);
    const side: TraceRole =
      a === undefined ? st.parsed.role : a.host === st.parsed.trace ? 'host' : 'guest';
    return hover(st.parsed, p.position.line, word, a?.analysis, side) ?? null;
  });

  connection.onDocumentSymbol((p) => {
    const parsed = states.get(p.textDocument.uri)?.parsed;
    return parsed === undefined ? [] : symbols(parsed);
  });

  connection.onCodeLens(async (p) => {
    const parsed = states.get(p.textDocument.uri)?.parsed;
    if (parsed === undefined) return [];
    const other = await pairOf(p.textDocument.uri);
    return codeLenses(
      p.textDocument.uri,
      parsed.role,
      other !== undefined ? nameOf(other.uri) : undefined,
    );
  });

  connection.onDefinition((p) => {
    const parsed = states.get(p.textDocument.uri)?.parsed;
    const doc = documents.get(p.textDocument.uri);
    if (parsed === undefined || doc === undefined) return null;
    const lineText = doc.getText({
      start: { line: p.position.line, character: 0 },
      end: { line: p.position.line + 1, character: 0 },
    });
    return definition(parsed, p.textDocument.uri, lineText, p.position.character) ?? null;
  });

  connection.onRequest(SET_PAIR, async (p: SetPairParams) =>
    busy(async () => {
      const old = pairs.get(p.uri);
      if (old !== undefined) pairs.delete(old);
      pairs.delete(p.uri);
      if (p.pairUri !== null) {
        pairs.set(p.uri, p.pairUri);
        pairs.set(p.pairUri, p.uri);
      }
      analyses.clear();
      for (const u of [p.uri, p.pairUri, old])
        if (u !== null && u !== undefined && states.get(u)?.parsed !== undefined) await publish(u);
      return true;
    }),
  );

  connection.onRequest(DOC_STATUS, async (p: DocStatusParams): Promise<DocStatus> => {
    const parsed = states.get(p.uri)?.parsed;
    const a = await analysisFor(p.uri);
    const other = await pairOf(p.uri);
    const time = a?.analysis.states?.time;
    return {
      uri: p.uri,
      parsed: parsed !== undefined,
      role: parsed?.role ?? 'unknown',
      events: parsed?.trace.events.length ?? 0,
      span: parsed !== undefined ? parsed.timelines.end - parsed.timelines.start : 0,
      unit: parsed?.trace.clock.unit ?? 'ns',
      pairUri: other?.uri ?? null,
      preemptions: time !== undefined ? time.reduce((s, t) => s + t.preemptions, 0) : null,
      preempted: time !== undefined ? time.reduce((s, t) => s + t.preempted, 0) : null,
      problems: parsed?.trace.diagnosticsTotal ?? 0,
    };
  });

  connection.onRequest(ANALYZE, async (p: AnalyzeParams): Promise<AnalyzeResult> =>
    busy(async () => {
      if (states.get(p.uri)?.parsed === undefined)
        return { ok: false, message: 'not a trace vCPU Lens reads (or not parsed yet)' };
      const a = await analysisFor(p.uri);
      if (a === undefined) {
        const opts = pairOptions();
        return {
          ok: false,
          message:
            typeof opts === 'string'
              ? opts
              : 'no pair: open or pick the other machine’s trace (vCPU Lens: Pair Host and Guest Traces…), or name them host.* and guest.*',
        };
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
    busy(async () => {
      const index = await timelineFor(p.uri);
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
    busy(async () => {
      const index = await timelineFor(p.uri);
      if (typeof index === 'string') return { ok: false, message: index };
      try {
        const text =
          p.kind === 'html'
            ? renderHtmlReport(index.model, webviewAssets(), randomBytes(18).toString('base64'))
            : JSON.stringify(chromeTrace(index.model));
        writeFileSync(p.path, text);
        return { ok: true, path: p.path, bytes: Buffer.byteLength(text) };
      } catch (e) {
        return { ok: false, message: (e as Error).message };
      }
    }),
  );

  connection.onRequest(SIMULATE, async (p: SimulateParams, token: CancellationToken) =>
    busy(async () => runSimulation(p, token)),
  );

  documents.listen(connection);
  connection.listen();
  return {
    idle: () => (pending === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  };
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

/** Runs a preset (and optionally the talk's five runs), writes its traces and truth. */
async function runSimulation(p: SimulateParams, token: CancellationToken): Promise<SimulateResult> {
  const preset = PRESETS[p.preset];
  if (preset === undefined) return { ok: false, message: `unknown preset '${p.preset}'` };
  const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));
  const cfg: SimConfig = {
    ...preset.config,
    ...preset.coRunner,
    policy: p.policy,
    dop: p.dop === 'oracle' ? 'fixed' : p.dop,
    seed: p.seed,
    ...(p.policy === 'spin-then-block'
      ? {
          spinNs: spinBeforeBlockNs(
            { runtime: 'libgomp' },
            preset.config.threads,
            preset.config.vcpus,
          ),
        }
      : {}),
  };
  const summary: string[] = [`${preset.name}: ${preset.description}`];
  let compare: { name: string; wallS: number }[] | null = null;
  if (p.compare) {
    compare = [];
    for (const name of COMPARE_RUNS) {
      await yieldNow();
      if (token.isCancellationRequested)
        return { ok: false, message: 'cancelled', cancelled: true };
      const r = simulate({ ...compareConfig(preset, name), seed: p.seed });
      compare.push({ name, wallS: r.wallNs / 1e9 });
      summary.push(
        `${name}: ${(r.wallNs / 1e9).toFixed(3)} s${preset.talk ? ` (talk ${preset.talk[name].toFixed(2)} s)` : ''}`,
      );
    }
  }
  await yieldNow();
  if (token.isCancellationRequested) return { ok: false, message: 'cancelled', cancelled: true };
  if (p.dop === 'oracle') {
    const best = simulateOracle(cfg);
    cfg.fixedDop = best.bestDop;
    summary.push(`oracle: the best fixed DoP in hindsight is ${best.bestDop} threads`);
  }
  const s = simulateTraces(cfg);
  mkdirSync(p.outDir, { recursive: true });
  const hostPath = path.join(p.outDir, 'host.txt');
  const guestPath = path.join(p.outDir, 'guest.txt');
  const truthPath = path.join(p.outDir, 'truth.json');
  for (const [f, t] of [
    [hostPath, s.host],
    [guestPath, s.guest],
  ] as const) {
    const parts: string[] = [];
    writeTraceCmdText(t, (x) => parts.push(x));
    writeFileSync(f, parts.join(''));
  }
  writeFileSync(
    truthPath,
    JSON.stringify(
      {
        config: cfg,
        wallS: s.result.wallNs / 1e9,
        vcpuTids: s.truth.vcpuTids,
        offsetNs: s.truth.offsetNs,
        preemptions: s.result.preemptions,
        preempted: s.truth.preemptions,
      },
      null,
      2,
    ),
  );
  const avg = s.result.teams.reduce((a, b) => a + b, 0) / s.result.teams.length;
  summary.push(
    `${p.policy}, DoP ${p.dop}: ${(s.result.wallNs / 1e9).toFixed(3)} s, ${s.result.preemptions.reduce((a, b) => a + b, 0)} vCPU preemptions, average team ${avg.toFixed(2)} of ${cfg.threads}`,
  );
  return {
    ok: true,
    wallS: s.result.wallNs / 1e9,
    hostPath,
    guestPath,
    truthPath,
    compare,
    summary,
  };
}
