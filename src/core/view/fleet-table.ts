// The runs table of "Analyze Folder of Traces…": one row per host + guest pair (its vCPUs,
// threads, lost time, preempted share and advice), how each column sorts and reads, and the
// messages between the extension and its webview (webview/fleet/). Pure: the server makes the
// rows, the webview sorts and shows them.

import type { PairAnalysis } from '../analyze/types';
import { formatClockDuration, formatCount, type ClockUnit } from '../model/time';

/** One analysed pair. Durations are in the host trace's unit (`unit`), summed over vCPUs. */
export interface FleetRunRow {
  ok: true;
  /** The pair's folder, relative to the folder searched (its own name when it is that folder). */
  run: string;
  hostFile: string;
  guestFile: string;
  unit: ClockUnit;
  vcpus: number;
  /** The program's threads; null when no program was found. */
  threads: number | null;
  /** The sum of the guest threads' stalls: their time lost to their vCPU not running. */
  lostNs: number;
  /** vCPU time (every state, inside the window both traces cover) and the preempted part of it. */
  vcpuTimeNs: number;
  preemptedNs: number;
  /** preemptedNs / vcpuTimeNs; null without vCPU time. */
  preemptedShare: number | null;
  advice: { threads: number; waitPolicy: string; predictedSpeedup: number } | null;
  /** Lines that had errors (the rest was analysed). */
  warnings: string[];
}

/** A pair that could not be analysed, and why. */
export interface FleetFailedRow {
  ok: false;
  run: string;
  hostFile: string;
  guestFile: string;
  reason: string;
}

export type FleetRow = FleetRunRow | FleetFailedRow;

/** A pair's row from its analysis. */
export function fleetRow(
  a: PairAnalysis,
  files: { run: string; hostFile: string; guestFile: string; warnings?: string[] },
): FleetRunRow {
  let vcpuTimeNs = 0;
  let preemptedNs = 0;
  for (const t of a.states?.time ?? []) {
    vcpuTimeNs += t.running + t.preempted + t.waiting + t.halted + t.vmm + t.blocked + t.unknown;
    preemptedNs += t.preempted;
  }
  // A vCPU stalled while its guest CPU was idle costs no thread anything: the guest threads' own.
  const lostNs = (a.stalls?.byGuestThread ?? []).reduce((n, t) => n + t.lost, 0);
  const adv = a.advice;
  return {
    ok: true,
    run: files.run,
    hostFile: files.hostFile,
    guestFile: files.guestFile,
    unit: a.host.clock.unit,
    vcpus: a.vcpuMap.chosen?.vcpus.length ?? 0,
    threads: a.program?.pids.length ?? null,
    lostNs,
    vcpuTimeNs,
    preemptedNs,
    preemptedShare: vcpuTimeNs > 0 ? preemptedNs / vcpuTimeNs : null,
    advice:
      adv === undefined
        ? null
        : { threads: adv.dop, waitPolicy: adv.waitPolicy, predictedSpeedup: adv.predictedSpeedup },
    warnings: files.warnings ?? [],
  };
}

export type FleetColumn =
  'run' | 'files' | 'vcpus' | 'threads' | 'lost' | 'preempted' | 'advice' | 'gain';

/** The table's columns in order, with their headings and what they mean (the heading's tooltip). */
export const FLEET_COLUMNS: readonly { key: FleetColumn; label: string; title: string }[] = [
  { key: 'run', label: 'Run', title: 'the pair folder' },
  { key: 'files', label: 'Host / guest', title: 'the host and guest trace files' },
  { key: 'vcpus', label: 'vCPUs', title: 'vCPU threads found in the host trace' },
  { key: 'threads', label: 'Threads', title: "the guest program's threads" },
  {
    key: 'lost',
    label: 'Lost time',
    title: "the sum of the guest threads' stalls: their time lost to their vCPU not running",
  },
  {
    key: 'preempted',
    label: 'Preempted',
    title: 'preempted vCPU time / vCPU time, inside the window both traces cover',
  },
  { key: 'advice', label: 'Advice', title: 'advised OMP_NUM_THREADS and wait policy' },
  { key: 'gain', label: 'Predicted gain', title: 'predicted speed-up of the advice' },
];

/** A row's sort key for a column: a number or a string; null sorts last in either direction. */
function sortKey(r: FleetRow, c: FleetColumn): number | string | null {
  if (c === 'run') return r.run;
  if (c === 'files') return `${r.hostFile}\n${r.guestFile}`;
  if (!r.ok) return null;
  switch (c) {
    case 'vcpus':
      return r.vcpus;
    case 'threads':
      return r.threads;
    case 'lost':
      return r.lostNs;
    case 'preempted':
      return r.preemptedShare;
    case 'advice':
      return r.advice?.threads ?? null;
    case 'gain':
      return r.advice?.predictedSpeedup ?? null;
  }
}

/**
 * The rows sorted by a column (a new array): numbers by value, text by locale; rows without a
 * value last in either direction (an analysed pair without advice, then the failed pairs); ties
 * by run name, so the order is the same every time.
 */
export function sortFleetRows(
  rows: readonly FleetRow[],
  by: FleetColumn,
  dir: 'asc' | 'desc',
): FleetRow[] {
  const sign = dir === 'asc' ? 1 : -1;
  return rows
    .map((r) => ({ r, k: sortKey(r, by) }))
    .sort((x, y) => {
      if (x.k === null || y.k === null) {
        if (x.k !== y.k) return x.k === null ? 1 : -1;
        // Both without: an analysed pair (no advice) before a failed one.
        if (x.r.ok !== y.r.ok) return x.r.ok ? -1 : 1;
      } else {
        const d =
          typeof x.k === 'number' && typeof y.k === 'number'
            ? x.k - y.k
            : String(x.k).localeCompare(String(y.k));
        if (d !== 0) return sign * d;
      }
      return x.r.run.localeCompare(y.r.run);
    })
    .map((x) => x.r);
}

/** A row's cells as people read them, in FLEET_COLUMNS' order (a failed row: its reason). */
export function fleetCells(r: FleetRow): Record<FleetColumn, string> {
  const base = (p: string): string => p.replace(/^.*[\\/]/, '');
  const files = `${base(r.hostFile)} / ${base(r.guestFile)}`;
  if (!r.ok)
    return {
      run: r.run,
      files,
      vcpus: '',
      threads: '',
      lost: '',
      preempted: '',
      advice: `failed: ${r.reason}`,
      gain: '',
    };
  return {
    run: r.run,
    files,
    vcpus: formatCount(r.vcpus),
    threads: r.threads !== null ? formatCount(r.threads) : '–',
    lost: formatClockDuration(r.lostNs, r.unit),
    preempted: r.preemptedShare !== null ? `${(100 * r.preemptedShare).toFixed(1)} %` : '–',
    advice:
      r.advice !== null ? `${formatCount(r.advice.threads)} threads, ${r.advice.waitPolicy}` : '–',
    gain: r.advice !== null ? `${r.advice.predictedSpeedup.toFixed(2)}×` : '–',
  };
}

/** Messages from the runs table's webview to the extension. */
export type FleetFromWebview =
  | { kind: 'ready' }
  /** Open the timeline of a row's pair. */
  | { kind: 'open'; hostFile: string; guestFile: string }
  /** Analyse the folders again. */
  | { kind: 'rerun' };

/** Messages from the extension to the runs table's webview. */
export type FleetToWebview =
  | { kind: 'busy'; text: string }
  | { kind: 'rows'; folders: string[]; rows: FleetRow[]; cancelled: boolean }
  | { kind: 'error'; message: string };
