// The CLI's loadTraces (analyze reads a host and a guest file at once): .dat files each under
// inlineDatBytes are read on the calling thread one after another; of bigger ones the biggest
// file not split over workers is read on the calling thread only after the other reads have
// started (ReadOptions.onStarted), so the reads run side by side; each file is handed over as
// soon as it is read (onLoaded); a file whose worker is still reading when this thread's read is
// done is read here too.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { LoadResult, ReadOptions } from '../../src/core/io/read-trace-file';
import { REAL } from './support/fixtures';

/** What happened, in order: each read's start (`read <file>`) and its onStarted (`started <file>`). */
const seen = vi.hoisted(() => [] as string[]);
const given = vi.hoisted(() => new Map<string, ReadOptions>());
vi.mock('../../src/core/io/read-trace-file', async (orig) => {
  const real = await orig<typeof import('../../src/core/io/read-trace-file')>();
  return {
    ...real,
    readTraceFile: (p: string, o: ReadOptions = {}) => {
      const name = path.basename(p);
      seen.push(`read ${name}`);
      given.set(name, o);
      const onStarted = o.onStarted;
      return real.readTraceFile(p, {
        ...o,
        ...(onStarted !== undefined
          ? {
              onStarted: () => {
                seen.push(`started ${name}`);
                onStarted();
              },
            }
          : {}),
      });
    },
  };
});

const { loadTraces } = await import('../../src/cli/progress');
const { readTraceFile } = await import('../../src/core/io/read-trace-file');

const DIR = path.join(REAL, 'quiet-passive-tsc');
/** host.dat is 2.1 MB, guest.dat 1.3 MB. */
const HOST = path.join(DIR, 'host.dat');
const GUEST = path.join(DIR, 'guest.dat');
const noPair = existsSync(HOST) ? undefined : ` (skipped: ${HOST} is missing)`;

describe('loadTraces of two small .dat files', () => {
  it.skipIf(noPair)(
    `reads both on this thread, each handed over before the next is read${noPair ?? ''}`,
    async () => {
      seen.length = 0;
      given.clear();
      const order: string[] = [];
      const rs = await loadTraces([HOST, GUEST], { eventText: false }, undefined, (k, r) => {
        order.push(`${k} ${path.basename(r.path)} ${r.traces[0]?.events.length ?? 0}`);
        seen.push(`loaded ${path.basename(r.path)}`);
      });
      expect(seen).toEqual([
        'read host.dat',
        'loaded host.dat',
        'read guest.dat',
        'loaded guest.dat',
      ]);
      expect(given.get('host.dat')?.workerMinBytes).toBe(Infinity);
      expect(given.get('guest.dat')?.workerMinBytes).toBe(Infinity);
      expect(rs.map((r: LoadResult) => path.basename(r.path))).toEqual(['host.dat', 'guest.dat']);
      expect(order).toEqual(['0 host.dat 173361', '1 guest.dat 60450']);
    },
    60_000,
  );

  it.skipIf(noPair)(
    `leaves them to workers when given workerMinBytes${noPair ?? ''}`,
    async () => {
      seen.length = 0;
      given.clear();
      await loadTraces([HOST, GUEST], { eventText: false, workerMinBytes: 0 });
      expect(seen.slice(0, 2)).toEqual(['read host.dat', 'read guest.dat']);
      expect(given.get('host.dat')?.workerMinBytes).toBe(0);
      expect(given.get('guest.dat')?.workerMinBytes).toBe(0);
    },
    60_000,
  );
});

