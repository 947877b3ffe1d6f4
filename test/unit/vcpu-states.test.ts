// vCPU states: preempted time equals an independent recount on the real traces, to the
// nanosecond; halted is never preempted; sleeps are told apart by guest idleness or HLT exits.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import { estimateClockMap } from '../../src/core/correlate/clock-map';
import { identifyVcpus } from '../../src/core/correlate/vcpu-map';
import { VcpuState, vcpuStates } from '../../src/core/correlate/vcpu-states';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { Kind } from '../../src/core/model/event-kinds';
import { switchAt } from '../../src/core/model/payload';
import type { Trace } from '../../src/core/model/trace';
import { buildTimelines } from '../../src/core/timeline/build';
import { REAL, realScenarios } from './support/fixtures';

const SCENARIOS = realScenarios();

/**
 * From the raw switches alone: every stretch of `tid` off CPU that began with a switch-out in
 * state R or R+, and its end when a switch back in ends it (undefined when the thread reappears
 * with no switch to it, a switch the trace lacks; the trace's end for the last open one).
 */
function recountPreempted(host: Trace, tid: number): { start: number; end: number | undefined }[] {
  const out: { start: number; end: number | undefined }[] = [];
  let open: { start: number; end: number | undefined } | undefined;
  let last = 0;
  for (let i = 0; i < host.events.length; i++) {
    const t = host.events.ts(i);
    last = t;
    const isSwitch = host.eventTypes[host.events.type(i)]!.kind === Kind.schedSwitch;
    const sw = isSwitch ? switchAt(host, i) : undefined;
    if (open !== undefined) {
      if (sw !== undefined && host.tasks.pid(sw.next) === tid) {
        open.end = t;
        open = undefined;
      } else if (host.tasks.pid(host.events.task(i)) === tid) {
        open = undefined; // on a CPU again, with no switch-in recorded
      }
    }
    if (sw !== undefined && host.tasks.pid(sw.prev) === tid && sw.prevState.startsWith('R')) {
      open = { start: t, end: undefined };
      out.push(open);
    }
  }
  if (open !== undefined) open.end = last;
  return out;
}

describe('real pairs', () => {
  it.each(SCENARIOS)(
    '%s: preempted time per vCPU equals a recount from the raw switches',
    async (sc) => {
      const host = (await readTraceFile(path.join(REAL, sc, 'host.txt.gz'))).traces[0]!;
      const guest = (await readTraceFile(path.join(REAL, sc, 'guest.txt.gz'))).traces[0]!;
      const vm = identifyVcpus(host, { guestCpus: guest.cpuCount }).chosen!;
      const hostTl = buildTimelines(host);
      const guestTl = buildTimelines(guest);
      const clock = estimateClockMap(host, hostTl, guest, vm.vcpus)!;
      const r = vcpuStates(host, hostTl, vm.vcpus, { trace: guest, timelines: guestTl, clock });
      expect(r.sleepSource).toBe('guest-idle');
      for (const [n, v] of r.time.entries()) {
        const want = recountPreempted(host, v.hostTid);
        const tl = r.timelines[n]!;
        const ours = [...tl.state.keys()].filter((j) => tl.state[j] === VcpuState.preempted);
        // One preempted interval per R/R+ switch-out, starting on it; where the switch back in was
        // recorded, ending on it to the nanosecond; where it was not, ending at the last moment
        // the thread is known to have been off CPU, followed by an unknown gap.
        expect(ours.length).toBe(want.length);
        let unseen = 0;
        for (const [q, j] of ours.entries()) {
          expect(tl.start[j]).toBe(want[q]!.start);
          if (want[q]!.end !== undefined) expect(tl.end[j]).toBe(want[q]!.end);
          else {
            unseen++;
            expect(tl.state[j + 1]).toBe(VcpuState.unknown);
          }
        }
        expect(unseen).toBeLessThan(want.length * 0.05);
        const known = want
          .filter((w) => w.end !== undefined)
          .reduce((s, w) => s + w.end! - w.start, 0);
        const rest = ours
          .filter((_, q) => want[q]!.end === undefined)
          .reduce((s, j) => s + tl.end[j]! - tl.start[j]!, 0);
        expect(v.preempted).toBe(known + rest);
        expect(v.preemptions).toBe(want.length);
        expect(v.steal).toBe(v.preempted + v.waiting);
        expect(v.preemptions).toBeGreaterThan(100);
        // While the guest trace ran, some sleeps were idle (halted) and some were not (QEMU: BQL, I/O).
        expect(v.halted).toBeGreaterThan(0);
        expect(v.vmm).toBeGreaterThan(0);
      }
    },
  );
});

