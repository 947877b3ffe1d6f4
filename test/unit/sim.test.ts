// The simulator: deterministic per seed, the wait policies behave as on real hardware (spinning
// wins without preemption and loses badly when vCPUs outnumber host CPUs), and its traces go
// through the writer, the reader and the engine, which recover its ground truth.
import { describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import { writeTraceCmdText } from '../../src/core/export/trace-cmd-text';
import {
  KVM_PLE_DEFAULTS,
  primeSimulator,
  simulate,
  simulateOracle,
  SimConfig,
} from '../../src/core/sim/engine';
import { simulateTraces } from '../../src/core/sim/record';
import { throughText } from './support/round-trip';
import { parseSweep, sweepConfig } from '../../src/core/sim/sweep';

const base: SimConfig = {
  pcpus: 4,
  vcpus: 4,
  threads: 4,
  barriers: 400,
  workNs: 200_000,
  imbalance: 0.2,
  policy: 'spin',
  dop: 'fixed',
  spinNs: 50_000,
  hogs: 0,
  hogOnNs: 0,
  hogOffNs: 0,
  latencyNs: 6_000_000,
  minSliceNs: 750_000,
  wakeupGranNs: 1_000_000,
  wakeCostNs: 3_000,
  resumeCostNs: 5_000,
  ipiNs: 20_000,
  seed: 1,
};

describe('simulate', () => {
  it('is deterministic for a seed and changes with it', () => {
    const a = simulate({ ...base, pcpus: 2 });
    expect(simulate({ ...base, pcpus: 2 })).toEqual(a);
    expect(simulate({ ...base, pcpus: 2, seed: 2 }).wallNs).not.toBe(a.wallNs);
  });

  it('an absent optional field runs as its documented default given explicitly', () => {
    const crowded: SimConfig = {
      ...base,
      pcpus: 3,
      hogs: 1,
      barriers: 60,
      policy: 'spin-then-block',
    };
    expect(
      simulate({
        ...crowded,
        barrierNs: 0,
        fixedDop: crowded.threads,
        haltPollNs: 0,
        pin: false,
        runqueues: 'shared',
        maxStepsPerBarrier: 50_000_000,
        vmmSleeps: { runNs: [], sleepNs: [1e6] },
      }),
    ).toEqual(simulate(crowded));
  });

  it('priming the simulator changes no later result', () => {
    const cfgs: SimConfig[] = [
      { ...base, pcpus: 3, hogs: 1, barriers: 60, runqueues: 'per-cpu' },
      { ...base, policy: 'block', pcpus: 2, barriers: 60, ple: KVM_PLE_DEFAULTS },
      { ...base, barriers: 60, vmmSleeps: { runNs: [2e6, 5e6], sleepNs: [3e4] } },
    ];
    const before = cfgs.map((c) => simulate(c));
    primeSimulator();
    expect(cfgs.map((c) => simulate(c))).toEqual(before);
  });

  it('without preemption, spinning beats blocking (wakeups cost)', () => {
    const spin = simulate(base).wallNs;
    const block = simulate({ ...base, policy: 'block' }).wallNs;
    expect(block / spin).toBeGreaterThan(1.05);
    // Lower bound: the work itself, barrier by barrier.
    expect(spin).toBeGreaterThan(base.barriers * base.workNs);
  });

  it('with 4 vCPUs on 2 host CPUs, spinning is several times slower than blocking', () => {
    const spin = simulate({ ...base, pcpus: 2 });
    const block = simulate({ ...base, pcpus: 2, policy: 'block' });
    expect(spin.wallNs / block.wallNs).toBeGreaterThan(3);
    expect(spin.preemptions.reduce((s, x) => s + x, 0)).toBeGreaterThan(100);
  });

  it('spin-then-block sits between the two under oversubscription', () => {
    const c = { ...base, pcpus: 2 };
    const spin = simulate(c).wallNs;
    const block = simulate({ ...c, policy: 'block' }).wallNs;
    const stb = simulate({ ...c, policy: 'spin-then-block' }).wallNs;
    expect(stb).toBeLessThan(spin);
    expect(stb).toBeGreaterThan(block * 0.9);
  });
});

describe('simulated traces through the writer, reader and engine', () => {
  it('parse with no diagnostics and the analysis recovers the ground truth', () => {
    const s = simulateTraces({ ...base, pcpus: 2, policy: 'block', barriers: 300 });
    const host = throughText(s.host, 'host');
    const guest = throughText(s.guest, 'guest');
    expect(host.diagnostics).toEqual([]);
    expect(guest.diagnostics).toEqual([]);
    const a = analyzePair(host, guest);
    expect(a.vcpuMap.chosen!.vcpus.map((v) => v.hostTid)).toEqual(s.truth.vcpuTids);
    const off = Number(a.clock!.hostRef - a.clock!.guestRef);
    expect(Math.abs(off - s.truth.offsetNs)).toBeLessThanOrEqual(a.clock!.bound + 1000);
    // Steal (preempted + waiting) per vCPU vs the simulator's own count, over the whole run.
    const r = analyzePair(host, guest, { offset: BigInt(s.truth.offsetNs) });
    for (const v of r.states!.time) {
      const truth = s.result.vcpuWaitNs[v.vcpu]!;
      expect(Math.abs(v.steal - truth)).toBeLessThanOrEqual(truth * 0.01 + 1);
      const pre = s.result.vcpuPreemptedNs[v.vcpu]!;
      expect(Math.abs(v.preempted - pre)).toBeLessThanOrEqual(pre * 0.01 + 1);
    }
    expect(s.result.vcpuPreemptedNs.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});

describe('co-runners and DoP policies', () => {
  const c: SimConfig = {
    ...base,
    pcpus: 8,
    vcpus: 8,
    threads: 8,
    barriers: 600,
    workNs: 250_000,
    imbalance: 0.1,
    latencyNs: 3_000_000,
  };
  const noisy = { hogs: 2, hogOnNs: 3_000_000, hogOffNs: 3_000_000 };

  it('periodic hogs preempt vCPUs, and spinning suffers more than blocking', () => {
    const spin = simulate(c).wallNs;
    const block = simulate({ ...c, policy: 'block' }).wallNs;
    const spinP = simulate({ ...c, ...noisy });
    const blockP = simulate({ ...c, ...noisy, policy: 'block' }).wallNs;
    expect(spinP.preemptions.reduce((s, x) => s + x, 0)).toBeGreaterThan(50);
    expect(spinP.wallNs / spin).toBeGreaterThan(blockP / block);
    expect(spinP.wallNs / spin).toBeGreaterThan(1.5);
  });

  it('pvsched lowers the team by the preempted vCPUs and wins over the fixed DoP under preemption', () => {
    const fixed = simulate({ ...c, ...noisy });
    const pv = simulate({ ...c, ...noisy, dop: 'pvsched' });
    expect(fixed.teams.every((n) => n === 8)).toBe(true);
    expect(Math.min(...pv.teams)).toBeLessThan(8);
    expect(pv.wallNs).toBeLessThan(fixed.wallNs);
    // Without preemption pvsched keeps the full team.
    expect(simulate({ ...c, dop: 'pvsched' }).teams.every((n) => n === 8)).toBe(true);
  });
});

describe('vcpu-lens simulate', () => {
  it.each([1, 2])(
    "--compare on npb-ua-b (seed %i): the talk's four ratios within 15 percent",
    async (seed) => {
      const { main } = await import('../../src/cli/main');
      const out: string[] = [];
      // The preset at full size (38,768 barriers; the five runs take ~3 s).
      const args = [
        'simulate',
        '--preset',
        'npb-ua-b',
        '--compare',
        '--seed',
        String(seed),
        '--json',
      ];
      expect(await main(args, (s) => out.push(s))).toBe(0);
      const r = JSON.parse(out.join('\n')) as {
        runs: { name: string; wallS: number }[];
        ratios: Record<string, number>;
        talkRatios: Record<string, number>;
      };
      expect(r.runs.map((x) => x.name)).toEqual([
        'spin-ideal',
        'block-ideal',
        'spin-preempted',
        'block-preempted',
        'spin-pvdop',
      ]);
      expect(Object.keys(r.ratios)).toHaveLength(4);
      for (const [k, v] of Object.entries(r.ratios)) {
        expect(
          Math.abs(v / r.talkRatios[k]! - 1),
          `${k}: ${v.toFixed(2)} vs ${r.talkRatios[k]!.toFixed(2)}`,
        ).toBeLessThan(0.15);
      }
    },
  );

  it('--out writes traces the analysis reads, and refuses to overwrite without --force', async () => {
    const { main } = await import('../../src/cli/main');
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'vl-sim-'));
    const args = [
      'simulate',
      '--preset',
      'small',
      '--policy',
      'block',
      '--barriers',
      '200',
      '--out',
      dir,
    ];
    expect(await main(args, () => undefined)).toBe(0);
    expect(await main(args, () => undefined)).toBe(2);
    expect(await main([...args, '--force'], () => undefined)).toBe(0);
    const truth = JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8')) as {
      vcpuTids: number[];
    };
    const out: string[] = [];
    expect(
      await main(
        ['analyze', path.join(dir, 'host.txt'), path.join(dir, 'guest.txt'), '--json'],
        (s) => out.push(s),
      ),
    ).toBe(0);
    const a = JSON.parse(out.join('\n')) as { vcpus: { hostTid: number }[] };
    expect(a.vcpus.map((v) => v.hostTid)).toEqual(truth.vcpuTids);
  });
});

describe('an ambiguous clock estimate says so', () => {
  it('a spinning guest (vCPUs on CPU nearly always): the bound covers the truth and the reasoning warns', () => {
    const s = simulateTraces({
      ...base,
      hogs: 1,
      hogOnNs: 2_000_000,
      hogOffNs: 2_000_000,
      barriers: 400,
    });
    const a = analyzePair(s.host, s.guest);
    const off = Number(a.clock!.hostRef - a.clock!.guestRef);
    expect(Math.abs(off - s.truth.offsetNs)).toBeLessThanOrEqual(a.clock!.bound);
    expect(a.clock!.reasoning.join('\n')).toMatch(/ambiguous/);
  });
});

describe('reproducible output', () => {
  it('the same seed writes the same traces byte for byte; another seed does not', () => {
    const text = (seed: number): string => {
      const s = simulateTraces({ ...base, pcpus: 2, policy: 'block', barriers: 150, seed });
      let out = '';
      writeTraceCmdText(s.host, (x) => (out += x));
      writeTraceCmdText(s.guest, (x) => (out += x));
      return out;
    };
    const a = text(5);
    expect(text(5) === a).toBe(true);
    expect(text(6) === a).toBe(false);
  });
});

describe('lab-4v2p against the real lab', () => {
  it('spinning is 6-9x slower than blocking, as measured untraced on the fixtures host', async () => {
    const { PRESETS } = await import('../../src/core/sim/presets');
    const c = { ...PRESETS['lab-4v2p']!.config, barriers: 500 };
    const spin = simulate({ ...c, policy: 'spin' }).wallNs;
    const block = simulate({ ...c, policy: 'block' }).wallNs;
    expect(spin / block).toBeGreaterThan(6);
    expect(spin / block).toBeLessThan(9);
    // Per barrier, close to the measured medians (15.19 s and 2.31 s for 5,000 barriers).
    expect(Math.abs((spin * 10) / 1e9 / 15.19 - 1)).toBeLessThan(0.15);
    expect(Math.abs((block * 10) / 1e9 / 2.31 - 1)).toBeLessThan(0.25);
  });
});

describe('DoP policies: dynamic and the oracle', () => {
  const c: SimConfig = { ...base, hogs: 1, hogOnNs: 2_000_000, hogOffNs: 2_000_000, barriers: 300 };

  it('OMP_DYNAMIC cannot see host preemption: with no other guest load it keeps every thread', () => {
    const fixed = simulate(c);
    const dyn = simulate({ ...c, dop: 'dynamic' });
    expect(dyn.teams.every((n) => n === 4)).toBe(true);
    expect(dyn.wallNs).toBe(fixed.wallNs);
  });

  it('a fixed smaller team runs with that many threads, and the oracle picks the best size', () => {
    const three = simulate({ ...c, fixedDop: 3 });
    expect(three.teams.every((n) => n === 3)).toBe(true);
    const oracle = simulateOracle(c);
    expect(oracle.bestDop).toBeGreaterThanOrEqual(1);
    expect(oracle.bestDop).toBeLessThanOrEqual(4);
    for (const d of [1, 2, 3, 4])
      expect(oracle.wallNs).toBeLessThanOrEqual(simulate({ ...c, fixedDop: d }).wallNs);
  });
});

describe('sweeps', () => {
  it('parse ranges, steps and lists, and say what is wrong', () => {
    expect(parseSweep('pcpus=18..36:6')).toEqual({ param: 'pcpus', values: [18, 24, 30, 36] });
    expect(parseSweep('pcpus=2..4')).toEqual({ param: 'pcpus', values: [2, 3, 4] });
    expect(parseSweep('hogs=0,2,1,2')).toEqual({ param: 'hogs', values: [0, 2, 1] });
    expect(parseSweep('latencyNs=1..2')).toEqual({
      error: expect.stringContaining("cannot sweep 'latencyNs'"),
    });
    expect(parseSweep('pcpus=9..3')).toEqual({ error: expect.stringContaining('FROM <= TO') });
    expect(parseSweep('pcpus=1..9:0')).toEqual({ error: expect.stringContaining('STEP >= 1') });
    expect(parseSweep('pcpus=')).toEqual({ error: expect.stringContaining('pcpus=18..36') });
    expect(parseSweep('pcpus=1,x')).toEqual({ error: expect.stringContaining('whole numbers') });
    expect(parseSweep('pcpus=0..2')).toEqual({ error: 'pcpus must be at least 1, got 0' });
    expect(parseSweep('seed=1..100000:1')).toEqual({ error: expect.stringContaining('more than') });
  });

  it('shrink the program with the vCPUs and refuse threads that do not fit', () => {
    expect(sweepConfig(base, { param: 'vcpus', values: [2] }, 2)).toMatchObject({
      vcpus: 2,
      threads: 2,
    });
    expect(sweepConfig(base, { param: 'threads', values: [8] }, 8)).toBe(
      '8 threads do not fit on 4 vCPUs',
    );
  });

  it('vcpu-lens simulate --sweep: one row per value, each the run a plain simulate gives', async () => {
    const { main } = await import('../../src/cli/main');
    const out: string[] = [];
    const args = [
      'simulate',
      '--preset',
      'small',
      '--sweep',
      'pcpus=2..4',
      '--policy',
      'block',
      '--json',
    ];
    expect(await main(args, (s) => out.push(s))).toBe(0);
    const r = JSON.parse(out.join('\n')) as {
      sweep: { param: string; values: number[] };
      rows: { value: number; runs: { name: string; wallS: number }[] }[];
    };
    expect(r.sweep).toEqual({ param: 'pcpus', values: [2, 3, 4] });
    expect(r.rows.map((x) => x.value)).toEqual([2, 3, 4]);
    for (const row of r.rows) {
      const one: string[] = [];
      const single = ['simulate', '--preset', 'small', '--policy', 'block', '--json'];
      // The same run through the preset with pcpus changed: the sweep adds nothing of its own.
      const { PRESETS } = await import('../../src/core/sim/presets');
      const p = PRESETS['small']!;
      const want = simulate({ ...p.config, ...p.coRunner, policy: 'block', pcpus: row.value });
      expect(row.runs).toHaveLength(1);
      expect(row.runs[0]!.wallS).toBe(want.wallNs / 1e9);
      if (row.value === 4) {
        expect(await main(single, (s) => one.push(s))).toBe(0);
        expect(row.runs[0]!.wallS).toBe(
          (JSON.parse(one.join('\n')) as { runs: { wallS: number }[] }).runs[0]!.wallS,
        );
      }
    }
    // Fewer host CPUs than vCPUs: blocking gets slower as the host shrinks.
    expect(r.rows[0]!.runs[0]!.wallS).toBeGreaterThan(r.rows[2]!.runs[0]!.wallS);
  });

  it('--sweep with --compare gives the five runs per value; a bad sweep is a usage error', async () => {
    const { main } = await import('../../src/cli/main');
    const out: string[] = [];
    expect(
      await main(['simulate', '--preset', 'small', '--sweep', 'hogs=0,2', '--compare'], (s) =>
        out.push(s),
      ),
    ).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('spin-pvdop');
    expect(text).toMatch(/^\s+0(\s+\d+\.\d{3}){5}\s+1\.00x$/m);
    expect(text).toMatch(/^\s+2(\s+\d+\.\d{3}){5}\s+\d\.\d\dx$/m);
    expect(await main(['simulate', '--sweep', 'pcpus=4..1'], () => {})).toBe(2);
    expect(
      await main(['simulate', '--sweep', 'pcpus=1..2', '--out', '/nonexistent/x'], () => {}),
    ).toBe(2);
  });
});
