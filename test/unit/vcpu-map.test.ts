// vCPU identification: on the real fixtures against meta.json, and on small hand-made KVM,
// Firecracker, Cloud Hypervisor and two-VM traces.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { identifyVcpus, parseVcpuMapFlag } from '../../src/core/correlate/vcpu-map';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import type { Trace } from '../../src/core/model/trace';
import { REAL, realScenarios } from './support/fixtures';

const SCENARIOS = realScenarios();

function one(text: string): Trace {
  const [t] = importFtraceText(text, { name: 'host' });
  expect(t!.diagnostics).toEqual([]);
  return t!;
}

describe('real fixtures', () => {
  it.each(SCENARIOS)('%s: the vCPU threads are meta.json qemu.vcpu_threads', async (sc) => {
    const meta = JSON.parse(readFileSync(path.join(REAL, sc, 'meta.json'), 'utf8')) as {
      qemu: { vcpu_threads: Record<string, string> };
    };
    const host = (await readTraceFile(path.join(REAL, sc, 'host.txt.gz'))).traces[0]!;
    const guest = (await readTraceFile(path.join(REAL, sc, 'guest.txt.gz'))).traces[0]!;
    const r = identifyVcpus(host, { guestCpus: guest.cpuCount });
    expect(r.chosen).toBeDefined();
    const got = Object.fromEntries(r.chosen!.vcpus.map((v) => [String(v.hostTid), v.hostComm]));
    expect(got).toEqual(meta.qemu.vcpu_threads);
    for (const v of r.chosen!.vcpus) {
      expect(v.hostComm).toBe(`CPU ${v.vcpu}/TCG`);
      expect(v.method).toBe('thread-name');
    }
    expect(r.chosen!.vmm).toBe('QEMU');
  });
});

const line = (
  comm: string,
  tid: number,
  cpu: number,
  us: number,
  rest: string,
  tgid?: number,
): string =>
  `${`${comm}-${tid}`.padStart(22)} ${tgid !== undefined ? `(${String(tgid).padStart(7)}) ` : ''}[00${cpu}] d..2. ${(100 + us / 1e6).toFixed(6)}: ${rest}\n`;

