// Findings on small hand-checked pairs: one host CPU, two vCPUs taking turns (always both
// runnable), and a two-thread guest program that either spins or blocks.
import { describe, expect, it } from 'vitest';
import { sweepPair, type SweepTotals } from '../../src/core/analyze/findings';
import { analyzePair } from '../../src/core/analyze/pair';
import type { PairAnalysis } from '../../src/core/analyze/types';
import { relativeMap } from '../../src/core/correlate/clock-map';
import { VcpuState } from '../../src/core/correlate/vcpu-states';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';
import type { Trace } from '../../src/core/model/trace';

const L = (comm: string, tid: number, cpu: number, us: number, rest: string): string =>
  `${`${comm}-${tid}`.padStart(16)}  [00${cpu}]  ${(100 + us / 1e6).toFixed(6)}: ${rest}\n`;

function trace(text: string, name: string): Trace {
  const [t] = importFtraceText(text, { name });
  expect(t!.diagnostics).toEqual([]);
  return t!;
}

/** Host: one CPU; vCPU threads 100 and 101 preempt each other every 100 µs for 1 ms. */
function host(): Trace {
  let s = 'cpus=1\n';
  s += L(
    'CPU 0/KVM',
    100,
    0,
    0,
    'sched_waking:         comm=CPU 1/KVM pid=101 prio=120 target_cpu=000',
  );
  for (let k = 1; k <= 10; k++) {
    const [from, to] = k % 2 === 1 ? [100, 101] : [101, 100];
    s += L(
      `CPU ${from - 100}/KVM`,
      from,
      0,
      k * 100,
      `sched_switch:         CPU ${from - 100}/KVM:${from} [120] R+ ==> CPU ${to - 100}/KVM:${to} [120]`,
    );
  }
  return trace(s, 'host');
}

/** Guest: omp threads 10 and 11 on CPUs 0 and 1 from the start; `blocking`: they also sleep and wake. */
function guest(blocking: boolean): Trace {
  let s = 'cpus=2\n';
  s += L('<idle>', 0, 0, 1, 'sched_switch:         swapper/0:0 [120] R ==> omp:10 [120]');
  s += L('<idle>', 0, 1, 101, 'sched_switch:         swapper/1:0 [120] R ==> omp:11 [120]');
  if (blocking) {
    s += L('omp', 10, 0, 150, 'sched_switch:         omp:10 [120] S ==> swapper/0:0 [120]');
    s += L('omp', 11, 1, 480, 'sched_waking:         comm=omp pid=10 prio=120 target_cpu=000');
    s += L('<idle>', 0, 0, 510, 'sched_switch:         swapper/0:0 [120] R ==> omp:10 [120]');
    s += L('omp', 11, 1, 550, 'sched_switch:         omp:11 [120] S ==> swapper/1:0 [120]');
    s += L('omp', 10, 0, 880, 'sched_waking:         comm=omp pid=11 prio=120 target_cpu=001');
    s += L('<idle>', 0, 1, 910, 'sched_switch:         swapper/1:0 [120] R ==> omp:11 [120]');
  }
  s += L('omp', 10, 0, 990, 'sched_waking:         comm=x pid=5 prio=120 target_cpu=000');
  return trace(s, 'guest');
}

describe('findings on hand-made pairs', () => {
  it('spinning threads on vCPUs that preempt each other: oversubscription, spin on a preempted vCPU, advice to block', () => {
    const a = analyzePair(host(), guest(false), { offset: 0n });
    expect(a.program).toMatchObject({ comm: 'omp', pids: [10, 11] });
    expect(a.program!.sleepShare).toBe(0);
    const byKind = new Map(a.findings.map((f) => [f.kind, f]));
    // Two runnable vCPU threads on one host CPU the whole time both traces ran.
    expect(byKind.get('oversubscription')!.evidence['share']).toBeCloseTo(1, 6);
    expect(byKind.get('oversubscription')!.severity).toBe('high');
    // While one omp thread's vCPU is preempted the other vCPU runs the other omp thread.
    expect(byKind.has('spin-on-preempted-vcpu')).toBe(true);
    expect(byKind.has('barrier-straggler-preempted')).toBe(false);
    expect(a.advice!.waitPolicy).toBe('passive');
    expect(a.advice!.dop).toBe(1);
    expect(a.advice!.predictedSpeedup).toBeGreaterThan(1);
  });

  it('blocking threads: barrier straggler, wakeups delayed by preemption, never advised to spin', () => {
    const a = analyzePair(host(), guest(true), { offset: 0n });
    expect(a.program!.sleepShare).toBeGreaterThan(0.1);
    const kinds = a.findings.map((f) => f.kind);
    expect(kinds).toContain('barrier-straggler-preempted');
    expect(kinds).toContain('wakeup-delayed-by-preemption');
    expect(kinds).not.toContain('spin-on-preempted-vcpu');
    expect(a.advice!.waitPolicy).toBe('passive');
    // omp:10 woken at 480 µs for guest CPU 0, ran at 510: its vCPU 0 was preempted from 500.
    const wake = a.findings.find((f) => f.kind === 'wakeup-delayed-by-preemption')!;
    expect(Number(wake.evidence['delayed'])).toBeGreaterThan(0);
  });

  it('no clock map, no findings: the vCPU states alone say nothing about guest threads', () => {
    const g = guest(false);
    const a = analyzePair(host(), g, { vcpuMap: new Map([[0, 100]]) });
    expect(a.clock).toBeUndefined();
    expect(a.findings).toEqual([]);
    expect(a.advice).toBeUndefined();
  });
});

