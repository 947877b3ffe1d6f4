// libzstd as WebAssembly (src/core/io/zstd-wasm.ts), the zstd of Node < 22.15: it decodes what our
// JavaScript decoder (the checked reference, zstd.test.ts) decodes, byte for byte, on the zstd
// CLI's frames and on every chunk of a real .dat, and refuses corrupt or oversized frames with a
// ZstdError, quickly, never writing past the size the chunk claims.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { importTraceDat } from '../../src/core/ingest/trace-dat/index';
import { ZstdError, zstdDecompress } from '../../src/core/ingest/trace-dat/zstd';
import { nodeDecompressors } from '../../src/core/io/decompress';
import { zstdDecompressWasm } from '../../src/core/io/zstd-wasm';
import { REAL } from './support/fixtures';
import { cpuMs } from './support/fuzz';
import { frames, hex, refused } from './support/zstd-frames';

const frame = (name: string): Uint8Array => frames.find(([f]) => f === name)![1];
const same = (a: Uint8Array, b: Uint8Array): boolean =>
  Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;


describe('zstd.wasm decodes as the JavaScript decoder does', () => {
  it.each(frames)('%s (zstd CLI 1.5.4)', (_file, z) => {
    // The reference decodes the whole frame (the text-nosize frame claims no size: 150,000 is room).
    const want = zstdDecompress(z, 300_000);
    expect(want.length).toBeGreaterThan(0);
    expect(same(zstdDecompressWasm(z, want.length), want)).toBe(true);
  });

  it('every zstd chunk of a real host .dat (quiet-passive-tsc, trace-cmd 3.1.6)', () => {
    const dat = new Uint8Array(readFileSync(path.join(REAL, 'quiet-passive-tsc/host.dat')));
    let chunks = 0;
    let bytes = 0;
    const traces = importTraceDat(dat, {
      name: 'host.dat',
      decompressors: {
        zstd(input, outSize) {
          const out = zstdDecompressWasm(input, outSize);
          expect(same(out, zstdDecompress(input, outSize))).toBe(true);
          chunks++;
          bytes += out.length;
          return out;
        },
      },
    });
    expect(traces[0]!.events.length).toBe(173_361);
    expect(chunks).toBe(229);
    expect(bytes).toBe(14_610_617);
  });

  it('frames one after the other, a skippable frame between them', () => {
    const a = frame('small-19.zst');
    const b = frame('random-5000.zst');
    const both = Uint8Array.from([...a, ...hex('502a4d18 03000000 010203'), ...b]);
    expect(same(zstdDecompressWasm(both, 37 + 5000), zstdDecompress(both, 37 + 5000))).toBe(true);
  });

  it('fewer bytes than claimed when the frames end early (the caller says so)', () => {
    expect(zstdDecompressWasm(frame('text-nosize.zst'), 150_000).length).toBe(140_000);
  });
});

const nativeZstd = 'zstdDecompressSync' in process.getBuiltinModule('node:zlib');

describe('which zstd the .dat reader uses', () => {
  it.skipIf(nativeZstd)(
    `Node without zstd of its own: zstd.wasm, not the JavaScript decoder${nativeZstd ? ' (skipped: this Node has zlib.zstdDecompressSync)' : ''}`,
    () => {
      // The two say different things about the same oversized frame: the message tells who spoke.
      expect(() => nodeDecompressors.zstd!(frame('text-1.zst'), 1000)).toThrow(
        'frames make more bytes than the claimed size',
      );
    },
  );
});

describe('corrupt zstd is refused by zstd.wasm', () => {
  it('a frame holding more than the claimed size, without writing past it', () => {
    for (const name of ['text-1.zst', 'text-nosize.zst', 'zeros.zst'])
      expect(refused(() => zstdDecompressWasm(frame(name), 1000)).message).toBe(
        'frames make more bytes than the claimed size',
      );
  });

  it('the corrupt 71-byte CMDLINES frame of fuzz-corpus/dat/3eaef42c, in milliseconds', () => {
    const file = readFileSync(path.resolve(__dirname, '../fixtures/fuzz-corpus/dat/3eaef42c.bin'));
    const csize = file.readUInt32LE(1057);
    const usize = file.readUInt32LE(1061);
    const r = refused(() => zstdDecompressWasm(file.subarray(1065, 1065 + csize), usize));
    expect(r.ms).toBeLessThan(100);
  });

  it.each([
    [
      'Huffman weights whose FSE states read no bits',
      '28b52ffd20c8 650000 a20002 05 10f801 ffff ff01 00',
    ],
    ['a dictionary', '28b52ffd0100 07 010000'],
    ['the reserved header bit', '28b52ffd0800 010000'],
    ['the reserved block type', '28b52ffd0000 070000'],
    ['a block past the input', '28b52ffd0000 410000 6161'],
    ['not zstd', '00112233 44'],
    ['a cut header', '28b52ffd00'],
  ])('%s', (_what, z) => {
    expect(refused(() => zstdDecompressWasm(hex(z), 1 << 20)).ms).toBeLessThan(100);
  });

  it('a frame cut at any byte is an error, never anything else', () => {
    const z = frame('text30k-wlog10.zst');
    for (let cut = 1; cut < z.length; cut += cut < 600 ? 1 : 61)
      refused(() => zstdDecompressWasm(z.subarray(0, cut), 30_000));
  });

  it('mutated frames: an error or the reference bytes, at most the claimed ones, within 50 ms', () => {
    let worst = 0;
    let decoded = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: frames.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: -64, max: 64 }),
        (i, edits, slack) => {
          const z = frames[i]![1];
          const m = z.slice();
          for (const [at, v] of edits) m[at % m.length] = v;
          const claim = Math.max(0, zstdDecompress(z, 300_000).length + slack);
          const t0 = cpuMs();
          let out: Uint8Array | undefined;
          try {
            out = zstdDecompressWasm(m, claim);
          } catch (e) {
            if (!(e instanceof ZstdError)) throw e;
          }
          worst = Math.max(worst, cpuMs() - t0);
          if (out === undefined) return;
          decoded++;
          expect(out.length).toBeLessThanOrEqual(claim);
          // libzstd checks what ours skips (checksums): where both decode, they agree.
          let ref: Uint8Array | undefined;
          try {
            ref = zstdDecompress(m, claim);
          } catch (e) {
            if (!(e instanceof ZstdError)) throw e;
          }
          if (ref !== undefined) expect(same(out, ref)).toBe(true);
        },
      ),
      { numRuns: 1500, seed: 20261206 },
    );
    expect(decoded).toBeGreaterThan(0);
    expect(worst).toBeLessThan(50);
  });
});