describe('hand-made host traces', () => {
  it('kvm_entry vcpu_id beats a misleading thread name', () => {
    const t = one(
      '# tracer: nop\n' +
        line('CPU 0/KVM', 501, 0, 1, 'kvm_entry: vcpu 1, rip 0xffffffff81000000') +
        line(
          'CPU 0/KVM',
          501,
          0,
          2,
          'kvm_exit: vcpu 1 reason HLT rip 0xffffffff81000000 info1 0x0 info2 0x0',
        ) +
        line('CPU 1/KVM', 502, 1, 3, 'kvm_entry: vcpu 0, rip 0xffffffff81000000'),
    );
    const r = identifyVcpus(t);
    expect(r.chosen!.vcpus.map((v) => [v.vcpu, v.hostTid, v.method, v.confidence])).toEqual([
      [0, 502, 'kvm-vcpu-id', 1],
      [1, 501, 'kvm-vcpu-id', 1],
    ]);
    expect(r.chosen!.vmm).toBe('QEMU');
    expect(r.chosen!.vcpus[1]!.evidence).toMatch(/2 kvm_entry\/kvm_exit events with vcpu_id 1/);
  });

  it.each([
    ['Firecracker', ['fc_vcpu 0', 'fc_vcpu 1']],
    ['Cloud Hypervisor', ['vcpu0', 'vcpu1']],
    ['crosvm', ['crosvm_vcpu0', 'crosvm_vcpu1']],
    ['kvmtool', ['kvm-vcpu-0', 'kvm-vcpu-1']],
  ])('%s thread names', (vmm, names) => {
    const t = one(
      names
        .map((n, k) =>
          line(
            n,
            700 + k,
            k,
            k,
            `sched_switch: prev_comm=${n} prev_pid=${700 + k} prev_prio=120 prev_state=S ==> next_comm=swapper/${k} next_pid=0 next_prio=120`,
          ),
        )
        .join(''),
    );
    const r = identifyVcpus(t);
    expect(r.chosen!.vmm).toBe(vmm);
    expect(r.chosen!.vcpus.map((v) => [v.vcpu, v.hostTid])).toEqual([
      [0, 700],
      [1, 701],
    ]);
  });

  it('two VMs told apart by thread group, the guest picked by its CPU count', () => {
    const names = (tgid: number, base: number, n: number, us: number): string =>
      [...Array(n).keys()]
        .map((k) =>
          line(
            `CPU ${k}/KVM`,
            base + k,
            k % 2,
            us + k,
            'sched_waking: comm=x pid=1 prio=120 target_cpu=000',
            tgid,
          ),
        )
        .join('');
    const t = one('# tracer: nop\n' + names(900, 910, 2, 10) + names(800, 810, 4, 20));
    const r = identifyVcpus(t, { guestCpus: 4 });
    expect(r.vms.map((v) => [v.key, v.vcpus.length])).toEqual([
      ['tgid 800', 4],
      ['tgid 900', 2],
    ]);
    expect(r.chosen!.key).toBe('tgid 800');
    expect(r.chosen!.vcpus.map((v) => v.hostTid)).toEqual([810, 811, 812, 813]);
    expect(identifyVcpus(t, { guestCpus: 3 }).chosen).toBeUndefined();
  });

  it('two VMs without thread groups are split where a vCPU number repeats', () => {
    const t = one(
      ['CPU 0/KVM', 'CPU 1/KVM', 'CPU 0/KVM', 'CPU 1/KVM', 'CPU 2/KVM']
        .map((n, k) => line(n, 300 + k, 0, k, 'sched_waking: comm=x pid=1 prio=120 target_cpu=000'))
        .join(''),
    );
    const r = identifyVcpus(t, { guestCpus: 3 });
    expect(r.vms.map((v) => v.key)).toEqual(['tids 302-304', 'tids 300-301']);
    expect(r.chosen!.key).toBe('tids 302-304');
    expect(r.reasoning.join('\n')).toMatch(/thread-id proximity/);
  });

  it('names that say nothing: no VM, and the advice to give --vcpu-map', () => {
    const t = one(
      line('qemu-system-x86', 3315, 0, 1, 'sched_waking: comm=x pid=1 prio=120 target_cpu=000'),
    );
    const r = identifyVcpus(t, { guestCpus: 4 });
    expect(r.vms).toEqual([]);
    expect(r.chosen).toBeUndefined();
    expect(r.reasoning.join('\n')).toMatch(/--vcpu-map/);
  });

  it('an explicit map wins and notes threads absent from the trace', () => {
    const t = one(
      line('CPU 0/TCG', 3315, 0, 1, 'sched_waking: comm=x pid=1 prio=120 target_cpu=000'),
    );
    const r = identifyVcpus(t, { explicit: parseVcpuMapFlag('1=9999,0=3315') });
    expect(r.chosen!.vcpus.map((v) => [v.vcpu, v.hostTid, v.hostComm, v.method])).toEqual([
      [0, 3315, 'CPU 0/TCG', 'user'],
      [1, 9999, '?', 'user'],
    ]);
    expect(r.reasoning.join('\n')).toMatch(/9999 .*never appear/);
  });
});

describe('parseVcpuMapFlag', () => {
  it('reads VCPU=TID pairs', () => {
    expect([...parseVcpuMapFlag(' 0=3315, 1=3316 ,')]).toEqual([
      [0, 3315],
      [1, 3316],
    ]);
  });
  it.each([
    ['0:3315', /not VCPU=HOSTTID/],
    ['0=1,0=2', /vCPU 0 is given twice/],
    ['0=1,1=1', /host thread 1 is given for two vCPUs/],
    ['', /empty/],
  ])('rejects %j', (text, msg) => {
    expect(() => parseVcpuMapFlag(text)).toThrow(msg);
  });
});
