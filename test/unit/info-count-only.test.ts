// A .dat read count-only (ImportOptions.countOnly, what `info` asks for): the events are counted,
// not kept, and info's report (counts, span, tasks, CPUs, diagnostics with their offsets) is the
// same as a full read's, on whole files and on damaged copies of them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeTraceDat } from '../../src/core/export/trace-dat-writer';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';
import { CpuStream } from '../../src/core/ingest/trace-dat/kbuffer';
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

/** A sched_switch line of trace-cmd report (owner: the previous task). */
const sw = (cpu: number, t: string, prev: [string, number], next: [string, number]): string =>
  `${`${prev[0]}-${prev[1]}`.padStart(16)} [00${cpu}] ${t}: sched_switch: prev_comm=${prev[0]} prev_pid=${prev[1]} prev_prio=120 prev_state=S ==> next_comm=${next[0]} next_pid=${next[1]} next_prio=120\n`;
/** A sched_waking line owned by `owner` (waking names a task but teaches no comm). */
const waking = (cpu: number, t: string, owner: [string, number]): string =>
  `${`${owner[0]}-${owner[1]}`.padStart(16)} [00${cpu}] ${t}: sched_waking: comm=x pid=9 prio=120 target_cpu=000\n`;

/** A two-CPU .dat of these lines whose saved cmdlines lack pid 77 (named from sched events). */
function dat(lines: string[]): Uint8Array {
  const t = importFtraceText('cpus=2\n' + lines.join(''))[0]!;
  return writeTraceDat(t, { cmdlinesWithout: new Set([77]) });
}

/** The comms the read gave pid 77 (owners and sched payloads alike). */
function namesOf77(t: Trace): string[] {
  const out = new Set<string>();
  for (let i = 0; i < t.tasks.size; i++) if (t.tasks.pid(i) === 77) out.add(t.tasks.comm(i));
  return [...out].sort();
}

describe('a .dat counted without the merge', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(LAB.map((f) => [path.relative(REAL, f), f]))(
    'counts a clean file page by page, never event by event: %s',
    (_, file) => {
      const next = vi.spyOn(CpuStream.prototype, 'next');
      const counted = read(readFileSync(file), true);
      expect(next).not.toHaveBeenCalled();
      expect(counted[0]!.eventTally!.count).toBeGreaterThan(1000);
    },
  );

  it('reads a damaged copy in order (event by event), as the ordered read reports it', () => {
    const next = vi.spyOn(CpuStream.prototype, 'next');
    expectSameInfo(flipped(readFileSync(LAB[0]!), 16, 16));
    expect(next).toHaveBeenCalled();
  });

  // Which of a pid's events comes first across CPUs decides whether its owner is `<...>` (an
  // event before any sched event named it) in the merge's order, not in the order CPUs are read.
  it.each([
    [
      'an event on CPU 1 before CPU 0 names the pid: <...>',
      [sw(0, '1.000002', ['swapper/0', 0], ['worker', 77]), waking(1, '1.000001', ['worker', 77])],
      ['<...>', 'worker'],
    ],
    [
      'CPU 0 names the pid before its event on CPU 1: no <...>',
      [sw(0, '1.000001', ['swapper/0', 0], ['worker', 77]), waking(1, '1.000002', ['worker', 77])],
      ['worker'],
    ],
    [
      'the same time, the event on the lower CPU: <...>',
      [waking(0, '1.000001', ['worker', 77]), sw(1, '1.000001', ['swapper/1', 0], ['worker', 77])],
      ['<...>', 'worker'],
    ],
    [
      'the same time, the naming on the lower CPU: no <...>',
      [sw(0, '1.000001', ['swapper/0', 0], ['worker', 77]), waking(1, '1.000001', ['worker', 77])],
      ['worker'],
    ],
    [
      'the switch away from a pid never named before it names it in the same event: <...>',
      [sw(1, '1.000001', ['worker', 77], ['swapper/1', 0])],
      ['<...>', 'worker'],
    ],
  ])('%s', (_, lines, names) => {
    const bytes = dat(lines);
    const next = vi.spyOn(CpuStream.prototype, 'next');
    const { full, counted } = expectSameInfo(bytes);
    expect(namesOf77(full[0]!)).toEqual(names);
    expect(namesOf77(counted[0]!)).toEqual(names);
    // The counted read did not fall back to the ordered one (the full read steps events: 1 call
    // per event and stream end).
    expect(next.mock.calls.length).toBe(full[0]!.events.length + 2);
  });
});
