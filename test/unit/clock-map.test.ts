// Clock alignment estimated with nothing recorded: on every real pair, with the sync pings left
// out, host - guest at the first and last ping must fall in the measured windows (meta.json
// alignment.D_pre / D_post, 20 µs tolerance) and the bound must reach the window. Plus small
// hand-made cases with a known offset and drift.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  estimateClockMap,
  offsetAt,
  pairedClockMap,
  recordedClockMap,
  toHost,
} from '../../src/core/correlate/clock-map';
import { identifyVcpus } from '../../src/core/correlate/vcpu-map';
import { mulberry32 } from '../../src/core/sim/rng';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { Kind } from '../../src/core/model/event-kinds';
import { markerAt } from '../../src/core/model/payload';
import type { Trace } from '../../src/core/model/trace';
import { buildTimelines } from '../../src/core/timeline/build';
import { REAL, realScenarios } from './support/fixtures';

const SCENARIOS = realScenarios();

interface Window {
  intersection_lo: number;
  intersection_hi: number;
}

describe('estimated clock map on the real pairs', () => {
  it.each(SCENARIOS)('%s: inside the measured windows at the first and last ping', async (sc) => {
    const meta = JSON.parse(readFileSync(path.join(REAL, sc, 'meta.json'), 'utf8')) as {
      clocks: { timestamp_units: { host: string } };
      alignment: { D_pre: Window; D_post: Window };
    };
    const host = (await readTraceFile(path.join(REAL, sc, 'host.txt.gz'))).traces[0]!;
    const guest = (await readTraceFile(path.join(REAL, sc, 'guest.txt.gz'))).traces[0]!;
    const isPing = (i: number): boolean =>
      guest.eventTypes[guest.events.type(i)]!.kind === Kind.print &&
      markerAt(guest, i).message.startsWith('syncping');
    // The host's sync writes are syscall events: the estimate never reads them, and we check so.
    const hostKinds = new Set(host.eventTypes.map((t) => t.kind));
    expect(hostKinds.has(Kind.sysEnter)).toBe(true);
    const vms = identifyVcpus(host, { guestCpus: guest.cpuCount });
    const why: string[] = [];
    const m = estimateClockMap(
      host,
      buildTimelines(host),
      guest,
      vms.chosen!.vcpus,
      { skipGuestEvent: isPing },
      why,
    );
    expect(why).toEqual([]);
    expect(m!.agreement).toBeGreaterThan(0.99);
    const pings: bigint[] = [];
    for (let i = 0; i < guest.events.length; i++)
      if (isPing(i)) pings.push(guest.tsBase + BigInt(guest.events.ts(i)));
    expect(pings).toHaveLength(80); // 40 pings, a pre and a post marker each
    // 20 µs in the traces' unit: ns, or TSC cycles at the host's 2445.402 MHz.
    const tol = meta.clocks.timestamp_units.host === 'cycles' ? 20e-6 * 2445.402e6 : 20_000;
    for (const [at, w] of [
      [pings[0]!, meta.alignment.D_pre],
      [pings[pings.length - 1]!, meta.alignment.D_post],
    ] as const) {
      const d = Number(offsetAt(m!, at) - BigInt(w.intersection_lo));
      const width = w.intersection_hi - w.intersection_lo;
      expect(d).toBeGreaterThanOrEqual(-tol);
      expect(d).toBeLessThanOrEqual(width + tol);
      // The bound reaches the measured window: [d - bound, d + bound] meets [0, width].
      expect(d + m!.bound).toBeGreaterThanOrEqual(0);
      expect(d - m!.bound).toBeLessThanOrEqual(width);
    }
  });
});

