// `vcpu-lens analyze` reads a .dat with only the event text its analysis looks into
// (analyze/pair.ts analysisEventText, ImportOptions.eventText as a list of kinds): print markers
// stay unprinted unless --barrier-marker or a pairing reads them, so their %ps never needs the
// file's kallsyms; the report is the same as from a full read.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { analysisEventText } from '../../src/core/analyze/pair';
import { importTraceDat } from '../../src/core/ingest/trace-dat/index';
import { nodeDecompressors } from '../../src/core/io/decompress';
import type { ReadOptions } from '../../src/core/io/read-trace-file';
import { Kind } from '../../src/core/model/event-kinds';
import type { Trace } from '../../src/core/model/trace';
import { REAL } from './support/fixtures';

/** Every ReadOptions the CLI's reads were given (the real reader still reads). */
const reads = vi.hoisted(() => [] as ReadOptions[]);
vi.mock('../../src/core/io/read-trace-file', async (orig) => {
  const real = await orig<typeof import('../../src/core/io/read-trace-file')>();
  return {
    ...real,
    readTraceFile: (p: string, o: ReadOptions = {}) => {
      reads.push(o);
      return real.readTraceFile(p, o);
    },
  };
});

const { analyzeCommand } = await import('../../src/cli/commands/analyze');

/** A real pair whose host has print markers and syscall events (zstd v7). */
const DIR = path.join(REAL, 'quiet-passive-tsc');
const HOST = path.join(DIR, 'host.dat');
const GUEST = path.join(DIR, 'guest.dat');
const noPair = existsSync(HOST) ? undefined : ` (skipped: ${HOST} is missing)`;

/** Events of `kinds`, and how many of them have a text. */
function withText(t: Trace, kinds: number[]): { events: number; text: number } {
  let events = 0;
  let text = 0;
  for (let i = 0; i < t.events.length; i++) {
    if (!kinds.includes(t.eventTypes[t.events.type(i)]!.kind)) continue;
    events++;
    if (t.events.a0(i) >= 0) text++;
  }
  return { events, text };
}

describe("the event text analyze's reads keep", () => {
  it('are the generic events and kvm_vcpu_wakeup, not markers or syscalls', () => {
    const kinds = analysisEventText({});
    expect(kinds).toEqual(expect.arrayContaining(['generic', 'kvm_vcpu_wakeup']));
    expect(kinds).not.toContain('print');
    expect(kinds).not.toContain('syscall');
  });

  it('include the markers for --barrier-marker', () => {
    expect(analysisEventText({ advice: { barrierMarker: /barrier/ } })).toEqual(
      expect.arrayContaining(['generic', 'kvm_vcpu_wakeup', 'print']),
    );
  });

  it('are every event for a pairing (matched against name: text)', () => {
    expect(analysisEventText({ pairing: { guest: /x/, host: /y/ } })).toBe(true);
  });
});

describe('a .dat read with a list of text kinds', () => {
  it.skipIf(noPair)(`prints only the kinds listed${noPair ?? ''}`, () => {
    const bytes = readFileSync(HOST);
    const read = (eventText: NonNullable<ReadOptions['eventText']>): Trace =>
      importTraceDat(bytes, { name: 'h.dat', decompressors: nodeDecompressors, eventText })[0]!;
    const markers = read(['print']);
    const sched = read(['generic', 'kvm_vcpu_wakeup']);
    const sys = [Kind.sysEnter, Kind.sysExit];
    expect(withText(markers, [Kind.print])).toEqual({ events: 7, text: 7 });
    expect(withText(markers, sys)).toEqual({ events: 80, text: 0 });
    expect(withText(sched, [Kind.print])).toEqual({ events: 7, text: 0 });
    expect(withText(sched, sys)).toEqual({ events: 80, text: 0 });
    expect(withText(read(['syscall']), sys)).toEqual({ events: 80, text: 80 });
    expect(sched.events.length).toBe(markers.events.length);
  });
});

describe('vcpu-lens analyze of a real .dat pair', () => {
  it.skipIf(noPair)(
    `reads without the markers' text and reports as from a full read${noPair ?? ''}`,
    async () => {
      const run = async (read: ReadOptions): Promise<string> => {
        let out = '';
        const code = await analyzeCommand(HOST, GUEST, { json: true, read, pair: {} }, (s) => {
          out += s;
        });
        expect(code).toBe(0);
        return out;
      };
      reads.length = 0;
      const lean = await run({});
      expect(reads.map((o) => o.eventText)).toEqual([analysisEventText({}), analysisEventText({})]);
      const full = await run({ eventText: true });
      expect(reads.slice(2).map((o) => o.eventText)).toEqual([true, true]);
      expect(JSON.parse(lean)).toEqual(JSON.parse(full));
    },
    60_000,
  );
});