describe('a real pair analysed whole', () => {
  it('keeps the host intervals of the vCPU threads and every preemptor, and the states are views of them', async () => {
    const sc = SCENARIOS[0]!;
    const host = (await readTraceFile(path.join(REAL, sc, 'host.dat'))).traces[0]!;
    const guest = (await readTraceFile(path.join(REAL, sc, 'guest.dat'))).traces[0]!;
    const full = buildTimelines(host).tasks;
    const a = analyzePair(host, guest);
    const t = a.hostTimelines.tasks;
    const count = (tl: typeof t, pid: number): number => {
      const k = tl.indexOf.get(pid)!;
      return tl.offsets[k + 1]! - tl.offsets[k]!;
    };
    const preemptors = new Set<number>();
    for (let i = 0; i < a.stalls!.stalls.length; i++) {
      const p = a.stalls!.stalls.preemptorPid[i]!;
      if (p >= 0) preemptors.add(p);
    }
    expect(preemptors.size).toBeGreaterThan(0);
    const kept = [...a.vcpuMap.chosen!.vcpus.map((v) => v.hostTid), ...preemptors];
    for (const pid of kept) expect(count(t, pid)).toBe(count(full, pid));
    // The others are dropped (totals stay).
    const dropped = [...t.indexOf.keys()].filter((pid) => !kept.includes(pid));
    expect(dropped.length).toBeGreaterThan(0);
    for (const pid of dropped) expect(count(t, pid)).toBe(0);
    expect(t.totals).toEqual(full.totals);
    // TCG: no kvm events, so each vCPU's states share the host thread's columns.
    for (const tl of a.states!.timelines) {
      expect(tl.start.buffer).toBe(t.start.buffer);
      expect(tl.end.buffer).toBe(t.end.buffer);
      const k = t.indexOf.get(tl.hostTid)!;
      expect(tl.start.byteOffset / 8).toBe(t.offsets[k]);
      expect(tl.state.length).toBe(count(t, tl.hostTid));
    }
  });
});

const L = (comm: string, tid: number, cpu: number, us: number, rest: string): string =>
  `${`${comm}-${tid}`.padStart(16)}  [00${cpu}]  ${(100 + us / 1e6).toFixed(6)}: ${rest}\n`;

describe('hand-made KVM host', () => {
  // vCPU 0 (tid 50): runs, HLT exit, sleeps (halted), woken, waits, runs, preempted by a hog,
  // runs, sleeps without HLT (VMM), and the trace ends.
  const host = importFtraceText(
    'cpus=1\n' +
      L('CPU 0/KVM', 50, 0, 0, 'kvm_entry:            vcpu 0, rip 0xffffffff81000000') +
      L(
        'CPU 0/KVM',
        50,
        0,
        10,
        'kvm_exit:             vcpu 0 reason HLT rip 0xffffffff81000000 info1 0x0 info2 0x0',
      ) +
      L(
        'CPU 0/KVM',
        50,
        0,
        12,
        'sched_switch:         CPU 0/KVM:50 [120] S ==> swapper/0:0 [120]',
      ) +
      L('<idle>', 0, 0, 100, 'sched_wakeup:         CPU 0/KVM:50 [120] CPU:000') +
      L('<idle>', 0, 0, 102, 'sched_switch:         swapper/0:0 [120] R ==> hog:60 [120]') +
      L('hog', 60, 0, 130, 'sched_switch:         hog:60 [120] R ==> CPU 0/KVM:50 [120]') +
      L('CPU 0/KVM', 50, 0, 131, 'kvm_entry:            vcpu 0, rip 0xffffffff81000000') +
      L('CPU 0/KVM', 50, 0, 150, 'sched_switch:         CPU 0/KVM:50 [120] R+ ==> hog:60 [120]') +
      L('hog', 60, 0, 400, 'sched_switch:         hog:60 [120] R ==> CPU 0/KVM:50 [120]') +
      L('CPU 0/KVM', 50, 0, 401, 'kvm_entry:            vcpu 0, rip 0xffffffff81000000') +
      L(
        'CPU 0/KVM',
        50,
        0,
        420,
        'kvm_exit:             vcpu 0 reason IO_INSTRUCTION rip 0xffffffff81000000 info1 0x0 info2 0x0',
      ) +
      L(
        'CPU 0/KVM',
        50,
        0,
        421,
        'sched_switch:         CPU 0/KVM:50 [120] D ==> swapper/0:0 [120]',
      ) +
      L('<idle>', 0, 0, 600, 'sched_waking:         comm=hog pid=60 prio=120 target_cpu=000'),
    { name: 'host' },
  )[0]!;

  it('splits the time into running (guest mode), VMM, halted, waiting and preempted', () => {
    const vm = identifyVcpus(host).chosen!;
    const r = vcpuStates(host, buildTimelines(host), vm.vcpus);
    expect(r.sleepSource).toBe('kvm-hlt');
    const tl = r.timelines[0]!;
    const seq = [...tl.state].map(
      (s, j) =>
        `${Object.keys(VcpuState)[s]} ${(tl.start[j]! / 1000).toFixed(0)}-${(tl.end[j]! / 1000).toFixed(0)}`,
    );
    expect(seq).toEqual([
      'running 0-10', // kvm_entry at 0 .. kvm_exit (HLT) at 10
      'halted 10-12', // halted from the HLT exit on (halt polling, then the sleep)
      'halted 12-100', // asleep after a HLT exit
      'waiting 100-130', // woken, no host CPU
      'halted 130-131', // switched in, still halted until the entry at 131
      'running 131-150',
      'preempted 150-400', // R+: the hog ran
      'vmm 400-401', // switched in out of guest mode (no exit traced: not a halt)
      'running 401-420',
      'vmm 420-421', // IO exit, handled in the VMM
      'vmm 421-600', // then asleep, and the last exit was not HLT
    ]);
    const t = r.time[0]!;
    expect([t.running, t.halted, t.waiting, t.preempted, t.vmm, t.steal, t.preemptions]).toEqual([
      48_000, 91_000, 30_000, 250_000, 181_000, 280_000, 1,
    ]);
    expect(r.schedulingSeen).toBe(true);
  });

  it('a halted vCPU is never counted as preempted', () => {
    const vm = identifyVcpus(host).chosen!;
    const t = vcpuStates(host, buildTimelines(host), vm.vcpus).time[0]!;
    expect(t.preempted).toBe(250_000); // only the R+ stretch, not the 88 µs halted after HLT
  });

  it('without guest or HLT evidence, sleeps are only "blocked"', () => {
    const plain = importFtraceText(
      'cpus=1\n' +
        L(
          'CPU 0/TCG',
          50,
          0,
          0,
          'sched_switch:         CPU 0/TCG:50 [120] S ==> swapper/0:0 [120]',
        ) +
        L('<idle>', 0, 0, 100, 'sched_switch:         swapper/0:0 [120] R ==> CPU 0/TCG:50 [120]'),
      { name: 'host' },
    )[0]!;
    const vm = identifyVcpus(plain).chosen!;
    const r = vcpuStates(plain, buildTimelines(plain), vm.vcpus);
    expect(r.sleepSource).toBe('none');
    expect(r.time[0]!.blocked).toBe(100_000);
    expect(r.time[0]!.halted + r.time[0]!.vmm).toBe(0);
  });
});

