// The advice: a degree of parallelism (DoP) per phase by the pvsched rule (next DoP = previous
// DoP - vCPUs preempted), a wait policy, and the predicted gain, with the reasoning in words.
// The gain comes from a capacity model of the measured run, stated in the reasoning. It is not
// replayed in the simulator: scheduler traces do not show the program's barriers or its work per
// region (a spinning program leaves no wakeups to count), and a simulation of a guessed program
// would print a number with more confidence than the trace supports. `vcpu-lens simulate` runs
// the policies on modelled programs instead (its lab-4v2p preset is the fixtures' lab).

import { VcpuState } from '../correlate/vcpu-states';
import type { Advice, Finding, PairAnalysis, Program } from './types';

const PHASES = 20;

export function advise(
  a: PairAnalysis,
  program: Program | undefined,
  findings: Finding[],
): Advice | undefined {
  if (a.states === undefined || a.window === undefined || program === undefined) return undefined;
  const w = a.window;
  const span = w.end - w.start;
  const threads = program.pids.length;
  const tls = a.states.timelines;
  // Per phase: mean number of vCPUs that wanted to run and could not (preempted or waiting).
  const phases: Advice['phases'] = [];
  const step = span / PHASES;
  // One pass over the intervals, each spread over the phases it overlaps.
  const lost = new Float64Array(PHASES);
  for (const tl of tls) {
    for (let j = 0; j < tl.state.length; j++) {
      const st = tl.state[j];
      if (st !== VcpuState.preempted && st !== VcpuState.waiting) continue;
      const a0 = Math.max(tl.start[j]!, w.start);
      const a1 = Math.min(tl.end[j]!, w.end);
      if (!(a1 > a0)) continue;
      const p1 = Math.min(PHASES - 1, Math.floor((a1 - w.start) / step));
      for (let p = Math.min(PHASES - 1, Math.floor((a0 - w.start) / step)); p <= p1; p++) {
        const s0 = w.start + p * step;
        const x = Math.max(a0, s0);
        const y = Math.min(a1, s0 + step);
        if (y > x) lost[p]! += y - x;
      }
    }
  }
  for (let p = 0; p < PHASES; p++) {
    const s0 = w.start + p * step;
    const preemptedVcpus = lost[p]! / step;
    phases.push({
      start: s0,
      end: s0 + step,
      preemptedVcpus,
      dop: Math.max(1, Math.min(threads, Math.round(threads - preemptedVcpus))),
    });
  }
  const dops = phases.map((p) => p.dop).sort((x, y) => x - y);
  const dop = dops[dops.length >> 1]!;
  const running = a.states.time.reduce((s, t) => s + t.running, 0);
  const effectiveParallelism = running / span;
  const spin = findings.find((f) => f.kind === 'spin-on-preempted-vcpu');
  const over = findings.find((f) => f.kind === 'oversubscription');
  const spinning = program.sleepShare < 0.1;
  const reasoning: string[] = [];
  reasoning.push(
    `${program.comm} ran ${threads} threads on ${tls.length} vCPUs; on average ${effectiveParallelism.toFixed(2)} vCPUs were running on the ${a.host.cpuCount} host CPUs`,
  );
  const meanLost = phases.reduce((s, p) => s + p.preemptedVcpus, 0) / phases.length;
  if (!a.states.schedulingSeen)
    reasoning.push(
      'the host trace has no sched_switch, so no preemption can be seen and none is counted below: record the host with sched_switch and sched_wakeup for the DoP rule to have something to go on',
    );
  reasoning.push(
    `on average ${meanLost.toFixed(2)} vCPUs were preempted or waiting for a host CPU; by the pvsched rule (DoP = threads - preempted vCPUs) the DoP per phase is ${[...new Set(dops)].join('-')}, median ${dop}`,
  );
  let waitPolicy: Advice['waitPolicy'];
  let spinCount: number | undefined;
  let predictedSpeedup = 1;
  if (spinning && (spin !== undefined || over !== undefined)) {
    waitPolicy = effectiveParallelism < threads ? 'passive' : 'spin-then-block';
    if (waitPolicy === 'spin-then-block') spinCount = 10_000;
    // Capacity model: CPU the program's threads burned spinning while a sibling could not run is
    // freed by blocking; the rest is the work, spread over the host CPUs the VM got.
    // The trace cannot tell spinning from work while a sibling is stalled, so the work is at least
    // one thread's share of the CPU the program used (the model's stated assumption).
    const waste = Number(spin?.evidence['spinWaste'] ?? 0);
    const work = Math.max(running - waste, running / threads);
    const capacity = Math.max(1, Math.min(dop, effectiveParallelism));
    const newSpan = Math.min(span, work / capacity);
    predictedSpeedup = span / newSpan;
    reasoning.push(
      `the threads spin (${(100 * program.sleepShare).toFixed(1)}% of their time asleep) while vCPUs are preempted: ${
        waitPolicy === 'passive'
          ? 'block instead (OMP_WAIT_POLICY=passive)'
          : `spin briefly, then block (GOMP_SPINCOUNT=${spinCount})`
      }, and run ${dop} threads so that a preempted vCPU holds none`,
      `predicted ${predictedSpeedup.toFixed(1)}x faster: of ${fmt(running, a)} of vCPU running time, ${fmt(waste, a)} ran while a sibling thread could not run; ` +
        `taking the work as the rest, but at least one thread's share (${fmt(work, a)}), over ${capacity.toFixed(2)} host CPUs it takes ${fmt(newSpan, a)} instead of ${fmt(span, a)}. ` +
        'A capacity model: it leaves out the cost of blocking and waking (IPIs, halted vCPUs); `vcpu-lens simulate --preset lab-4v2p --compare` shows those costs on a modelled program',
    );
  } else if (spinning) {
    waitPolicy = 'active';
    reasoning.push(
      'the threads spin, but their vCPUs were rarely preempted: spinning is fine here',
    );
  } else {
    waitPolicy = 'passive';
    const straggle = findings.find((f) => f.kind === 'barrier-straggler-preempted');
    const share = Number(straggle?.evidence['share'] ?? 0);
    predictedSpeedup = dop < threads ? 1 / (1 - Math.min(0.9, share * (1 - dop / threads))) : 1;
    reasoning.push(
      `the threads already block (${(100 * program.sleepShare).toFixed(1)}% of their time asleep): keep OMP_WAIT_POLICY=passive; do not spin while vCPUs are preempted`,
      dop < threads
        ? `with ${dop} threads, a preempted vCPU is less likely to hold one: predicted ${predictedSpeedup.toFixed(2)}x from the ${(100 * share).toFixed(1)}% of the run a thread sat on a preempted vCPU`
        : 'no DoP change: vCPUs were rarely preempted',
    );
  }
  return {
    threads,
    dop,
    phases,
    effectiveParallelism,
    waitPolicy,
    ...(spinCount !== undefined ? { spinCount } : {}),
    predictedSpeedup,
    reasoning,
  };
}

function fmt(v: number, a: PairAnalysis): string {
  return a.host.clock.unit === 'ns'
    ? `${(v / 1e9).toFixed(3)} s`
    : `${(v / 1e9).toFixed(2)} Gticks`;
}
