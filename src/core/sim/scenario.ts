// One simulated scenario, from a configuration to what its run leaves behind: the host and guest
// traces (trace-cmd report text or .dat v7) and truth.json (what the simulator knows). Pure: the
// CLI and the language server each write the files with their own I/O, so the two cannot drift.

import { writeTraceCmdText } from '../export/trace-cmd-text';
import { writeTraceDat } from '../export/trace-dat-writer';
import { simulateOracle, SimConfig } from './engine';
import { simulateTraces, SimTraces, TruePreemption } from './record';

/** How the traces are written: trace-cmd report text, or .dat v7 (uncompressed or zlib). */
export type ScenarioFormat = 'text' | 'dat' | 'dat-zlib';

export interface ScenarioOptions {
  format?: ScenarioFormat;
  /** zlib compressor for `dat-zlib` (Node's deflateSync): core has no Node APIs. */
  deflate?: (data: Uint8Array) => Uint8Array;
  /**
   * The DoP is the best fixed team size in hindsight: one run per size first, then the recorded
   * run with that size (`config.dop` is replaced by `fixed`).
   */
  oracle?: boolean;
}

/** truth.json: the configuration that ran and what only the simulator knows about the run. */
export interface ScenarioTruth {
  config: SimConfig;
  wallS: number;
  /** vCPU number -> host thread id. */
  vcpuTids: number[];
  /** host - guest, ns. */
  offsetNs: number;
  /** Per vCPU: ready but not running (preempted or waiting for a pCPU), ns. */
  vcpuWaitNs: number[];
  /** Per vCPU: how many times it was preempted. */
  preemptions: number[];
  /** Every preemption, in host trace time. */
  preempted: TruePreemption[];
}

/** A file of the run: its name (no folder) and its contents. */
export interface ScenarioFile {
  name: string;
  contents: string | Uint8Array;
}

export interface Scenario extends SimTraces {
  /** The configuration that ran (with `oracle`: `dop: 'fixed'` and the best `fixedDop`). */
  config: SimConfig;
  /** With `oracle`: the best fixed DoP. */
  bestDop?: number;
  truthFile: ScenarioTruth;
  /** host, guest, truth.json: in that order, named as `scenarioFileNames` says. */
  files: ScenarioFile[];
}

/** The names of the files a run writes (to check for clashes before doing the work). */
export function scenarioFileNames(format: ScenarioFormat = 'text'): string[] {
  const ext = format === 'text' ? 'txt' : 'dat';
  return [`host.${ext}`, `guest.${ext}`, 'truth.json'];
}

/** Runs `config` once, recording both traces, and renders the run's files. */
export function runScenario(config: SimConfig, o: ScenarioOptions = {}): Scenario {
  const format = o.format ?? 'text';
  if (format === 'dat-zlib' && o.deflate === undefined)
    throw new Error('runScenario: dat-zlib needs a deflate function');
  let cfg = config;
  let bestDop: number | undefined;
  if (o.oracle === true) {
    bestDop = simulateOracle({ ...config, dop: 'fixed' }).bestDop;
    cfg = { ...config, dop: 'fixed', fixedDop: bestDop };
  }
  const s = simulateTraces(cfg);
  const truthFile: ScenarioTruth = {
    config: cfg,
    wallS: s.result.wallNs / 1e9,
    vcpuTids: s.truth.vcpuTids,
    offsetNs: s.truth.offsetNs,
    vcpuWaitNs: s.result.vcpuWaitNs,
    preemptions: s.result.preemptions,
    preempted: s.truth.preemptions,
  };
  const render = (t: SimTraces['host']): string | Uint8Array => {
    if (format !== 'text')
      return writeTraceDat(t, {
        compression: format === 'dat-zlib' ? 'zlib' : 'none',
        ...(o.deflate !== undefined ? { deflate: o.deflate } : {}),
      });
    const parts: string[] = [];
    writeTraceCmdText(t, (x) => parts.push(x));
    return parts.join('');
  };
  const [hostName, guestName, truthName] = scenarioFileNames(format) as [string, string, string];
  return {
    ...s,
    config: cfg,
    ...(bestDop !== undefined ? { bestDop } : {}),
    truthFile,
    files: [
      { name: hostName, contents: render(s.host) },
      { name: guestName, contents: render(s.guest) },
      { name: truthName, contents: JSON.stringify(truthFile, null, 2) },
    ],
  };
}
