// Putting a trace read in parts back together (model/trace-parts.ts): the merge of a .dat's CPU
// groups and the join of a text file's byte ranges give the trace one reader would, and the
// buffers they hand back to be freed are never ones the result still uses (those are detached
// at once by io/release.ts: a slab both freed and reused would read as empty).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createFtraceTextImporter, importFtraceText } from '../../src/core/ingest/ftrace-text';
import { appendTrace, mergeByTime } from '../../src/core/model/trace-parts';
import type { Trace } from '../../src/core/model/trace';
import { buildTimelines, startTimelines, Timelines } from '../../src/core/timeline/build';
import { dumpEvents } from './support/dump';

const HOST = path.resolve(__dirname, '../fixtures/real/quiet-passive-local/host.txt.gz');

/** The real host trace's text, its events repeated `copies` times (later copies shifted in time). */
function hostText(copies: number): string {
  const lines = gunzipSync(readFileSync(HOST)).toString('utf8').split('\n');
  const head = lines.filter((l) => !/\]\s+\d+\.\d+: /.test(l) && l.trim() !== '');
  const events = lines.filter((l) => /\]\s+\d+\.\d+: /.test(l));
  const out = [...head];
  for (let c = 0; c < copies; c++) {
    for (const l of events)
      out.push(
        l.replace(/(\]\s+)(\d+)\.(\d+):/, (_m, sp: string, s: string, f: string) => {
          return `${sp}${Number(s) + 100 * c}.${f}:`;
        }),
      );
  }
  return out.join('\n') + '\n';
}

/** Every buffer `t`'s event store holds. */
const storeBuffers = (t: Trace): Set<ArrayBuffer> => new Set(t.events.buffers());

