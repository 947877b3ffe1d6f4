// Clock alignment estimated with nothing recorded: `analyze` on every real pair with the sync
// pings left out must put host - guest at the first and the last ping within 20 µs of the windows
// the pings measured (meta.json alignment.D_pre / D_post), with a bound that meets the window and
// is itself at most 20 µs (spinning guests too, issue #18). Plus small hand-made cases with a known
// offset and drift.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import {
  bestOffset,
  estimateClockMap,
  fineOffset,
  offsetAt,
  offsetHistogram,
  offsetPeaks,
  peaksOf,
  type OnCpu,
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
import { REAL, REAL_SCENARIOS, realScenarios } from './support/fixtures';

/** Every real pair (checked against the folders below, so the table cannot silently shrink). */
const SCENARIOS = [...REAL_SCENARIOS];

interface Window {
  intersection_lo: number;
  intersection_hi: number;
  /** The median width of one ping's own window (its round trip), in the trace's unit. */
  median_single_width: number;
}

interface Meta {
  clocks: { timestamp_units: { host: string } };
  guest: { info: string };
  alignment: { D_pre: Window; D_post: Window; D_all: Window };
}

function readMeta(sc: string): Meta {
  return JSON.parse(readFileSync(path.join(REAL, sc, 'meta.json'), 'utf8')) as Meta;
}

/** 20 µs in the traces' unit: ns, or TSC cycles at the rate the guest calibrated (meta.json). */
function tolerance(meta: Meta): number {
  if (meta.clocks.timestamp_units.host !== 'cycles') return 20_000;
  const mhz = /tsc: Detected ([\d.]+) MHz/.exec(meta.guest.info);
  expect(mhz).not.toBeNull();
  return 20e-6 * Number(mhz![1]) * 1e6;
}

/** The pair as `analyze` reads it: the .dat files where the capture has them, else the text. */
async function readPair(sc: string): Promise<{ host: Trace; guest: Trace }> {
  const file = (side: string): string => {
    const dat = path.join(REAL, sc, `${side}.dat`);
    return existsSync(dat) ? dat : path.join(REAL, sc, `${side}.txt.gz`);
  };
  const host = (await readTraceFile(file('host'))).traces[0]!;
  const guest = (await readTraceFile(file('guest'))).traces[0]!;
  return { host, guest };
}

/** The guest's sync ping markers (`syncping seq=N phase=pre|post`). */
function isPing(guest: Trace, i: number): boolean {
  const kind = guest.eventTypes[guest.events.type(i)]!.kind;
  return kind === Kind.print && markerAt(guest, i).message.startsWith('syncping');
}

it('the real-pair table holds every scenario folder', () => {
  const folders = realScenarios();
  expect(folders).toEqual(SCENARIOS);
});

