// Parameter sweeps: `pcpus=18..36`, `pcpus=18..36:6`, `hogs=0,1,2,4`. One configuration per
// value, everything else from the preset; the caller runs them (one run or the five of --compare).

import type { SimConfig } from './engine';

/** What a sweep may vary: whole-number machine, program and co-runner sizes. */
export const SWEEP_PARAMS = ['pcpus', 'vcpus', 'threads', 'hogs', 'barriers', 'seed'] as const;
export type SweepParam = (typeof SWEEP_PARAMS)[number];

export interface Sweep {
  param: SweepParam;
  values: number[];
}

/** The most values one sweep may have (each is at least one full simulation). */
export const MAX_SWEEP_VALUES = 256;

/** Parses `NAME=A..B[:STEP]` or `NAME=V1,V2,...`; an error says what is wrong in words. */
export function parseSweep(spec: string): Sweep | { error: string } {
  const eq = spec.indexOf('=');
  const name = eq < 0 ? spec : spec.slice(0, eq);
  if (!(SWEEP_PARAMS as readonly string[]).includes(name))
    return { error: `cannot sweep '${name}': one of ${SWEEP_PARAMS.join(', ')}` };
  const param = name as SweepParam;
  const body = eq < 0 ? '' : spec.slice(eq + 1);
  const whole = (s: string): number | undefined =>
    /^\d+$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : undefined;
  let values: number[];
  const range = /^(\d+)\.\.(\d+)(?::(\d+))?$/.exec(body);
  if (range !== null) {
    const [a, b, step] = [whole(range[1]!), whole(range[2]!), whole(range[3] ?? '1')];
    if (a === undefined || b === undefined || step === undefined || step < 1 || b < a)
      return { error: `${param}: a range is FROM..TO[:STEP] with FROM <= TO and STEP >= 1` };
    if ((b - a) / step + 1 > MAX_SWEEP_VALUES)
      return { error: `${param}: more than ${MAX_SWEEP_VALUES} values; give a larger step` };
    values = [];
    for (let v = a; v <= b; v += step) values.push(v);
  } else {
    const parts = body.split(',').map(whole);
    if (body === '' || parts.some((v) => v === undefined))
      return {
        error: `${param}: give FROM..TO[:STEP] or a list of whole numbers, e.g. ${param}=18..36`,
      };
    if (parts.length > MAX_SWEEP_VALUES)
      return { error: `${param}: more than ${MAX_SWEEP_VALUES} values` };
    values = [...new Set(parts as number[])];
  }
  const least = param === 'seed' || param === 'hogs' ? 0 : 1;
  const low = values.find((v) => v < least);
  if (low !== undefined) return { error: `${param} must be at least ${least}, got ${low}` };
  return { param, values };
}

/**
 * The configuration for one sweep value, or why it cannot run. Sweeping vCPUs below the program's
 * threads shrinks the program to match (a team cannot exceed the vCPUs).
 */
export function sweepConfig(base: SimConfig, s: Sweep, value: number): SimConfig | string {
  const c: SimConfig = { ...base, [s.param]: value };
  if (s.param === 'vcpus') c.threads = Math.min(c.threads, value);
  if (c.threads > c.vcpus) return `${c.threads} threads do not fit on ${c.vcpus} vCPUs`;
  return c;
}