/** A host where vCPU thread 100+c runs in 50 µs bursts, and a guest that logs inside them. */
function pair(
  offsetUs: number,
  driftPpm: number,
  hostUnit: 'ns' | 'count' = 'ns',
): { host: Trace; guest: Trace } {
  const h: string[] = ['cpus=2'];
  const g: string[] = ['cpus=2'];
  const fmt = (us: number): string =>
    hostUnit === 'ns' ? (us / 1e6).toFixed(6) : String(Math.round(us * 1000));
  // Bursts at irregular gaps (a seeded PRNG): an exactly periodic pattern would fit shifted
  // offsets just as well, and the estimate would rightly call itself ambiguous.
  const rand = mulberry32(7);
  let k = 0;
  for (let t = 1000; t < 2_000_000; t += 100 + Math.floor(rand() * 150), k++) {
    const c = k % 2;
    const tid = 100 + c;
    const comm = `CPU ${c}/KVM`;
    h.push(
      `${'<idle>-0'.padStart(16)} [00${c}] ${fmt(t).padStart(12)}: sched_switch: swapper/${c}:0 [120] R ==> ${comm}:${tid} [120]`,
    );
    h.push(
      `${`${comm}-${tid}`.padStart(16)} [00${c}] ${fmt(t + 50).padStart(12)}: sched_switch: ${comm}:${tid} [120] S ==> swapper/${c}:0 [120]`,
    );
    // Guest events 5 and 45 µs into the burst, on the guest clock.
    for (const inside of [5, 45]) {
      const hostUs = t + inside;
      const guestUs = (hostUs - offsetUs) / (1 + driftPpm * 1e-6);
      g.push(
        `${'worker-7'.padStart(16)} [00${c}] ${(guestUs / 1e6 + 10).toFixed(6).padStart(12)}: sched_waking: comm=x pid=9 prio=120 target_cpu=00${c}`,
      );
    }
  }
  // Trace-cmd prints one merged stream in time order.
  const sortByTs = (lines: string[]): string[] => [
    lines[0]!,
    ...lines
      .slice(1)
      .sort(
        (a, b) => Number(a.split(']')[1]!.split(':')[0]) - Number(b.split(']')[1]!.split(':')[0]),
      ),
  ];
  const [host] = importFtraceText(sortByTs(h).join('\n') + '\n', { name: 'host' });
  const [guest] = importFtraceText(sortByTs(g).join('\n') + '\n', { name: 'guest' });
  return { host: host!, guest: guest! };
}

describe('hand-made pairs', () => {
  it.each([
    [250_000, 0],
    [250_000, 8],
    [-3_000, -5],
  ])('offset %d µs, drift %d ppm: recovered within its bound', (offUs, ppm) => {
    const { host, guest } = pair(offUs, ppm);
    const vms = identifyVcpus(host, { guestCpus: 2 });
    const m = estimateClockMap(host, buildTimelines(host), guest, vms.chosen!.vcpus)!;
    expect(m.agreement).toBe(1);
    // Check the map at guest times across the trace against the construction.
    for (const gUs of [10.1e6, 10.9e6, 11.9e6]) {
      const gNs = BigInt(Math.round(gUs * 1000));
      const truthNs = (Number(gNs) - 10e9) * (1 + ppm * 1e-6) + offUs * 1000;
      const est = toHost(m, gNs);
      expect(Math.abs(est - truthNs)).toBeLessThanOrEqual(m.bound + 1000); // + the printed µs resolution
      expect(m.bound).toBeLessThan(20_000);
    }
    expect(m.slope).toBeCloseTo(1 + ppm * 1e-6, 5);
  });

  it('refuses to align a count clock with a ns clock, and says why', () => {
    const { host } = pair(1000, 0, 'ns');
    const { host: hostCounts } = pair(1000, 0, 'count');
    const why: string[] = [];
    const vms = identifyVcpus(host, { guestCpus: 2 });
    expect(
      estimateClockMap(hostCounts, buildTimelines(hostCounts), host, vms.chosen!.vcpus, {}, why),
    ).toBeUndefined();
    expect(why.join('\n')).toMatch(/count .* ns|ns .* count/);
  });
});

