// readFileChunks: the bytes of a file range in reads of a given size through two reused buffers,
// each read copied out before the next is asked for (as the text readers decode each one).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileChunks } from '../../src/core/io/read-range';

const dir = mkdtempSync(join(tmpdir(), 'vl-read-range-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 10,007 bytes that differ from their neighbours (a prime length: no read size divides it). */
const BYTES = Buffer.from(Array.from({ length: 10_007 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
const FILE = join(dir, 'bytes.bin');
writeFileSync(FILE, BYTES);

/** The chunks read, each copied when it arrives; `stopAfter`: leave the loop after that many. */
async function collect(
  start: number,
  end: number,
  size: number,
  stopAfter = Infinity,
): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const b of readFileChunks(FILE, start, end, size)) {
    out.push(Buffer.from(b));
    if (out.length >= stopAfter) break;
  }
  return out;
}

describe('readFileChunks', () => {
  it.each([
    ['the whole file in 1 KiB reads', 0, Infinity, 1024],
    ['the whole file in one read bigger than it', 0, Infinity, 1 << 20],
    ['a middle range in 1,000-byte reads', 123, 9_001, 1000],
    ['a range past the end of the file', 9_000, 20_000, 333],
    ['single bytes', 9_990, Infinity, 1],
  ])('%s: the range, in order, no read longer than asked', async (_, start, end, size) => {
    const chunks = await collect(start, end, size);
    expect(Buffer.concat(chunks).equals(BYTES.subarray(start, Math.min(end, BYTES.length)))).toBe(
      true,
    );
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(size);
  });

  it('an empty range yields nothing', async () => {
    expect(await collect(500, 500, 64)).toEqual([]);
  });

  it('a caller that stops early gets what it read, and the file can be read again at once', async () => {
    const first = await collect(0, Infinity, 100, 3);
    expect(Buffer.concat(first).equals(BYTES.subarray(0, 300))).toBe(true);
    expect(Buffer.concat(await collect(0, Infinity, 4096)).equals(BYTES)).toBe(true);
  });

  it('a missing file rejects (readers turn it into a diagnostic)', async () => {
    const it = readFileChunks(join(dir, 'absent.bin'), 0, Infinity, 64);
    await expect(it.next()).rejects.toThrow(/ENOENT/);
  });
});
