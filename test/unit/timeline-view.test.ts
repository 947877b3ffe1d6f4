// The timeline engine: the level-of-detail index against brute force, the model of the real pair
// against the analysis it lays out, the compact codec, the Chrome trace export parsed back, the
// HTML report's escaping and CSP, and the pyramids its page builds when idle.

import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import type { PairAnalysis } from '../../src/core/analyze/types';
import { VcpuState } from '../../src/core/correlate/vcpu-states';
import { chromeTrace, type ChromeTraceEvent } from '../../src/core/view/chrome-trace';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { decodeModel, encodeModel } from '../../src/core/view/codec';
import { LanesWhenIdle, resolutionFor, TimelineIndex } from '../../src/core/view/lod';
import { buildTimelineModel, startOrder, type TimelineModel } from '../../src/core/view/model';
import { mulberry32 } from '../../src/core/sim/rng';
import {
  initiallyCollapsed,
  type LaneGroup,
  NO_STATE,
  VIEW_STATE_COUNT,
  ViewState,
} from '../../src/core/view/states';
import { htmlReport } from '../../src/cli/html-report';

const PAIR = path.resolve(__dirname, '../fixtures/real/quiet-passive-local');

/** A model with one host CPU lane of the given intervals (and nothing else). */
function tinyModel(iv: [number, number, number][], spanNs: number): TimelineModel {
  return {
    meta: {
      protocol: 1,
      title: 't',
      unit: 'ns',
      spanNs,
      hostOriginAbs: '0',
      lanes: [{ id: 'vcpu:0', group: 'vcpus', label: 'vCPU 0', machine: 'host', vcpu: 0 }],
      findings: [],
      summary: [],
    },
    strings: [],
    lanes: [
      {
        start: Float64Array.from(iv, (x) => x[0]),
        end: Float64Array.from(iv, (x) => x[1]),
        state: Uint8Array.from(iv, (x) => x[2]),
        who: new Int32Array(iv.length).fill(-1),
        aux: new Int32Array(iv.length).fill(-1),
      },
    ],
    links: {
      start: new Float64Array(0),
      end: new Float64Array(0),
      vcpu: new Int32Array(0),
      guestPid: new Int32Array(0),
      guestComm: new Int32Array(0),
      pcpu: new Int32Array(0),
      preemptorPid: new Int32Array(0),
      preemptorComm: new Int32Array(0),
      preempted: new Uint8Array(0),
    },
  };
}

/** Dominant state of [b*w, (b+1)*w) by brute force (NO_STATE when nothing covers it). */
function dominant(iv: [number, number, number][], b: number, w: number): number {
  const acc = new Float64Array(VIEW_STATE_COUNT);
  for (const [s, e, st] of iv)
    acc[st]! += Math.max(0, Math.min(e, (b + 1) * w) - Math.max(s, b * w));
  let best = NO_STATE;
  let bt = 0;
  acc.forEach((v, s) => {
    if (v > bt) {
      bt = v;
      best = s;
    }
  });
  return best;
}

/** Random disjoint intervals: n of them, lengths 1..maxLen, gaps 0..maxGap. */
function randomLane(
  n: number,
  maxLen: number,
  maxGap: number,
  seed: number,
): [number, number, number][] {
  let x = seed;
  const rnd = (): number => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const out: [number, number, number][] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += Math.floor(rnd() * maxGap);
    const len = 1 + Math.floor(rnd() * maxLen);
    out.push([t, t + len, Math.floor(rnd() * 7)]);
    t += len;
  }
  return out;
}