describe('trace parts', () => {
  const text = hostText(2);
  const whole = importFtraceText(text, { name: 'h' })[0]!;

  it('the real host text repeated is big enough to fill several slabs', () => {
    expect(whole.events.length).toBeGreaterThan(300_000);
    expect(whole.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('mergeByTime of the CPUs read apart is the trace read whole, and frees only what it no longer uses', () => {
    const byCpu = (cpu: number): string =>
      text
        .split('\n')
        .filter((l) => !/\]\s+\d+\.\d+: /.test(l) || l.includes(`[00${cpu}]`))
        .join('\n');
    const parts = [0, 1].map((cpu) => importFtraceText(byCpu(cpu), { name: 'h' })[0]!);
    const inParts = [...storeBuffers(parts[0]!), ...storeBuffers(parts[1]!)];
    const freed: ArrayBuffer[] = [];
    const merged = mergeByTime(parts, 1000, undefined, undefined, (b) => void freed.push(...b));
    // The text prints microseconds: events of both CPUs in one microsecond are in the report's
    // order, which the merge (ties to the lower CPU) cannot know. In time then CPU order, stable:
    const key = (l: string): [bigint, number] => {
      const m = /^(\d+) \[(\d+)\]/.exec(l)!;
      return [BigInt(m[1]!), Number(m[2])];
    };
    const ordered = dumpEvents(whole)
      .map((l, i) => ({ l, i, k: key(l) }))
      .sort((a, b) => (a.k[0] < b.k[0] ? -1 : a.k[0] > b.k[0] ? 1 : a.k[1] - b.k[1] || a.i - b.i))
      .map((x) => x.l);
    const got = dumpEvents(merged);
    expect(got.length).toBe(ordered.length);
    expect(got.findIndex((l, i) => l !== ordered[i])).toBe(-1);
    const used = storeBuffers(merged);
    expect(freed.filter((b) => used.has(b))).toEqual([]);
    expect(new Set(freed).size).toBe(freed.length);
    // Every slab of the parts is reused by the merged store or handed back, but for at most one
    // (see the join below).
    const gone = new Set([...freed, ...used]);
    expect(inParts.filter((b) => !gone.has(b)).length).toBeLessThanOrEqual(1);
    // And the merge did reuse them (it writes into what it consumed).
    expect(inParts.filter((b) => used.has(b)).length).toBeGreaterThan(0);
  });

  it('appendTrace of the second half is the trace read whole, and frees only what it no longer uses', () => {
    const cut = text.indexOf('\n', text.length >> 1) + 1;
    const first = createFtraceTextImporter({ name: 'h' });
    first.feed(text.slice(0, cut));
    const resume = first.resumeState();
    const base = first.end()[0]!;
    const lines = text.slice(0, cut).split('\n').length - 1;
    const part = importFtraceText(text.slice(cut), { name: 'h', resume })[0]!;
    const inPart = [...storeBuffers(part)];
    const freed: ArrayBuffer[] = [];
    appendTrace(base, part, lines, 1000, (b) => void freed.push(...b));
    const used = storeBuffers(base);
    const got = dumpEvents(base);
    const want = dumpEvents(whole);
    expect(got.length).toBe(want.length);
    expect(got.findIndex((l, i) => l !== want[i])).toBe(-1);
    expect(freed.filter((b) => used.has(b))).toEqual([]);
    expect(new Set(freed).size).toBe(freed.length);
    // Every slab of the part is reused or handed back, but for at most one: the slab the
    // result's last block was carved from before seal() copied that block out (it stays with
    // the store, as any slab a store still carves from).
    const gone = new Set([...freed, ...used]);
    expect(inPart.filter((b) => !gone.has(b)).length).toBeLessThanOrEqual(1);
  });
});

/** Everything a timeline build decided, as plain values (typed arrays as arrays). */
function timelineValues(tl: Timelines): unknown {
  const plain = (o: object): unknown =>
    Object.fromEntries(
      Object.entries(o).map(([k, v]) => [
        k,
        ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v instanceof Map ? [...v] : v,
      ]),
    );
  return { ...tl, cpus: plain(tl.cpus), tasks: plain(tl.tasks) };
}

/** `text` cut into `parts` byte ranges at line starts, read as readInParts reads them. */
function readInPieces(text: string, parts: number, onJoined: (t: Trace) => void): Trace {
  const cuts = [0];
  for (let k = 1; k < parts; k++) cuts.push(text.indexOf('\n', (k * text.length) / parts) + 1);
  cuts.push(text.length);
  const first = createFtraceTextImporter({ name: 'h' });
  first.feed(text.slice(0, cuts[1]));
  const resume = first.resumeState();
  const base = first.end()[0]!;
  onJoined(base);
  let lines = text.slice(0, cuts[1]).split('\n').length - 1;
  for (let k = 1; k < parts; k++) {
    const piece = text.slice(cuts[k], cuts[k + 1]);
    appendTrace(base, importFtraceText(piece, { name: 'h', resume })[0]!, lines, 1000);
    lines += piece.split('\n').length - 1;
    onJoined(base);
  }
  return base;
}

describe('timelines built while parts are joined', () => {
  // Later parts bring tasks and threads the first did not have: every thread but the idle ones
  // gets a new pid halfway.
  const text = ((t: string): string => {
    const mid = t.indexOf('\n', t.length >> 1) + 1;
    const renumbered = t
      .slice(mid)
      .replace(
        /(-|(?<!CPU):|pid=)(\d{2,})\b/g,
        (_m, k: string, pid: string) => `${k}${Number(pid) + 50_000}`,
      );
    return t.slice(0, mid) + renumbered;
  })(hostText(2));

  it('are the timelines of the trace read whole', () => {
    let build: ReturnType<typeof startTimelines> | undefined;
    let feeds = 0;
    readInPieces(text, 5, (t) => {
      build ??= startTimelines(t, undefined, true);
      expect(build.feed()).toBe(true);
      feeds++;
    });
    expect(feeds).toBe(5);
    const got = build!.finish();
    expect(got).toBeDefined();
    const wholeTrace = importFtraceText(text, { name: 'h' })[0]!;
    expect(wholeTrace.tasks.size).toBeGreaterThan(60);
    const whole = buildTimelines(wholeTrace);
    expect(whole.tasks.pids.length).toBeGreaterThan(20);
    expect(whole.cpus.start.length).toBeGreaterThan(100_000);
    expect(timelineValues(got!)).toEqual(timelineValues(whole));
  });

  it('are given up when a later part goes back in time (then the whole trace is built)', () => {
    // The second copy of the events again, unshifted: back in time from the first copy's end.
    const back =
      text +
      text
        .split('\n')
        .filter((l) => /\]\s+\d+\.\d+: /.test(l))
        .slice(0, 2000)
        .join('\n') +
      '\n';
    let build: ReturnType<typeof startTimelines> | undefined;
    const fed: boolean[] = [];
    readInPieces(back, 3, (t) => {
      build ??= startTimelines(t, undefined, true);
      fed.push(build.feed());
    });
    expect(fed[0]).toBe(true);
    expect(fed[fed.length - 1]).toBe(false);
    expect(build!.finish()).toBeUndefined();
  });

  it('are given up when a later part shows a CPU past the count the trace had', () => {
    // No `cpus=` header: the count comes from the events, and the last part adds CPU 7.
    const body = text.split('\n').filter((l) => /\]\s+\d+\.\d+: /.test(l));
    const last = body[body.length - 1]!.replace(/\[00\d\]/, '[007]');
    const noHeader = [...body, last].join('\n') + '\n';
    let build: ReturnType<typeof startTimelines> | undefined;
    const fed: boolean[] = [];
    const t = readInPieces(noHeader, 3, (tr) => {
      build ??= startTimelines(tr, undefined, true);
      fed.push(build.feed());
    });
    expect(t.cpuCount).toBe(8);
    expect(fed).toEqual([true, true, false]);
    expect(build!.finish()).toBeUndefined();
  });
});
