// TSC traces in the units people read (#20): with the counter's rate (--tsc-hz, ReadOptions.tscHz)
// a counting clock's ticks become ns at import, in every reading path, so analyze speaks seconds
// (`unit: "ns"`); without it, ticks with thousands separators and a hint how to give the rate.
// Truth: the lab's meta.json (the host's wall-clock times of the workload markers it wrote into
// the host trace, the sync pings' host - guest offset in ticks).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { Kind } from '../../src/core/model/event-kinds';
import { markerAt } from '../../src/core/model/payload';
import type { Trace } from '../../src/core/model/trace';
import type { AnalyzeReport } from '../../src/core/report/analyze';
import { tickRate, tscToNsBig } from '../../src/core/model/time';
import { analyzePair } from '../../src/core/analyze/pair';
import { buildTimelineModel } from '../../src/core/view/model';
import type { TimelineMeta } from '../../src/core/view/wire';
import { bundleParseWorker } from './support/parse-worker';
import { cliRunner } from './support/cli';

const HZ = 2_445_400_000;
const DIR = path.resolve(__dirname, '../fixtures/real/quiet-active-tsc');
const HOST = path.join(DIR, 'host.txt.gz');
const GUEST = path.join(DIR, 'guest.txt.gz');
const META = JSON.parse(readFileSync(path.join(DIR, 'meta.json'), 'utf8')) as {
  guest_evts_received_by_host_epoch: [number, string][];
  alignment: { D_all: { intersection_lo: number; intersection_hi: number } };
};

const run = cliRunner();
/** The absolute timestamp (trace unit) of the host's marker ending in `what`. */
function markerTs(t: Trace, what: string): bigint {
  for (let i = 0; i < t.events.length; i++) {
    if (t.eventTypes[t.events.type(i)]!.kind !== Kind.print) continue;
    if (markerAt(t, i).message.endsWith(what)) return t.tsBase + BigInt(t.events.ts(i));
  }
  throw new Error(`no marker ${what}`);
}

describe('analyze on the real TSC pair', () => {
  it('with --tsc-hz prints no ticks, and its JSON says unit "ns"', async () => {
    const text = await run('analyze', '--tsc-hz', String(HZ), HOST, GUEST);
    expect(text.code).toBe(0);
    expect(text.out).not.toMatch(/tick/i);
    expect(text.out).toContain(`counter clock read at 2,445,400,000 Hz (--tsc-hz)`);
    // Durations choose their unit: the window is `17.74 s`, not `17743.427 ms`.
    expect(text.out).toMatch(/while both traces ran \(17\.7\d s, from 4918\.\d{9} s\)/);
    expect(text.out).not.toMatch(/\d{4,}\.\d+ ms/);
    const json = await run('analyze', '--json', '--tsc-hz', '2445.4M', HOST, GUEST);
    const rep = JSON.parse(json.out) as AnalyzeReport;
    expect(rep.unit).toBe('ns');
    expect(rep.tscHz).toBe(HZ);
    expect(rep.clock!.unit).toBe('ns');
    // The clock map still aligns host and guest: the sync pings' host - guest (ticks), in ns.
    const { intersection_lo: lo, intersection_hi: hi } = META.alignment.D_all;
    const off = Number(BigInt(rep.clock!.hostRef) - BigInt(rep.clock!.guestRef));
    expect(off).toBeGreaterThan((lo * 1e9) / HZ - rep.clock!.bound);
    expect(off).toBeLessThan((hi * 1e9) / HZ + rep.clock!.bound);
    expect(rep.clock!.bound).toBeLessThan(20_000); // 20 µs
  }, 60_000);

  it('without a rate prints ticks with thousands separators and the hint, once', async () => {
    const text = await run('analyze', HOST, GUEST);
    expect(text.code).toBe(0);
    expect(text.out).not.toContain('Mticks');
    expect(text.out).toMatch(/\b\d{1,3}(,\d{3}){2,} ticks\b/);
    expect(text.out).not.toMatch(/\d{7,} ticks/);
    expect(text.out.match(/--tsc-hz/g)).toHaveLength(1);
    expect(text.out).toContain('vcpuLens.tscHz');
    const rep = JSON.parse((await run('analyze', '--json', HOST, GUEST)).out) as AnalyzeReport;
    expect(rep.unit).toBe('count');
    expect(rep.tscHz).toBeNull();
  }, 60_000);

  it('says when a trace has no ticks to read at the rate', async () => {
    const local = path.resolve(DIR, '../quiet-passive-local/guest.txt.gz');
    const r = await run('info', '--tsc-hz', String(HZ), local, GUEST);
    expect(r.code).toBe(0);
    expect(r.err).toContain(
      'quiet-passive-local/guest.txt.gz: its timestamps are in ns already; --tsc-hz not applied',
    );
    expect(r.err).not.toContain('quiet-active-tsc/guest.txt.gz:');
  });

  it('refuses a rate that is not one, naming the option', async () => {
    for (const bad of ['fast', '0', '-5', '2.4.4G']) {
      const r = await run('analyze', '--tsc-hz', bad, HOST, GUEST);
      expect(r.code, bad).toBe(2);
      expect(r.err).toContain('--tsc-hz');
    }
  });
});