describe('preempted in interrupt context', () => {
  it('counts a preemption right after the guest logged an event in hardirq context on that vCPU', () => {
    const R = (
      comm: string,
      tid: number,
      cpu: number,
      lat: string,
      us: number,
      rest: string,
    ): string =>
      `${`${comm}-${tid}`.padStart(16)}  [00${cpu}] ${lat}  ${(100 + us / 1e6).toFixed(6)}: ${rest}\n`;
    const g = trace(
      '# tracer: nop\n' +
        R(
          '<idle>',
          0,
          0,
          'd..2.',
          1,
          'sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=omp next_pid=10 next_prio=120',
        ) +
        // vCPU 0 is preempted at 100 µs and 300 µs (host): the first right after an IRQ-context event.
        R('omp', 10, 0, 'dNh2.', 95, 'sched_waking: comm=omp pid=11 prio=120 target_cpu=001') +
        R(
          '<idle>',
          0,
          1,
          'd..2.',
          101,
          'sched_switch: prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=omp next_pid=11 next_prio=120',
        ) +
        R('omp', 10, 0, 'd..2.', 290, 'sched_waking: comm=x pid=5 prio=120 target_cpu=000') +
        R('omp', 10, 0, '.....', 990, 'sched_waking: comm=x pid=5 prio=120 target_cpu=000'),
      'guest',
    );
    const a = analyzePair(host(), g, { offset: 0n });
    const f = a.findings.find((x) => x.kind === 'preempted-in-interrupt')!;
    expect(f.evidence['preemptions']).toBe(1);
    expect(f.evidence['lost']).toBe(100_000);
  });
});