describe('loadTraces of two .dat files over inlineDatBytes', () => {
  it.skipIf(noPair)(
    `reads the bigger on this thread once the other has started${noPair ?? ''}`,
    async () => {
      seen.length = 0;
      given.clear();
      const order: string[] = [];
      const rs = await loadTraces(
        [HOST, GUEST],
        { inlineDatBytes: 1_000_000 },
        undefined,
        (k, r) => {
          order.push(`${k} ${path.basename(r.path)} ${r.traces[0]?.events.length ?? 0}`);
        },
      );
      expect(seen.slice(0, 3)).toEqual(['read guest.dat', 'started guest.dat', 'read host.dat']);
      expect(given.get('host.dat')?.workerMinBytes).toBe(Infinity);
      expect(given.get('guest.dat')?.workerMinBytes).toBeUndefined();
      // Results in file order, each handed to onLoaded once.
      expect(rs.map((r: LoadResult) => path.basename(r.path))).toEqual(['host.dat', 'guest.dat']);
      expect(order.sort()).toEqual(['0 host.dat 173361', '1 guest.dat 60450']);
    },
    60_000,
  );

  it.skipIf(noPair)(
    `in the other order, still the bigger one waits${noPair ?? ''}`,
    async () => {
      seen.length = 0;
      given.clear();
      await loadTraces([GUEST, HOST], { eventText: false, inlineDatBytes: 1_000_000 });
      expect(seen.slice(0, 3)).toEqual(['read guest.dat', 'started guest.dat', 'read host.dat']);
      expect(given.get('host.dat')?.workerMinBytes).toBe(Infinity);
    },
    60_000,
  );

  it.skipIf(noPair)(
    `leaves a file split over workers to them, the other on this thread${noPair ?? ''}`,
    async () => {
      seen.length = 0;
      given.clear();
      // host.dat (2.1 MB) counts as big: it would be read in parts, so guest.dat is the one here.
      await loadTraces([HOST, GUEST], {
        eventText: false,
        parallelMinBytes: 2_000_000,
        inlineDatBytes: 1_000_000,
      });
      expect(seen.slice(0, 3)).toEqual(['read host.dat', 'started host.dat', 'read guest.dat']);
      expect(given.get('guest.dat')?.workerMinBytes).toBe(Infinity);
      expect(given.get('host.dat')?.workerMinBytes).toBeUndefined();
    },
    60_000,
  );
});

describe('loadTraces with a worker still reading when this thread is done', () => {
  it.skipIf(noPair)(
    `reads that file here too and drops the worker${noPair ?? ''}`,
    async () => {
      seen.length = 0;
      given.clear();
      // A worker that never answers: only reading guest.dat here too ends the load.
      const dir = mkdtempSync(path.join(tmpdir(), 'vl-load-'));
      const workerScript = path.join(dir, 'silent-worker.js');
      writeFileSync(workerScript, 'setInterval(() => {}, 1000);\n');
      const order: string[] = [];
      const rs = await loadTraces(
        [HOST, GUEST],
        { workerScript, inlineDatBytes: 1_000_000 },
        undefined,
        (k, r) => {
          order.push(`${k} ${path.basename(r.path)} ${r.traces[0]?.events.length ?? 0}`);
        },
      );
      expect(seen).toEqual([
        'read guest.dat',
        'started guest.dat',
        'read host.dat',
        'read guest.dat',
      ]);
      expect(given.get('guest.dat')?.workerMinBytes).toBe(Infinity);
      expect(rs.map((r: LoadResult) => r.traces[0]?.events.length)).toEqual([173361, 60450]);
      expect(rs[1]!.diagnostics).toEqual([]);
      // Each file handed to onLoaded once: the dropped worker's read is not.
      expect(order.sort()).toEqual(['0 host.dat 173361', '1 guest.dat 60450']);
    },
    60_000,
  );
});

describe('loadTraces of a text file and a .dat', () => {
  it.skipIf(noPair)(
    `reads them as before, neither waiting${noPair ?? ''}`,
    async () => {
      seen.length = 0;
      given.clear();
      // The text is streamed on this thread between its chunks: a .dat read there would stall it.
      await loadTraces([path.join(DIR, 'host.txt.gz'), GUEST], { eventText: false });
      expect(seen.slice(0, 2).sort()).toEqual(['read guest.dat', 'read host.txt.gz']);
      expect(given.get('guest.dat')?.workerMinBytes).toBeUndefined();
      expect(given.get('host.txt.gz')?.workerMinBytes).toBeUndefined();
    },
    60_000,
  );
});

describe("readTraceFile's onStarted", () => {
  it('is called once for a file that cannot be read', async () => {
    let n = 0;
    const r = await readTraceFile(path.join(DIR, 'no-such-file.dat'), { onStarted: () => n++ });
    expect(r.traces).toEqual([]);
    expect(n).toBe(1);
  });

  it.skipIf(noPair)(`is called once for a read on this thread${noPair ?? ''}`, async () => {
    let n = 0;
    const r = await readTraceFile(GUEST, {
      eventText: false,
      workerMinBytes: Infinity,
      onStarted: () => n++,
    });
    expect(n).toBe(1);
    expect(r.traces[0]?.events.length).toBe(60450);
  });
});