describe('level-of-detail index', () => {
  it('resolutionFor is the largest power of two not above the units per pixel', () => {
    expect([0.3, 1, 3, 4, 1000, 1024, 1025].map(resolutionFor)).toEqual([
      1, 1, 2, 4, 512, 1024, 1024,
    ]);
  });

  /** Expands a lane window's runs back to (bucket → state, intervals begun). */
  function buckets(w: { runs: number[]; states: number[]; counts: number[] }): {
    state: number[];
    begun: number;
  } {
    const state: number[] = [];
    let begun = 0;
    w.runs.forEach((n, i) => {
      for (let k = 0; k < n; k++) state.push(w.states[i]!);
      begun += w.counts[i]!;
    });
    return { state, begun };
  }

  it.each([
    ['coarse (from the pyramid)', [4096, 16384, 65536]],
    ['fine (from the intervals)', [1, 8, 64, 256]],
  ])('%s windows give each bucket its dominant state, as brute force does', (_name, resList) => {
    const iv = randomLane(5000, 400, 200, 7);
    const span = iv[iv.length - 1]![1];
    const idx = new TimelineIndex(tinyModel(iv, span));
    for (const res of resList as number[]) {
      // A window that does not start on a bucket boundary: the engine rounds it down.
      const from = res * 37 + Math.floor(res / 2);
      const to = Math.min(span, from + res * 1024);
      const w = idx.window({ startNs: from, endNs: to, resolutionNs: res, lanes: ['vcpu:0'] });
      expect(w.startNs).toBe(res * 37);
      const got = buckets(w.lanes[0]!);
      expect(got.state.length).toBe((w.endNs - w.startNs) / res);
      const want = got.state.map((_s, b) => dominant(iv, w.startNs / res + b, res));
      expect(got.state).toEqual(want);
      const begun = iv.filter(([s]) => s >= w.startNs && s < w.endNs).length;
      expect(got.begun).toBe(begun);
      // A window costs its pixels, not its intervals.
      expect(w.lanes[0]!.runs.length).toBeLessThanOrEqual(1025);
    }
  });

  it('a window coarser than the whole lane is one bucket', () => {
    const idx = new TimelineIndex(tinyModel([[0, 10, ViewState.preempted]], 100));
    const w = idx.window({ startNs: 0, endNs: 2 ** 20, resolutionNs: 2 ** 20, lanes: ['vcpu:0'] });
    expect(w.lanes[0]).toMatchObject({ runs: [1], states: [ViewState.preempted], counts: [1] });
  });

  it('a lane’s windows are read from its intervals until prepareLane builds its pyramid, the same either way', () => {
    // The lane begins at 0 (a window's first bucket counts the interval that starts there).
    const iv = randomLane(3000, 400, 200, 11);
    iv[0]![0] = 0;
    const span = iv[iv.length - 1]![1];
    const ahead = new TimelineIndex(tinyModel(iv, span));
    expect(ahead.prepareLane('vcpu:0')).toBe(true);
    expect(ahead.prepareLane('vcpu:0')).toBe(false);
    expect(ahead.prepareLane('nope')).toBe(false);
    // Finer than the pyramid's finest level, its levels, and coarser than its top.
    // From the lane's start (its first interval begins there) and from inside it.
    const windows = [1, 64, 1024, 4096, 65536, 2 ** 20, 2 ** 22].flatMap((res) => [
      { startNs: 0, endNs: res * 1024, resolutionNs: res, lanes: ['vcpu:0'] },
      { startNs: res * 3, endNs: res * 1027, resolutionNs: res, lanes: ['vcpu:0'] },
    ]);
    for (const req of windows) {
      const lazy = new TimelineIndex(tinyModel(iv, span));
      const first = lazy.window(req);
      expect(first).toEqual(ahead.window(req));
      // Windows build no pyramid, however many ask.
      expect(lazy.window(req)).toEqual(first);
      expect(lazy.prepareLane('vcpu:0')).toBe(true);
      expect(lazy.window(req)).toEqual(first);
    }
  });

  it('details finds the interval at a time, or the nearest within the tolerance', () => {
    const idx = new TimelineIndex(
      tinyModel(
        [
          [10, 20, ViewState.preempted],
          [40, 50, ViewState.running],
        ],
        100,
      ),
    );
    expect(idx.details('vcpu:0', 15, 0)?.state).toBe('preempted');
    expect(idx.details('vcpu:0', 30, 5)).toBeNull();
    expect(idx.details('vcpu:0', 37, 5)?.state).toBe('running');
    expect(idx.details('nope', 15, 0)).toBeNull();
  });
});

describe('the groups a timeline opens collapsed', () => {
  const lanes = (counts: Partial<Record<LaneGroup, number>>): { group: LaneGroup }[] =>
    Object.entries(counts).flatMap(([g, n]) =>
      Array.from({ length: n }, () => ({ group: g as LaneGroup })),
    );
  it.each([
    ['8 host CPUs and 8 guest CPUs: none', { 'host-cpus': 8, 'guest-cpus': 8 }, []],
    ['9 host CPUs: the host CPUs', { 'host-cpus': 9, 'guest-cpus': 4 }, ['host-cpus']],
    ['9 guest CPUs: the guest CPUs', { 'host-cpus': 2, 'guest-cpus': 9 }, ['guest-cpus']],
    ['many threads or vCPUs: never', { vcpus: 40, 'guest-threads': 48, 'co-runners': 12 }, []],
  ] as const)('%s', (_name, counts, want) => {
    expect([...initiallyCollapsed(lanes(counts))].sort()).toEqual([...want]);
  });
});

