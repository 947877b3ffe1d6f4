// `vcpu-lens analyze` on the bundled real pair: the JSON schema, the numbers' consistency, and the
// stall attribution's basic truths (the OpenMP threads lose the most; vCPUs preempt each other).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import type { AnalyzeReport } from '../../src/core/report/analyze';

const PAIR = path.resolve(__dirname, '../fixtures/real/quiet-passive-local');

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await main(args, (s) => out.push(s));
  return { code, out: out.join('\n') };
}

describe('vcpu-lens analyze', () => {
  it('reports the vCPU map, clock map, vCPU time and stalls as vcpu-lens.analyze/1', async () => {
    const { code, out } = await run([
      'analyze',
      '--host',
      path.join(PAIR, 'host.txt.gz'),
      '--guest',
      path.join(PAIR, 'guest.txt.gz'),
      '--json',
    ]);
    expect(code).toBe(0);
    const r = JSON.parse(out) as AnalyzeReport;
    expect(r.schema).toBe('vcpu-lens.analyze/1');
    expect(r.unit).toBe('ns');
    expect(r.vcpus.map((v) => [v.vcpu, v.hostTid, v.hostComm])).toEqual([
      [0, 3315, 'CPU 0/TCG'],
      [1, 3316, 'CPU 1/TCG'],
      [2, 3317, 'CPU 2/TCG'],
      [3, 3318, 'CPU 3/TCG'],
    ]);
    expect(r.clock!.method).toBe('estimated');
    expect(r.clock!.agreement).toBeGreaterThan(0.99);
    const off = BigInt(r.clock!.hostRef) - BigInt(r.clock!.guestRef);
    // meta.json alignment: D between 4706668855861 and 4706668902540 ns over the run.
    expect(off > 4706668855861n - 20000n && off < 4706668902540n + 20000n).toBe(true);
    // TCG on a host traced with sched_switch: preemption is seen, halts told by guest idleness.
    expect(r.preemptionSeen).toBe(true);
    expect(r.vcpuStateBasis.join('\n')).toMatch(/sched_switch .* preempted/);
    expect(r.vcpuStateBasis.join('\n')).toMatch(/guest CPU's idle state/);
    const win = r.window!.duration;
    for (const v of r.vcpuTime) {
      const sum = v.running + v.preempted + v.waiting + v.idle + v.vmm + v.blocked + v.unknown;
      expect(Math.abs(sum - win)).toBeLessThan(win * 1e-9 + 2);
      expect(v.steal).toBe(v.preempted + v.waiting);
      expect(v.preemptions).toBeGreaterThan(1000);
    }
    // The four OpenMP threads lose the most; on 2 host CPUs, vCPUs mostly preempt each other.
    expect(r.stallsByThread.slice(0, 4).map((s) => s.comm)).toEqual(Array(4).fill('omp_barrier'));
    expect(
      r.preemptors
        .slice(0, 4)
        .map((p) => p.comm)
        .sort(),
    ).toEqual(['CPU 0/TCG', 'CPU 1/TCG', 'CPU 2/TCG', 'CPU 3/TCG']);
    expect(r.stalls.length).toBe(50);
    expect(r.stalls[0]!.duration).toBeGreaterThanOrEqual(r.stalls[49]!.duration);
  });

  it('prints a text report', async () => {
    const { code, out } = await run([
      'analyze',
      path.join(PAIR, 'host.txt.gz'),
      path.join(PAIR, 'guest.txt.gz'),
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/vCPU 3 = host thread 3318 'CPU 3\/TCG'/);
    expect(out).toMatch(
      /clock map \(estimated\): host - guest = 4706\.6688\d{5} s at guest \d+\.\d{9}, rate [\d.]+, ± [\d.]+ µs/,
    );
    expect(out).toMatch(/omp_barrier/);
  });

  it('takes an explicit vCPU map and offset', async () => {
    const { code, out } = await run([
      'analyze',
      '--host',
      path.join(PAIR, 'host.txt.gz'),
      '--guest',
      path.join(PAIR, 'guest.txt.gz'),
      '--vcpu-map',
      '0=3318,1=3317,2=3316,3=3315',
      '--offset',
      '4706668880000',
      '--json',
    ]);
    expect(code).toBe(0);
    const r = JSON.parse(out) as AnalyzeReport;
    expect(r.vcpus.map((v) => [v.vcpu, v.hostTid, v.method])).toEqual([
      [0, 3318, 'user'],
      [1, 3317, 'user'],
      [2, 3316, 'user'],
      [3, 3315, 'user'],
    ]);
    expect(r.clock!.method).toBe('user');
    expect(BigInt(r.clock!.hostRef) - BigInt(r.clock!.guestRef)).toBe(4706668880000n);
  });

  it.each([
    [['analyze', '--host', 'x'], /give --host FILE and --guest FILE/],
    [['analyze', 'a', 'b', '--vcpu-map', '0:1'], /--vcpu-map/],
    [['analyze', 'a', 'b', '--offset', '1.5'], /--offset wants a whole number/],
  ])('usage errors: %j', async (args) => {
    expect((await run(args)).code).toBe(2);
  });
});
