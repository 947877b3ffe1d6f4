// A .dat read count-only (ImportOptions.countOnly, what `info` asks for): the events are counted,
// not kept, and info's report (counts, span, tasks, CPUs, diagnostics with their offsets) is the
// same as a full read's, on whole files and on damaged copies of them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { traceInfo } from '../../src/core/report/info';
import { importTraceDat } from '../../src/core/ingest/trace-dat/index';
import { nodeDecompressors } from '../../src/core/io/decompress';
import type { Trace } from '../../src/core/model/trace';
import { missing, PEER, REAL } from './support/fixtures';
import { mulberry32 as rng } from '../../src/core/sim/rng';

/** zstd v7 host and guest captures of the lab (host with markers and syscalls). */
const LAB = [
  'quiet-passive-tsc/host.dat',
  'quiet-passive-tsc/guest.dat',
  'heavy-noisy-active-tsc/host.dat',
].map((f) => path.join(REAL, f));
/** v6 raw peer files: a function tracer's, and a sched one. */
const PEER_FILES = [
  'wsdias__LabSisOp/t3__qemu_traces__sched_rr_trace.dat',
  'ARM-software__lisa/tests__trace.dat',
].map((f) => path.join(PEER, f));
const noPeer = missing(PEER, '../shared/fixtures/peer');

function read(bytes: Uint8Array, countOnly: boolean): Trace[] {
  return importTraceDat(bytes, {
    name: 'x.dat',
    decompressors: nodeDecompressors,
    eventText: false,
    countOnly,
  });
}

/** info's report of both reads, trace by trace. */
function both(bytes: Uint8Array): { full: Trace[]; counted: Trace[] } {
  return { full: read(bytes, false), counted: read(bytes, true) };
}

/** `n` bits flipped past the first 4 KiB (a flipped magic only makes it "not a .dat"). */
function flipped(bytes: Uint8Array, n: number, seed: number): Uint8Array {
  const b = Uint8Array.from(bytes);
  const r = rng(seed);
  for (let j = 0; j < n; j++) b[4096 + Math.floor(r() * (b.length - 4096))]! ^= 1 << (j & 7);
  return b;
}

function expectSameInfo(bytes: Uint8Array): { full: Trace[]; counted: Trace[] } {
  const { full, counted } = both(bytes);
  expect(counted.map(traceInfo)).toEqual(full.map(traceInfo));
  return { full, counted };
}

describe('a .dat read count-only', () => {
  it.each(LAB.map((f) => [path.relative(REAL, f), f]))(
    'gives info the same report as a full read: %s',
    (_, file) => {
      const { full } = expectSameInfo(readFileSync(file));
      expect(full[0]!.events.length).toBeGreaterThan(10_000);
    },
  );

  it('keeps no events, only their tally', () => {
    const { full, counted } = both(readFileSync(LAB[0]!));
    expect(counted[0]!.events.length).toBe(0);
    expect(counted[0]!.eventTally?.count).toBe(full[0]!.events.length);
    expect(full[0]!.eventTally).toBeUndefined();
  });

  it.each([0.35, 0.8])('reports a copy cut at %f of its length the same way', (cut) => {
    const bytes = readFileSync(LAB[0]!);
    const { counted } = expectSameInfo(bytes.subarray(0, Math.floor(bytes.length * cut)));
    expect(counted[0]!.diagnostics.some((d) => d.offset !== undefined)).toBe(true);
  });

  it.each([16, 200])('reports a copy with %i bits flipped the same way', (n) => {
    const { counted } = expectSameInfo(flipped(readFileSync(LAB[0]!), n, n));
    expect(counted[0]!.diagnostics.length).toBeGreaterThan(0);
  });

  it.skipIf(noPeer)(
    `gives info the same report for v6 files, whole and damaged${noPeer ?? ''}`,
    () => {
      for (const file of PEER_FILES) {
        const bytes = readFileSync(file);
        expectSameInfo(bytes);
        expectSameInfo(bytes.subarray(0, Math.floor(bytes.length * 0.6)));
        const { counted } = expectSameInfo(flipped(bytes, 64, 7));
        expect(counted[0]!.diagnostics.length).toBeGreaterThan(0);
      }
    },
  );
});
