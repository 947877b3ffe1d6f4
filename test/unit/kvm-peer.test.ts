// The one real KVM host + guest pair we have (HIP24/Masterarbeit, ../shared/fixtures/peer): a
// Linux 6.5 host recorded with only kvm_entry / kvm_exit and `-C tsc2nsec`, a 1-vCPU Linux 5.15
// guest with TIME_SHIFT. The expected numbers are recounted from the events `vcpu-lens dump`
// prints (the ticks converted as trace-cmd report converts them, timestamps equal to trace-cmd
// 3.3.3's), not from the analysis: time after HLT exits, time in the guest, the span in ns.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { analyzePair } from '../../src/core/analyze/pair';
import { VcpuState } from '../../src/core/correlate/vcpu-states';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import type { AnalyzeReport } from '../../src/core/report/analyze';
import { missing, PEER } from './support/fixtures';

const DIR = path.join(PEER, 'HIP24__Masterarbeit');
const HOST = path.join(DIR, 'documentation__trace-cmd__analysis__test__trace.dat');
const GUEST = path.join(DIR, 'documentation__trace-cmd__analysis__test__trace-Salamander4.dat');
const why = missing(DIR, '../shared/fixtures/peer/HIP24__Masterarbeit');

async function run(args: string[]): Promise<string> {
  const out: string[] = [];
  const push = (s: string): void => void out.push(s);
  const code = await main(args, push, push);
  expect(code).toBe(0);
  return out.join('');
}

interface Dumped {
  pid: number;
  /** Microseconds, as printed. */
  us: number;
  event: string;
  fields: string;
}

/** The events of `vcpu-lens dump` (trace-cmd report's layout): `comm-pid [cpu] sec.usec: name: fields`. */
function parseDump(text: string): Dumped[] {
  const out: Dumped[] = [];
  const re = /-(\d+)\s+\[\d+\]\s+(\d+)\.(\d{6}): (\w+):\s+(.*)$/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m === null) continue;
    out.push({
      pid: Number(m[1]),
      us: Number(m[2]) * 1e6 + Number(m[3]),
      event: m[4]!,
      fields: m[5]!,
    });
  }
  return out;
}

/** Time (µs) a thread spent from each event matching `from` to the next matching `to`, inside [w0, w1]. */
function gaps(
  ev: Dumped[],
  pid: number,
  from: (e: Dumped) => boolean,
  to: (e: Dumped) => boolean,
  w0: number,
  w1: number,
): number {
  let sum = 0;
  let open: number | undefined;
  for (const e of ev) {
    if (e.pid !== pid || !e.event.startsWith('kvm_')) continue;
    if (open !== undefined && to(e)) {
      sum += Math.max(0, Math.min(e.us, w1) - Math.max(open, w0));
      open = undefined;
    }
    if (from(e)) open = e.us;
  }
  return sum;
}

/** The guest's events fall in the chosen VM's guest-mode time, hardly ever in the other's. */
function expectActivityPicks(mapWhy: string): void {
  const m = /guest-mode time .*the chosen [^:]*: ([\d.]+)%/.exec(mapWhy);
  const o = /QEMU tids 453724-453725: ([\d.]+)%/.exec(mapWhy);
  expect(m, mapWhy).not.toBeNull();
  expect(Number(m![1])).toBeGreaterThan(95);
  expect(Number(o![1])).toBeLessThan(5);
}

