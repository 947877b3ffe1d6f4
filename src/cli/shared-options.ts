// Options several commands take, declared once: --json, --force, and those of every command that
// reads traces (--clock, --tsc-hz, --max-diagnostics, --threads, --memory-cap, --progress), with the check
// that turns the latter into the engine's read options.

import { totalmem } from 'node:os';
import type { OptionSpecs, OptionValues } from './command';
import { CliReadOptions, ProgressBar } from './progress';

export const JSON_OPTION = {
  json: {
    type: 'boolean',
    default: false,
    help: 'print the stable JSON schema (docs/cli.md) instead of text',
  },
} as const satisfies OptionSpecs;

export const FORCE_OPTION = {
  force: {
    type: 'boolean',
    default: false,
    help: 'overwrite output files that exist (otherwise they are refused, before any work)',
  },
} as const satisfies OptionSpecs;

/** The options of the commands that read traces. */
export const READ_OPTIONS = {
  clock: {
    type: 'string',
    arg: 'NAME',
    help: "the trace clock's name (text traces do not record it), e.g. x86-tsc",
  },
  'tsc-hz': {
    type: 'string',
    arg: 'HZ',
    help:
      'the rate of a counting clock (x86-tsc, counter), e.g. 2445400000 or 2445.4M: its ticks ' +
      "are read as ns, so times print in seconds (a .dat's TSC2NSEC already does this)",
  },
  'max-diagnostics': {
    type: 'string',
    arg: 'N',
    default: '1000',
    help: 'keep at most N diagnostics per trace (default 1000)',
  },
  threads: {
    type: 'string',
    arg: 'N',
    help: 'threads for big uncompressed text files (default: cores, at most 4; 1 = off)',
  },
  'memory-cap': {
    type: 'string',
    arg: 'SIZE',
    help:
      "stop loading a trace once it holds SIZE (512M, 4G; 'off'): the events before it are " +
      "analysed and an error says where it stopped (default: half of this machine's memory)",
  },
  progress: {
    type: 'string',
    arg: 'WHEN',
    default: 'auto',
    help: 'a progress bar on stderr while loading: auto (on a terminal), always, never',
  },
} as const satisfies OptionSpecs;

/** The read options as the engine takes them, or what is wrong with them. */
export function readOptions(v: OptionValues<typeof READ_OPTIONS>): CliReadOptions | string {
  const max = Number(v['max-diagnostics']);
  if (!Number.isInteger(max) || max < 0)
    return `--max-diagnostics wants a whole number, got '${v['max-diagnostics']}'`;
  const threads = v.threads !== undefined ? Number(v.threads) : undefined;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1))
    return `--threads wants a positive whole number, got '${v.threads}'`;
  const cap = parseSize(v['memory-cap']);
  if (cap === null)
    return `--memory-cap wants a size such as 512M or 4G, or 'off', got '${v['memory-cap']}'`;
  const tscHz = v['tsc-hz'] !== undefined ? parseHz(v['tsc-hz']) : undefined;
  if (tscHz === null)
    return `--tsc-hz wants a rate in Hz such as 2445400000, 2445.4M or 2.4454G, got '${v['tsc-hz']}'`;
  const progress = v.progress;
  if (progress !== 'auto' && progress !== 'always' && progress !== 'never')
    return `--progress is auto, always or never, got '${progress}'`;
  return {
    bar: new ProgressBar(progress),
    ...(cap !== undefined ? { memoryCapBytes: cap } : {}),
    diagnosticsCap: max,
    ...(v.clock !== undefined ? { clock: v.clock } : {}),
    ...(tscHz !== undefined ? { tscHz } : {}),
    ...(threads !== undefined ? { threads } : {}),
  };
}

/** A --tsc-hz value in Hz (`2445400000`, `2445.4M`, `2.4454 GHz`), or null when unreadable. */
export function parseHz(v: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:hz)?$/i.exec(v.trim());
  if (m === null) return null;
  const mul = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase()]!;
  const hz = Math.round(Number(m[1]) * mul);
  // At least 1 kHz (a slower counter is no clock a trace uses) and at most 1 THz.
  return hz >= 1e3 && hz <= 1e12 ? hz : null;
}

/**
 * A --memory-cap value in bytes: undefined for 'off', null when unreadable. Without the option:
 * half of the machine's memory, so a huge trace stops with a message instead of exhausting it.
 */
export function parseSize(v: string | undefined): number | undefined | null {
  if (v === undefined) return Math.floor(totalmem() / 2);
  if (v === 'off' || v === '0') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(v.trim());
  if (m === null) return null;
  const mul = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase()]!;
  const bytes = Math.floor(Number(m[1]) * mul);
  return bytes > 0 ? bytes : null;
}
