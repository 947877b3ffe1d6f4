// The host's slice read from a host trace (whatif/host-fit.ts), on simulated pairs whose slice is
// known: the fit finds the simulated slice that shows the trace's turns, which is the one that ran.
import { describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import { simulate, type SimConfig } from '../../src/core/sim/engine';
import { compareConfig, PRESETS } from '../../src/core/sim/presets';
import { simulateTraces } from '../../src/core/sim/record';
import {
  fitHostSlice,
  readHostSlice,
  readVmmSleeps,
  regionCpuOnHostTurns,
} from '../../src/core/whatif/host-fit';

const lab = PRESETS['lab-4v2p']!;

function sliceOf(cfg: SimConfig): ReturnType<typeof readHostSlice> {
  const s = simulateTraces(cfg);
  const a = analyzePair(s.host, s.guest, { offset: BigInt(s.truth.offsetNs) });
  return readHostSlice(a.hostTimelines, s.truth.vcpuTids, a.window!, 1);
}

describe('the host slice from the host trace', () => {
  it.each([2_000_000, 4_000_000])(
    'spinning vCPUs beside hogs with a %d ns slice: the fit recovers the slice from the trace',
    (sliceNs) => {
      const cfg: SimConfig = {
        ...compareConfig(lab, 'spin-ideal'),
        vcpus: 2,
        threads: 2,
        hogs: 2,
        barriers: 3000,
        runqueues: 'per-cpu',
      };
      const traced = sliceOf({ ...cfg, latencyNs: sliceNs, minSliceNs: sliceNs });
      expect(traced).toBeDefined();
      expect(traced!.low).toBeLessThanOrEqual(traced!.value);
      expect(traced!.high).toBeGreaterThanOrEqual(traced!.value);
      // A turn that ends ahead of nobody runs on: the trace shows longer turns than the slice.
      expect(traced!.value).toBeGreaterThan(1.3 * sliceNs);
      const fit = fitHostSlice(cfg, traced!.value);
      expect(Math.abs(fit.sliceNs / sliceNs - 1)).toBeLessThan(0.15);
      // The first round moved the slice: the second simulates at the new one.
      expect(fit.simulations).toBe(2);
    },
  );

  it("a fit that lands on the trace's slice stops there: a second round would replay the same run", () => {
    // Blocking threads: wakeups cut the preempted turns short of any slice, so the simulated
    // turns stay under the trace's and the slice stays the trace's (clamped) after one round.
    const cfg: SimConfig = {
      ...compareConfig(lab, 'block-ideal'),
      barriers: 1000,
      runqueues: 'per-cpu',
    };
    const fit = fitHostSlice(cfg, 4_000_000);
    expect(fit.sliceNs).toBe(4_000_000);
    expect(fit.simulations).toBe(1);
  });

  it('nothing competes (a pCPU per vCPU): no slice to read', () => {
    expect(
      sliceOf({ ...compareConfig(lab, 'spin-ideal'), pcpus: 4, barriers: 300 }),
    ).toBeUndefined();
  });
});

describe("the vCPU threads' sleeps in the VMM from the host trace", () => {
  // Spinning threads on every vCPU: the guest never halts, so every host sleep is the VMM's.
  const cfg: SimConfig = {
    ...compareConfig(lab, 'spin-ideal'),
    barriers: 400,
    runqueues: 'per-cpu',
    vmmSleeps: { runNs: [200_000, 1_800_000], sleepNs: [20_000, 580_000] },
  };
  const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length;

  it('a simulated run with known sleeps: the reader recovers their rate and length', () => {
    const s = simulateTraces(cfg);
    const a = analyzePair(s.host, s.guest, { offset: BigInt(s.truth.offsetNs) });
    const got = readVmmSleeps(a.hostTimelines, s.truth.vcpuTids, a.window!, 1);
    expect(got).toBeDefined();
    expect(got!.runNs).toHaveLength(40);
    // Means of 1 ms of CPU between sleeps and 300 µs asleep, drawn a few thousand times.
    expect(Math.abs(mean(got!.runNs) / 1_000_000 - 1)).toBeLessThan(0.15);
    expect(Math.abs(mean(got!.sleepNs) / 300_000 - 1)).toBeLessThan(0.15);
    expect(got!.sleepNs[0]).toBeLessThan(100_000);
    expect(got!.sleepNs[39]).toBeGreaterThan(400_000);
  });

  it('without VMM sleeps a spinning run shows too few host sleeps to read', () => {
    const { vmmSleeps: _none, ...plain } = cfg;
    const s = simulateTraces(plain);
    const a = analyzePair(s.host, s.guest, { offset: BigInt(s.truth.offsetNs) });
    expect(readVmmSleeps(a.hostTimelines, s.truth.vcpuTids, a.window!, 1)).toBeUndefined();
  });
});

describe("a spinning run's CPU per region from the vCPU threads' turns", () => {
  it('a simulated spinning run with known work: the turns fit the barrier count at that work', () => {
    const cfg: SimConfig = {
      ...compareConfig(lab, 'spin-ideal'),
      barriers: 400,
      imbalance: 0,
      workNs: 300_000,
      runqueues: 'per-cpu',
    };
    const s = simulateTraces(cfg);
    const a = analyzePair(s.host, s.guest, { offset: BigInt(s.truth.offsetNs) });
    const got = regionCpuOnHostTurns(a.hostTimelines, s.truth.vcpuTids, a.window!, 400, 1);
    expect(got).toBeDefined();
    // The replay on the turns is ideal (no guest switches, every thread starts at the release):
    // within 15% of the work, and its high end (a quarter fewer barriers) holds it.
    expect(Math.abs(got!.value / 300_000 - 1)).toBeLessThan(0.15);
    expect(got!.low).toBeLessThanOrEqual(got!.value);
    expect(got!.high).toBeGreaterThanOrEqual(300_000);
    // Well below the host CPU each thread got per region, which holds the spinning.
    const cpuPerRegion = (2 * simulate(cfg).wallNs) / (4 * 400);
    expect(got!.high).toBeLessThan(0.75 * cpuPerRegion);
  });
});
