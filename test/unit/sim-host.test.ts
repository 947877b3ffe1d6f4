// The simulator's host and runtime details: libgomp / libomp spin-before-block semantics, KVM
// halt polling, pause-loop exiting, migrations on a shared runqueue, and another VM as the
// co-runner (the engine must still find our vCPU threads).
import { describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import { Kind } from '../../src/core/model/event-kinds';
import { migrateAt, switchAt } from '../../src/core/model/payload';
import type { Trace } from '../../src/core/model/trace';
import { KVM_PLE_DEFAULTS, simulate, SimConfig } from '../../src/core/sim/engine';
import { compareConfig, PRESETS } from '../../src/core/sim/presets';
import { simulateTraces } from '../../src/core/sim/record';
import { throughText } from './support/round-trip';
import { spinBeforeBlockNs } from '../../src/core/sim/runtime';

const small = PRESETS['small']!;
const lab = PRESETS['lab-4v2p']!;

describe('spin before block, as the runtimes do it', () => {
  it('libgomp: GOMP_SPINCOUNT 300,000 by default, 30 billion active, 0 passive', () => {
    expect(spinBeforeBlockNs({ runtime: 'libgomp' }, 4, 4)).toBe(300_000);
    expect(spinBeforeBlockNs({ runtime: 'libgomp', waitPolicy: 'active' }, 4, 4)).toBe(3e10);
    expect(spinBeforeBlockNs({ runtime: 'libgomp', waitPolicy: 'passive' }, 4, 4)).toBe(0);
    expect(spinBeforeBlockNs({ runtime: 'libgomp', spinCount: 5000, spinIterNs: 2 }, 4, 4)).toBe(
      10_000,
    );
  });

  it('libgomp throttles to 100 (1,000 active) spins only when threads outnumber the CPUs it sees', () => {
    expect(spinBeforeBlockNs({ runtime: 'libgomp' }, 8, 4)).toBe(100);
    expect(spinBeforeBlockNs({ runtime: 'libgomp', waitPolicy: 'active' }, 8, 4)).toBe(1000);
    expect(spinBeforeBlockNs({ runtime: 'libgomp', spinCount: 10 }, 8, 4)).toBe(10);
    // A guest sees vCPUs: 4 threads on 4 vCPUs keep the full count even on 2 host CPUs.
    expect(spinBeforeBlockNs({ runtime: 'libgomp' }, 4, 4)).toBe(300_000);
  });

  it('libomp: KMP_BLOCKTIME 200 ms by default, infinite never blocks', () => {
    expect(spinBeforeBlockNs({ runtime: 'libomp' }, 4, 4)).toBe(200_000_000);
    expect(spinBeforeBlockNs({ runtime: 'libomp', blocktimeMs: 0 }, 4, 4)).toBe(0);
    expect(spinBeforeBlockNs({ runtime: 'libomp', blocktimeMs: Infinity }, 4, 4)).toBe(Infinity);
    expect(spinBeforeBlockNs({ runtime: 'libomp', waitPolicy: 'passive' }, 4, 4)).toBe(0);
  });

  it('vcpu-lens simulate turns the flags into the spin and refuses mismatched ones', async () => {
    const { main } = await import('../../src/cli/main');
    const run = async (...args: string[]): Promise<[number, number]> => {
      const out: string[] = [];
      const code = await main(['simulate', '--preset', 'small', '--json', ...args], (s) =>
        out.push(s),
      );
      return [
        code,
        code === 0
          ? (JSON.parse(out.join('\n')) as { runs: { wallS: number }[] }).runs[0]!.wallS
          : 0,
      ];
    };
    const [okGomp, gomp] = await run('--policy', 'spin-then-block', '--spin-count', '0');
    const [okBlock, block] = await run('--policy', 'block');
    expect([okGomp, okBlock]).toEqual([0, 0]);
    expect(gomp).toBe(block); // GOMP_SPINCOUNT=0 is blocking
    const [okOmp, omp] = await run(
      '--policy',
      'spin-then-block',
      '--runtime',
      'libomp',
      '--blocktime',
      'infinite',
    );
    const [, spin] = await run('--policy', 'spin');
    expect(okOmp).toBe(0);
    expect(omp).toBe(spin); // KMP_BLOCKTIME=infinite is spinning
    expect((await run('--blocktime', '5'))[0]).toBe(2);
    expect((await run('--policy', 'spin-then-block', '--blocktime', '5'))[0]).toBe(2);
    expect((await run('--spin-count', '5'))[0]).toBe(2);
    expect((await run('--runtime', 'icc'))[0]).toBe(2);
    expect((await run('--halt-poll', '-1'))[0]).toBe(2);
    expect((await run('--co-runner', 'container'))[0]).toBe(2);
  });
});

describe('KVM halt polling', () => {
  const cfg: SimConfig = { ...compareConfig(lab, 'block-ideal'), barriers: 1000 };

  it('wakeups that find the vCPU polling skip the host wakeup and the IPI delay', () => {
    const plain = simulate(cfg);
    const polled = simulate({ ...cfg, haltPollNs: 200_000 });
    expect(plain.pollHits).toBe(0);
    expect(polled.pollHits).toBeGreaterThan(500);
    expect(polled.wallNs).toBeLessThan(plain.wallNs);
  });

  it('a polling vCPU gives its pCPU up as soon as another task is runnable there', () => {
    // One pCPU, two vCPUs: whenever one polls, the other is runnable, so nothing ever polls.
    const one: SimConfig = { ...cfg, pcpus: 1, vcpus: 2, threads: 2 };
    const r = simulate({ ...one, haltPollNs: 200_000 });
    expect(r.pollHits).toBe(0);
    expect(r.wallNs).toBe(simulate(one).wallNs);
  });

  it('the traces stay consistent: the guest goes idle when polling starts, the host thread sleeps later', () => {
    const s = simulateTraces({ ...cfg, barriers: 200, haltPollNs: 50_000 });
    const host = throughText(s.host, 'host');
    const guest = throughText(s.guest, 'guest');
    expect(host.diagnostics).toEqual([]);
    expect(guest.diagnostics).toEqual([]);
    const a = analyzePair(host, guest, { offset: BigInt(s.truth.offsetNs) });
    expect(a.vcpuMap.chosen!.vcpus.map((v) => v.hostTid)).toEqual(s.truth.vcpuTids);
    for (const v of a.states!.time) {
      const truth = s.result.vcpuPreemptedNs[v.vcpu]!;
      expect(Math.abs(v.preempted - truth)).toBeLessThanOrEqual(truth * 0.01 + 1);
    }
  });
});

describe('pause-loop exiting', () => {
  it('on an oversubscribed host, spinners yield to the preempted vCPU and spinning stops being a disaster', () => {
    const cfg: SimConfig = { ...compareConfig(lab, 'spin-ideal'), barriers: 1000 };
    const plain = simulate(cfg);
    const ple = simulate({ ...cfg, ple: KVM_PLE_DEFAULTS });
    expect(plain.pleExits).toBe(0);
    expect(ple.pleYields).toBeGreaterThan(500);
    expect(ple.wallNs * 3).toBeLessThan(plain.wallNs);
  });

  it('with a pCPU per vCPU nobody is preempted: exits happen, yields do not, nothing changes', () => {
    const cfg: SimConfig = { ...compareConfig(small, 'spin-ideal'), barriers: 200 };
    const ple = simulate({ ...cfg, ple: KVM_PLE_DEFAULTS });
    expect(ple.pleExits).toBeGreaterThan(0);
    expect(ple.pleYields).toBe(0);
    expect(ple.wallNs).toBe(simulate(cfg).wallNs);
  });
});

describe('per-CPU runqueues (runqueues: per-cpu)', () => {
  const hogged: SimConfig = {
    ...compareConfig(lab, 'spin-ideal'),
    pcpus: 2,
    vcpus: 2,
    threads: 2,
    barriers: 2000,
    workNs: 50_000,
    imbalance: 0.1,
    hogs: 2,
    latencyNs: 4_000_000,
    minSliceNs: 4_000_000,
  };

  it("two spinning vCPUs beside two hogs: the pCPUs' slices are out of phase, not in lock-step", () => {
    // One shared runqueue runs both vCPUs together and both hogs together (each barrier costs
    // twice its work); per pCPU, a vCPU often runs while its sibling waits behind a hog.
    const shared = simulate(hogged);
    const perCpu = simulate({ ...hogged, runqueues: 'per-cpu' });
    expect(shared.wallNs).toBeLessThan(2.2 * 2000 * 50_000);
    expect(perCpu.wallNs).toBeGreaterThan(1.5 * shared.wallNs);
    expect(simulate({ ...hogged, runqueues: 'per-cpu' }).wallNs).toBe(perCpu.wallNs);
  });

  it('one vCPU beside two hogs on two pCPUs gets about two thirds of one (the three rotate)', () => {
    const r = simulate({ ...hogged, vcpus: 1, threads: 1, runqueues: 'per-cpu' });
    const share = (2000 * 50_000) / r.wallNs;
    expect(share).toBeGreaterThan(0.6);
    expect(share).toBeLessThan(0.75);
  });

  it('a pCPU that goes idle pulls a task waiting on another (no more waiting than one shared queue)', () => {
    // Three blocking vCPUs on two pCPUs: one pCPU often idles while two vCPUs share the other.
    const cfg: SimConfig = {
      ...compareConfig(lab, 'block-ideal'),
      vcpus: 3,
      threads: 3,
      barriers: 2000,
      workNs: 200_000,
      imbalance: 0.5,
    };
    const wait = (r: ReturnType<typeof simulate>): number => r.vcpuWaitNs.reduce((x, y) => x + y);
    const shared = simulate(cfg);
    const perCpu = simulate({ ...cfg, runqueues: 'per-cpu' });
    expect(wait(perCpu)).toBeLessThan(1.25 * wait(shared));
    expect(perCpu.wallNs).toBeLessThan(1.05 * shared.wallNs);
  });

  it('the traces of a per-CPU host read back clean, with the migrations where the tasks run next', () => {
    const s = simulateTraces({
      ...compareConfig(lab, 'block-ideal'),
      barriers: 300,
      runqueues: 'per-cpu',
    });
    const host = throughText(s.host, 'host');
    expect(host.diagnostics).toEqual([]);
    expect(migrationsWhereTheyRun(host)).toBeGreaterThan(10);
  });
});

describe('no input hangs the simulator', () => {
  // Three spinning vCPUs on one pCPU with PLE and halt polling: the two spinners used to boost
  // each other on every pause-loop exit (a vCPU swap every 2.7 µs, each with a fresh slice) while
  // the vCPU they waited for never ran, and simulate() never returned.
  const livelock: SimConfig = {
    ...compareConfig(lab, 'spin-pvdop'),
    seed: 1,
    barriers: 600,
    threads: 3,
    pcpus: 1,
    ple: KVM_PLE_DEFAULTS,
    haltPollNs: 100_000,
  };

  it('spinners that boost each other on PLE exits still let the vCPU they wait for run', () => {
    const r = simulate({ ...livelock, maxStepsPerBarrier: 1_000_000 });
    expect(r.teams).toHaveLength(600);
    expect(r.pleYields).toBeGreaterThan(0);
    // Each barrier waits for one pass of the three vCPUs over the pCPU, not for ever.
    expect(r.wallNs / 600).toBeLessThan(10 * livelock.latencyNs);
  });

  it('a model that stops progressing throws with the reason instead of hanging', () => {
    expect(() => simulate({ ...livelock, maxStepsPerBarrier: 5 })).toThrow(
      /no progress: 5 events without a barrier completing .* barrier \d+ of 600/,
    );
  });
});

describe('host traces: migrations and another VM as the co-runner', () => {
  it('a shared runqueue migrates vCPU threads, and every migration lands where the task runs next', () => {
    const s = simulateTraces({ ...compareConfig(lab, 'block-ideal'), barriers: 200 });
    const host = throughText(s.host, 'host');
    expect(host.diagnostics).toEqual([]);
    const migrateType = host.eventTypes.findIndex((t) => t.kind === Kind.schedMigrateTask);
    expect(migrateType).toBeGreaterThanOrEqual(0);
    expect(migrationsWhereTheyRun(host, { crossCpu: true })).toBeGreaterThan(10);
  });

  it("another VM's vCPU threads (same names) do not fool the vCPU map", () => {
    const cfg: SimConfig = {
      ...compareConfig(small, 'block-preempted'),
      hogs: 4,
      coRunnerKind: 'vm',
      barriers: 200,
    };
    const s = simulateTraces(cfg);
    const host = throughText(s.host, 'host');
    const guest = throughText(s.guest, 'guest');
    const names = new Set<string>();
    for (let k = 0; k < host.tasks.size; k++)
      names.add(`${host.tasks.pid(k)} ${host.tasks.comm(k)}`);
    expect(names).toContain('9000 CPU 0/KVM');
    expect(names).toContain('5000 CPU 0/KVM');
    const a = analyzePair(host, guest);
    expect(a.vcpuMap.chosen!.vcpus.map((v) => v.hostTid)).toEqual(s.truth.vcpuTids);
  });
});

describe('ground truth', () => {
  it.each([
    ['lab-4v2p block (shared runqueue)', { ...compareConfig(lab, 'block-ideal'), barriers: 300 }],
    ['small spin with a co-runner', { ...compareConfig(small, 'spin-preempted'), barriers: 300 }],
    ['small block with a co-runner', { ...compareConfig(small, 'block-preempted'), barriers: 300 }],
  ] as [string, SimConfig][])(
    '%s: every preemption is listed, and they add up to the preempted time per vCPU',
    (_, cfg) => {
      const s = simulateTraces(cfg);
      const sum = new Array<number>(cfg.vcpus).fill(0);
      const count = new Array<number>(cfg.vcpus).fill(0);
      for (const p of s.truth.preemptions) {
        expect(p.endNs).toBeGreaterThanOrEqual(p.startNs);
        sum[p.vcpu]! += p.endNs - p.startNs;
        count[p.vcpu]!++;
      }
      expect(sum).toEqual(s.result.vcpuPreemptedNs);
      expect(count).toEqual(s.result.preemptions);
      expect(s.truth.preemptions.length).toBeGreaterThan(0);
    },
  );
});

/**
 * The host trace's migrations, each checked to land where its task runs next (the next
 * sched_switch to it is on the destination CPU); with crossCpu, also that none stays on its CPU.
 */
function migrationsWhereTheyRun(host: Trace, o: { crossCpu?: boolean } = {}): number {
  const pending = new Map<number, number>();
  let migrations = 0;
  for (let i = 0; i < host.events.length; i++) {
    const ty = host.eventTypes[host.events.type(i)]!;
    if (ty.kind === Kind.schedMigrateTask) {
      const m = migrateAt(host, i);
      if (o.crossCpu === true) expect(m.origCpu).not.toBe(m.destCpu);
      pending.set(host.tasks.pid(m.task), m.destCpu);
      migrations++;
    } else if (ty.kind === Kind.schedSwitch) {
      const pid = host.tasks.pid(switchAt(host, i).next);
      if (pending.has(pid)) {
        expect(host.events.cpu(i)).toBe(pending.get(pid));
        pending.delete(pid);
      }
    }
  }
  return migrations;
}