/** Host and guest on TSC counts; the host records kvm_write_tsc_offset `next` (guest = host + next). */
function tscPair(recordedNext: bigint, trueOffset: number): { host: Trace; guest: Trace } {
  const h: string[] = ['cpus=2'];
  const g: string[] = ['cpus=2'];
  const base = 50_000_000_000;
  h.push(
    `${'CPU 0/KVM-100'.padStart(16)} [000]${String(base - 10).padStart(12)}: kvm_write_tsc_offset: vcpu=0 prev=0 next=${BigInt.asUintN(64, recordedNext)}`,
  );
  let k = 0;
  for (let t = 1000; t < 3_000_000; t += 3000 + (k++ % 5) * 700) {
    const c = k % 2;
    const tid = 100 + c;
    h.push(
      `${'<idle>-0'.padStart(16)} [00${c}]${String(base + t).padStart(12)}: sched_switch: swapper/${c}:0 [120] R ==> CPU ${c}/KVM:${tid} [120]`,
    );
    h.push(
      `${`CPU ${c}/KVM-${tid}`.padStart(16)} [00${c}]${String(base + t + 900).padStart(12)}: sched_switch: CPU ${c}/KVM:${tid} [120] S ==> swapper/${c}:0 [120]`,
    );
    for (const inside of [100, 800])
      g.push(
        `${'worker-7'.padStart(16)} [00${c}]${String(base + t + inside + trueOffset).padStart(12)}: sched_waking: comm=x pid=9 prio=120 target_cpu=00${c}`,
      );
  }
  const [host] = importFtraceText(h.join('\n') + '\n', { name: 'host' });
  const [guest] = importFtraceText(g.join('\n') + '\n', { name: 'guest' });
  return { host: host!, guest: guest! };
}

describe('recorded TSC offsets', () => {
  it('kvm_write_tsc_offset gives the map when the guest events agree with it', () => {
    const { host, guest } = tscPair(-7_000_000n, -7_000_000);
    const vms = identifyVcpus(host, { guestCpus: 2 });
    const why: string[] = [];
    const m = recordedClockMap(host, buildTimelines(host), guest, vms.chosen!.vcpus, why)!;
    expect(why).toEqual([]);
    expect(m.method).toBe('recorded');
    expect(m.agreement).toBe(1);
    // host - guest = -next = 7,000,000 ticks
    expect(m.hostRef - m.guestRef).toBe(7_000_000n);
  });

  it('a recorded offset the events contradict is not used, and analysis estimates instead', () => {
    const { host, guest } = tscPair(-9_000_000n, -7_000_000);
    const vms = identifyVcpus(host, { guestCpus: 2 });
    const why: string[] = [];
    expect(
      recordedClockMap(host, buildTimelines(host), guest, vms.chosen!.vcpus, why),
    ).toBeUndefined();
    expect(why.join('\n')).toMatch(/not used, estimating instead/);
    const est = estimateClockMap(host, buildTimelines(host), guest, vms.chosen!.vcpus)!;
    expect(Math.abs(Number(est.hostRef - est.guestRef) - 7_000_000)).toBeLessThanOrEqual(
      est.bound + 1,
    );
  });
});

describe('user-paired events on the real pairs', () => {
  it.each(SCENARIOS)(
    '%s: the sync pings paired with the host writev land by the measured window',
    async (sc) => {
      const meta = JSON.parse(readFileSync(path.join(REAL, sc, 'meta.json'), 'utf8')) as {
        clocks: { timestamp_units: { host: string } };
        alignment: { D_all: Window };
      };
      const host = (await readTraceFile(path.join(REAL, sc, 'host.txt.gz'))).traces[0]!;
      const guest = (await readTraceFile(path.join(REAL, sc, 'guest.txt.gz'))).traces[0]!;
      const why: string[] = [];
      const m = pairedClockMap(
        host,
        guest,
        {
          guest: /^(print|tracing_mark_write): syncping seq=\d+ phase=post/,
          host: /^sys_exit_writev/,
        },
        why,
      )!;
      expect(why).toEqual([]);
      expect(m.method).toBe('paired');
      expect(m.reasoning[0]).toMatch(/^40 paired events/);
      const tol = meta.clocks.timestamp_units.host === 'cycles' ? 20e-6 * 2445.402e6 : 20_000;
      // Pairs taken as simultaneous carry the pings' one-sided latency (the post marker comes after
      // the host's writev returns): the map's bound, plus the usual tolerance, must reach the window.
      const d = Number(m.hostRef - m.guestRef - BigInt(meta.alignment.D_all.intersection_lo));
      expect(d + m.bound).toBeGreaterThanOrEqual(-tol);
      expect(d - m.bound).toBeLessThanOrEqual(
        meta.alignment.D_all.intersection_hi - meta.alignment.D_all.intersection_lo + tol,
      );
      expect(m.bound).toBeLessThan(tol * 2);
    },
  );
});
