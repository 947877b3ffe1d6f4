// A .dat read for a command that prints no event text (ImportOptions.eventText false, `info`):
// the same counts, tasks and diagnostics as a full read, without printing the text-only events
// (so without the kallsyms their %ps would need).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { traceInfo } from '../../src/core/report/info';
import { importTraceDat } from '../../src/core/ingest/trace-dat/index';
import type { Decompressors } from '../../src/core/ingest/trace-dat/index';
import { nodeDecompressors } from '../../src/core/io/decompress';
import { Kind } from '../../src/core/model/event-kinds';
import type { Trace } from '../../src/core/model/trace';
import { missing, PEER, REAL } from './support/fixtures';

/** The real host .dat with print markers and syscall events (zstd v7), and a function-tracer v6. */
const HOST = path.join(REAL, 'quiet-passive-tsc/host.dat');
const FUNCTION_V6 = path.join(PEER, 'wsdias__LabSisOp/t3__qemu_traces__sched_rr_trace.dat');
const noHost = existsSync(HOST) ? undefined : ` (skipped: ${HOST} is missing)`;
const noPeer = missing(PEER, '../shared/fixtures/peer');

/** Reads `file` both ways, counting the bytes each way decompressed. */
function both(file: string): { full: Trace; lean: Trace; fullBytes: number; leanBytes: number } {
  const bytes = readFileSync(file);
  const counting = (): { dec: Decompressors; n: () => number } => {
    let n = 0;
    return {
      dec: {
        zlib: (i, o) => {
          const r = nodeDecompressors.zlib!(i, o);
          n += r.length;
          return r;
        },
        zstd: (i, o) => {
          const r = nodeDecompressors.zstd!(i, o);
          n += r.length;
          return r;
        },
      },
      n: () => n,
    };
  };
  const a = counting();
  const b = counting();
  const [full] = importTraceDat(bytes, { name: 'x.dat', decompressors: a.dec });
  const [lean] = importTraceDat(bytes, { name: 'x.dat', decompressors: b.dec, eventText: false });
  return { full: full!, lean: lean!, fullBytes: a.n(), leanBytes: b.n() };
}

const TEXT_ONLY: readonly number[] = [Kind.generic, Kind.sysEnter, Kind.sysExit, Kind.print];

/** Events of the text-only kinds, and how many of them have a text. */
function textOnly(t: Trace): { events: number; withText: number } {
  let events = 0;
  let withText = 0;
  for (let i = 0; i < t.events.length; i++) {
    const kind = t.eventTypes[t.events.type(i)]!.kind;
    if (!TEXT_ONLY.includes(kind)) continue;
    events++;
    if (t.events.a0(i) >= 0) withText++;
  }
  return { events, withText };
}

describe('a .dat read without event text', () => {
  it.skipIf(noHost)(`gives info the same report as a full read${noHost ?? ''}`, () => {
    const { full, lean } = both(HOST);
    expect(traceInfo(lean)).toEqual(traceInfo(full));
  });

  it.skipIf(noHost)(
    `keeps the scheduler payloads, drops only the text-only ones${noHost ?? ''}`,
    () => {
      const { full, lean } = both(HOST);
      expect(lean.events.length).toBe(full.events.length);
      let sched = 0;
      let differ = 0;
      for (let i = 0; i < full.events.length; i++) {
        const kind = full.eventTypes[full.events.type(i)]!.kind;
        if (kind !== Kind.schedSwitch && kind !== Kind.schedWakeup) continue;
        sched++;
        if (lean.events.a0(i) !== full.events.a0(i) || lean.events.a1(i) !== full.events.a1(i))
          differ++;
      }
      expect(sched).toBeGreaterThan(1000);
      expect(differ).toBe(0);
      const f = textOnly(full);
      expect(f.events).toBeGreaterThan(0);
      expect(f.withText).toBe(f.events);
      expect(textOnly(lean)).toEqual({ events: f.events, withText: 0 });
    },
  );

  it.skipIf(noHost)(`never decompresses the kallsyms the markers' %ps needs${noHost ?? ''}`, () => {
    const { fullBytes, leanBytes } = both(HOST);
    // The kallsyms section of this kernel is megabytes; everything else read is less than that.
    expect(fullBytes - leanBytes).toBeGreaterThan(1 << 20);
  });

  it.skipIf(noPeer)(
    `counts a function tracer's events without printing them${noPeer ?? ''}`,
    () => {
      const { full, lean } = both(FUNCTION_V6);
      expect(traceInfo(lean)).toEqual(traceInfo(full));
      expect(textOnly(lean)).toEqual({ events: textOnly(full).events, withText: 0 });
      expect(textOnly(full).events).toBeGreaterThan(10_000);
    },
  );
});
