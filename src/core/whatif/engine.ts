// The what-if over thread count and wait policy: the program's shape read from the traces
// (shape.ts) calibrates the dual-level simulator (sim/engine.ts), which runs every candidate
// (threads 1..vCPUs x spin, block, spin-then-block) at three readings of what the trace cannot
// split (how much of a thread's run between barriers is work and how much barrier overhead; in a
// spinning run also how long that run is), ranks them by predicted wall time, and says which stay
// indistinguishable. The pvsched rule's answer is one named candidate among them.

import { primeSimulator, simulate, type SimConfig, type WaitPolicy } from '../sim/engine';
import { HOST_DEFAULTS } from '../sim/presets';
import { spinBeforeBlockNs } from '../sim/runtime';
import { formatCount, formatDuration } from '../model/time';
import { fitHostSlice, primeHostFit, type VmmSleeps } from './host-fit';
import type { Estimate, ProgramShape } from './shape';

export const WAIT_POLICIES: readonly WaitPolicy[] = ['spin', 'block', 'spin-then-block'];

/** One configuration's predicted wall time for the whole run, ns, with its range. */
export interface WhatIfCandidate {
  threads: number;
  policy: WaitPolicy;
  predictedWallNs: number;
  low: number;
  high: number;
}

export interface WhatIf {
  candidates: WhatIfCandidate[];
  /** The configuration the traces were recorded with, replayed by the model. */
  measured: WhatIfCandidate & { measuredWallNs: number };
  chosen: WhatIfCandidate;
  /** The pvsched rule's thread count with the run's own wait policy. */
  pvsched: WhatIfCandidate;
  /**
   * The chosen one and those whose ranges overlap it (at most three), fastest first; a team of
   * one counts once (its wait policy never acts).
   */
  indistinguishable: WhatIfCandidate[];
  /** Old over new wall time (> 1 is faster), traced configuration → chosen. */
  predictedSpeedup: { value: number; low: number; high: number };
  /** What would tell the indistinguishable candidates apart. */
  decidingEvidence: string[];
  /**
   * A blocking run's waker cost per sleeper as calibrated against its wall (the middle reading's,
   * the range over the three), when it was; a spinning run of the same program on the same host
   * takes it (whatif/reference.ts).
   */
  calibratedWakeCostNs?: Estimate;
  /** Simulations run (pilots and their longer runs), mean barriers per simulation, simulated events. */
  cost: { simulations: number; barriersPerSimulation: number; events: number };
  reasoning: string[];
}

export interface WhatIfOptions {
  /** The pvsched rule's DoP (analyze/dop.ts). */
  pvschedThreads: number;
  /** Barriers in a candidate's pilot simulation (the wall is scaled to the run's count). */
  simBarriers?: number;
  /** The host scheduler's full slice, read from the host trace (whatif/host-fit.ts). */
  hostSliceNs?: Estimate;
  /** The vCPU threads' sleeps in the VMM while their guests ran (whatif/host-fit.ts). */
  vmmSleeps?: VmmSleeps;
  /**
   * A spinning run's host CPU per thread and region, work and barrier overhead together, from
   * the vCPU threads' own turns and the barrier count (whatif/host-fit.ts).
   */
  regionCpuNs?: Estimate;
  seed?: number;
}

/** One reading of what the trace cannot split: per-thread work and barrier overhead, ns. */
interface Reading {
  name: 'low' | 'middle' | 'high';
  workNs: number;
  barrierNs: number;
  /**
   * The waker's cost per sleeper (its wakeup, the IPI through the VMM, the halted vCPU's host
   * wakeup behind the co-runners, serialised one sleeper after another), ns, when calibrated
   * (blocking runs: see whatIf); else the measured median.
   */
  wakeCostNs?: number;
}