describe('KVM host with only kvm_entry / kvm_exit (no sched_switch)', () => {
  // As HIP24's host (trace-cmd record -e kvm_entry -e kvm_exit): the thread is on CPU all along
  // as far as the trace shows; the exits alone say what the vCPU did.
  const kvmOnly = (exit2: string): Trace =>
    importFtraceText(
      'cpus=2\n' +
        L('qemu-system-x86', 70, 0, 0, 'kvm_entry:            vcpu 0, rip 0xffffffff81000000') +
        L(
          'qemu-system-x86',
          70,
          0,
          10,
          `kvm_exit:             vcpu 0 reason ${exit2} rip 0x1 info1 0x0 info2 0x0`,
        ) +
        L('qemu-system-x86', 70, 1, 500, 'kvm_entry:            vcpu 0, rip 0xffffffff81000000') +
        L(
          'qemu-system-x86',
          70,
          1,
          520,
          'kvm_exit:             vcpu 0 reason APIC_WRITE rip 0x1 info1 0x0 info2 0x0',
        ) +
        // Unpaired: a second exit with no entry between, then the entry.
        L(
          'qemu-system-x86',
          70,
          1,
          530,
          'kvm_exit:             vcpu 0 reason HLT rip 0x1 info1 0x0 info2 0x0',
        ) +
        L('qemu-system-x86', 70, 1, 900, 'kvm_entry:            vcpu 0, rip 0xffffffff81000000') +
        L('qemu-system-x86', 70, 1, 1000, 'kvm_entry:            vcpu 0, rip 0xffffffff81000000'),
      { name: 'host' },
    )[0]!;

  it.each(['HLT', 'hlt', '0xc', '0x78'])(
    'after a %s exit the vCPU is halted until its next kvm_entry, on CPU or not',
    (reason) => {
      const host = kvmOnly(reason);
      const vm = identifyVcpus(host).chosen!;
      const r = vcpuStates(host, buildTimelines(host), vm.vcpus);
      const t = r.time[0]!;
      expect(t.running).toBe(10_000 + 20_000 + 100_000); // 0-10, 500-520, 900-1000 (two entries)
      expect(t.halted).toBe(490_000 + 370_000); // 10-500 and, after the unpaired HLT exit, 530-900
      expect(t.vmm).toBe(10_000); // 520-530: APIC_WRITE, handled by KVM
      expect(t.preempted + t.waiting + t.blocked + t.unknown).toBe(0);
    },
  );

  it('says that preemption cannot be seen, and what the states rest on', () => {
    const host = kvmOnly('HLT');
    const vm = identifyVcpus(host).chosen!;
    const r = vcpuStates(host, buildTimelines(host), vm.vcpus);
    expect(r.schedulingSeen).toBe(false);
    expect(r.sleepSource).toBe('kvm-hlt');
    expect(r.basis.join('\n')).toMatch(/no sched_switch.*preemption.*cannot be seen/);
    expect(r.basis.join('\n')).toMatch(/4 entries, 3 exits, 2 of them HLT/);
  });

  it('any other exit reason is VMM work, not a halt', () => {
    const host = kvmOnly('IO_INSTRUCTION');
    const vm = identifyVcpus(host).chosen!;
    const t = vcpuStates(host, buildTimelines(host), vm.vcpus).time[0]!;
    expect(t.vmm).toBe(490_000 + 10_000);
    expect(t.halted).toBe(370_000);
  });
});