describe('the timeline view of the real TSC pair', () => {
  const viewOf = async (tscHz?: number): Promise<TimelineMeta> => {
    const opts = tscHz !== undefined ? { tscHz } : {};
    const [h, g] = await Promise.all([readTraceFile(HOST, opts), readTraceFile(GUEST, opts)]);
    return buildTimelineModel(analyzePair(h.traces[0]!, g.traces[0]!)).meta;
  };
  it('says unit "ns" and speaks seconds with a rate; ticks and the hint without', async () => {
    const ns = await viewOf(HZ);
    expect(ns.unit).toBe('ns');
    const nsText = JSON.stringify([ns.summary, ns.findings]);
    expect(nsText).not.toMatch(/tick/i);
    expect(nsText).toMatch(/\d ms\b/);
    const ticks = await viewOf();
    expect(ticks.unit).toBe('count');
    expect(ticks.summary.find((s) => s.heading === 'Units')?.lines.join(' ')).toContain(
      'vcpuLens.tscHz',
    );
    expect(JSON.stringify(ticks.summary)).toMatch(/\d{1,3}(,\d{3})+ ticks/);
  }, 60_000);
});

describe('ticks read as ns at import', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vl-tschz-'));
  const worker = path.join(dir, 'parse-worker.js');
  const plain = path.join(dir, 'host.txt');
  beforeAll(async () => {
    await bundleParseWorker(worker);
    writeFileSync(plain, gunzipSync(readFileSync(HOST)));
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("puts the host's workload markers as far apart as the host's wall clock saw them", async () => {
    const t = (await readTraceFile(HOST, { tscHz: HZ })).traces[0]!;
    expect(t.clock).toMatchObject({ unit: 'ns', tscHz: HZ });
    const evts = new Map(
      META.guest_evts_received_by_host_epoch.map(([s, m]) => [m.split(' ').pop(), s]),
    );
    const wallNs = (evts.get('workload_end')! - evts.get('workload_start')!) * 1e9;
    const tracedNs = Number(markerTs(t, 'workload_end') - markerTs(t, 'workload_start'));
    // 17.16 s apart; the wall clock's microseconds and the marker writes' latency, within 1 ms.
    expect(Math.abs(tracedNs - wallNs)).toBeLessThan(1e6);
  });

  it('gives every event the ns of its absolute tick count, in text, text in parts on workers and .dat', async () => {
    const rate = tickRate(HZ);
    const ticks = (await readTraceFile(HOST)).traces[0]!;
    const reads = {
      gzip: (await readTraceFile(HOST, { tscHz: HZ })).traces[0]!,
      parts: (
        await readTraceFile(plain, {
          tscHz: HZ,
          threads: 2,
          workerScript: worker,
          parallelMinBytes: 0,
        })
      ).traces[0]!,
      dat: (await readTraceFile(path.join(DIR, 'host.dat'), { tscHz: HZ, threads: 1 })).traces[0]!,
      datWorker: (
        await readTraceFile(path.join(DIR, 'host.dat'), { tscHz: HZ, workerScript: worker })
      ).traces[0]!,
    };
    for (const [how, t] of Object.entries(reads)) {
      expect(t.events.length, how).toBe(ticks.events.length);
      expect(t.clock, how).toMatchObject({ unit: 'ns', tscHz: HZ });
      for (let i = 0; i < t.events.length; i += 97) {
        const want = tscToNsBig(ticks.tsBase + BigInt(ticks.events.ts(i)), rate.mult, rate.shift);
        expect(t.tsBase + BigInt(t.events.ts(i)), `${how} event ${i}`).toBe(want);
      }
    }
  }, 60_000);

  it('keeps the ticks for dump (what trace-cmd report prints)', async () => {
    const asIs = (await readTraceFile(HOST, { tscHz: HZ, recordedTicks: true })).traces[0]!;
    expect(asIs.clock.unit).toBe('count');
    expect(asIs.clock.tscHz).toBeUndefined();
    const d = await run('dump', '--tsc-hz', String(HZ), path.join(DIR, 'guest.dat'));
    expect(d.out.split('\n').find((l) => l.includes('sched_switch'))).toMatch(/\]\s*\d{10,}:/);
  });
});
