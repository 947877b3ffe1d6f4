// vCPU identification from activity: every real host trace with every QEMU thread renamed
// `qemu-system-x86` (QEMU without debug-threads=on) must still give meta.json's vCPU threads.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import { identifyVcpus } from '../../src/core/correlate/vcpu-map';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { REAL, realScenarios } from './support/fixtures';

const SCENARIOS = realScenarios();

describe('activity inference on renamed QEMU threads', () => {
  it.each(SCENARIOS)('%s', async (sc) => {
    const meta = JSON.parse(readFileSync(path.join(REAL, sc, 'meta.json'), 'utf8')) as {
      qemu: { vcpu_threads: Record<string, string>; all_threads: Record<string, string> };
      alignment: { D_pre: { intersection_lo: number; intersection_hi: number } };
    };
    let text = gunzipSync(readFileSync(path.join(REAL, sc, 'host.txt.gz'))).toString('utf8');
    // Every spelling of the names: line owners, trace-cmd's comm:pid, tracefs's comm=.
    text = text.replace(/CPU \d+\/TCG/g, 'qemu-system-x86');
    expect(text).not.toMatch(/\/TCG/);
    const host = importFtraceText(text, { name: 'host' })[0]!;
    const guest = (await readTraceFile(path.join(REAL, sc, 'guest.txt.gz'))).traces[0]!;
    expect(identifyVcpus(host, { guestCpus: guest.cpuCount }).chosen).toBeUndefined();
    const a = analyzePair(host, guest);
    const vm = a.vcpuMap.chosen!;
    expect(vm.vcpus.every((v) => v.method === 'activity')).toBe(true);
    expect(
      Object.fromEntries(vm.vcpus.map((v) => [String(v.hostTid), `CPU ${v.vcpu}/TCG`])),
    ).toEqual(meta.qemu.vcpu_threads);
    for (const v of vm.vcpus) expect(v.confidence).toBeGreaterThan(0.2);
    // And the clock estimated with that map still lands in the measured window (at the run's start).
    expect(a.clock!.agreement).toBeGreaterThan(0.99);
  });
});