/** Barriers in a candidate's pilot simulation (the wall is scaled to the run's count). */
const DEFAULT_SIM_BARRIERS = 40;
/** A candidate is simulated over at least this many host scheduling periods (latencyNs)... */
const COVER_PERIODS = 10;
/** ...or this many barriers, whichever comes first. */
const MAX_SIM_BARRIERS = 20_000;
/** Equal predictions (a team of one never waits) go to the policy that burns the least CPU. */
const TIE_ORDER: readonly WaitPolicy[] = ['block', 'spin-then-block', 'spin'];

/**
 * The readings of a thread's CPU per barrier (ProgramShape.burstNs) as work and barrier
 * overhead. Blocking: the overhead is the shortest runs' (shape.overheadNs), the waker's cost per
 * sleeper (simulated on its own) is taken out, the rest is work; the low reading pairs the least
 * CPU with the most overhead, the high one the most CPU with the least. Spinning: the trace holds
 * no split, so from 1% of the least CPU as work to all of the most, the geometric middle between
 * (calibrated afterwards against the run's wall time when the barriers are known).
 */
function readings(s: ProgramShape, regionCpuNs?: Estimate): Reading[] {
  const b = s.burstNs;
  const o = s.overheadNs;
  const w = s.workNs;
  // A spinning run's split comes from a reference run's (whatif/reference.ts) when given.
  if (o !== undefined && w !== undefined)
    return [
      { name: 'low', workNs: w.low, barrierNs: o.high },
      { name: 'middle', workNs: w.value, barrierNs: o.value },
      { name: 'high', workNs: w.high, barrierNs: o.low },
    ];
  const lowShare = 0.01;
  const midShare = Math.sqrt(lowShare);
  return [
    { name: 'low', workNs: lowShare * b.low, barrierNs: (1 - lowShare) * b.low },
    { name: 'middle', workNs: midShare * b.value, barrierNs: (1 - midShare) * b.value },
    // The CPU a region costs, read from the host's turns, bounds the work from above more
    // tightly than the CPU each thread got (which holds the spinning of those that arrived first).
    { name: 'high', workNs: Math.min(b.high, regionCpuNs?.high ?? b.high), barrierNs: 0 },
  ];
}

/** Steps of the search for the wake cost that makes a blocking run's replay last as long as it did. */
const CALIBRATION_STEPS = 12;
/** Barriers of the replay the host's slice is fitted on. */
const FIT_BARRIERS = 1_000;
/** The wake cost is calibrated only when the replay is more than this many times too fast. */
const CALIBRATE_BELOW = 2;

/**
 * The cost per sleeper woken (at least `floorNs`) at which the traced configuration's simulated
 * wall per barrier matches the measured one (a bisection: a dearer wakeup never makes the run
 * faster), and that wall per barrier. The floor stands when the replay is within
 * CALIBRATE_BELOW of the run.
 */
function calibrateWakeCost(
  r: Reading,
  targetNs: number,
  floorNs: number,
  per: (r: Reading) => number,
): { wakeCostNs: number; perBarrierNs: number } {
  let lo = floorNs;
  let atLo = per({ ...r, wakeCostNs: lo });
  // Within 2x the rest of the model may be what is off (the work, the overhead): the wakeup
  // path is taken to be what the model misses only when the replay is far too fast.
  if (atLo >= targetNs / CALIBRATE_BELOW) return { wakeCostNs: lo, perBarrierNs: atLo };
  // A barrier wakes at least one sleeper, so a cost as long as the barrier (doubled a few times,
  // for a waker that is itself preempted) brackets the target.
  let hi = Math.max(2 * lo, targetNs);
  let atHi = per({ ...r, wakeCostNs: hi });
  for (let k = 0; k < 4 && atHi < targetNs; k++) {
    lo = hi;
    atLo = atHi;
    hi *= 2;
    atHi = per({ ...r, wakeCostNs: hi });
  }
  for (let k = 0; k < CALIBRATION_STEPS && atHi > atLo; k++) {
    const mid = (lo + hi) / 2;
    const atMid = per({ ...r, wakeCostNs: mid });
    if (atMid < targetNs) [lo, atLo] = [mid, atMid];
    else [hi, atHi] = [mid, atMid];
  }
  // The end nearer the target.
  return Math.abs(atLo - targetNs) <= Math.abs(atHi - targetNs)
    ? { wakeCostNs: lo, perBarrierNs: atLo }
    : { wakeCostNs: hi, perBarrierNs: atHi };
}

