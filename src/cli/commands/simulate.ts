// `vcpu-lens simulate`: the command's declaration (options, help). What it does is in
// src/cli/simulate-run.ts, loaded only when it runs, so no other command loads the simulator.

import { defineCommand, OptionSpecs, OptionValues } from '../command';
import { PRESETS } from '../../core/sim/presets';
import { FORCE_OPTION, JSON_OPTION } from '../shared-options';

/** simulate's options (their values are what simulate-run.ts's runSimulate takes). */
export const SIMULATE_OPTIONS = {
  preset: {
    type: 'string',
    arg: 'P',
    default: 'small',
    help: `the machine, program and co-runner: ${Object.keys(PRESETS).join(', ')} (default small)`,
  },
  policy: { type: 'string', arg: 'P', help: 'the wait policy: spin, block or spin-then-block' },
  dop: {
    type: 'string',
    arg: 'D',
    help: 'the degree of parallelism: fixed, dynamic, pvsched or oracle (best fixed in hindsight)',
  },
  seed: { type: 'string', arg: 'N', help: 'the random seed' },
  barriers: { type: 'string', arg: 'N', help: 'how many barriers the program runs' },
  compare: {
    type: 'boolean',
    default: false,
    help: "the talk's five runs and their ratios (seed, barriers and host settings carry over)",
  },
  ...JSON_OPTION,
  out: { type: 'string', arg: 'DIR', help: "write the run's traces, truth and report there" },
  format: {
    type: 'string',
    arg: 'F',
    help: 'how --out writes the traces: text (default), dat or dat-zlib',
  },
  ...FORCE_OPTION,
  sweep: {
    type: 'string',
    arg: 'SPEC',
    help: 'NAME=FROM..TO[:STEP] or NAME=V1,V2,...: one run per value of pcpus, vcpus, threads, hogs, barriers or seed',
  },
  runtime: {
    type: 'string',
    arg: 'R',
    help: 'the OpenMP runtime whose spin-then-block is modelled: libgomp (default) or libomp',
  },
  'spin-count': {
    type: 'string',
    arg: 'N',
    help: "libgomp's GOMP_SPINCOUNT (default 300000)",
  },
  blocktime: {
    type: 'string',
    arg: 'MS',
    help: "libomp's KMP_BLOCKTIME in ms, or 'infinite' (default 200)",
  },
  'halt-poll': { type: 'string', arg: 'NS', help: 'KVM halt polling, ns (KVM default 200000)' },
  ple: { type: 'boolean', default: false, help: "pause-loop exiting with KVM's defaults" },
  'co-runner': {
    type: 'string',
    arg: 'K',
    help: "hog (plain CPU hogs, default) or vm (another VM's vCPU threads)",
  },
} as const satisfies OptionSpecs;

export type SimulateValues = OptionValues<typeof SIMULATE_OPTIONS>;

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
