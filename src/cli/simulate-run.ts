// What `vcpu-lens simulate` does once its options are parsed (simulate.ts declares the command):
// runs the dual-level simulator on a preset; --compare runs the talk's five configurations side by
// side; --out writes the runs' host and guest traces and truth (the files come from core's
// runScenario, as the language server's do). Loaded only when simulate runs.

import { randomBytes } from 'node:crypto';
import { mkdirSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { analyzePair } from '../core/analyze/pair';
import { KVM_PLE_DEFAULTS, simulate, simulateOracle, SimConfig } from '../core/sim/engine';
import { spinBeforeBlockNs } from '../core/sim/runtime';
import { buildTimelineModel } from '../core/view/model';
import { COMPARE_RUNS, CompareRun, compareConfig, Preset, PRESETS } from '../core/sim/presets';
import {
  adviceLines,
  renderSimDashboardHtml,
  SEED_MEANING,
  SimDashboardData,
} from '../core/report/sim-dashboard';
import { runScenario, ScenarioFile, ScenarioFormat, scenarioFileNames } from '../core/sim/scenario';
import { parseSweep, Sweep, sweepConfig } from '../core/sim/sweep';
import { CommandIo, usageError } from './command';
import { ExitCode } from './exit-codes';
import { writeReportFiles } from './html-report';
import { log, safeText } from './terminal';
import { formatDuration } from '../core/model/time';
import type { SimulateValues } from './simulate-options';

const FORMATS: readonly ScenarioFormat[] = ['text', 'dat', 'dat-zlib'];

/** `vcpu-lens simulate` once its options are parsed (simulate.ts declares the command). */
export function runSimulate(v: SimulateValues, positionals: string[], io: CommandIo): ExitCode {
  const u = (m: string): ExitCode => usageError('simulate', m);
  if (positionals.length > 0)
    return u(`takes no file (got '${positionals[0]}'); --out DIR says where to write`);
  const preset = PRESETS[v.preset];
  if (preset === undefined)
    return u(`unknown preset '${v.preset}' (${Object.keys(PRESETS).join(', ')})`);
  const overrides = simulateOverrides(v, preset);
  if (typeof overrides === 'string') return u(overrides);
  let sweep: Sweep | undefined;
  if (v.sweep !== undefined) {
    const s = parseSweep(v.sweep);
    if ('error' in s) return u(`--sweep ${s.error}`);
    if (v.out !== undefined)
      return u('--sweep and --out do not go together (which run would it write?)');
    sweep = s;
  }
  const format = (v.format ?? 'text') as ScenarioFormat;
  if (!FORMATS.includes(format)) return u(`--format is text, dat or dat-zlib, not '${v.format}'`);
  return simulateCommand(
    {
      preset,
      format,
      overrides,
      ...(sweep !== undefined ? { sweep } : {}),
      compare: v.compare,
      json: v.json,
      force: v.force,
      ...(v.out !== undefined ? { out: v.out } : {}),
    },
    io.out,
  );
}

export interface SimulateOptions {
  preset: Preset;
  overrides: Partial<SimConfig>;
  compare: boolean;
  json: boolean;
  out?: string;
  /** What --out writes the traces as: trace-cmd text, or .dat v7 (uncompressed or zlib). */
  format?: ScenarioFormat;
  force: boolean;
  sweep?: Sweep;
}

export const SIMULATE_SCHEMA = 'vcpu-lens.simulate/1';

/** The simulate flags as parsed by parseArgs (strings; booleans for switches). */
export interface SimulateFlags {
  policy?: string | undefined;
  dop?: string | undefined;
  seed?: string | undefined;
  barriers?: string | undefined;
  runtime?: string | undefined;
  'spin-count'?: string | undefined;
  blocktime?: string | undefined;
  'halt-poll'?: string | undefined;
  ple?: boolean | undefined;
  'co-runner'?: string | undefined;
}

/** The compared run whose analysis gives the dashboard's advice. */
const ADVISED_RUN: CompareRun = 'spin-preempted';

/** What the five runs share, as the dashboard lists it. */
function dashboardParams(p: Preset, c: SimConfig): SimDashboardData['params'] {
  return [
    { label: 'preset', value: p.name },
    { label: 'machine', value: `${c.vcpus} vCPUs on ${c.pcpus} pCPUs${c.pin ? ', pinned' : ''}` },
    { label: 'program', value: `${c.threads} threads, ${c.barriers} barriers` },
    { label: 'policies', value: 'spin, block (the five runs fix their own)' },
    { label: 'DoP', value: 'fixed; spin-pvdop: pvsched' },
    { label: 'seed', value: String(c.seed), meaning: SEED_MEANING },
  ];
}

/** The five compared runs fix their own policy and DoP; seed, size and the host carry over. */
function compareKeeps(overrides: Partial<SimConfig>): Partial<SimConfig> {
  return Object.fromEntries(
    Object.entries(overrides).filter(([k]) =>
      ['seed', 'barriers', 'haltPollNs', 'ple', 'coRunnerKind'].includes(k),
    ),
  );
}

/** The flags as configuration overrides, or what is wrong with them. */
export function simulateOverrides(f: SimulateFlags, p: Preset): Record<string, unknown> | string {
  const o: Record<string, unknown> = {};
  const whole = (flag: string, v: string, least: number): number | string => {
    const n = Number(v);
    return Number.isSafeInteger(n) && n >= least && v.trim() !== ''
      ? n
      : `--${flag} wants a whole number${least > 0 ? ` >= ${least}` : ''}, got '${v}'`;
  };
  if (f.policy !== undefined) {
    if (!['spin', 'block', 'spin-then-block'].includes(f.policy))
      return `--policy is spin, block or spin-then-block, not '${f.policy}'`;
    o['policy'] = f.policy;
  }
  if (f.dop !== undefined) {
    if (!['fixed', 'dynamic', 'pvsched', 'oracle'].includes(f.dop))
      return `--dop is fixed, dynamic, pvsched or oracle, not '${f.dop}'`;
    o['dop'] = f.dop;
  }
  for (const [flag, key, least] of [
    ['seed', 'seed', 0],
    ['barriers', 'barriers', 1],
    ['halt-poll', 'haltPollNs', 0],
  ] as const) {
    const v = f[flag];
    if (v === undefined) continue;
    const n = whole(flag, v, least);
    if (typeof n === 'string') return n;
    o[key] = n;
  }
  if (f.ple === true) o['ple'] = KVM_PLE_DEFAULTS;
  if (f['co-runner'] !== undefined) {
    if (f['co-runner'] !== 'hog' && f['co-runner'] !== 'vm')
      return `--co-runner is hog or vm, not '${f['co-runner']}'`;
    o['coRunnerKind'] = f['co-runner'];
  }
  const runtime = f.runtime ?? 'libgomp';
  if (runtime !== 'libgomp' && runtime !== 'libomp')
    return `--runtime is libgomp or libomp, not '${runtime}'`;
  if (f['spin-count'] !== undefined && runtime !== 'libgomp')
    return "--spin-count is libgomp's GOMP_SPINCOUNT; libomp uses --blocktime";
  if (f.blocktime !== undefined && runtime !== 'libomp')
    return "--blocktime is libomp's KMP_BLOCKTIME; give --runtime libomp (libgomp uses --spin-count)";
  let spinCount: number | undefined;
  if (f['spin-count'] !== undefined) {
    const n = whole('spin-count', f['spin-count'], 0);
    if (typeof n === 'string') return n;
    spinCount = n;
  }
  let blocktimeMs: number | undefined;
  if (f.blocktime !== undefined) {
    if (f.blocktime === 'infinite') blocktimeMs = Infinity;
    else {
      const n = whole('blocktime', f.blocktime, 0);
      if (typeof n === 'string') return `${n} (or 'infinite')`;
      blocktimeMs = n;
    }
  }
  const policy = (o['policy'] as string | undefined) ?? p.config.policy;
  if ((spinCount !== undefined || blocktimeMs !== undefined) && policy !== 'spin-then-block')
    return '--spin-count and --blocktime set how spin-then-block spins: give --policy spin-then-block';
  if (policy === 'spin-then-block')
    o['spinNs'] = spinBeforeBlockNs(
      {
        runtime,
        ...(spinCount !== undefined ? { spinCount } : {}),
        ...(blocktimeMs !== undefined ? { blocktimeMs } : {}),
      },
      p.config.threads,
      p.config.vcpus,
    );
  return o;
}

export function simulateCommand(o: SimulateOptions, print: (s: string) => void): ExitCode {
  const p = o.preset;
  if (o.sweep !== undefined) return sweepCommand(o, o.sweep, print);
  if (o.compare) return compareCommand(o, print);
  const cfg: SimConfig = { ...p.config, ...p.coRunner, ...o.overrides };
  const oracle = (o.overrides['dop'] as string | undefined) === 'oracle';
  if (o.out !== undefined) {
    const files = [...scenarioFileNames(o.format), 'report.html'].map((f) => path.join(o.out!, f));
    if (refuseClash(files, o.force)) return ExitCode.usage;
    const s = runScenario(cfg, { ...scenarioOptions(o), oracle });
    const failed = writeRunFiles(o.out, s.files, o.force);
    if (failed !== undefined) return failed;
    // The report analyses the traces just written, as `vcpu-lens analyze` would.
    const model = buildTimelineModel(analyzePair(s.host, s.guest), {
      title: `simulated ${p.name} (${s.config.policy}, ${s.config.hogs} co-runner${s.config.hogs === 1 ? '' : 's'})`,
    });
    const failedReport = writeReportFiles(model, files[3]!, undefined, o.force);
    if (failedReport !== undefined) return failedReport;
    report(s.result.wallNs, s.result.preemptions, s.result.teams, s.config, o, print);
    if (!o.json) print(`wrote ${files.join(', ')}`);
    return ExitCode.ok;
  }
  if (oracle) {
    // The best fixed DoP in hindsight: one run per team size.
    const r = simulateOracle({ ...cfg, dop: 'fixed' });
    report(
      r.wallNs,
      r.preemptions,
      r.teams,
      { ...cfg, dop: 'fixed', fixedDop: r.bestDop },
      o,
      print,
    );
    return ExitCode.ok;
  }
  const r = simulate(cfg);
  report(r.wallNs, r.preemptions, r.teams, cfg, o, print);
  return ExitCode.ok;
}

function scenarioOptions(o: SimulateOptions): {
  format: ScenarioFormat;
  deflate: (b: Uint8Array) => Uint8Array;
} {
  return {
    format: o.format ?? 'text',
    deflate: (b) => process.getBuiltinModule('node:zlib').deflateSync(b),
  };
}

/** Says which of `files` exist when that is refused (no --force); true then. */
function refuseClash(files: string[], force: boolean): boolean {
  const clash = files.filter((f) => existsSync(f));
  if (clash.length === 0 || force) return false;
  log(`vcpu-lens simulate: ${clash.map(safeText).join(', ')} exist; give --force to overwrite`);
  return true;
}

/** Writes a run's files into `dir` (created); an exit code when one could not be written. */
function writeRunFiles(
  dir: string,
  files: readonly ScenarioFile[],
  force: boolean,
): ExitCode | undefined {
  let at = dir;
  try {
    mkdirSync(dir, { recursive: true });
    for (const f of files) {
      at = path.join(dir, f.name);
      // 'wx' refuses a file that appeared since the check (no overwrite without --force).
      writeFileSync(at, f.contents, { flag: force ? 'w' : 'wx' });
    }
  } catch (e) {
    log(
      (e as NodeJS.ErrnoException).code === 'EEXIST'
        ? `vcpu-lens simulate: ${safeText(at)} exists; give --force to overwrite`
        : `vcpu-lens simulate: cannot write ${safeText(at)}: ${(e as Error).message}`,
    );
    return ExitCode.usage;
  }
  return undefined;
}

/**
 * The talk's five runs side by side, with their ratios (and the talk's, for presets that model
 * it). With --out each run's traces and truth go to DIR/<run>/ and the numbers to compare.json.
 */
function compareCommand(o: SimulateOptions, print: (s: string) => void): ExitCode {
  const p = o.preset;
  const keep = compareKeeps(o.overrides);
  const out = o.out;
  const compareJson = out !== undefined ? path.join(out, 'compare.json') : undefined;
  const reportHtml = out !== undefined ? path.join(out, 'report.html') : undefined;
  if (out !== undefined) {
    const files = COMPARE_RUNS.flatMap((name) =>
      scenarioFileNames(o.format).map((f) => path.join(out, name, f)),
    );
    if (refuseClash([...files, compareJson!, reportHtml!], o.force)) return ExitCode.usage;
  }
  const runs: { name: CompareRun; wallS: number; hostEvents: number; guestEvents: number }[] = [];
  let advice: string[] | undefined;
  for (const name of COMPARE_RUNS) {
    const cfg: SimConfig = { ...compareConfig(p, name), ...keep };
    let r;
    if (out !== undefined) {
      const s = runScenario(cfg, scenarioOptions(o));
      const failed = writeRunFiles(path.join(out, name), s.files, o.force);
      if (failed !== undefined) return failed;
      r = s.result;
      // The dashboard's advice: what vCPU Lens says of the run that needs it (spin under preemption).
      if (name === ADVISED_RUN) {
        const a = analyzePair(s.host, s.guest).advice;
        if (a !== undefined) advice = adviceLines(a);
      }
    } else r = simulate(cfg);
    runs.push({
      name,
      wallS: r.wallNs / 1e9,
      hostEvents: r.hostEvents,
      guestEvents: r.guestEvents,
    });
  }
  const w = Object.fromEntries(runs.map((r) => [r.name, r.wallS]));
  const ratios = {
    'block-ideal/spin-ideal': w['block-ideal']! / w['spin-ideal']!,
    'spin-preempted/spin-ideal': w['spin-preempted']! / w['spin-ideal']!,
    'block-preempted/block-ideal': w['block-preempted']! / w['block-ideal']!,
    'spin-pvdop/spin-preempted': w['spin-pvdop']! / w['spin-preempted']!,
  };
  const t = p.talk;
  const talkRatios = t
    ? {
        'block-ideal/spin-ideal': t['block-ideal'] / t['spin-ideal'],
        'spin-preempted/spin-ideal': t['spin-preempted'] / t['spin-ideal'],
        'block-preempted/block-ideal': t['block-preempted'] / t['block-ideal'],
        'spin-pvdop/spin-preempted': t['spin-pvdop'] / t['spin-preempted'],
      }
    : undefined;
  const json = JSON.stringify(
    {
      schema: SIMULATE_SCHEMA,
      preset: p.name,
      runs,
      ratios,
      ...(talkRatios ? { talk: t, talkRatios } : {}),
    },
    null,
    2,
  );
  if (compareJson !== undefined) {
    const failed = writeRunFiles(out!, [{ name: 'compare.json', contents: json }], o.force);
    if (failed !== undefined) return failed;
    const html = renderSimDashboardHtml(
      {
        preset: p.name,
        description: p.description,
        params: dashboardParams(p, { ...p.config, ...keep }),
        runs,
        ...(advice !== undefined ? { advice, adviceFor: ADVISED_RUN } : {}),
        links: Object.fromEntries(
          COMPARE_RUNS.map((n) => [n, `${n}/${scenarioFileNames(o.format)[0]!}`]),
        ),
      },
      randomBytes(18).toString('base64'),
    );
    const failedHtml = writeRunFiles(out!, [{ name: 'report.html', contents: html }], o.force);
    if (failedHtml !== undefined) return failedHtml;
  }
  if (o.json) print(json);
  else {
    print(`${p.name}: ${p.description}`);
    print(`  run               simulated s${t ? '   talk s' : ''}`);
    for (const r of runs)
      print(
        `  ${r.name.padEnd(17)} ${r.wallS.toFixed(3).padStart(11)}${t ? t[r.name as keyof typeof t].toFixed(2).padStart(9) : ''}`,
      );
    print('  ratio                            ours' + (talkRatios ? '   talk' : ''));
    for (const [k, v] of Object.entries(ratios))
      print(
        `  ${k.padEnd(30)} ${v.toFixed(2).padStart(6)}${talkRatios ? talkRatios[k as keyof typeof talkRatios].toFixed(2).padStart(7) : ''}`,
      );
    if (out !== undefined)
      print(
        `wrote ${compareJson!}, ${reportHtml!} and ${COMPARE_RUNS.map((n) => path.join(out, n)).join(', ')} (${scenarioFileNames(o.format).join(', ')} each)`,
      );
  }
  return ExitCode.ok;
}

function report(
  wallNs: number,
  preemptions: number[],
  teams: number[],
  cfg: SimConfig,
  o: SimulateOptions,
  print: (s: string) => void,
): void {
  const avgTeam = teams.reduce((a, b) => a + b, 0) / teams.length;
  if (o.json) {
    print(
      JSON.stringify(
        {
          schema: SIMULATE_SCHEMA,
          preset: o.preset.name,
          runs: [{ name: `${cfg.policy}-${cfg.dop}`, wallS: wallNs / 1e9 }],
          preemptions,
          averageTeam: avgTeam,
        },
        null,
        2,
      ),
    );
    return;
  }
  print(
    `${o.preset.name} (${cfg.policy}, DoP ${cfg.dop}${cfg.fixedDop !== undefined ? ` ${cfg.fixedDop}` : ''}, ${cfg.hogs} co-runner${cfg.hogs === 1 ? '' : 's'}): ${formatDuration(wallNs)}, ${preemptions.reduce((a, b) => a + b, 0)} vCPU preemptions, average team ${avgTeam.toFixed(2)} of ${cfg.threads}`,
  );
}

interface SweepRun {
  name: string;
  wallS: number;
  hostEvents: number;
  guestEvents: number;
  preemptions: number;
  preemptedS: number;
  averageTeam: number;
  bestDop?: number;
}

/** One row per value: the single configured run, or with --compare the five runs. */
function sweepCommand(o: SimulateOptions, sw: Sweep, print: (s: string) => void): ExitCode {
  const p = o.preset;
  const base: SimConfig = { ...p.config, ...p.coRunner, ...o.overrides };
  const oracle = (o.overrides['dop'] as string | undefined) === 'oracle';
  const single = `${base.policy}-${oracle ? 'oracle' : base.dop}`;
  const rows: { value: number; runs: SweepRun[] }[] = [];
  for (const value of sw.values) {
    const configs: [string, SimConfig | string][] = o.compare
      ? COMPARE_RUNS.map((name) => {
          const c: SimConfig = { ...compareConfig(p, name), ...compareKeeps(o.overrides) };
          // Sweeping co-runners varies the preempted runs; the ideal ones have none by definition.
          if (sw.param === 'hogs' && name.endsWith('-ideal')) return [name, c];
          return [name, sweepConfig(c, sw, value)];
        })
      : [[single, sweepConfig(oracle ? { ...base, dop: 'fixed' } : base, sw, value)]];
    const runs: SweepRun[] = [];
    for (const [name, c] of configs) {
      if (typeof c === 'string') {
        log(`vcpu-lens simulate: --sweep ${sw.param}=${value}: ${c}`);
        return ExitCode.usage;
      }
      const best = oracle && !o.compare ? simulateOracle(c) : undefined;
      const r = best ?? simulate(c);
      runs.push({
        name,
        wallS: r.wallNs / 1e9,
        hostEvents: r.hostEvents,
        guestEvents: r.guestEvents,
        preemptions: r.preemptions.reduce((a, b) => a + b, 0),
        preemptedS: r.vcpuPreemptedNs.reduce((a, b) => a + b, 0) / 1e9,
        averageTeam: r.teams.reduce((a, b) => a + b, 0) / r.teams.length,
        ...(best !== undefined ? { bestDop: best.bestDop } : {}),
      });
    }
    rows.push({ value, runs });
  }
  if (o.json) {
    print(JSON.stringify({ schema: SIMULATE_SCHEMA, preset: p.name, sweep: sw, rows }, null, 2));
    return ExitCode.ok;
  }
  const col = (s: string, w: number): string => s.padStart(w);
  print(`${p.name}: sweep ${sw.param} over ${sw.values.length} values`);
  if (o.compare) {
    print(`  ${col(sw.param, 8)}${COMPARE_RUNS.map((n) => col(n, 16)).join('')}  pvDoP gain`);
    for (const { value, runs } of rows) {
      const w = Object.fromEntries(runs.map((r) => [r.name, r.wallS]));
      print(
        `  ${col(String(value), 8)}${runs.map((r) => col(r.wallS.toFixed(3), 16)).join('')}  ${col(
          (w['spin-preempted']! / w['spin-pvdop']!).toFixed(2) + 'x',
          10,
        )}`,
      );
    }
    print('  (wall seconds; pvDoP gain = spin-preempted / spin-pvdop)');
    return ExitCode.ok;
  }
  print(
    `  (${base.policy}, DoP ${oracle ? 'oracle' : base.dop}, ${base.hogs} co-runner${base.hogs === 1 ? '' : 's'} unless swept)`,
  );
  print(
    `  ${col(sw.param, 8)}${col('wall s', 10)}${col('vs first', 10)}${col('preemptions', 13)}${col('preempted s', 13)}${col('avg team', 10)}${oracle ? col('best DoP', 10) : ''}`,
  );
  const first = rows[0]!.runs[0]!.wallS;
  for (const { value, runs } of rows) {
    const r = runs[0]!;
    print(
      `  ${col(String(value), 8)}${col(r.wallS.toFixed(3), 10)}${col((r.wallS / first).toFixed(2) + 'x', 10)}${col(String(r.preemptions), 13)}${col(r.preemptedS.toFixed(3), 13)}${col(r.averageTeam.toFixed(2), 10)}${oracle ? col(String(r.bestDop), 10) : ''}`,
    );
  }
  return ExitCode.ok;
}