describe('the model of the real pair', () => {
  let a: PairAnalysis;
  let m: TimelineModel;
  beforeAll(async () => {
    const [h, g] = await Promise.all([
      readTraceFile(path.join(PAIR, 'host.txt.gz'), {}),
      readTraceFile(path.join(PAIR, 'guest.txt.gz'), {}),
    ]);
    a = analyzePair(h.traces[0]!, g.traces[0]!);
    m = buildTimelineModel(a);
  });

  it('has a lane per host CPU, vCPU, guest CPU and program thread, and the preemptors', () => {
    const ids = m.meta.lanes.map((l) => l.id);
    expect(ids.filter((i) => i.startsWith('hcpu:'))).toEqual(['hcpu:0', 'hcpu:1']);
    expect(ids.filter((i) => i.startsWith('vcpu:'))).toEqual([
      'vcpu:0',
      'vcpu:1',
      'vcpu:2',
      'vcpu:3',
    ]);
    expect(ids.filter((i) => i.startsWith('gcpu:'))).toHaveLength(4);
    for (const pid of a.program!.pids) expect(ids).toContain(`gthread:${pid}`);
    const pre = a.stalls!.byPreemptor.filter((p) => p.pid > 0 && !/\/TCG/.test(p.comm));
    expect(pre.length).toBeGreaterThan(0);
    expect(ids).toContain(`hthread:${pre[0]!.pid}`);
  });

  it('links are the stalls in start order (ties: by row), in model time', () => {
    const t = a.stalls!.stalls;
    const order = Uint32Array.from({ length: t.length }, (_, i) => i).sort(
      (x, y) => t.hostStart[x]! - t.hostStart[y]! || x - y,
    );
    expect(order.length).toBeGreaterThan(100);
    expect(Array.from(startOrder(t.hostStart, t.length))).toEqual(Array.from(order));
    const starts = Array.from(order, (i) => t.hostStart[i]!);
    const shift = t.hostStart[order[0]!]! - m.links.start[0]!;
    starts.forEach((s, q) =>
      expect(Math.abs(m.links.start[q]! - (s - shift))).toBeLessThanOrEqual(1),
    );
  });

  it('vCPU lanes carry the engine preempted time, to rounding', () => {
    for (const t of a.states!.timelines) {
      const i = m.meta.lanes.findIndex((l) => l.id === `vcpu:${t.vcpu}`);
      const c = m.lanes[i]!;
      let want = 0;
      for (let j = 0; j < t.state.length; j++)
        if (t.state[j] === VcpuState.preempted) want += t.end[j]! - t.start[j]!;
      let got = 0;
      for (let j = 0; j < c.state.length; j++)
        if (c.state[j] === ViewState.preempted) got += c.end[j]! - c.start[j]!;
      expect(want).toBeGreaterThan(0);
      expect(Math.abs(got - want)).toBeLessThanOrEqual(t.state.length);
    }
  });

  it('marks a guest thread stalled where its stalls say, and nowhere else', () => {
    const top = a.stalls!.byGuestThread[0]!;
    const i = m.meta.lanes.findIndex((l) => l.id === `gthread:${top.pid}`);
    const c = m.lanes[i]!;
    let stalled = 0;
    for (let j = 0; j < c.state.length; j++)
      if (c.state[j] === ViewState.stalled) stalled += c.end[j]! - c.start[j]!;
    expect(stalled).toBeGreaterThan(0);
    // Only the part of the lost time the guest saw as running is marked; never more.
    expect(stalled).toBeLessThanOrEqual(top.lost + a.stalls!.stalls.length);
    expect(stalled).toBeGreaterThan(top.lost * 0.5);
  });

  it('keeps every lane sorted and disjoint', () => {
    const bad: string[] = [];
    m.lanes.forEach((c, i) => {
      for (let j = 0; j < c.start.length; j++)
        if (c.end[j]! < c.start[j]! || (j > 0 && c.start[j]! < c.end[j - 1]!))
          bad.push(`${m.meta.lanes[i]!.id}[${j}]`);
    });
    expect(bad).toEqual([]);
  });

  it('round-trips through the compact codec', () => {
    const e = encodeModel(m);
    const back = decodeModel(JSON.parse(JSON.stringify(e)));
    expect(back.meta).toEqual(m.meta);
    expect(back.strings).toEqual(m.strings);
    // Column by column (toEqual on 100k-element typed arrays is slow).
    const same = (x: ArrayLike<number>, y: ArrayLike<number>): boolean =>
      x.length === y.length && Array.prototype.every.call(x, (v: number, k: number) => v === y[k]);
    m.lanes.forEach((c, i) => {
      const d = back.lanes[i]!;
      for (const k of ['start', 'end', 'state', 'who', 'aux'] as const)
        expect(same(c[k], d[k]), `${m.meta.lanes[i]!.id}.${k}`).toBe(true);
    });
    for (const k of Object.keys(m.links) as (keyof typeof m.links)[])
      expect(same(m.links[k], back.links[k]), `links.${k}`).toBe(true);
    const bytes = JSON.stringify(e).length;
    const intervals = m.lanes.reduce((s, c) => s + c.start.length, 0);
    expect(bytes / intervals).toBeLessThan(20);
  });

  it('rejects another codec version and truncated columns with a message', () => {
    const e = encodeModel(m);
    expect(() => decodeModel({ ...e, codec: 'x' as never })).toThrow(/expected vcpu-lens/);
    const cut = { ...e, lanes: e.lanes.map((l) => ({ ...l, cols: l.cols.slice(0, 8) })) };
    expect(() => decodeModel(cut)).toThrow(/ends early/);
  });

  it('exports Chrome trace events that parse back into its tracks, slices and flows', () => {
    const t = JSON.parse(JSON.stringify(chromeTrace(m))) as { traceEvents: ChromeTraceEvent[] };
    const ev = t.traceEvents;
    const threads = ev.filter((e) => e.ph === 'M' && e.name === 'thread_name');
    expect(threads).toHaveLength(m.meta.lanes.length);
    expect(new Set(threads.map((e) => `${e.pid}:${e.tid}`)).size).toBe(threads.length);
    const slices = ev.filter((e) => e.ph === 'X');
    const nonIdle = m.lanes.reduce(
      (s, c) => s + c.state.filter((x) => x !== ViewState.idle).length,
      0,
    );
    expect(slices).toHaveLength(nonIdle);
    for (const e of slices.slice(0, 5000)) {
      expect(typeof e.ts).toBe('number');
      expect(e.dur!).toBeGreaterThanOrEqual(0);
    }
    // vCPU tracks: one 'preempted' slice per preempted interval of the engine.
    const vcpuPreempted = slices.filter((e) => e.cat === 'vcpus' && e.name === 'preempted');
    const engine = a.states!.timelines.reduce(
      (s, t) => s + t.state.filter((x) => x === VcpuState.preempted).length,
      0,
    );
    expect(engine).toBeGreaterThan(0);
    expect(vcpuPreempted).toHaveLength(engine);
    // Flows: each id starts once ('s') and finishes once ('f', binding to the enclosing slice).
    const starts = new Map<number, ChromeTraceEvent>();
    const ends = new Map<number, ChromeTraceEvent>();
    for (const e of ev) {
      if (e.ph === 's') starts.set(e.id!, e);
      if (e.ph === 'f') ends.set(e.id!, e);
    }
    expect(starts.size).toBeGreaterThan(0);
    expect([...starts.keys()].every((id) => ends.has(id))).toBe(true);
    expect([...ends.values()].every((e) => e.bp === 'e')).toBe(true);
    // A flow's first step sits inside a slice of its track (the guest thread's stalled slice).
    const byTrack = new Map<string, ChromeTraceEvent[]>();
    for (const e of slices) {
      const k = `${e.pid}:${e.tid}`;
      let l = byTrack.get(k);
      if (l === undefined) byTrack.set(k, (l = []));
      l.push(e);
    }
    let inside = 0;
    const sample = [...starts.values()].slice(0, 200);
    for (const s of sample) {
      const l = byTrack.get(`${s.pid}:${s.tid}`) ?? [];
      if (l.some((x) => x.ts! <= s.ts! && s.ts! <= x.ts! + x.dur!)) inside++;
    }
    expect(inside).toBe(sample.length);
  });
});

