// How the language server reads a trace file (server/disk.ts serverReadOptions): a .dat with only
// the event text its analysis reads, so a pair's first paint never prints markers (nor parses the
// file's kallsyms for their %ps); the timeline it draws is the one a whole read gives.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { Kind } from '../../src/core/model/event-kinds';
import type { Trace } from '../../src/core/model/trace';
import { buildTimelineModel } from '../../src/core/view/model';
import { DEFAULT_SERVER_SETTINGS } from '../../src/protocol/lsp-ext';
import { serverReadOptions } from '../../src/server/disk';
import { REAL } from './support/fixtures';

/** A real pair whose host has print markers and syscalls (zstd v7). */
const DIR = path.join(REAL, 'quiet-passive-local');
const settings = { settings: { ...DEFAULT_SERVER_SETTINGS } };

/** How many events of `kind` there are, and how many have a text. */
function texts(t: Trace, kind: Kind): { events: number; text: number } {
  let events = 0;
  let text = 0;
  for (let i = 0; i < t.events.length; i++) {
    if (t.eventTypes[t.events.type(i)]!.kind !== kind) continue;
    events++;
    if (t.events.a0(i) >= 0) text++;
  }
  return { events, text };
}

const read = async (o: Parameters<typeof readTraceFile>[1]): Promise<Trace[]> =>
  Promise.all(
    ['host', 'guest'].map(
      async (s) => (await readTraceFile(path.join(DIR, `${s}.dat`), o)).traces[0]!,
    ),
  );

describe('the language server reads a .dat', () => {
  it("with the analysis' event text: markers and syscalls counted, not printed", async () => {
    const [host] = await read(serverReadOptions(settings, 'host.dat'));
    const [whole] = await read({});
    for (const kind of [Kind.print, Kind.sysEnter, Kind.sysExit]) {
      expect(texts(whole!, kind).text).toBeGreaterThan(0);
      expect(texts(host!, kind)).toEqual({ events: texts(whole!, kind).events, text: 0 });
    }
    expect(host!.events.length).toBe(whole!.events.length);
  }, 120_000);

  it('and its timeline (lanes, stalls, findings) is the one a whole read gives', async () => {
    const model = async (o: Parameters<typeof readTraceFile>[1]) => {
      const [h, g] = await read(o);
      return buildTimelineModel(analyzePair(h!, g!, { deferAdvice: true }), { title: 'pair' });
    };
    const ours = await model(serverReadOptions(settings, 'x'));
    const whole = await model({});
    expect(ours.meta).toEqual(whole.meta);
    expect(ours.lanes).toEqual(whole.lanes);
    expect(ours.links).toEqual(whole.links);
  }, 120_000);
});
