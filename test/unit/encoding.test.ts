// Invalid UTF-8 in a text trace: the bytes become U+FFFD, the rest loads, and VL1011 says where
// the first ones were (byte offset in the file, or in the decompressed text of a .gz, and line),
// however the file is read: in one piece or many, gzip, on one thread or in parts on workers.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTraceFile, ReadOptions } from '../../src/core/io/read-trace-file';
import { firstInvalidUtf8, Utf8Chunks } from '../../src/core/io/utf8-chunks';
import { DIAG } from '../../src/core/model/diagnostics';
import { bundleParseWorker } from './support/parse-worker';

const dir = mkdtempSync(path.join(tmpdir(), 'vl-utf8-'));
const worker = path.join(dir, 'parse-worker.js');
const GUEST = path.resolve(__dirname, '../fixtures/real/quiet-passive-local/guest.txt.gz');

beforeAll(async () => {
  await bundleParseWorker(worker);
}, 60_000);

/** Decodes `b` through Utf8Chunks in `size`-byte chunks: the text and where the first bad byte was. */
function decodeIn(b: Uint8Array, size: number): { text: string; offset?: number; line?: number } {
  const d = new Utf8Chunks();
  let text = '';
  let line: number | undefined;
  const piece = (s: string): void => {
    if (line === undefined && d.invalid !== undefined) {
      line = (text.match(/\n/g)?.length ?? 0) + 1 + d.invalid.newlinesBefore;
    }
    text += s;
  };
  for (let at = 0; at < b.length; at += size)
    piece(d.decode(Buffer.from(b.subarray(at, Math.min(b.length, at + size)))));
  piece(d.end());
  return { text, ...(d.invalid !== undefined ? { offset: d.invalid.offset, line: line! } : {}) };
}

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('Utf8Chunks: the first invalid bytes', () => {
  // Line 3 has é (2 bytes) and € (3 bytes) before a lone 0xff at byte 12; a cut é follows.
  const sample = bytes('ab\ncd\né€x', [0xff], 'y\n😀z\n', [0xc3], '!\n');

  it('are found at the same offset and line wherever the chunks are cut', () => {
    for (let size = 1; size <= sample.length; size++) {
      const r = decodeIn(sample, size);
      expect({ size, offset: r.offset, line: r.line }).toEqual({ size, offset: 12, line: 3 });
      expect(r.text).toBe('ab\ncd\né€x\ufffdy\n😀z\n\ufffd!\n');
    }
  });

  it('a U+FFFD written as such in the file is not invalid', () => {
    expect(decodeIn(bytes('a\n\ufffd\nb\n'), 2).offset).toBeUndefined();
  });

  it('a sequence cut by the end of the file is, at its first byte', () => {
    expect(decodeIn(bytes('ab\ncd', [0xe2, 0x82]), 3)).toMatchObject({ offset: 5, line: 2 });
  });

  it('a BOM is bytes of the file (offsets count it)', () => {
    expect(decodeIn(bytes([0xef, 0xbb, 0xbf], 'a\n', [0x80]), 2)).toMatchObject({
      offset: 5,
      line: 2,
    });
  });

  it.each([
    ['overlong /', [0xc0, 0xaf], 0],
    ['overlong 3-byte', [0xe0, 0x80, 0xaf], 0],
    ['a surrogate', [0xed, 0xa0, 0x80], 0],
    ['past U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['a lone continuation', [0x61, 0x80], 1],
    ['a cut sequence before ASCII', [0xe2, 0x82, 0x41], 0],
    [
      'valid: é € 😀 U+10FFFF',
      [0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xf4, 0x8f, 0xbf, 0xbf],
      -1,
    ],
  ])('firstInvalidUtf8: %s', (_what, b, at) => {
    expect(firstInvalidUtf8(Uint8Array.from(b))).toBe(at);
  });
});

describe('readTraceFile: VL1011 says where', () => {
  let lines: string[];
  beforeAll(() => {
    lines = gunzipSync(readFileSync(GUEST)).toString('utf8').split('\n');
  });

  /** The guest trace's first `n` lines, with a 0xff byte at the end of line `line`'s task name. */
  const damaged = (line: number, n = lines.length): { file: Buffer; offset: number } => {
    const l = lines[line - 1]!;
    const at = l.search(/-\d+ +\[/);
    const before = Buffer.from(lines.slice(0, line - 1).join('\n') + '\n' + l.slice(0, at));
    const after = Buffer.from(l.slice(at) + '\n' + lines.slice(line, n).join('\n'));
    return { file: Buffer.concat([before, Buffer.from([0xff]), after]), offset: before.length };
  };

  const vl1011 = async (file: string, opts: ReadOptions) => {
    const r = await readTraceFile(file, opts);
    expect(r.traces.length).toBe(1);
    const d = r.diagnostics.filter((x) => x.code === DIAG.encoding);
    expect(d.length).toBe(1);
    return { d: d[0]!, r };
  };

  it('in the head the sniffer reads (a small file), one thread', async () => {
    const { file, offset } = damaged(40, 200);
    const f = path.join(dir, 'small.txt');
    writeFileSync(f, file);
    const { d } = await vl1011(f, { threads: 1 });
    expect(d).toMatchObject({ offset, line: 40, severity: 'warning', source: f });
    expect(d.message).toBe(
      `the file has bytes that are not UTF-8 (the first at byte ${offset}, line 40); they were replaced by U+FFFD`,
    );
  });

  it('after the head, in 4 KiB reads and in 1 MiB reads, one thread', async () => {
    const { file, offset } = damaged(30_000);
    const f = path.join(dir, 'big.txt');
    writeFileSync(f, file);
    for (const chunkBytes of [4096, 1 << 20]) {
      const { d, r } = await vl1011(f, { threads: 1, chunkBytes, eventLines: true });
      expect(d).toMatchObject({ offset, line: 30_000 });
      // The line itself still loads (the bad byte sits in its task name).
      expect(r.traces[0]!.eventLines).toContain(30_000);
    }
  });

  it('in a .gz: the offset in the decompressed text', async () => {
    const { file, offset } = damaged(30_000);
    const f = path.join(dir, 'big.txt.gz');
    writeFileSync(f, gzipSync(file));
    const { d } = await vl1011(f, { threads: 1 });
    expect(d).toMatchObject({ offset, line: 30_000 });
    expect(d.message).toContain(`byte ${offset} of the decompressed text, line 30000`);
  });

  it('read in parts on workers: the same offset and line as one thread', async () => {
    const { file, offset } = damaged(45_000);
    const f = path.join(dir, 'parts.txt');
    writeFileSync(f, file);
    for (const threads of [2, 3]) {
      const { d } = await vl1011(f, { threads, workerScript: worker, parallelMinBytes: 0 });
      expect(d).toMatchObject({ offset, line: 45_000 });
    }
  });

  it('none for a U+FFFD written as UTF-8 in the file (a task named with it)', async () => {
    const f = path.join(dir, 'fffd.txt');
    writeFileSync(
      f,
      lines
        .slice(0, 500)
        .join('\n')
        .replace(/omp_barrier/g, 'omp_\ufffdbarrier') + '\n',
    );
    const r = await readTraceFile(f, { threads: 1 });
    expect(r.traces[0]!.events.length).toBeGreaterThan(400);
    expect(r.diagnostics.filter((x) => x.code === DIAG.encoding)).toEqual([]);
  });
});
