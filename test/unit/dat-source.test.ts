// core/io/dat-source.ts: a small .dat is read whole in one read, a big one by positional reads;
// both give the traces an in-memory read of the same bytes gives.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTraceDat } from '../../src/core/ingest/trace-dat/index';
import { nodeDecompressors } from '../../src/core/io/decompress';
import { readDatFile } from '../../src/core/io/dat-source';
import { traceInfo } from '../../src/core/report/info';
import { dumpEvents } from './support/dump';
import { REAL } from './support/fixtures';

const FILE = path.join(REAL, 'heavy-quiet-passive-tsc/host.dat');

describe('readDatFile', () => {
  it('reads a small .dat (whole, in one read) as the bytes in memory read', () => {
    const bytes = readFileSync(FILE);
    const want = importTraceDat(bytes, { name: 'h.dat', decompressors: nodeDecompressors });
    const got = readDatFile(FILE, bytes.length, { name: 'h.dat' });
    expect(got.map(traceInfo)).toEqual(want.map(traceInfo));
    expect(dumpEvents(got[0]!)).toEqual(dumpEvents(want[0]!));
  });

  it('reads a file that is shorter than its size says as damaged there (positional reads)', () => {
    const bytes = readFileSync(FILE);
    const got = readDatFile(FILE, bytes.length + 4096, { name: 'h.dat' });
    expect(got[0]!.events.length).toBeGreaterThan(1000);
  });
});
