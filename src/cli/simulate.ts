// `vcpu-lens simulate`: runs the dual-level simulator on a preset; --compare runs the talk's five
// configurations side by side; --out writes the host and guest traces (trace-cmd text) and truth.

import { mkdirSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { analyzePair } from '../core/analyze/pair';
import { writeTraceCmdText } from '../core/export/trace-cmd-text';
import { buildTimelineModel } from '../core/view/model';
import { simulate, simulateOracle, SimConfig } from '../core/sim/engine';
import { COMPARE_RUNS, compareConfig, Preset } from '../core/sim/presets';
import { simulateTraces } from '../core/sim/record';
import { ExitCode } from './exit-codes';
import { writeReportFiles } from './html-report';
import { log } from './terminal';

export interface SimulateOptions {
  preset: Preset;
  overrides: Partial<SimConfig>;
  compare: boolean;
  json: boolean;
  out?: string;
  force: boolean;
}

export const SIMULATE_SCHEMA = 'vcpu-lens.simulate/1';

export function simulateCommand(o: SimulateOptions, print: (s: string) => void): ExitCode {
  const p = o.preset;
  if (o.compare) {
    // The five runs fix their own policy and DoP; only seed and size carry over.
    const { seed, barriers } = o.overrides;
    const keep = {
      ...(seed !== undefined ? { seed } : {}),
      ...(barriers !== undefined ? { barriers } : {}),
    };
    const runs = COMPARE_RUNS.map((name) => {
      const r = simulate({ ...compareConfig(p, name), ...keep });
      return { name, wallS: r.wallNs / 1e9, hostEvents: r.hostEvents };
    });
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
    if (o.json)
      print(
        JSON.stringify(
          {
            schema: SIMULATE_SCHEMA,
            preset: p.name,
            runs,
            ratios,
            ...(talkRatios ? { talk: t, talkRatios } : {}),
          },
          null,
          2,
        ),
      );
    else {
      print(`${p.name}: ${p.description}`);
      print(`  run               simulated s${t ? '   talk s' : ''}`);
      for (const r of runs)
        print(
          `  ${r.name.padEnd(17)} ${r.wallS.toFixed(3).padStart(11)}${t ? t[r.name].toFixed(2).padStart(9) : ''}`,
        );
      print('  ratio                            ours' + (talkRatios ? '   talk' : ''));
      for (const [k, v] of Object.entries(ratios))
        print(
          `  ${k.padEnd(30)} ${v.toFixed(2).padStart(6)}${talkRatios ? talkRatios[k as keyof typeof talkRatios].toFixed(2).padStart(7) : ''}`,
        );
    }
    return ExitCode.ok;
  }
  const cfg: SimConfig = { ...p.config, ...p.coRunner, ...o.overrides };
  if (o.out !== undefined) {
    const files = ['host.txt', 'guest.txt', 'truth.json', 'report.html'].map((f) =>
      path.join(o.out!, f),
    );
    const clash = files.filter((f) => existsSync(f));
    if (clash.length > 0 && !o.force) {
      log(`vcpu-lens simulate: ${clash.join(', ')} exist; give --force to overwrite`);
      return ExitCode.usage;
    }
    const s = simulateTraces(cfg);
    mkdirSync(o.out, { recursive: true });
    for (const [f, t] of [
      [files[0]!, s.host],
      [files[1]!, s.guest],
    ] as const) {
      let text = '';
      writeTraceCmdText(t, (x) => (text += x));
      writeFileSync(f, text);
    }
    writeFileSync(
      files[2]!,
      JSON.stringify(
        {
          config: cfg,
          wallS: s.result.wallNs / 1e9,
          vcpuTids: s.truth.vcpuTids,
          offsetNs: s.truth.offsetNs,
          vcpuWaitNs: s.result.vcpuWaitNs,
          preemptions: s.result.preemptions,
        },
        null,
        2,
      ),
    );
    // The report analyses the traces just written, as `vcpu-lens analyze` would.
    const model = buildTimelineModel(analyzePair(s.host, s.guest), {
      title: `simulated ${p.name} (${cfg.policy}, ${cfg.hogs} co-runner${cfg.hogs === 1 ? '' : 's'})`,
    });
    const failed = writeReportFiles(model, files[3]!, undefined);
    if (failed !== undefined) return failed;
    report(s.result.wallNs, s.result.preemptions, s.result.teams, cfg, o, print);
    if (!o.json) print(`wrote ${files.join(', ')}`);
    return ExitCode.ok;
  }
  if ((o.overrides['dop'] as string | undefined) === 'oracle') {
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
    `${o.preset.name} (${cfg.policy}, DoP ${cfg.dop}${cfg.fixedDop !== undefined ? ` ${cfg.fixedDop}` : ''}, ${cfg.hogs} co-runner${cfg.hogs === 1 ? '' : 's'}): ${(wallNs / 1e9).toFixed(3)} s, ${preemptions.reduce((a, b) => a + b, 0)} vCPU preemptions, average team ${avgTeam.toFixed(2)} of ${cfg.threads}`,
  );
}