export function whatIf(s: ProgramShape, o: WhatIfOptions): WhatIf {
  primeSimulator();
  primeHostFit();
  const simBarriers = Math.max(1, o.simBarriers ?? DEFAULT_SIM_BARRIERS);
  const measuredPolicy: WaitPolicy = s.waits === 'block' ? 'block' : 'spin';
  const base: SimConfig = {
    ...HOST_DEFAULTS,
    pcpus: s.pcpus,
    vcpus: s.vcpus,
    threads: s.threads,
    barriers: simBarriers,
    workNs: 0,
    imbalance: 0.1,
    hogs: s.coRunners.count,
    // The host as Linux runs it: a runqueue per CPU, the CPUs' slices out of phase.
    runqueues: 'per-cpu',
    seed: o.seed ?? 1,
    // Blocking runs measure these; the burst includes the return from the wait.
    ...(s.wakeLatencyNs !== undefined ? { ipiNs: s.wakeLatencyNs.value } : {}),
    ...(s.wakeCostNs !== undefined ? { wakeCostNs: s.wakeCostNs.value } : {}),
    ...(s.waits === 'block' ? { resumeCostNs: 0 } : {}),
  };
  /**
   * The VMM's sleeps in a team of `threads`: they are waits for its lock, which the team's other
   * vCPUs hold, so they come as often per CPU as the trace shows times the other members, over
   * the traced team's (a team of one has nobody to wait for).
   */
  const vmmFor = (threads: number): Pick<SimConfig, 'vmmSleeps'> => {
    const v = o.vmmSleeps;
    if (v === undefined || threads < 2 || s.threads < 2) return {};
    const k = (s.threads - 1) / (threads - 1);
    return { vmmSleeps: { runNs: v.runNs.map((x) => x * k), sleepNs: v.sleepNs } };
  };
  let simulations = 0;
  let events = 0;
  let barriersSimulated = 0;
  const rs = readings(s, s.waits === 'spin' ? o.regionCpuNs : undefined);
  // The host's slice, fitted so that the replay's vCPU turns match the trace's (a kernel ends a
  // slice at a tick, so a trace shows longer turns than the configured slice), when measured.
  if (o.hostSliceNs !== undefined) {
    const mid = rs[1]!;
    const n = Math.min(FIT_BARRIERS, s.barriers?.value ?? FIT_BARRIERS);
    const fit = fitHostSlice(
      {
        ...base,
        workNs: Math.max(1, mid.workNs),
        barrierNs: mid.barrierNs,
        policy: measuredPolicy,
        barriers: n,
        ...vmmFor(s.threads),
      },
      o.hostSliceNs.value,
    );
    simulations += fit.simulations;
    barriersSimulated += fit.simulations * n;
    events += fit.events;
    base.latencyNs = fit.sliceNs;
    base.minSliceNs = fit.sliceNs;
  }
  // The run the simulation must cover: the run's own barriers when known (a run shorter than the
  // host's time slices meets co-runners less than a long one), else the cap.
  const runBarriers = Math.min(MAX_SIM_BARRIERS, s.barriers?.value ?? MAX_SIM_BARRIERS);
  const cover = COVER_PERIODS * base.latencyNs;
  /**
   * Wall per barrier of `threads` x `policy` at reading r, ns. A short pilot measures how long a
   * barrier takes; the simulation then runs long enough to cover many of the host scheduler's
   * periods (or the whole run, when shorter): co-runners take their fair share only over periods,
   * so a candidate simulated for less than a slice would never meet them. A slow candidate is
   * done after its pilot.
   */
  const perBarrier = (threads: number, policy: WaitPolicy, r: Reading): number => {
    const cfg: SimConfig = {
      ...base,
      threads,
      // Same program: the region's total work (the traced team's) split over the new team.
      workNs: Math.max(1, (r.workNs * s.threads) / threads),
      barrierNs: r.barrierNs,
      ...(r.wakeCostNs !== undefined ? { wakeCostNs: r.wakeCostNs } : {}),
      policy,
      ...vmmFor(threads),
      spinNs:
        policy === 'spin-then-block'
          ? spinBeforeBlockNs({ runtime: 'libgomp', waitPolicy: 'unset' }, threads, s.vcpus)
          : 0,
    };
    const crowded = base.hogs > 0 || threads > base.pcpus;
    let n = Math.min(simBarriers, runBarriers);
    for (;;) {
      simulations++;
      barriersSimulated += n;
      const res = simulate({ ...cfg, barriers: n });
      events += res.hostEvents + res.guestEvents;
      const wall = res.wallNs;
      // Without co-runners a team that fits the host's CPUs never queues on the host (the idle
      // vCPUs halt): its pace holds from the pilot on, so only a crowded host needs the periods.
      if (wall >= cover || n >= runBarriers || !crowded) return wall / n;
      // Long enough to cover the periods at this pace, with a margin (a second extension redoes
      // the whole run), at least twice as long as the last try.
      n = Math.min(runBarriers, Math.max(2 * n, Math.ceil((1.25 * n * cover) / Math.max(1, wall))));
    }
  };
  // The traced configuration at each reading; with the barriers unknown, each reading's count is
  // the one that makes the replay last as long as the run did.
  // A blocking run with its barriers counted: the wakeup path is calibrated so that the replay
  // lasts as long as the run did, as a cost per sleeper (the releasing thread wakes them one after
  // another, so a bigger team pays more of it). The median gap between two wakeups in the guest
  // is its floor: the IPI through the VMM and the halted vCPU's host wakeup behind co-runners
  // have a long tail, and each barrier waits for its last sleeper.
  const calibrated =
    s.waits === 'block' && s.barriers !== undefined && s.threads > 1
      ? rs.map((r) =>
          calibrateWakeCost(r, s.wallNs / s.barriers!.value, base.wakeCostNs, (x) =>
            perBarrier(s.threads, measuredPolicy, x),
          ),
        )
      : undefined;
  if (calibrated !== undefined) rs.forEach((r, i) => (r.wakeCostNs = calibrated[i]!.wakeCostNs));
  const measuredPer = rs.map(
    (r, i) => calibrated?.[i]!.perBarrierNs ?? perBarrier(s.threads, measuredPolicy, r),
  );
  const barriersAt = measuredPer.map((p) => s.barriers?.value ?? s.wallNs / p);
  const table = new Map<string, number[]>();
  const key = (t: number, p: WaitPolicy): string => `${t} ${p}`;
  for (let t = 1; t <= s.vcpus; t++)
    for (const p of WAIT_POLICIES) {
      // A team of one never waits: one simulation serves the three policies.
      const known = t === 1 ? table.get(key(1, 'spin')) : undefined;
      const walls =
        known ??
        rs.map((r, i) =>
          t === s.threads && p === measuredPolicy
            ? measuredPer[i]! * barriersAt[i]!
            : perBarrier(t, p, r) * barriersAt[i]!,
        );
      table.set(key(t, p), walls);
    }
  const cand = (t: number, p: WaitPolicy): WhatIfCandidate => {
    const w = table.get(key(t, p))!;
    return {
      threads: t,
      policy: p,
      predictedWallNs: w[1]!,
      low: Math.min(...w),
      high: Math.max(...w),
    };
  };
  const candidates: WhatIfCandidate[] = [];
  for (let t = 1; t <= s.vcpus; t++) for (const p of WAIT_POLICIES) candidates.push(cand(t, p));
  // Fastest first; ties (a team of one) to the fewest threads, then the policy that wastes no CPU.
  const order = (x: WhatIfCandidate, y: WhatIfCandidate): number =>
    x.predictedWallNs - y.predictedWallNs ||
    x.threads - y.threads ||
    TIE_ORDER.indexOf(x.policy) - TIE_ORDER.indexOf(y.policy);
  candidates.sort(order);
  const chosen = candidates[0]!;
  const measuredT = Math.min(s.threads, s.vcpus);
  const measured = { ...cand(measuredT, measuredPolicy), measuredWallNs: s.wallNs };
  const pvsched = cand(Math.max(1, Math.min(s.vcpus, o.pvschedThreads)), measuredPolicy);
  // A team of one is one configuration whatever its wait policy (it never waits): it counts
  // once, as the chosen one or as its fastest-listed policy.
  const overlapping = candidates.filter((c) => c.low <= chosen.high && c.high >= chosen.low);
  const indistinguishable = [
    chosen,
    ...overlapping
      .filter((c, i) => c.threads > 1 || overlapping.findIndex((d) => d.threads === 1) === i)
      .filter((c) => c !== chosen && !(c.threads === 1 && chosen.threads === 1)),
  ].slice(0, 3);
  // The traced configuration's wall is measured: only the chosen one's is predicted.
  const predictedSpeedup = {
    value: s.wallNs / chosen.predictedWallNs,
    low: s.wallNs / chosen.high,
    high: s.wallNs / chosen.low,
  };

  const reasoning: string[] = [];
  const name = (c: WhatIfCandidate): string =>
    c.threads === 1
      ? '1 thread (any wait policy: it never waits)'
      : `${c.threads} threads ${POLICY_WORDS[c.policy]}`;
  // In words a team of one is one candidate, whatever its policy.
  const distinct = indistinguishable;
  const range = (c: WhatIfCandidate): string =>
    `${formatDuration(c.predictedWallNs)} (${formatDuration(c.low)}-${formatDuration(c.high)})`;
  const syncPct =
    s.waits === 'block'
      ? `${(100 * s.syncShare.value).toFixed(0)}% of thread time synchronising (asleep at barriers), more with the barrier overhead in the runs between`
      : `${(100 * s.syncShare.low).toFixed(0)}-100% of thread time synchronising (spinning cannot be told from work)`;
  const mid = rs[1]!;
  const barrierBound = mid.barrierNs > mid.workNs * s.threads;
  reasoning.push(
    `pvsched rule: ${pvsched.threads}; fastest predicted: ${name(chosen)}, ${range(chosen)}` +
      (chosen.threads < s.threads && barrierBound
        ? `, because the run is barrier-bound: ${syncPct}`
        : `; ${syncPct}`),
  );
  reasoning.push(
    `traced: ${name(measured)}, ${formatDuration(s.wallNs)} measured, replayed in ${range(measured)}; the pvsched candidate ${name(pvsched)}: ${range(pvsched)}`,
  );
  reasoning.push(
    `predicted ${predictedSpeedup.value.toFixed(predictedSpeedup.value >= 10 ? 0 : 1)}x faster (${predictedSpeedup.low.toFixed(1)}-${predictedSpeedup.high.toFixed(1)}x) with ${name(chosen)} than the ${formatDuration(s.wallNs)} measured`,
  );
  reasoning.push(
    `the model: ${s.pcpus} host CPUs, ${s.vcpus} vCPUs, ${s.coRunners.count} co-runners; ` +
      (s.barriers !== undefined
        ? `${formatCount(s.barriers.value)} barriers (${s.barriers.basis})`
        : `barriers unknown: ${barriersAt.map((b) => formatCount(b)).join(' / ')} at the three readings make the replay last as long as the run`) +
      `; a thread's run between barriers ${formatDuration(s.burstNs.value)} (${s.burstNs.basis})` +
      (s.wakeLatencyNs !== undefined
        ? `; wakeup ${formatDuration(s.wakeLatencyNs.value)} (${s.wakeLatencyNs.basis})`
        : '') +
      (s.wakeCostNs !== undefined
        ? `; ${formatDuration(s.wakeCostNs.value)} per sleeper woken (${s.wakeCostNs.basis})`
        : '') +
      (calibrated !== undefined
        ? `; the wakeup path calibrated to ${calibrated.map((x) => formatDuration(x.wakeCostNs)).join(' / ')} per sleeper at the three readings, so that the replay lasts as long as the run`
        : '') +
      (o.hostSliceNs !== undefined
        ? `; host turns up to ${formatDuration(o.hostSliceNs.value)} (${o.hostSliceNs.basis}), reproduced by a ${formatDuration(base.latencyNs)} slice and a runqueue per host CPU`
        : '; a runqueue per host CPU') +
      (o.vmmSleeps !== undefined
        ? `; the VMM's sleeps: ${o.vmmSleeps.basis}, simulated alike in every team of two or more, as often per CPU as the team's other members over the traced team's`
        : ''),
  );
  reasoning.push(
    `${s.waits === 'spin' && s.workNs !== undefined ? "this run's trace cannot split a thread's run between barriers into work and spinning; the reference run's split" : "the trace cannot split a thread's run between barriers into work and barrier overhead"}: the range is ${rs
      .map(
        (r) =>
          `${r.name} ${formatDuration(r.workNs)} work + ${formatDuration(r.barrierNs)} overhead`,
      )
      .join(', ')}; the prediction is the middle reading` +
      (s.waits === 'spin' && o.regionCpuNs !== undefined
        ? `; a region costs each thread ${formatDuration(o.regionCpuNs.value)} of host CPU (${formatDuration(o.regionCpuNs.high)} at most), work and overhead together: ${o.regionCpuNs.basis}`
        : ''),
  );
  const decidingEvidence: string[] = [];
  if (distinct.length > 1) {
    if (s.barriers === undefined)
      decidingEvidence.push(
        "the program's barrier count (--barriers N), or a trace marker per barrier (--barrier-marker RE)",
      );
    if (s.waits === 'spin' && s.workNs === undefined)
      decidingEvidence.push(
        'a short traced run with OMP_WAIT_POLICY=passive (its sleeps count the barriers and time the runs between them; give it with --reference-host H2 --reference-guest G2)',
      );
    decidingEvidence.push(
      "a trace marker or uprobe at the start and end of each region's work (splits work from barrier overhead)",
      `a short run with each: ${distinct.map(name).join('; ')}`,
    );
    reasoning.push(
      `the traces cannot tell apart ${distinct.map((c) => `${name(c)} ${range(c)}`).join(', ')}: what would decide: ${decidingEvidence.join('; ')}`,
    );
  }
  return {
    candidates,
    measured,
    chosen,
    pvsched,
    indistinguishable,
    predictedSpeedup,
    decidingEvidence,
    ...(calibrated !== undefined
      ? {
          calibratedWakeCostNs: {
            value: calibrated[1]!.wakeCostNs,
            low: Math.min(...calibrated.map((x) => x.wakeCostNs)),
            high: Math.max(...calibrated.map((x) => x.wakeCostNs)),
            basis: 'the waker cost per sleeper at which the replay lasts as long as the run did',
          },
        }
      : {}),
    cost: {
      simulations,
      events,
      barriersPerSimulation: Math.round(barriersSimulated / Math.max(1, simulations)),
    },
    reasoning,
  };
}

const POLICY_WORDS: Record<WaitPolicy, string> = {
  spin: 'spinning (OMP_WAIT_POLICY=active)',
  block: 'blocking (OMP_WAIT_POLICY=passive)',
  'spin-then-block': 'spinning then blocking (GOMP_SPINCOUNT)',
};
