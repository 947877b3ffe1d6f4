// One pair of a fleet: load both traces, analyse them, write the run's tables. The same code runs
// in a fleet worker process, in the fleet's own process when there is no bundle to fork (tests),
// and for `analyze --parquet`.

import type { DuckDBConnection } from '@duckdb/node-api';
import { analyzePair, type PairOptions } from '../../core/analyze/pair';
import { loadedPairProblem, noVcpusReason } from '../../core/io/pair-folder';
import type { PairAnalysis } from '../../core/analyze/types';
import { loadTraces, type CliReadOptions } from '../progress';
import { safeText } from '../terminal';
import { TOOL_VERSION } from '../version';
import { fingerprint, writeRun } from './dataset';
import { runTables } from './tables';

/** What a fleet worker is asked to do (plain data: it crosses the IPC channel). */
export interface PairJob {
  name: string;
  host: string;
  guest: string;
  out: string;
  /** The read options that change the analysis (no progress bar). */
  read: Omit<CliReadOptions, 'bar'>;
  pair: PairOptions;
}

export type PairOutcome =
  | { name: string; ok: true; warnings: string[]; rows: number }
  | { name: string; ok: false; reason: string };

/** The fingerprint of a job's inputs and the options its tables depend on. */
export function jobFingerprint(j: PairJob): string {
  const { memoryCapBytes: _cap, threads: _threads, ...read } = j.read;
  return fingerprint([j.host, j.guest], {
    read,
    pair: j.pair,
    hostFile: j.host,
    guestFile: j.guest,
  });
}

/** Writes the run of an analysis already made (analyze --parquet). */
export async function writeAnalysis(
  a: PairAnalysis,
  j: Pick<PairJob, 'name' | 'host' | 'guest' | 'out'>,
  fp: string,
  conn?: DuckDBConnection,
): Promise<number | string> {
  const t = runTables(a, {
    hostFile: j.host,
    guestFile: j.guest,
    analyzedAt: new Date(),
    toolVersion: TOOL_VERSION,
  });
  if (typeof t === 'string') return t;
  await writeRun(j.out, j.name, t, fp, conn);
  return Object.values(t).reduce((n, cols) => n + (cols[0]?.length ?? 0), 0);
}

/** Analyses one pair and writes its run; never throws for bad input (the outcome says why). */
export async function runPair(j: PairJob, conn?: DuckDBConnection): Promise<PairOutcome> {
  try {
    const fp = jobFingerprint(j);
    const [h, g] = await loadTraces([j.host, j.guest], j.read);
    const checked = loadedPairProblem([h!, g!]);
    if ('reason' in checked) return { name: j.name, ok: false, reason: safeText(checked.reason) };
    const warnings = checked.warnings.map(safeText);
    const a = analyzePair(h!.traces[0]!, g!.traces[0]!, j.pair);
    // Without vCPU threads there is nothing to put in the tables but the run itself.
    const none = noVcpusReason(a);
    if (none !== undefined) return { name: j.name, ok: false, reason: safeText(none) };
    const written = await writeAnalysis(a, j, fp, conn);
    if (typeof written === 'string') return { name: j.name, ok: false, reason: written };
    return { name: j.name, ok: true, warnings, rows: written };
  } catch (e) {
    return { name: j.name, ok: false, reason: (e as Error).message };
  }
}
