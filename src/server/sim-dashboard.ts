// The simulator dashboard's requests: its results for a form (the talk's five runs, one run per
// policy of the form, the sweep) and the traces of the run the user picks, as text for the
// extension's read-only documents. Each simulation is one engine run; the server yields between
// them so other requests and cancellation get in.

import type { CancellationToken, Connection } from 'vscode-languageserver/node';
import {
  DashboardRun,
  OwnRun,
  ownRunId,
  RUN_MEANING,
  SEED_MEANING,
  SimDashboardData,
  SimDashboardForm,
} from '../core/report/sim-dashboard';
import { simulate, simulateOracle, SimConfig } from '../core/sim/engine';
import { COMPARE_RUNS, CompareRun, compareConfig, Preset, PRESETS } from '../core/sim/presets';
import { spinBeforeBlockNs } from '../core/sim/runtime';
import { runScenario } from '../core/sim/scenario';
import { parseSweep, sweepConfig } from '../core/sim/sweep';
import {
  SIM_DASHBOARD,
  SIM_RUN_TRACES,
  SimDashboardResult,
  SimRunTracesResult,
} from '../protocol/lsp-ext';

const POLICIES = ['spin', 'block', 'spin-then-block'] as const;
const DOPS = ['fixed', 'dynamic', 'pvsched', 'oracle'] as const;

/**
 * The most text a run's two traces may have to open as documents (it crosses to the extension
 * and back as synced text); npb-ua-b's runs are hundreds of MB, for files instead.
 */
const MAX_DOCUMENT_CHARS = 64_000_000;

const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));

/** The form checked: its preset, or what is wrong with it. */
function checkForm(f: SimDashboardForm): Preset | string {
  const preset = PRESETS[f.preset];
  if (preset === undefined) return `unknown preset '${String(f.preset)}'`;
  if (!Array.isArray(f.policies) || f.policies.some((p) => !POLICIES.includes(p)))
    return `policies are ${POLICIES.join(', ')}`;
  if (!DOPS.includes(f.dop)) return `DoP is ${DOPS.join(', ')}`;
  if (!Number.isSafeInteger(f.seed) || f.seed < 0) return 'the seed is a whole number >= 0';
  return preset;
}

/** A policy of the form's, with its DoP, under the preset's co-runner. */
function ownConfig(
  p: Preset,
  policy: SimConfig['policy'],
  dop: SimConfig['dop'],
  seed: number,
): SimConfig {
  return {
    ...p.config,
    ...p.coRunner,
    policy,
    dop,
    seed,
    ...(policy === 'spin-then-block'
      ? { spinNs: spinBeforeBlockNs({ runtime: 'libgomp' }, p.config.threads, p.config.vcpus) }
      : {}),
  };
}

/** The configuration of a run id (a CompareRun or `own:<policy>:<dop>`), and whether it is oracle. */
function runConfig(
  p: Preset,
  form: SimDashboardForm,
  run: string,
): { config: SimConfig; oracle: boolean } | undefined {
  if ((COMPARE_RUNS as readonly string[]).includes(run))
    return { config: { ...compareConfig(p, run as CompareRun), seed: form.seed }, oracle: false };
  const m = /^own:([\w-]+):(\w+)$/.exec(run);
  const policy = POLICIES.find((x) => x === m?.[1]);
  const dop = DOPS.find((x) => x === m?.[2]);
  if (policy === undefined || dop === undefined) return undefined;
  return {
    config: ownConfig(p, policy, dop === 'oracle' ? 'fixed' : dop, form.seed),
    oracle: dop === 'oracle',
  };
}

