// The host scheduler's contention as the host trace shows it, for the what-if's simulated host
// (whatif/engine.ts): how long a vCPU thread keeps a host CPU when nothing cuts its turn short,
// and the simulated host's slice that reproduces it.

import { simulate, type SimConfig } from '../sim/engine';
import { sortNumbers } from '../model/search';
import type { Timelines } from '../timeline/build';
import { TaskState } from '../timeline/states';
import { formatCount, formatDuration } from '../model/time';
import type { Estimate } from './shape';

/** Turns that end preempted needed before the slice is read from them. */
const MIN_TURNS = 50;

/**
 * The host's full slice: a high quantile (95th; 90th-99th for the range) of the vCPU threads'
 * turns on a host CPU that end with them preempted (prev_state R). Most turns are cut short (a
 * wakeup preempts, the vCPU halts); the longest are the slice the scheduler grants, rounded up
 * to its tick (a trace at HZ=250 shows ~4 ms where the configured slice is 1.5 ms). Undefined
 * when too few turns end preempted (nothing competed for the CPUs).
 */
export function readHostSlice(
  hostTimelines: Timelines,
  vcpuTids: readonly number[],
  window: { start: number; end: number },
  nsPerUnit: number,
): Estimate | undefined {
  const t = hostTimelines.tasks;
  const turns: number[] = [];
  for (const tid of vcpuTids) {
    const k = t.indexOf.get(tid);
    if (k === undefined) continue;
    for (let j = t.offsets[k]!; j < t.offsets[k + 1]! - 1; j++) {
      if (t.state[j] !== TaskState.running || t.state[j + 1] !== TaskState.preempted) continue;
      if (t.start[j]! < window.start || t.end[j]! > window.end) continue;
      turns.push((t.end[j]! - t.start[j]!) * nsPerUnit);
    }
  }
  if (turns.length < MIN_TURNS) return undefined;
  sortNumbers(turns);
  const at = (q: number): number =>
    turns[Math.min(turns.length - 1, Math.floor(q * turns.length))]!;
  return {
    value: at(0.95),
    low: at(0.9),
    high: at(0.99),
    basis: `the 95th percentile (90th-99th) of ${formatCount(turns.length)} turns of the vCPU threads on a host CPU that ended preempted; the median turn, ${formatDuration(at(0.5))}, was cut short`,
  };
}

/** Fitting rounds for the simulated host's slice (each one simulation of the traced run). */
const FIT_ROUNDS = 2;

/**
 * The simulated host's slice at which the run `cfg` (the traced configuration) shows the trace's
 * slice: its vCPU threads' turns that end preempted have the same 95th percentile. The two differ:
 * a simulated task whose slice ends ahead of nobody runs on for another, so the simulated turns
 * are longer than the slice. Proportional steps from the trace's value, kept between a quarter of
 * it and all of it; that value stands when the simulated run shows too few turns.
 */
export function fitHostSlice(
  cfg: SimConfig,
  traceSliceNs: number,
): { sliceNs: number; simulations: number; events: number } {
  let sliceNs = traceSliceNs;
  let simulations = 0;
  let events = 0;
  for (let k = 0; k < FIT_ROUNDS; k++) {
    const run = simulatedSlice({ ...cfg, latencyNs: sliceNs, minSliceNs: sliceNs });
    simulations++;
    events += run.events;
    const got = run.sliceNs;
    if (got === undefined) break;
    // A slice longer than the longest turns the trace shows contradicts it; a blocking run's
    // preempted turns are mostly cut short by wakeups, so the simulated ones may stay short
    // whatever the slice: the trace's own value then stands.
    sliceNs = Math.min(
      traceSliceNs,
      Math.max(traceSliceNs / 4, Math.round((sliceNs * traceSliceNs) / got)),
    );
  }
  return { sliceNs, simulations, events };
}

/** The 95th percentile of the simulated vCPU threads' turns that end preempted, as readHostSlice. */
function simulatedSlice(cfg: SimConfig): { sliceNs: number | undefined; events: number } {
  const since = new Float64Array(cfg.vcpus + cfg.hogs).fill(-1);
  const turns: number[] = [];
  const r = simulate(cfg, {
    hostSwitch(t, _pcpu, prev, prevState, next) {
      if (prev >= 0 && prev < cfg.vcpus && prevState !== 'S' && since[prev]! >= 0)
        turns.push(t - since[prev]!);
      if (next >= 0) since[next] = t;
    },
    hostWakeup() {},
    guestSwitch() {},
    guestWakeup() {},
  });
  const events = r.hostEvents + r.guestEvents;
  if (turns.length < MIN_TURNS) return { sliceNs: undefined, events };
  sortNumbers(turns);
  return { sliceNs: turns[Math.min(turns.length - 1, Math.floor(0.95 * turns.length))]!, events };
}
