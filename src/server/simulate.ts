// Simulate…: runs a preset (and the talk's five runs) with the core simulator and writes its
// traces and ground truth where the user's files are never replaced.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CancellationToken } from 'vscode-languageserver';
import { simulate, SimConfig } from '../core/sim/engine';
import { COMPARE_RUNS, compareConfig, PRESETS } from '../core/sim/presets';
import { spinBeforeBlockNs } from '../core/sim/runtime';
import { runScenario, ScenarioFile } from '../core/sim/scenario';
import type { SimulateParams, SimulateResult } from '../protocol/lsp-ext';

/**
 * Runs a preset (and optionally the talk's five runs) and writes its traces and truth. Files the
 * user has are never replaced: when the folder holds other versions of them, the run goes to a
 * fresh folder beside it (`outDir-2`, ...), and the result says where.
 */
export async function runSimulation(
  p: SimulateParams,
  token: CancellationToken,
): Promise<SimulateResult> {
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
  // The same run and files as `vcpu-lens simulate --out` (core's runScenario).
  const s = runScenario(cfg, { oracle: p.dop === 'oracle' });
  if (s.bestDop !== undefined)
    summary.push(`oracle: the best fixed DoP in hindsight is ${s.bestDop} threads`);
  let outDir: string;
  try {
    outDir = writeScenarioFiles(p.outDir, s.files);
  } catch (e) {
    return { ok: false, message: `cannot write the simulation: ${(e as Error).message}` };
  }
  if (outDir !== p.outDir)
    summary.push(`${p.outDir} holds other files of that name (kept): wrote into ${outDir}`);
  const avg = s.result.teams.reduce((a, b) => a + b, 0) / s.result.teams.length;
  summary.push(
    `${p.policy}, DoP ${p.dop}: ${(s.result.wallNs / 1e9).toFixed(3)} s, ${s.result.preemptions.reduce((a, b) => a + b, 0)} vCPU preemptions, average team ${avg.toFixed(2)} of ${s.config.threads}`,
  );
  const [hostPath, guestPath, truthPath] = s.files.map((f) => path.join(outDir, f.name)) as [
    string,
    string,
    string,
  ];
  return {
    ok: true,
    wallS: s.result.wallNs / 1e9,
    outDir,
    hostPath,
    guestPath,
    truthPath,
    compare,
    summary,
  };
}

/**
 * Writes a run's files into `dir`, or when it holds a file of one of their names with other
 * contents, into the first of `dir-2`, `dir-3`, ... that does not: a folder already holding exactly
 * these files is used as it is (the same run again). Never replaces a file ('wx'). Returns the folder.
 */
function writeScenarioFiles(dir: string, files: readonly ScenarioFile[]): string {
  const same = (f: string, c: string | Uint8Array): boolean => {
    try {
      return readFileSync(f).equals(typeof c === 'string' ? Buffer.from(c) : c);
    } catch {
      return false;
    }
  };
  for (let k = 1; k <= 1000; k++) {
    const d = k === 1 ? dir : `${dir}-${k}`;
    const paths = files.map((f) => path.join(d, f.name));
    const present = paths.filter((f) => existsSync(f));
    if (present.length === files.length && files.every((f, i) => same(paths[i]!, f.contents)))
      return d;
    if (present.length > 0) continue;
    mkdirSync(d, { recursive: true });
    files.forEach((f, i) => writeFileSync(paths[i]!, f.contents, { flag: 'wx' }));
    return d;
  }
  throw new Error(`${dir} and the next 999 folders beside it all hold other simulation files`);
}
