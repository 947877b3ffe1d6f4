// The advice on hand-made pairs whose vCPU states are known to the microsecond (support/hand-pair.ts):
// the pvsched DoP of each of the 20 phases (threads - vCPUs preempted or waiting, on average over
// the phase, rounded, kept within 1..threads), the DoP advised (the upper median of the phases'),
// and the wait policy with its predicted gain on each side of each threshold that decides it
// (the rule's own answer: the advice's headline is the what-if's).
import { describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import type { PairAnalysis, RuleAdvice } from '../../src/core/analyze/types';
import { handPair, type HandPairSpec, type Stretch } from './support/hand-pair';

/** The pvsched rule's answer (the advice's headline is the what-if's, tested in whatif-*.test.ts). */
function rule(a: PairAnalysis): RuleAdvice {
  return a.advice!.rule ?? a.advice!;
}

/** 2000 µs: 20 phases of 100 µs. */
const END = 2000;
const US = 1000;

function analyse(spec: Omit<HandPairSpec, 'endUs'>): PairAnalysis {
  const { host, guest } = handPair({ endUs: END, ...spec });
  const a = analyzePair(host, guest, { offset: 0n });
  expect(a.window).toEqual({ start: 0, end: END * US });
  return a;
}

/** Stretches that preempt, in phase p, the vCPUs (p + j) % vcpus for j < counts[p]. */
function rotating(counts: readonly number[], vcpus: number): Stretch[] {
  const out: Stretch[] = [];
  for (let v = 0; v < vcpus; v++) {
    let from = -1;
    counts.forEach((k, p) => {
      const on = (v - p + vcpus * counts.length) % vcpus < k;
      if (on && from < 0) from = p * 100;
      if (!on && from >= 0) {
        out.push([v, from, p * 100]);
        from = -1;
      }
    });
    if (from >= 0) out.push([v, from, END]);
  }
  return out;
}

describe('the pvsched DoP per phase', () => {
  it.each([
    [0, 4],
    [1, 3],
    [2, 2],
    [3, 1],
  ])('%i of 4 vCPUs preempted all run long: DoP %i in each phase and advised', (k, dop) => {
    const a = analyse({
      vcpus: 4,
      programCpus: 4,
      preempted: Array.from({ length: k }, (_, v) => [v, 0, END] as const),
    });
    const adv = rule(a);
    expect(adv.threads).toBe(4);
    expect(adv.phases).toHaveLength(20);
    expect(adv.phases.map((p) => p.preemptedVcpus)).toEqual(Array(20).fill(k));
    expect(adv.phases.map((p) => p.dop)).toEqual(Array(20).fill(dop));
    expect(adv.dop).toBe(dop);
  });

  it('a different count in each phase: each phase gets its own DoP, the advice their upper median', () => {
    // DoP 1 in 8 phases, 2 in 2, 3 in 7, 4 in 3: sorted, the 10th (from 0) is 3; the lower
    // median, the mode and the rounded mean would be 2, 1 and 2.
    const counts = [3, 1, 0, 3, 2, 1, 3, 1, 3, 0, 1, 3, 2, 3, 1, 1, 3, 0, 1, 3];
    const a = analyse({ vcpus: 4, programCpus: 4, preempted: rotating(counts, 4) });
    const adv = rule(a);
    expect(adv.phases.map((p) => [p.start, p.end])).toEqual(
      counts.map((_, p) => [p * 100 * US, (p + 1) * 100 * US]),
    );
    expect(adv.phases.map((p) => p.preemptedVcpus)).toEqual(counts);
    expect(adv.phases.map((p) => p.dop)).toEqual(counts.map((k) => 4 - k));
    expect(adv.dop).toBe(3);
    expect(adv.reasoning[1]).toMatch(/the DoP per phase is 1-2-3-4, median 3$/);
  });

  it('a vCPU preempted for part of a phase counts for that part, and the DoP is rounded to the nearest', () => {
    const a = analyse({
      vcpus: 4,
      programCpus: 4,
      preempted: [
        [0, 0, 40], // phase 0: 0.4 -> 3.6 -> 4
        [0, 100, 160], // phase 1: 0.6 -> 3.4 -> 3
        [0, 200, 270], // phase 2: 0.7 + 0.7 = 1.4 -> 2.6 -> 3
        [1, 230, 300],
        [2, 330, 520], // phases 3, 4, 5: 0.7, 1 and 0.2 -> 3, 3, 4
        [3, 600, 690], // phase 6: 0.9 + 0.9 -> 2.2 -> 2
        [2, 610, 700],
      ],
    });
    const adv = rule(a);
    const got = adv.phases.slice(0, 8).map((p) => [+p.preemptedVcpus.toFixed(9), p.dop]);
    expect(got).toEqual([
      [0.4, 4],
      [0.6, 3],
      [1.4, 3],
      [0.7, 3],
      [1, 3],
      [0.2, 4],
      [1.8, 2],
      [0, 4],
    ]);
  });

  it('within 1..threads: a 2-thread program on 4 vCPUs gets 2 with none preempted, 1 with 3 (any task on them)', () => {
    const a = analyse({
      vcpus: 4,
      programCpus: 2,
      preempted: [
        [1, 0, 1000],
        [2, 0, 1000],
        [3, 0, 1000],
      ],
    });
    const adv = rule(a);
    expect(adv.threads).toBe(2);
    expect(adv.phases.map((p) => [p.preemptedVcpus, p.dop])).toEqual([
      ...Array<number[]>(10).fill([3, 1]),
      ...Array<number[]>(10).fill([0, 2]),
    ]);
    expect(adv.dop).toBe(2);
  });

  it('a vCPU woken and waiting for its host CPU counts as preempted', () => {
    const a = analyse({
      vcpus: 4,
      programCpus: 4,
      // vCPU 1 asleep from 1000 µs, woken at 1200, on its CPU again at 1500.
      waiting: [[1, 1000, 1200, 1500]],
      preempted: [[2, 1200, 1500]],
    });
    expect(a.states!.time[1]!.waiting).toBe(300 * US);
    const adv = rule(a);
    expect(adv.phases.map((p) => p.dop)).toEqual([
      ...Array<number>(12).fill(4),
      ...Array<number>(3).fill(2),
      ...Array<number>(5).fill(4),
    ]);
  });
});

describe('the wait policy and its predicted gain', () => {
  // 3 omp threads on vCPUs 0-2, another task on vCPU 3. vCPU 0 (omp) is preempted for the first
  // 1400 µs and vCPU 3 for the first `x3` µs: a DoP of 1 while both are, 2 while one is, 3 after
  // (upper median 2 for x3 in 500..700). While vCPU 0 is preempted the omp threads on vCPUs 1
  // and 2 keep running: 2 x 1400 µs of vCPU time a spinning program wastes.
  const spec = (x3: number, sleeps: Stretch[] = []): Omit<HandPairSpec, 'endUs'> => ({
    vcpus: 4,
    programCpus: 3,
    preempted: [
      [0, 0, 1400],
      [3, 0, x3],
    ],
    sleeps,
  });
  /** The capacity model by hand: the work (running - waste) over min(DoP, vCPUs running). */
  const capacityGain = (x3: number): number => {
    const running = 4 * END - 1400 - x3;
    const work = Math.max(running - 2 * 1400, running / 3);
    return END / Math.min(END, work / Math.min(2, running / END));
  };

  it.each([
    // x3, vCPUs running on average, policy
    [500, 3.05, 'spin-then-block'],
    [600, 3, 'spin-then-block'],
    [700, 2.95, 'passive'],
  ] as const)(
    'spinning while a program vCPU is preempted, vCPU 3 preempted %i µs (%f vCPUs ran for 3 threads): %s',
    (x3, eff, policy) => {
      const a = analyse(spec(x3));
      const adv = rule(a);
      expect(a.program!.sleepShare).toBe(0);
      expect(a.findings.map((f) => f.kind)).toEqual(['spin-on-preempted-vcpu']);
      expect(a.findings[0]!.evidence['spinWaste']).toBe(2 * 1400 * US);
      expect(adv.dop).toBe(2);
      expect(adv.effectiveParallelism).toBeCloseTo(eff, 12);
      expect(adv.waitPolicy).toBe(policy);
      // 1.21x, 1.25x, 1.29x: (6100 - 2800) / 2, (6000 - 2800) / 2, (5900 - 2800) / 2 µs of 2000.
      expect(adv.predictedSpeedup).toBeCloseTo(capacityGain(x3), 12);
      expect(adv.predictedSpeedup).toBeCloseTo([1.2121212, 1.25, 1.2903226][(x3 - 500) / 100]!, 6);
      if (policy === 'spin-then-block') {
        expect(adv.spinCount).toBe(10_000);
        expect(adv.reasoning[2]).toMatch(/spin briefly, then block \(GOMP_SPINCOUNT=10000\)/);
      } else {
        expect(adv.spinCount).toBeUndefined();
        expect(adv.reasoning[2]).toMatch(/block instead \(OMP_WAIT_POLICY=passive\)/);
      }
    },
  );

  it("the work is at least one thread's share of the running time, even when all of it ran beside a straggler", () => {
    // 4 spinning threads, vCPU 0 preempted all run long: the 3 others' 6000 µs all ran while a
    // sibling could not, so the work is taken as 6000 / 4 µs, over min(DoP 3, 3 vCPUs running).
    const a = analyse({ vcpus: 4, programCpus: 4, preempted: [[0, 0, END]] });
    const adv = rule(a);
    expect(a.findings.find((f) => f.kind === 'spin-on-preempted-vcpu')!.evidence['spinWaste']).toBe(
      6000 * US,
    );
    expect(adv.waitPolicy).toBe('passive');
    expect(adv.predictedSpeedup).toBeCloseTo(END / (6000 / 4 / 3), 12);
  });

  it.each([
    [3, 'another task', 'active'],
    [0, 'an omp thread', 'spin-then-block'],
  ] as const)(
    'spinning, no oversubscription, vCPU %i preempted 500 µs while it ran %s: %s',
    (vcpu, _task, policy) => {
      const a = analyse({ vcpus: 4, programCpus: 3, preempted: [[vcpu, 0, 500]] });
      const adv = rule(a);
      expect(a.findings.map((f) => f.kind)).toEqual(vcpu === 3 ? [] : ['spin-on-preempted-vcpu']);
      expect(adv.waitPolicy).toBe(policy);
      // The DoP still counts the preempted vCPU, whatever ran on it: 2 in phases 0-4, 3 after.
      expect(adv.dop).toBe(3);
      // Capacity model for vCPU 0: work 7500 - 2 x 500 µs over 3 CPUs is over the 2000 µs run.
      expect(adv.predictedSpeedup).toBe(1);
      if (policy === 'active') {
        expect(adv.spinCount).toBeUndefined();
        expect(adv.reasoning[2]).toMatch(/spinning is fine here/);
      }
    },
  );

  it('spinning, no program thread on a preempted vCPU, but vCPUs 2 and 3 take turns on one host CPU: spin-then-block', () => {
    const a = analyse({ vcpus: 4, programCpus: 2, shareLastUs: 100 });
    const adv = rule(a);
    // 4 runnable vCPU threads on 3 host CPUs all run long; one of vCPUs 2 and 3 always off.
    expect(a.findings.map((f) => [f.kind, f.evidence['share']])).toEqual([['oversubscription', 1]]);
    expect(adv.phases.map((p) => p.preemptedVcpus)).toEqual(Array(20).fill(1));
    expect(adv.dop).toBe(1);
    expect(adv.effectiveParallelism).toBe(3);
    expect(adv.waitPolicy).toBe('spin-then-block');
    // No waste: the work (6000 µs) over min(DoP 1, 3) CPUs is longer than the run.
    expect(adv.predictedSpeedup).toBe(1);
  });

  it.each([
    // µs asleep on each of guest CPUs 1 and 2 (of 3 x 2000 µs of the program's time), policy
    [290, 'spin-then-block'],
    [300, 'passive'],
    [310, 'passive'],
  ] as const)(
    'the omp threads asleep %i µs each on two CPUs, the threshold being 600 µs (10 per cent): %s',
    (us, policy) => {
      const sleeps: Stretch[] = [
        [1, 1400, 1400 + us],
        [2, 1400, 1400 + us],
      ];
      const a = analyse(spec(500, sleeps));
      const adv = rule(a);
      expect(a.program!.sleepShare).toBeCloseTo((2 * us) / 6000, 12);
      expect(adv.waitPolicy).toBe(policy);
      const kinds = a.findings.map((f) => f.kind);
      if (policy === 'spin-then-block') {
        expect(kinds).toContain('spin-on-preempted-vcpu');
        expect(adv.predictedSpeedup).toBeCloseTo(capacityGain(500), 12);
      } else {
        // Blocking: the straggler sat on a preempted vCPU 70% of the run; with 2 threads of 3 it
        // holds one 1/3 less often: 1 / (1 - 0.7 / 3).
        expect(kinds).toContain('barrier-straggler-preempted');
        expect(kinds).not.toContain('spin-on-preempted-vcpu');
        expect(adv.spinCount).toBeUndefined();
        expect(adv.predictedSpeedup).toBeCloseTo(1 / (1 - 0.7 / 3), 12);
        expect(adv.reasoning[2]).toMatch(/already block .*keep OMP_WAIT_POLICY=passive/);
      }
    },
  );

  it('blocking threads: the gain from fewer threads is capped at 10x', () => {
    // 12 threads, 11 of their vCPUs preempted all run long: a straggler all the time (share 1)
    // and DoP 1, so 1 / (1 - 1 x 11/12) = 12x uncapped.
    const a = analyse({
      vcpus: 12,
      programCpus: 12,
      preempted: Array.from({ length: 11 }, (_, v) => [v + 1, 0, END] as const),
      sleeps: [
        [0, 100, 1000],
        [0, 1100, 1900],
        [1, 100, 1000],
        [2, 100, 1000],
      ],
    });
    const adv = rule(a);
    expect(a.program!.sleepShare).toBeCloseTo(3500 / 24000, 12);
    expect(
      a.findings.find((f) => f.kind === 'barrier-straggler-preempted')!.evidence['share'],
    ).toBe(1);
    expect(adv.dop).toBe(1);
    expect(adv.waitPolicy).toBe('passive');
    expect(adv.predictedSpeedup).toBeCloseTo(10, 12);
  });

  it('blocking threads and no vCPU preempted: passive, no DoP change, no gain', () => {
    const a = analyse({ vcpus: 4, programCpus: 3, sleeps: [[1, 100, 900]] });
    const adv = rule(a);
    expect(adv.waitPolicy).toBe('passive');
    expect(adv.dop).toBe(3);
    expect(adv.predictedSpeedup).toBe(1);
    expect(adv.reasoning).toContain('no DoP change: vCPUs were rarely preempted');
  });
});
