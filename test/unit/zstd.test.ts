// The zstd decoder used for .dat chunks where Node has no zstd (< 22.15): it decodes what the
// zstd CLI writes byte for byte, and refuses corrupt frames quickly, without running what they
// claim. fzstd, which it replaces, spent ~1.5 s on one corrupt 71-byte frame (fuzz corpus) and
// never returns from another (below).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZstdError, zstdDecompress } from '../../src/core/ingest/trace-dat/zstd';
import { cpuMs } from './support/fuzz';
import { frames, hex, refused } from './support/zstd-frames';

const FIXTURES = path.resolve(__dirname, '../fixtures');

/** The inputs test/fixtures/zstd/README.md says each frame was made from. */
function inputs(): Map<string, Uint8Array> {
  const text = gunzipSync(
    readFileSync(path.join(FIXTURES, 'real/quiet-passive-local/guest.txt.gz')),
  ).subarray(0, 140_000);
  const random = new Uint8Array(5000);
  let x = 1;
  for (let i = 0; i < random.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    random[i] = x & 255;
  }
  return new Map<string, Uint8Array>([
    ['text', text],
    ['text30k', text.subarray(0, 30_000)],
    ['small', text.subarray(0, 37)],
    ['random', random],
    ['zeros', new Uint8Array(300_000)],
  ]);
}

const sources = inputs();
const sourceOf = (file: string): Uint8Array => sources.get(file.split(/[-.]/)[0]!)!;



describe('zstd frames decode byte for byte', () => {
  it('has the frames the README lists', () => {
    expect(frames.map(([f]) => f).sort()).toEqual([
      'random-5000.zst',
      'small-19.zst',
      'text-1.zst',
      'text-19.zst',
      'text-nosize.zst',
      'text30k-wlog10.zst',
      'zeros.zst',
    ]);
  });

  it.each(frames)('%s (zstd CLI 1.5.4)', (file, z) => {
    const want = sourceOf(file);
    const out = zstdDecompress(z, want.length);
    expect(out.length).toBe(want.length);
    expect(Buffer.compare(Buffer.from(out), Buffer.from(want))).toBe(0);
  });

  // Parts the CLI's frames above do not reach, written by hand (and checked with `zstd -d`).
  it.each([
    [
      'two blocks, the second reusing the first offset minus one (no literals, offset code 3)',
      '28b52ffd0000 4c0000 10616201540202010 5 3d0000 00015400010003',
      'abababbbb',
    ],
    ['literals as one repeated byte (RLE literals)', '28b52ffd0000 1d0000 297800', 'xxxxx'],
    [
      'Huffman weights stored directly (4 bits each)',
      '28b52ffd0000 3d0000 42c000801016 00',
      '\u0000\u0001\u0001\u0000',
    ],
  ])('%s', (_what, frame, text) => {
    const out = zstdDecompress(hex(frame), text.length);
    expect(Buffer.from(out).toString('latin1')).toBe(text);
  });

  it('decodes frames one after the other and skips skippable frames', () => {
    const a = frames.find(([f]) => f === 'small-19.zst')![1];
    const b = frames.find(([f]) => f === 'random-5000.zst')![1];
    const skippable = hex('502a4d18 03000000 010203');
    const out = zstdDecompress(Uint8Array.from([...a, ...skippable, ...b]), 37 + 5000);
    expect(Buffer.from(out.subarray(0, 37))).toEqual(Buffer.from(sourceOf('small')));
    expect(Buffer.from(out.subarray(37))).toEqual(Buffer.from(sourceOf('random')));
  });

  it('returns fewer bytes than claimed when the frames end early (the caller says so)', () => {
    const z = frames.find(([f]) => f === 'text-nosize.zst')![1];
    expect(zstdDecompress(z, 150_000).length).toBe(140_000);
  });
});