describe('the findings sweep', () => {
  /**
   * A busier pair: three vCPU threads and a hog on two host CPUs, switching at uneven times; on the
   * guest three program threads, another process and idle taking turns on three CPUs. The clock
   * map then gets a drift, so that guest boundaries land between host ones as fractions.
   */
  function busyPair(): PairAnalysis {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let h = 'cpus=2\n';
    const hostOn = [100, 101];
    const hostName = (tid: number): string => (tid === 200 ? 'hog' : `CPU ${tid - 100}/KVM`);
    const waiting = [102, 200];
    let us = 0;
    for (let i = 0; i < 120; i++) {
      us += 3 + rnd(40);
      const cpu = rnd(2);
      const prev = hostOn[cpu]!;
      const next = waiting.shift()!;
      waiting.push(prev);
      hostOn[cpu] = next;
      h += L(
        hostName(prev),
        prev,
        cpu,
        us,
        `sched_switch:         ${hostName(prev)}:${prev} [120] R+ ==> ${hostName(next)}:${next} [120]`,
      );
    }
    let g = 'cpus=3\n';
    const guestOn = [0, 0, 0];
    const guestName = (pid: number): string =>
      pid === 0 ? 'swapper' : pid === 50 ? 'other' : 'omp';
    const pool = [10, 11, 12, 50];
    us = 0;
    for (let i = 0; i < 150; i++) {
      us += 2 + rnd(30);
      const cpu = rnd(3);
      const prev = guestOn[cpu]!;
      let next = 0;
      if (rnd(3) !== 0 && pool.length > 0) next = pool.splice(rnd(pool.length), 1)[0]!;
      if (prev !== 0) pool.push(prev);
      guestOn[cpu] = next;
      g += L(
        prev === 0 ? '<idle>' : guestName(prev),
        prev,
        cpu,
        us,
        `sched_switch:         ${guestName(prev)}:${prev} [120] ${prev === 0 ? 'R' : 'S'} ==> ${guestName(next)}:${next} [120]`,
      );
    }
    const a = analyzePair(trace(h, 'host'), trace(g, 'guest'), {
      vcpuMap: new Map([
        [0, 100],
        [1, 101],
        [2, 102],
      ]),
      offset: 0n,
      deferAdvice: true,
    });
    return { ...a, clock: { ...a.clock!, slope: 1 + 3.7e-6 } };
  }

  /** The same totals the plain way: every vCPU's stretches materialised, every boundary sorted. */
  function reference(a: PairAnalysis, prog: Set<number>): SweepTotals {
    const map = relativeMap(a.clock!, a.guest.tsBase, a.host.tsBase);
    const w = a.window!;
    const gc = a.guestTimelines.cpus;
    const stretches: { start: number; end: number; role: number }[][] = [];
    for (const tl of a.states!.timelines) {
      if (tl.vcpu + 1 >= gc.offsets.length) continue;
      const guest: { s: number; e: number; pid: number }[] = [];
      for (let k = gc.offsets[tl.vcpu]!; k < gc.offsets[tl.vcpu + 1]!; k++)
        guest.push({ s: map.toHost(gc.start[k]!), e: map.toHost(gc.end[k]!), pid: gc.pid[k]! });
      const mine: { start: number; end: number; role: number }[] = [];
      for (let j = 0; j < tl.state.length; j++) {
        const s = tl.start[j]!;
        const e = tl.end[j]!;
        const cuts = [s, e];
        for (const x of guest) for (const c of [x.s, x.e]) if (c > s && c < e) cuts.push(c);
        const points = [...new Set(cuts)].sort((x, y) => x - y);
        for (let i = 0; i + 1 < points.length; i++) {
          const on = guest.find((x) => x.s <= points[i]! && x.e >= points[i + 1]!);
          const cs = Math.max(points[i]!, w.start);
          const ce = Math.min(points[i + 1]!, w.end);
          if (ce <= cs) continue;
          const st = tl.state[j]!;
          const stall = st === VcpuState.preempted || st === VcpuState.waiting;
          const run = st === VcpuState.running;
          const p = on !== undefined && prog.has(on.pid);
          mine.push({
            start: cs,
            end: ce,
            role: (stall || run ? 1 : 0) | (stall && p ? 2 : 0) | (run && p ? 4 : 0),
          });
        }
      }
      stretches.push(mine);
    }
    const times = [...new Set(stretches.flat().flatMap((x) => [x.start, x.end]))].sort(
      (x, y) => x - y,
    );
    const r: SweepTotals = {
      over: 0,
      overPeak: 0,
      spinWaste: 0,
      stragglerTime: 0,
      firstStraggle: Infinity,
      lastStraggle: -Infinity,
    };
    for (let i = 0; i + 1 < times.length; i++) {
      const [t, next] = [times[i]!, times[i + 1]!];
      let runnable = 0;
      let stalled = 0;
      let busy = 0;
      for (const mine of stretches) {
        const x = mine.find((y) => y.start <= t && y.end >= next)?.role ?? 0;
        runnable += x & 1;
        stalled += (x >> 1) & 1;
        busy += (x >> 2) & 1;
      }
      const d = next - t;
      if (runnable > a.host.cpuCount) {
        r.over += d;
        r.overPeak = Math.max(r.overPeak, runnable);
      }
      if (stalled > 0) {
        r.stragglerTime += d;
        r.firstStraggle = Math.min(r.firstStraggle, t);
        r.lastStraggle = Math.max(r.lastStraggle, next);
        r.spinWaste += busy * d;
      }
    }
    return r;
  }

  it('adds up the same pieces in the same order as a plain sweep, in chunks of any size', () => {
    const a = busyPair();
    const prog = new Set(a.program!.pids);
    expect([...prog]).toEqual([10, 11, 12]);
    const want = reference(a, prog);
    // The pair exercises every sum, with fractions.
    expect(want.over).toBeGreaterThan(0);
    expect(want.stragglerTime).toBeGreaterThan(0);
    expect(want.spinWaste).toBeGreaterThan(0);
    expect(Number.isInteger(want.stragglerTime)).toBe(false);
    expect(Number.isInteger(want.spinWaste)).toBe(false);
    for (const chunk of [2, 3, 5, 512]) expect(sweepPair(a, prog, chunk)).toEqual(want);
  });
});