describe('the HIP24 KVM pair (real host kvm_entry/kvm_exit, tsc2nsec, TIME_SHIFT guest)', () => {
  it.skipIf(why)(
    `analyze --json: ns throughout, vCPU 0 idle after its HLT exits, the guest's own program${why ?? ''}`,
    async () => {
      const r = JSON.parse(
        await run(['analyze', '--host', HOST, '--guest', GUEST, '--json']),
      ) as AnalyzeReport;
      const host = parseDump(await run(['dump', HOST]));
      expect(host.length).toBe(11721);

      // One time base: the span is the ns trace-cmd prints, not TSC counts (2.92x as many).
      const spanUs = host[host.length - 1]!.us - host[0]!.us;
      expect(r.unit).toBe('ns');
      expect(Math.abs(r.host.span / 1000 - spanUs)).toBeLessThanOrEqual(1);
      expect(r.clock?.method).toBe('trace-cmd');
      expect(r.clock?.unit).toBe('ns');

      // The GUEST option's thread (named qemu-system-x86), and why not the other VM.
      expect(r.vcpus.map((v) => [v.vcpu, v.hostTid])).toEqual([[0, 483882]]);
      const mapWhy = r.vcpuMapReasoning.join('\n');
      expect(mapWhy).toMatch(/enters the guest as vcpu 0/);
      expect(mapWhy).toMatch(/also holds .*'CPU 0\/KVM', 'CPU 1\/KVM'.*not the guest's/);
      expectActivityPicks(mapWhy);

      // Recount from the dumped events, inside the window the totals cover.
      const us = (s: string): number => {
        const [sec, frac] = s.split('.') as [string, string];
        return Number(sec) * 1e6 + Number(frac.slice(0, 6)) + Number(`0.${frac.slice(6)}`);
      };
      const w0 = us(r.window!.start);
      const w1 = us(r.window!.end);
      const isExit = (e: Dumped): boolean => e.event === 'kvm_exit';
      const isHlt = (e: Dumped): boolean => isExit(e) && /(^|\s)reason HLT\s/.test(e.fields);
      const isEntry = (e: Dumped): boolean => e.event === 'kvm_entry';
      const haltedUs = gaps(host, 483882, isHlt, isEntry, w0, w1);
      const guestUs = gaps(host, 483882, isEntry, isExit, w0, w1);
      expect(haltedUs).toBeGreaterThan(1e6); // most of the ~1.87 s window
      const v = r.vcpuTime[0]!;
      expect(Math.abs(v.idle / 1000 - haltedUs)).toBeLessThan(0.05 * haltedUs);
      expect(Math.abs(v.running / 1000 - guestUs)).toBeLessThan(0.1 * guestUs);
      expect(v.vmm).toBeLessThan(0.01 * r.window!.duration);
      // Over the whole host trace, what trace-cmd 3.3.3's report adds up to: 2.167 s halted,
      // 0.0825 s in the guest.
      const allHaltedUs = gaps(host, 483882, isHlt, isEntry, -Infinity, Infinity);
      const allGuestUs = gaps(host, 483882, isEntry, isExit, -Infinity, Infinity);
      expect(allHaltedUs / 1e6).toBeCloseTo(2.167, 2);
      const whole = r.vcpuTimeWholeHost[0]!;
      expect(Math.abs(whole.idle / 1000 - allHaltedUs)).toBeLessThan(0.05 * allHaltedUs);
      expect(Math.abs(whole.running / 1000 - allGuestUs)).toBeLessThan(0.1 * allGuestUs);
      // Nothing shows the host scheduling the thread: said, in the JSON and the text.
      expect(r.preemptionSeen).toBe(false);
      expect(r.vcpuStateBasis.join('\n')).toMatch(/no sched_switch.*cannot be seen/);
      expect(r.vcpuStateBasis.join('\n')).toMatch(/HLT exit to the next entry/);

      // The advice is about the guest's program, not the tracer or a kernel thread.
      expect(r.program).not.toBeNull();
      expect(r.program!.comm).not.toMatch(/^(trace-cmd|perf)$|\//);
      expect(r.program!.pids).not.toContain(510);
      expect(r.program!.pids).not.toContain(512);
      expect(r.program!.pids).toContain(413); // LRT-Main, the busiest guest thread
      expect(r.advice?.reasoning[0]).toMatch(new RegExp(`^${r.program!.comm} ran`));
      expect(r.advice?.reasoning.join('\n')).toMatch(/no preemption can be seen/);

      const text = await run(['analyze', '--host', HOST, '--guest', GUEST]);
      expect(text).toMatch(/no sched_switch: the vCPU threads. preemption/);
    },
  );

  it.skipIf(why)(
    `over the whole host trace, vCPU 0's timeline is idle for trace-cmd's 2.167 s after HLT exits${why ?? ''}`,
    async () => {
      const host = (await readTraceFile(HOST)).traces[0]!;
      const guest = (await readTraceFile(GUEST)).traces[0]!;
      const a = analyzePair(host, guest);
      const tl = a.states!.timelines[0]!;
      const total = new Float64Array(8);
      for (let j = 0; j < tl.state.length; j++) total[tl.state[j]!]! += tl.end[j]! - tl.start[j]!;
      const dumped = parseDump(await run(['dump', HOST]));
      const isExit = (e: Dumped): boolean => e.event === 'kvm_exit';
      const isHlt = (e: Dumped): boolean => isExit(e) && /(^|\s)reason HLT\s/.test(e.fields);
      const isEntry = (e: Dumped): boolean => e.event === 'kvm_entry';
      const haltedUs = gaps(dumped, 483882, isHlt, isEntry, -Infinity, Infinity);
      const guestUs = gaps(dumped, 483882, isEntry, isExit, -Infinity, Infinity);
      expect(haltedUs / 1e6).toBeCloseTo(2.167, 2); // what trace-cmd 3.3.3's report adds up to
      expect(guestUs / 1e6).toBeCloseTo(0.0825, 3);
      expect(Math.abs(total[VcpuState.halted]! / 1000 - haltedUs)).toBeLessThan(0.05 * haltedUs);
      expect(Math.abs(total[VcpuState.running]! / 1000 - guestUs)).toBeLessThan(0.1 * guestUs);
    },
  );

  it.skipIf(why)(
    `the guest in ns, mapped by its TIME_SHIFT, lands where trace-cmd prints it in host time${why ?? ''}`,
    async () => {
      const r = JSON.parse(
        await run(['analyze', '--host', HOST, '--guest', GUEST, '--json']),
      ) as AnalyzeReport;
      const printed = parseDump(await run(['dump', GUEST]));
      const g = (await readTraceFile(GUEST)).traces[0]!;
      expect(g.clock.unit).toBe('ns');
      expect(printed.length).toBe(g.events.length);
      const c = r.clock!;
      expect(c.slope).toBe(1); // both TIME_SHIFT samples hold one offset
      const offset = BigInt(c.hostRef) - BigInt(c.guestRef);
      for (let i = 0; i < g.events.length; i += 89) {
        const hostNs = g.tsBase + BigInt(g.events.ts(i)) + offset;
        // Printed: the µs trace-cmd rounds to; ours: within a ns of the ns it rounds.
        expect(Math.abs(Number(hostNs) / 1000 - printed[i]!.us), `event ${i}`).toBeLessThanOrEqual(
          0.502,
        );
      }
    },
  );

  it.skipIf(why)(
    `as trace-cmd report text (no GUEST option): the VM is picked by vCPU count and activity${why ?? ''}`,
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'vl-hip24-'));
      try {
        const text = path.join(dir, 'host.txt');
        writeFileSync(text, await run(['dump', HOST]));
        const r = JSON.parse(
          await run(['analyze', '--host', text, '--guest', GUEST, '--json']),
        ) as AnalyzeReport;
        expect(r.vcpus.map((v) => [v.vcpu, v.hostTid, v.method])).toEqual([
          [0, 483882, 'kvm-vcpu-id'],
        ]);
        const mapWhy = r.vcpuMapReasoning.join('\n');
        expect(mapWhy).toMatch(/the only one with 1 vCPUs/);
        expectActivityPicks(mapWhy);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