describe('startOrder', () => {
  it('orders rows by start, ties by row, as a comparator sort does, whatever the runs', () => {
    const rand = mulberry32(7);
    for (const [n, runs, levels] of [
      [0, 1, 10],
      [1, 1, 10],
      [50, 1, 5],
      [200, 4, 8],
      [333, 7, 3],
      [500, 500, 20],
    ] as const) {
      // `runs` runs in order one after the other, few distinct starts (ties), like a vCPU's stalls.
      const start = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const inRun = i % Math.ceil(n / runs);
        start[i] =
          inRun === 0 ? Math.floor(rand() * levels) : start[i - 1]! + Math.floor(rand() * 2);
      }
      const want = Array.from({ length: n }, (_, i) => i).sort(
        (x, y) => start[x]! - start[y]! || x - y,
      );
      expect(Array.from(startOrder(start, n))).toEqual(want);
    }
  });

  it('reads only the first n rows (a table has spare capacity)', () => {
    expect(Array.from(startOrder(new Float64Array([3, 1, 2, 0, 0]), 3))).toEqual([1, 2, 0]);
  });
});

describe('the HTML report', () => {
  const evil = '</script><img src=x onerror=alert(1)><!--';
  const m = tinyModel([[0, 10, ViewState.preempted]], 100);
  m.meta.title = evil;
  m.meta.lanes[0]!.label = evil;
  m.strings.push(evil);
  const assets = { js: 'console.log("</script>")', css: 'body{}' };

  it('embeds the model with every < escaped, in a non-executable block', () => {
    const html = htmlReport(m, assets);
    const data = /<script type="application\/json" id="vcpu-lens-model">([\s\S]*?)<\/script>/.exec(
      html,
    )![1]!;
    expect(data).not.toContain('<');
    const back = decodeModel(JSON.parse(data));
    expect(back.meta.lanes[0]!.label).toBe(evil);
    // The bundle cannot close its script element early; the title is escaped.
    expect(html).toContain('console.log("<\\/script>")');
    expect(html).toContain('<title>vCPU Lens: &lt;/script&gt;&lt;img src=x');
  });

  it('has a strict CSP: a nonce per file, no unsafe-eval or unsafe-inline, no network', () => {
    const a = htmlReport(m, assets);
    const b = htmlReport(m, assets);
    const csp = /content="([^"]*)"/.exec(a)![1]!;
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'/);
    expect(csp).toMatch(/connect-src 'none'/);
    expect(csp).not.toMatch(/unsafe/);
    const nonce = (h: string): string => /nonce-([^']+)'/.exec(h)![1]!;
    expect(nonce(a)).not.toBe(nonce(b));
    // Every script that runs carries the nonce.
    const scripts = a.match(/<script(?![^>]*application\/json)[^>]*>/g)!;
    expect(scripts.every((s) => s.includes(`nonce="${nonce(a)}"`))).toBe(true);
    // No inline event handler attributes in the page's own markup (the data block is escaped).
    expect(a.replace(/<script[\s\S]*?<\/script>/g, '')).not.toMatch(/<[^>]+\son[a-z]+=/i);
  });
});

describe('lanes prepared when idle (the HTML report’s page)', () => {
  it('builds one lane’s pyramid per idle callback, each lane once, then stops asking', () => {
    const iv = randomLane(3000, 400, 200, 5);
    const span = iv[iv.length - 1]![1];
    const model = tinyModel(iv, span);
    model.meta.lanes.push({ ...model.meta.lanes[0]!, id: 'vcpu:1', vcpu: 1 });
    model.lanes.push(model.lanes[0]!);
    const index = new TimelineIndex(model);
    const queue: (() => void)[] = [];
    const lanes = new LanesWhenIdle(index, (f) => queue.push(f));
    lanes.add(['vcpu:0', 'vcpu:1']);
    lanes.add(['vcpu:1']);
    expect(queue.length).toBe(1);
    queue.shift()!();
    // One lane built, the other next time.
    expect(queue.length).toBe(1);
    queue.shift()!();
    expect(queue.length).toBe(0);
    expect(index.prepareLane('vcpu:0')).toBe(false);
    expect(index.prepareLane('vcpu:1')).toBe(false);
    lanes.add([]);
    expect(queue.length).toBe(0);
  });
});
