// simulate's options, declared once: the command (commands/simulate.ts) parses them and
// simulate-run.ts takes their values; a file of their own, so neither imports the other.

import { OptionSpecs, OptionValues } from './command';
import { PRESETS } from '../core/sim/presets';
import { FORCE_OPTION, JSON_OPTION } from './shared-options';

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