describe('corrupt zstd is refused before it is run', () => {
  it('the corrupt 71-byte CMDLINES frame of fuzz-corpus/dat/3eaef42c, in milliseconds', () => {
    // fzstd ran the 65,280 sequences this frame claims for its 89 bytes: ~1.5 s, then returned
    // what it had written as the section.
    const file = readFileSync(path.join(FIXTURES, 'fuzz-corpus/dat/3eaef42c.bin'));
    const csize = file.readUInt32LE(1057);
    const usize = file.readUInt32LE(1061);
    expect([csize, usize]).toEqual([71, 89]);
    const frame = new Uint8Array(file.subarray(1065, 1065 + csize));
    const r = refused(() => zstdDecompress(frame, usize));
    expect(r.message).toBe('65280 sequences and 44 literals cannot fit in the 89 bytes left');
    expect(r.ms).toBeLessThan(100);
  });

  it('Huffman weights whose FSE states read no bits, in milliseconds (fzstd never returns)', () => {
    // One weight symbol at full probability: every state reads 0 bits, so the bits never run
    // out; at most 255 weights can be meant.
    const frame = hex('28b52ffd20c8 650000 a20002 05 10f801 ffff ff01 00');
    const r = refused(() => zstdDecompress(frame, 200));
    expect(r.message).toBe('more than 255 Huffman weights');
    expect(r.ms).toBeLessThan(100);
  });

  it('a frame that holds more than the claimed size, before decoding it', () => {
    const z = frames.find(([f]) => f === 'text-1.zst')![1];
    expect(refused(() => zstdDecompress(z, 1000)).message).toBe(
      'frame holds 140000 bytes, more than the 1000 claimed',
    );
    // Without a content size in the header: at the first block past the claim.
    const n = frames.find(([f]) => f === 'text-nosize.zst')![1];
    expect(refused(() => zstdDecompress(n, 1000)).message).toMatch(/cannot fit|more than/);
    const zeros = frames.find(([f]) => f === 'zeros.zst')![1];
    expect(refused(() => zstdDecompress(zeros, 4096)).message).toMatch(/more than/);
  });

  it.each([
    ['a window of 2^28', '28b52ffd0090 010000', 'window of 2^28 bytes (more than 2^27)'],
    ['a dictionary', '28b52ffd0100 07 010000', 'frame needs dictionary 7'],
    ['the reserved header bit', '28b52ffd0800 010000', 'reserved bit set in a frame header'],
    ['the reserved block type', '28b52ffd0000 070000', 'reserved block type'],
    ['a block past the input', '28b52ffd0000 410000 6161', 'block of 8 bytes runs past the input'],
    ['a block bigger than its window', '28b52ffd0000 01200000', 'block of 1024 bytes'],
    [
      'a block bigger than 128 KiB',
      '28b52ffd0040 090010',
      'block of 131073 bytes (more than 131072',
    ],
    ['not zstd', '00112233 44', 'not a zstd frame (magic 0x33221100)'],
    ['a cut header', '28b52ffd00', 'input ends inside a frame header'],
  ])('%s', (_what, frame, message) => {
    const r = refused(() => zstdDecompress(hex(frame), 1 << 20));
    expect(r.message.startsWith(message)).toBe(true);
  });

  it('a frame cut at any byte is an error, never anything else', () => {
    const z = frames.find(([f]) => f === 'text30k-wlog10.zst')![1];
    // Every byte through the header and the first blocks, then every 61st.
    for (let cut = 1; cut < z.length; cut += cut < 600 ? 1 : 61)
      refused(() => zstdDecompress(z.subarray(0, cut), 30_000));
  });

  it('mutated frames: an error or at most the claimed bytes, each within 50 ms of CPU', () => {
    let worst = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: frames.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: -64, max: 64 }),
        (i, edits, slack) => {
          const [file, z] = frames[i]!;
          const m = z.slice();
          for (const [at, v] of edits) m[at % m.length] = v;
          const claim = Math.max(0, sourceOf(file).length + slack);
          const t0 = cpuMs();
          try {
            expect(zstdDecompress(m, claim).length).toBeLessThanOrEqual(claim);
          } catch (e) {
            if (!(e instanceof ZstdError)) throw e;
          }
          worst = Math.max(worst, cpuMs() - t0);
        },
      ),
      { numRuns: 1500, seed: 20261130 },
    );
    expect(worst).toBeLessThan(50);
  });
});