export async function dashboardResults(
  form: SimDashboardForm,
  token: CancellationToken,
): Promise<SimDashboardResult> {
  const preset = checkForm(form);
  if (typeof preset === 'string') return { ok: false, message: preset };
  const sweep = form.sweep.trim() === '' ? undefined : parseSweep(form.sweep.trim());
  if (sweep !== undefined && 'error' in sweep)
    return { ok: false, message: `sweep: ${sweep.error}` };
  const cancelled = { ok: false, message: 'cancelled', cancelled: true } as const;
  const runs: DashboardRun[] = [];
  for (const name of COMPARE_RUNS) {
    await yieldNow();
    if (token.isCancellationRequested) return cancelled;
    const r = simulate({ ...compareConfig(preset, name), seed: form.seed });
    runs.push({ name, wallS: r.wallNs / 1e9 });
  }
  const own: OwnRun[] = [];
  for (const policy of form.policies) {
    await yieldNow();
    if (token.isCancellationRequested) return cancelled;
    const c = ownConfig(preset, policy, form.dop === 'oracle' ? 'fixed' : form.dop, form.seed);
    const best = form.dop === 'oracle' ? simulateOracle(c) : undefined;
    const r = best ?? simulate(c);
    own.push({
      id: ownRunId(policy, form.dop),
      label: `${policy}, DoP ${form.dop}`,
      wallS: r.wallNs / 1e9,
      ...(best !== undefined ? { bestDop: best.bestDop } : {}),
    });
  }
  const data: SimDashboardData = {
    preset: preset.name,
    description: preset.description,
    params: [
      { label: 'preset', value: preset.name },
      { label: 'policies', value: form.policies.join(', ') || 'none (the five runs only)' },
      { label: 'DoP', value: form.dop },
      { label: 'seed', value: String(form.seed), meaning: SEED_MEANING },
      ...(sweep !== undefined ? [{ label: 'sweep', value: form.sweep.trim() }] : []),
    ],
    runs,
    own,
  };
  if (sweep !== undefined) {
    // One line per policy of the form (the five runs' two policies when none is picked).
    const names = form.policies.length > 0 ? form.policies : (['spin', 'block'] as const);
    const lines: { name: string; wallS: (number | null)[] }[] = [];
    for (const policy of names) {
      const wallS: (number | null)[] = [];
      for (const value of sweep.values) {
        await yieldNow();
        if (token.isCancellationRequested) return cancelled;
        const c = sweepConfig(
          ownConfig(preset, policy, form.dop === 'oracle' ? 'fixed' : form.dop, form.seed),
          sweep,
          value,
        );
        if (typeof c === 'string') {
          wallS.push(null);
          continue;
        }
        const r = form.dop === 'oracle' ? simulateOracle(c) : simulate(c);
        wallS.push(r.wallNs / 1e9);
      }
      lines.push({ name: policy, wallS });
    }
    data.sweep = { param: sweep.param, values: sweep.values, lines };
  }
  return { ok: true, data };
}

export async function runTraces(
  form: SimDashboardForm,
  run: string,
  token: CancellationToken,
): Promise<SimRunTracesResult> {
  const preset = checkForm(form);
  if (typeof preset === 'string') return { ok: false, message: preset };
  const rc = runConfig(preset, form, run);
  if (rc === undefined)
    return {
      ok: false,
      message: `no run '${run}' (${Object.keys(RUN_MEANING).join(', ')} or own:<policy>:<dop>)`,
    };
  await yieldNow();
  if (token.isCancellationRequested) return { ok: false, message: 'cancelled', cancelled: true };
  // The same run and text as `vcpu-lens simulate --out` (core's runScenario).
  const s = runScenario(rc.config, { oracle: rc.oracle });
  const [host, guest] = s.files;
  const chars = host!.contents.length + guest!.contents.length;
  if (chars > MAX_DOCUMENT_CHARS) {
    const cli = (COMPARE_RUNS as readonly string[]).includes(run)
      ? `vcpu-lens simulate --preset ${preset.name} --compare --seed ${form.seed} --out DIR (DIR/${run}/host.txt)`
      : `vcpu-lens simulate --preset ${preset.name} --policy ${rc.config.policy} --dop ${run.replace(/^.*:/, '')} --seed ${form.seed} --out DIR (DIR/host.txt)`;
    return {
      ok: false,
      message: `${run}'s traces are ${(chars / 1e6).toFixed(0)} M characters, too big to open as documents: ${cli} writes them as files, which vCPU Lens reads from disk`,
    };
  }
  return {
    ok: true,
    host: host!.contents as string,
    guest: guest!.contents as string,
    wallS: s.result.wallNs / 1e9,
  };
}

/** Registers the dashboard's requests; `busy` counts them as the server's other work. */
export function registerSimDashboard(
  connection: Connection,
  busy: <T>(f: () => Promise<T>) => Promise<T>,
): void {
  connection.onRequest(SIM_DASHBOARD, (p, token) => busy(() => dashboardResults(p, token)));
  connection.onRequest(SIM_RUN_TRACES, (p, token) => busy(() => runTraces(p.form, p.run, token)));
}