describe('analyze on the real pairs, sync pings removed', () => {
  it.each(SCENARIOS)(
    '%s: the estimate is within 20 µs of the measured windows, and its bound meets them',
    async (sc) => {
      const meta = readMeta(sc);
      const { host, guest } = await readPair(sc);
      // The host's sync writes are syscall events and the estimate reads only scheduling; the
      // guest's pings are markers on the vCPUs, which it would read: they are left out.
      const pings: bigint[] = [];
      for (let i = 0; i < guest.events.length; i++)
        if (isPing(guest, i)) pings.push(guest.tsBase + BigInt(guest.events.ts(i)));
      expect(pings).toHaveLength(80); // 40 pings, a pre and a post marker each
      const r = analyzePair(host, guest, { skipGuestEvent: (i) => isPing(guest, i) });
      const m = r.clock!;
      expect(m.method).toBe('estimated');
      expect(m.agreement).toBeGreaterThan(0.99);
      const tol = tolerance(meta);
      // The bound is what the map claims: at most 20 µs, the spinning guests' included.
      expect(m.bound).toBeLessThanOrEqual(tol);
      for (const [at, w] of [
        [pings[0]!, meta.alignment.D_pre],
        [pings[pings.length - 1]!, meta.alignment.D_post],
      ] as const) {
        const d = Number(offsetAt(m, at) - BigInt(w.intersection_lo));
        const width = w.intersection_hi - w.intersection_lo;
        expect(d).toBeGreaterThanOrEqual(-tol);
        expect(d).toBeLessThanOrEqual(width + tol);
        // [d - bound, d + bound] meets the window [0, width]: the truth can be inside it.
        expect(d + m.bound).toBeGreaterThanOrEqual(0);
        expect(d - m.bound).toBeLessThanOrEqual(width);
      }
    },
  );
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

describe('the coarse offset', () => {
  it('is the leading peak that a run of consecutive events agrees on, not just the highest', () => {
    // 64 events 1 ms apart, their thread on CPU for 100 ns around each at offset 100 µs only.
    const check = Array.from({ length: 64 }, (_, i) => ({
      g: i * 1_000_000 + (i % 7) * 1000,
      vcpu: 0,
    }));
    const on = new Map<number, OnCpu>([
      [
        0,
        {
          start: Float64Array.from(check, (e) => e.g + 100_000 - 50),
          end: Float64Array.from(check, (e) => e.g + 100_000 + 50),
        },
      ],
    ]);
    // The coarse histogram (bins of 10 µs) ranks 505 µs first and the true 105 µs second.
    const cover = new Int32Array(100);
    cover[50] = 10;
    cover[10] = 9;
    const c = bestOffset(peaksOf({ cover, dMin: 0, w: 10_000, sample: 10 }), check, on)!;
    expect(c.center).toBe(105_000);
    expect(c.rejected).toEqual([50]);
  });
});

describe("the coarse histogram's peaks", () => {
  it('are those of the histogram with every bin counted, across tiles', () => {
    // Two threads on and off CPU at random over ~3 s (150k bins of 20 µs: five tiles), events
    // at random: both add the ranges tile by tile; the histogram is checked against one counted
    // here event by event, range by range.
    const rand = mulberry32(7);
    const on = new Map<number, OnCpu>();
    for (const vcpu of [0, 1]) {
      const start: number[] = [];
      const end: number[] = [];
      for (let t = rand() * 1e6; t < 3e9;) {
        const run = rand() < 0.1 ? 2e7 * rand() : 2e6 * rand();
        start.push(t);
        end.push(t + run);
        t += run + 1 + 3e6 * rand();
      }
      on.set(vcpu, { start: Float64Array.from(start), end: Float64Array.from(end) });
    }
    const evs = Array.from({ length: 400 }, () => ({
      g: 2e9 * rand(),
      vcpu: rand() < 0.5 ? 0 : 1,
    }));
    const [dMin, dMax] = [-2e9, 3e9];
    const dense = offsetHistogram(evs, on, dMin, dMax, undefined, 150)!;
    expect(dense.cover.length).toBeGreaterThan(4 * 32_768);
    const counted = new Int32Array(dense.cover.length);
    for (let q = 0; q < 150; q++) {
      const e = evs[Math.floor((q * evs.length) / 150)]!;
      const iv = on.get(e.vcpu)!;
      for (let j = 0; j < iv.start.length; j++) {
        const a = Math.max(iv.start[j]! - e.g, dMin);
        const b = Math.min(iv.end[j]! - e.g, dMax);
        if (b < a) continue;
        const last = Math.min(counted.length - 1, Math.floor((b - dMin) / dense.w));
        for (let i = Math.floor((a - dMin) / dense.w); i <= last; i++) counted[i]!++;
      }
    }
    expect(dense.cover).toEqual(counted);
    const want = peaksOf(dense);
    expect(want.at.length).toBeGreaterThan(0);
    expect(offsetPeaks(evs, on, dMin, dMax, 150)).toEqual(want);
  });
});

describe('a stretch sweep', () => {
  it('keeps every offset region that ties for the most events, not just the first', () => {
    // One event, its thread on CPU at two far-apart times: both offsets fit it equally.
    const on = new Map<number, OnCpu>([
      [0, { start: Float64Array.of(0, 100), end: Float64Array.of(10, 110) }],
    ]);
    expect(fineOffset([{ g: 0, vcpu: 0 }], on, -50, 200)).toEqual({ lo: 0, hi: 110, count: 1 });
  });
});

/** Host and guest on TSC counts; the host records kvm_write_tsc_offset `next` (guest = host + next). */
function tscPair(
  recordedNext: bigint,
  trueOffset: number,
  tscHz?: number,
): { host: Trace; guest: Trace } {
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
  const rate = tscHz !== undefined ? { tscHz } : {};
  const [host] = importFtraceText(h.join('\n') + '\n', { name: 'host', ...rate });
  const [guest] = importFtraceText(g.join('\n') + '\n', { name: 'guest', ...rate });
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

  it('with the ticks read as ns at one rate (--tsc-hz) the recorded offset is converted too', () => {
    const hz = 2_445_400_000;
    const { host, guest } = tscPair(-7_000_000n, -7_000_000, hz);
    expect(host.clock).toMatchObject({ unit: 'ns', tscHz: hz });
    const vms = identifyVcpus(host, { guestCpus: 2 });
    const why: string[] = [];
    const m = recordedClockMap(host, buildTimelines(host), guest, vms.chosen!.vcpus, why)!;
    expect(why).toEqual([]);
    expect(m).toMatchObject({ method: 'recorded', unit: 'ns', agreement: 1 });
    // 7,000,000 ticks at 2.4454 GHz: 2,862,517.4 ns, to the ns either side may round down.
    expect(Math.abs(Number(m.hostRef - m.guestRef) - 7e15 / hz)).toBeLessThanOrEqual(1);
    expect(m.reasoning[0]).toMatch(/-7,000,000 ticks \(-0\.002862\d{3} s at 2,445,400,000 Hz\)/);
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
      const meta = readMeta(sc);
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
      const tol = tolerance(meta);
      // Pairs taken as simultaneous carry the pings' one-sided latency (the post marker comes after
      // the host's writev returns): the map's bound, plus the usual tolerance, must reach the window.
      const d = Number(m.hostRef - m.guestRef - BigInt(meta.alignment.D_all.intersection_lo));
      expect(d + m.bound).toBeGreaterThanOrEqual(-tol);
      expect(d - m.bound).toBeLessThanOrEqual(
        meta.alignment.D_all.intersection_hi - meta.alignment.D_all.intersection_lo + tol,
      );
      // The bound is the pings' one-sided latency: under 40 µs, or, where the host was busy (hogs
      // beside the VM: heavy-noisy-passive-tsc), no wider than a typical ping's own window.
      expect(m.bound).toBeLessThan(Math.max(tol * 2, meta.alignment.D_all.median_single_width));
    },
  );
});
