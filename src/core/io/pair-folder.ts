// Pair folders: a folder holding one host and one guest trace (`host.*`, `guest.*`), as `vcpu-lens
// fleet` and VS Code's "Analyze Folder of Traces…" take them. The picking rule lives here once.

import { readdirSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import type { PairAnalysis } from '../analyze/types';
import type { LoadResult } from './read-trace-file';

/**
 * The trace named `role.*` among a folder's file names: a `.dat` first, else the shortest such
 * name (`host.txt.gz` before `host.perf-sched.txt.gz`), so a folder holding the same trace twice
 * (a .dat and its report text, as the lab's do) still names one.
 */
export function pickPairFile(names: readonly string[], role: 'host' | 'guest'): string | undefined {
  return names
    .filter((f) => f.startsWith(`${role}.`))
    .sort(
      (a, b) =>
        Number(b.endsWith('.dat')) - Number(a.endsWith('.dat')) ||
        a.length - b.length ||
        a.localeCompare(b),
    )[0];
}

/** The `role.*` trace file of a pair folder (files only), by `pickPairFile`'s rule. */
export function pairFile(dir: string, role: 'host' | 'guest'): string | undefined {
  const names = readdirSync(dir).filter(
    (f) => f.startsWith(`${role}.`) && statSync(path.join(dir, f)).isFile(),
  );
  const name = pickPairFile(names, role);
  return name !== undefined ? path.join(dir, name) : undefined;
}

export interface PairFolder {
  dir: string;
  host: string;
  guest: string;
}

/** Folders never searched for pairs: hidden ones and dependency trees. */
const SKIP = /^(\.|node_modules$)/;

/**
 * The pair folders at or under `root` (at most `maxDepth` levels down), in path order. A folder
 * that cannot be read is passed over (`onUnreadable` says which and why).
 */
export function findPairFolders(
  root: string,
  opts: { maxDepth?: number; onUnreadable?: (dir: string, reason: string) => void } = {},
): PairFolder[] {
  const maxDepth = opts.maxDepth ?? 6;
  const out: PairFolder[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      opts.onUnreadable?.(dir, (e as Error).message);
      return;
    }
    const files = entries.filter((e) => e.isFile()).map((e) => e.name);
    const host = pickPairFile(files, 'host');
    const guest = pickPairFile(files, 'guest');
    if (host !== undefined && guest !== undefined)
      out.push({ dir, host: path.join(dir, host), guest: path.join(dir, guest) });
    if (depth >= maxDepth) return;
    const subs = entries
      .filter((e) => e.isDirectory() && !SKIP.test(e.name))
      .map((e) => e.name)
      .sort((a, b) => a.localeCompare(b));
    for (const s of subs) walk(path.join(dir, s), depth + 1);
  };
  walk(root, 0);
  return out;
}

/**
 * Whether a pair's two loaded traces can be analysed: the reason they cannot (a file with no
 * trace or no events, and its first error), or the warnings of traces analysed despite bad lines.
 */
export function loadedPairProblem(
  loaded: readonly LoadResult[],
): { reason: string } | { warnings: string[] } {
  const warnings: string[] = [];
  for (const r of loaded) {
    const unreadable = r.diagnostics.find((d) => d.severity === 'error');
    if (r.traces.length === 0)
      return {
        reason: `${r.path}: ${unreadable !== undefined ? `${unreadable.code} ${unreadable.message}` : 'no trace in it'}`,
      };
    const t0 = r.traces[0]!;
    if (t0.events.length === 0) {
      const first = t0.diagnostics.find((d) => d.severity === 'error');
      return {
        reason: `${r.path}: no events${first !== undefined ? ` (${first.code} ${first.message})` : ''}`,
      };
    }
    for (const t of r.traces) {
      const errors = t.diagnostics.filter((d) => d.severity === 'error');
      if (errors.length > 0)
        warnings.push(
          `${r.path}: ${errors.length} lines with errors (first: ${errors[0]!.code} ${errors[0]!.message}); analysed the rest`,
        );
    }
  }
  return { warnings };
}

/** Why an analysis has nothing per vCPU to show (no vCPU threads in the host trace), if so. */
export function noVcpusReason(a: PairAnalysis): string | undefined {
  if ((a.vcpuMap.chosen?.vcpus.length ?? 0) > 0) return undefined;
  const why = a.vcpuMap.reasoning[0];
  return `no vCPU threads found in the host trace${why !== undefined ? `: ${why}` : ''}`;
}
