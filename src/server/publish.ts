// Diagnostics publication: a document's file-level problems, parse problems and (with its pair)
// the analysis on its lines, sent as one list, then a status-changed notification.

import type { Diagnostic } from 'vscode-languageserver';
import { STATUS_CHANGED } from '../protocol/lsp-ext';
import type { DocState, Server, ServerOps } from './context';
import { analysisDiagnostics, placeInTimeline } from './analysis-diagnostics';
import { parseDiagnostics } from './trace-doc';

/** File-level problems of a trace read from disk (unreadable, memory cap...), on their line or 1. */
export function fileDiagnostics(st: DocState): Diagnostic[] {
  return (st.fileDiagnostics ?? []).map((x) => ({
    range: {
      start: { line: (x.line ?? 1) - 1, character: 0 },
      end: { line: (x.line ?? 1) - 1, character: 0 },
    },
    severity: x.severity === 'error' ? 1 : x.severity === 'warning' ? 2 : 3,
    code: x.code,
    source: 'vcpu-lens',
    message: x.message,
  }));
}

export function publishOps(s: Server): Pick<ServerOps, 'publish'> {
  const publish = async (uri: string): Promise<void> => {
    const st = s.states.get(uri);
    const parsed = st?.parsed;
    if (st === undefined || parsed === undefined) return;
    const diagnostics: Diagnostic[] = [...fileDiagnostics(st), ...parseDiagnostics(parsed)];
    const a = await s.analysisFor(uri);
    if (a !== undefined) {
      const side = a.host === parsed.trace ? 'host' : 'guest';
      const pair = { hostUri: a.hostUri, guestUri: a.guestUri };
      placeInTimeline(diagnostics, parsed, a.analysis, side, pair);
      diagnostics.push(...analysisDiagnostics(parsed, a.analysis, side, s.settings, pair));
    }
    s.published.set(uri, diagnostics);
    await s.connection.sendDiagnostics({
      uri,
      ...(st.version !== null ? { version: st.version } : {}),
      diagnostics,
    });
    void s.connection.sendNotification(STATUS_CHANGED, { uri });
  };
  return { publish };
}
