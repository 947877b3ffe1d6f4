// "Analyze Folder of Traces…": the pair folders under the given folders, each pair read from disk
// and analysed one after another (the server's thread is free between pairs), with work-done
// progress the user can cancel; a pair that fails is a row with its reason. The rows are
// core/view/fleet-table.ts's. (The CLI's `fleet` does the same into Parquet, in parallel.)

import path from 'node:path';
import type { CancellationToken } from 'vscode-languageserver';
import { analyzePair } from '../core/analyze/pair';
import { findPairFolders, loadedPairProblem, noVcpusReason } from '../core/io/pair-folder';
import { readTraceFile } from '../core/io/read-trace-file';
import { DIAG } from '../core/model/diagnostics';
import { fleetRow, type FleetRow } from '../core/view/fleet-table';
import type { AnalyzeFolderParams, AnalyzeFolderResult } from '../protocol/lsp-ext';
import type { Server } from './context';

const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function analyzeFolder(
  s: Server,
  p: AnalyzeFolderParams,
  token: CancellationToken,
): Promise<AnalyzeFolderResult> {
  if (!Array.isArray(p.folders) || p.folders.some((f) => typeof f !== 'string'))
    return { ok: false, message: 'folders: a list of folder paths' };
  const pairs = p.folders.flatMap((root) =>
    findPairFolders(root, {
      onUnreadable: (dir, why) => s.log(`analyze folder: cannot read ${dir}: ${why}`),
    }).map((f) => ({ ...f, run: path.relative(root, f.dir) || path.basename(f.dir) })),
  );
  if (pairs.length === 0)
    return {
      ok: false,
      message: `no pair folders (a folder holding host.* and guest.* traces) in ${p.folders.join(', ')}`,
    };
  const progress = await s.connection.window.createWorkDoneProgress();
  progress.begin('vCPU Lens: analysing the folder’s pairs', 0, undefined, true);
  const abort = new AbortController();
  const subs = [progress.token, token].map((t) => t.onCancellationRequested(() => abort.abort()));
  const rows: FleetRow[] = [];
  try {
    for (const [k, f] of pairs.entries()) {
      await yieldNow();
      if (abort.signal.aborted) break;
      progress.report(
        Math.floor((100 * k) / pairs.length),
        `${k + 1} of ${pairs.length}: ${f.run}`,
      );
      const row = await analyzeOne(s, f, abort.signal);
      if (row === undefined) break; // cancelled mid-read
      rows.push(row);
      s.log(`analyze folder: ${f.run} ${row.ok ? 'analysed' : `failed: ${row.reason}`}`);
    }
  } finally {
    for (const x of subs) x.dispose();
    progress.done();
  }
  return { ok: true, rows, cancelled: abort.signal.aborted };
}

/** One pair's row; undefined when cancelled while it was read. */
async function analyzeOne(
  s: Server,
  f: { run: string; host: string; guest: string },
  signal: AbortSignal,
): Promise<FleetRow | undefined> {
  const files = { run: f.run, hostFile: f.host, guestFile: f.guest };
  const fail = (reason: string): FleetRow => ({ ok: false, ...files, reason });
  try {
    const settings = s.settings;
    const loaded = [];
    for (const file of [f.host, f.guest]) {
      const r = await readTraceFile(file, {
        diagnosticsCap: settings.maxDiagnostics,
        signal,
        ...(settings.memoryCapMB > 0 ? { memoryCapBytes: settings.memoryCapMB * 2 ** 20 } : {}),
        ...(Number.isFinite(settings.tscHz) && settings.tscHz > 0 ? { tscHz: settings.tscHz } : {}),
      });
      if (signal.aborted || r.diagnostics.some((d) => d.code === DIAG.cancelled)) return undefined;
      loaded.push(r);
    }
    const checked = loadedPairProblem(loaded);
    if ('reason' in checked) return fail(checked.reason);
    await yieldNow();
    if (signal.aborted) return undefined;
    const a = analyzePair(loaded[0]!.traces[0]!, loaded[1]!.traces[0]!);
    const none = noVcpusReason(a);
    if (none !== undefined) return fail(none);
    return fleetRow(a, { ...files, warnings: checked.warnings });
  } catch (e) {
    s.log(`analyze folder: ${f.run}: ${(e as Error).stack ?? String(e)}`);
    return fail((e as Error).message);
  }
}
