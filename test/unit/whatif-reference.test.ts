// A spinning run's work read from a reference run of the same program whose trace shows it
// (whatif/reference.ts, AdviceOptions.reference): simulated host + guest traces of one program,
// recorded blocking (the reference) and spinning (the run advised), the work the simulator ran
// being known.
import { describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import type { SimConfig } from '../../src/core/sim/engine';
import { PRESETS } from '../../src/core/sim/presets';
import { simulateTraces } from '../../src/core/sim/record';
import { calibrateWithReference } from '../../src/core/whatif/reference';
import type { Estimate, ProgramShape } from '../../src/core/whatif/shape';

const BARRIERS = 400;
/** The lab's 4 vCPUs on 2 host CPUs, with work per thread and region the trace can split. */
const PROGRAM: SimConfig = {
  ...PRESETS['lab-4v2p']!.config,
  barriers: BARRIERS,
  workNs: 300_000,
  imbalance: 0.02,
};

/** The pair recorded with `threads` threads waiting by `policy`, advice deferred. */
function recorded(threads: number, policy: SimConfig['policy']) {
  // The same program: the region's total work split over the team.
  const s = simulateTraces({ ...PROGRAM, threads, policy, workNs: (PROGRAM.workNs * 4) / threads });
  return analyzePair(s.host, s.guest, { deferAdvice: true });
}

/** The spinning 4-thread run's advice with the barriers given and `ref` as its reference. */
function spinningWith(ref: ReturnType<typeof recorded>) {
  const s = simulateTraces({ ...PROGRAM, threads: 4, policy: 'spin' });
  return analyzePair(s.host, s.guest, {
    advice: { barriers: BARRIERS, reference: { analysis: ref, label: 'ref.host + ref.guest' } },
  }).advice!;
}

describe('a spinning run calibrated with a reference run', () => {
  it("a blocking reference with another team gives the spinning team's work per thread back", () => {
    // Three threads do the four's region total: 4/3 the work each; the spinning run's 4 split it.
    const ref = recorded(3, 'block');
    const advice = spinningWith(ref);
    const shape = advice.shape!;
    expect(shape.waits).toBe('spin');
    const work = shape.workNs!;
    // Within 15% of the simulated work (the split reads barrier overhead and imbalance too).
    expect(work.value / PROGRAM.workNs).toBeGreaterThan(0.85);
    expect(work.value / PROGRAM.workNs).toBeLessThan(1.15);
    expect(work.low).toBeLessThanOrEqual(work.value);
    expect(work.high).toBeGreaterThanOrEqual(work.value);
    const text = advice.reasoning.join('\n');
    expect(text).toMatch(
      /read from the blocking run ref\.host \+ ref\.guest \(3 threads, [\d,]+ regions/,
    );
    expect(text).not.toMatch(/warning/);
  });

  it('a spinning reference is ignored, and says why', () => {
    const advice = spinningWith(recorded(4, 'spin'));
    expect(advice.shape!.workNs).toBeUndefined();
    expect(advice.reasoning.join('\n')).toMatch(
      /the reference run ref\.host \+ ref\.guest is ignored: its threads spin too/,
    );
  });
});

describe('calibrateWithReference', () => {
  const est = (v: number): Estimate => ({ value: v, low: 0.8 * v, high: 1.2 * v, basis: 'read' });
  /** A shape with what calibrateWithReference reads; the rest as a 4-thread run has it. */
  const shape = (waits: 'block' | 'spin', threads: number, workNs?: number): ProgramShape => ({
    threads,
    vcpus: 4,
    pcpus: 2,
    wallNs: 1e9,
    waits,
    barriers: { value: 400, low: 400, high: 400, basis: 'given' },
    burstNs: est(200_000),
    overheadNs: workNs !== undefined ? est(10_000) : undefined,
    workNs: workNs !== undefined ? est(workNs) : undefined,
    wakeLatencyNs: undefined,
    wakeCostNs: undefined,
    syncShare: est(0.5),
    cpuNs: 2e9,
    coRunners: { count: 0, load: 0, names: [], basis: '' },
    notes: [],
  });
  const ref = (s: ProgramShape, comm = 'omp_barrier') => ({ shape: s, comm, label: 'R' });

  it('a blocking run keeps its own work: the reference is not used', () => {
    const c = calibrateWithReference(
      shape('block', 4, 100_000),
      'omp_barrier',
      ref(shape('block', 2, 50_000)),
    );
    expect(c.used).toBe(false);
    expect(c.shape.workNs!.value).toBe(100_000);
    expect(c.notes.join()).toMatch(/not used: this run's threads block/);
  });

  it("the region's total carries over: 2 threads x 300 µs is 150 µs each for 4", () => {
    const c = calibrateWithReference(
      shape('spin', 4),
      'omp_barrier',
      ref(shape('block', 2, 300_000)),
    );
    expect(c.used).toBe(true);
    expect(c.shape.workNs!.value).toBeCloseTo(150_000);
    expect(c.shape.waits).toBe('spin');
    expect(c.notes.join()).not.toMatch(/warning/);
  });

  it('another command name is warned about', () => {
    const c = calibrateWithReference(
      shape('spin', 4),
      'omp_barrier',
      ref(shape('block', 4, 100_000), 'other'),
    );
    expect(c.used).toBe(true);
    expect(c.notes.join()).toMatch(
      /warning: the reference run R ran 'other', this run 'omp_barrier'/,
    );
  });

  it('more work per region than the host CPU a region costs each thread here is warned about', () => {
    const c = calibrateWithReference(
      shape('spin', 4),
      'omp_barrier',
      ref(shape('block', 4, 100_000)),
      est(50_000),
    );
    expect(c.notes.join()).toMatch(/warning: the reference's work per thread and region/);
  });
});
