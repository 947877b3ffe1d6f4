// `vcpu-lens simulate`: the command's declaration (options, help). What it does is in
// src/cli/simulate-run.ts, loaded only when it runs, so no other command loads the simulator.

import { defineCommand } from '../command';
import { SIMULATE_OPTIONS } from '../simulate-options';

export const simulateCmd = defineCommand({
  name: 'simulate',
  summary:
    "The dual-level scheduling simulator: one run of a preset, or with --compare the talk's five runs.",
  usage:
    '[--preset P] [--policy spin|block|spin-then-block] [--dop fixed|dynamic|pvsched|oracle] ' +
    '[--seed N] [--barriers N] [--compare] [--json] [--out DIR [--format text|dat|dat-zlib] ' +
    '[--force]] [--sweep NAME=FROM..TO[:STEP]|NAME=V1,V2,...] [--runtime libgomp|libomp] ' +
    '[--spin-count N] [--blocktime MS] [--halt-poll NS] [--ple] [--co-runner hog|vm]',
  details:
    "A run with the preset's co-runner, or with --compare the talk's five runs (spin/block without\n" +
    'and with host preemption, spin with pvsched DoP) and their ratios. --out writes host.txt and\n' +
    'guest.txt (trace-cmd text), truth.json and report.html (the analysis of those traces with the\n' +
    'interactive timeline), or with --format dat host.dat and guest.dat (trace-cmd .dat v7;\n' +
    "dat-zlib: zlib-compressed); with --compare, each run's traces and truth.json in DIR/<run>/\n" +
    'and the times and ratios in DIR/compare.json and DIR/report.html (the dashboard: the five\n' +
    "runs as a bar chart with the talk's marked, the ratios, the advice for spin-preempted).\n" +
    '--sweep runs it once per value and prints a\n' +
    'table (with --compare, the five runs per value). spin-then-block spins as the runtime would:\n' +
    'libgomp GOMP_SPINCOUNT (--spin-count) or libomp KMP_BLOCKTIME (--blocktime).',
  options: SIMULATE_OPTIONS,
  // The simulator, the report and the .dat writer load only when this command runs.
  async run(v, positionals, io) {
    const { runSimulate } = await import('../simulate-run');
    return runSimulate(v, positionals, io);
  },
});
