// The what-if's simulations as independent jobs (one candidate's wall per barrier at one reading,
// its pilot and longer runs), and how a batch of them is run: on the calling thread, or shared
// with a simulation worker (io/sim-worker.ts) by an injected runner. A job's answer depends on its
// own fields only (the simulator is seeded), so which thread ran it never changes a number.

import { simulate, type SimConfig } from '../sim/engine';

/** One candidate's wall per barrier: a short pilot, then runs long enough to cover `coverNs`. */
export interface PerBarrierJob {
  cfg: SimConfig;
  /** Barriers of the pilot. */
  pilotBarriers: number;
  /** The run's own barriers (the most ever simulated). */
  runBarriers: number;
  /** The simulated wall a run must cover: many of the host scheduler's periods. */
  coverNs: number;
  /**
   * Co-runners or more threads than host CPUs: the pace changes over the host's periods, so the
   * pilot's does not stand for the run's.
   */
  crowded: boolean;
}

/** A job's answer and what it cost. */
export interface PerBarrierResult {
  perBarrierNs: number;
  simulations: number;
  barriers: number;
  events: number;
}

/**
 * Runs `jobs` (independent of one another) and gives their results in order. Whatever thread
 * runs a job, its result must be runPerBarrier's.
 */
export type SimBatchRunner = (jobs: readonly PerBarrierJob[]) => PerBarrierResult[];

/**
 * Wall per barrier of one job, ns. The pilot measures how long a barrier takes; the simulation
 * then runs long enough to cover many of the host scheduler's periods (or the whole run, when
 * shorter): co-runners take their fair share only over periods, so a candidate simulated for less
 * than a slice would never meet them. A slow candidate is done after its pilot.
 */
export function runPerBarrier(job: PerBarrierJob): PerBarrierResult {
  const { cfg, runBarriers, coverNs, crowded } = job;
  let n = Math.min(job.pilotBarriers, runBarriers);
  let simulations = 0;
  let barriers = 0;
  let events = 0;
  for (;;) {
    simulations++;
    barriers += n;
    const res = simulate({ ...cfg, barriers: n });
    events += res.hostEvents + res.guestEvents;
    const wall = res.wallNs;
    // Without co-runners a team that fits the host's CPUs never queues on the host (the idle
    // vCPUs halt): its pace holds from the pilot on, so only a crowded host needs the periods.
    if (wall >= coverNs || n >= runBarriers || !crowded)
      return { perBarrierNs: wall / n, simulations, barriers, events };
    // Long enough to cover the periods at this pace, with a margin (a second extension redoes
    // the whole run), at least twice as long as the last try.
    n = Math.min(runBarriers, Math.max(2 * n, Math.ceil((1.25 * n * coverNs) / Math.max(1, wall))));
  }
}

/** Every job on the calling thread, in order. */
export const serialRunner: SimBatchRunner = (jobs) => jobs.map(runPerBarrier);
