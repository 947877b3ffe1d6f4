// Findings on small hand-checked pairs: one host CPU, two vCPUs taking turns (always both
// runnable), and a two-thread guest program that either spins or blocks.
import { describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
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
