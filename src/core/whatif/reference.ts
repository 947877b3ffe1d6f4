// A spinning run's program model from a reference run of the same program whose trace shows its
// work (analyze --reference-host/--reference-guest): in a blocking run the threads sleep at every
// barrier, so their runs between a wakeup and a sleep are work and barrier overhead (shape.ts
// splits them). The total work per region carries over to the spinning run's team; the spinning
// run keeps its own host model (slice, co-runners, VMM sleeps) and its own wall and barrier count.

import { formatCount, formatDuration } from '../model/time';
import type { Estimate, ProgramShape } from './shape';

/** The reference run as the advice reads it: its shape and the program's name in it. */
export interface ReferenceShape {
  shape: ProgramShape;
  /** The program's command name in the reference's guest trace. */
  comm: string;
  /** How the reasoning names the reference (its files). */
  label: string;
  /** The reference's waker cost per sleeper as its own what-if calibrated it, when it did. */
  calibratedWakeCostNs?: Estimate;
}

/** Programs whose work per barrier differs by more than this factor are told apart (a warning). */
const DIFFERENT_WORK = 2;

export interface Calibrated {
  /** The spinning run's shape with the reference's work, or the run's own when not used. */
  shape: ProgramShape;
  /** Whether the reference's work was used. */
  used: boolean;
  /** What was carried over, or why the reference was ignored, and any warning, in words. */
  notes: string[];
}

/** `e` times `k` (a unit change), its basis kept. */
function scaled(e: Estimate, k: number, basis: string): Estimate {
  return { value: e.value * k, low: e.low * k, high: e.high * k, basis };
}

/**
 * The spinning run `run` (comm `comm`) with the work per region read from `ref`: the reference's
 * work per thread and region times its team is the region's total, split over `run`'s team; its
 * barrier overhead per thread carries over as it is. `regionCpuNs` (the host CPU a region costs
 * each thread in `run`, when known) bounds the work: a reference whose work is above it is of
 * another program (a warning). The reference is ignored when its own work is invisible (it spun
 * too) or `run` shows its own (it blocks).
 */
export function calibrateWithReference(
  run: ProgramShape,
  comm: string,
  ref: ReferenceShape,
  regionCpuNs?: Estimate,
): Calibrated {
  const r = ref.shape;
  const notes: string[] = [];
  if (run.waits === 'block')
    return {
      shape: run,
      used: false,
      notes: [
        `the reference run ${ref.label} is not used: this run's threads block, so its own trace shows their work`,
      ],
    };
  if (r.waits === 'spin' || r.workNs === undefined || r.overheadNs === undefined)
    return {
      shape: run,
      used: false,
      notes: [
        r.waits === 'spin'
          ? `the reference run ${ref.label} is ignored: its threads spin too (${r.threads === 1 ? 'one thread shows no barrier' : 'they never sleep at a barrier'}), so its work is as invisible as this run's; trace a short run with OMP_WAIT_POLICY=passive instead`
          : `the reference run ${ref.label} is ignored: its threads block, but too few of their runs between a wakeup and a sleep were seen to split work from barrier overhead (or its barriers are not counted)`,
      ],
    };
  if (ref.comm !== comm)
    notes.push(
      `warning: the reference run ${ref.label} ran '${ref.comm}', this run '${comm}': the work carried over is another program's unless they are the same binary`,
    );
  // The region's total work is what carries over (the same program split over another team).
  const k = r.threads / Math.max(1, run.threads);
  const barrierBasis = r.barriers !== undefined ? `${formatCount(r.barriers.value)} regions` : '';
  const workNs = scaled(
    r.workNs,
    k,
    `work per region ${formatDuration(r.workNs.value * r.threads)} in total (${formatDuration(r.workNs.low * r.threads)}-${formatDuration(r.workNs.high * r.threads)}), read from the blocking run ${ref.label} (${r.threads} threads, ${barrierBasis}: ${r.workNs.basis})${r.threads !== run.threads ? `, split over this run's ${run.threads} threads` : ''}`,
  );
  const overheadNs: Estimate = {
    ...r.overheadNs,
    basis: `a blocking thread's barrier overhead in ${ref.label} (${r.overheadNs.basis})`,
  };
  if (regionCpuNs !== undefined && workNs.low > regionCpuNs.high)
    notes.push(
      `warning: the reference's work per thread and region (${formatDuration(workNs.value)}, at least ${formatDuration(workNs.low)}) is more than the host CPU a region costs each thread in this run (${formatDuration(regionCpuNs.high)} at most): the two runs' programs or barrier counts differ`,
    );
  else if (run.barriers !== undefined) {
    // Work per barrier: the spinning run cannot have done more work than the CPU its threads got.
    const perThread = run.cpuNs / Math.max(1, run.barriers.value * run.threads);
    if (workNs.low > DIFFERENT_WORK * perThread)
      notes.push(
        `warning: the reference's work per thread and region (${formatDuration(workNs.value)}) is over ${DIFFERENT_WORK}x the host CPU each thread got per barrier in this run (${formatDuration(perThread)}: ${formatDuration(run.cpuNs)} over ${formatCount(run.barriers.value)} barriers x ${run.threads} threads): the two runs' programs or barrier counts differ`,
      );
  }
  notes.push(
    `the work per region rests on the reference run: ${workNs.basis}; this run's own host model (slice, co-runners, the VMM's sleeps) is kept`,
  );
  return {
    used: true,
    notes,
    shape: {
      ...run,
      workNs,
      overheadNs,
      burstNs: {
        value: workNs.value + overheadNs.value,
        low: workNs.low + overheadNs.low,
        high: workNs.high + overheadNs.high,
        basis: `work and barrier overhead per thread and region from the reference run ${ref.label}`,
      },
      // How long a blocked thread takes to wake (the IPI through the VMM, the halted vCPU's host
      // wakeup) shows only in a blocking run: the reference's, for the blocking candidates.
      wakeLatencyNs: run.wakeLatencyNs ?? r.wakeLatencyNs,
      // The reference's calibrated cost (the IPI through the VMM, the halted vCPU's host wakeup
      // behind co-runners) before its guest's wakeup gaps, which understate it.
      wakeCostNs:
        run.wakeCostNs ??
        (ref.calibratedWakeCostNs !== undefined
          ? {
              ...ref.calibratedWakeCostNs,
              basis: `calibrated in the reference run ${ref.label}: ${ref.calibratedWakeCostNs.basis}`,
            }
          : r.wakeCostNs),
    },
  };
}
