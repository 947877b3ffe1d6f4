// Resource limits under hostile input (issue #10): the diagnostics cap holds for millions of bad
// lines (memory flat, time linear, VL1008 says how many were dropped); a compressed .dat block
// that claims or inflates to a huge size is refused with VL1013 instead of being allocated; a
// .dat cut short says where the file ends.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeTraceDat } from '../../src/core/export/trace-dat-writer';
import { createTextImporter } from '../../src/core/ingest/index';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';
import { MAX_RATIO } from '../../src/core/ingest/trace-dat/bytes';
import { importTraceDat } from '../../src/core/ingest/trace-dat/index';
import { nodeDecompressors } from '../../src/core/io/decompress';
import { DIAG } from '../../src/core/model/diagnostics';
import type { Trace } from '../../src/core/model/trace';
import { SEED_DATS } from './support/fuzz';

const REAL = path.resolve(__dirname, '../fixtures/real');
const HOST_DAT = path.join(REAL, 'quiet-passive-local/host.dat');

function load(bytes: Uint8Array): Trace[] {
  return importTraceDat(bytes, { name: 'x.dat', decompressors: nodeDecompressors });
}

/** Feeds `n` bad lines after a header and one good event, 64 KiB at a time; the trace and time. */
function badLines(n: number, cap = 1000): { t: Trace; ms: number; heapGrowth: number } {
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const imp = createTextImporter('ftrace-text', { name: 'bad', diagnosticsCap: cap });
  imp.feed(
    'cpus=2\n          <idle>-0     [001]  5034.172647: sched_wakeup:         rcu_preempt:15 [120] CPU:001\n',
  );
  const line = 'this line is not an event at all, number ';
  let chunk = '';
  let heapPeak = 0;
  let feeds = 0;
  for (let i = 0; i < n; i++) {
    chunk += line + i + '\n';
    if (chunk.length >= 65536) {
      imp.feed(chunk);
      chunk = '';
      if (++feeds % 64 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed - heap0);
    }
  }
  imp.feed(chunk);
  const t = imp.end()[0]!;
  const ms = performance.now() - t0;
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed - heap0);
  return { t, ms, heapGrowth: heapPeak };
}

/**
 * The flyrecord data starts page-aligned after the last metadata section: the first page that
 * opens with a chunk count and a plausible chunk header (more than `minCompressed` bytes
 * compressed, fewer than uncompressed, at most 10 pages uncompressed); -1 if none.
 */
function firstZstdChunk(b: Uint8Array, minCompressed: number): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let p = 4096; p + 12 < b.length; p += 4096) {
    const n = dv.getUint32(p, true);
    const cs = dv.getUint32(p + 4, true);
    const us = dv.getUint32(p + 8, true);
    if (n > 0 && n < 100 && cs > minCompressed && cs < us && us <= 40960) return p;
  }
  return -1;
}

describe('the diagnostics cap under millions of bad lines', () => {
  it('keeps the cap, says how many it dropped, and stays flat in memory and linear in time', () => {
    // BAD_LINES=10000000 for the 10M-line run of RELIABILITY.md.
    const n1 = Number(process.env['BAD_LINES'] ?? 1_000_000);
    const small = badLines(n1 / 10);
    const big = badLines(n1);
    console.log(
      `${n1 / 10} bad lines: ${small.ms.toFixed(0)} ms, heap +${(small.heapGrowth / 1e6).toFixed(1)} MB; ` +
        `${n1}: ${big.ms.toFixed(0)} ms, heap +${(big.heapGrowth / 1e6).toFixed(1)} MB`,
    );
    for (const [r, n] of [
      [small, n1 / 10],
      [big, n1],
    ] as const) {
      expect(r.t.events.length).toBe(1);
      expect(r.t.diagnosticsTotal).toBe(n);
      expect(r.t.diagnostics.length).toBe(1001);
      const last = r.t.diagnostics[1000]!;
      expect(last.code).toBe(DIAG.capped);
      expect(last.message).toBe(`${n - 1000} more diagnostics suppressed (cap 1000)`);
      expect(r.t.diagnostics.slice(0, 1000).every((d) => d.line !== undefined)).toBe(true);
    }
    // 10x the lines: about 10x the time (generous for a shared machine), not 100x.
    expect(big.ms / small.ms).toBeLessThan(30);
    // 1M bad lines (45 MB of text; 10M: 480 MB) must not keep them: well under the text's size.
    expect(big.heapGrowth).toBeLessThan(40e6);
  });
});

describe('an endless line', () => {
  it('a line of 20M characters is reported and skipped, fed whole or in pieces; the rest loads', () => {
    const head =
      'cpus=2\n          <idle>-0     [001]  5034.172647: sched_wakeup:         rcu_preempt:15 [120] CPU:001\n';
    const tail =
      '\n          <idle>-0     [001]  5034.172653: sched_wakeup:         rcu_preempt:15 [120] CPU:001\n';
    const huge = 'a'.repeat(20 << 20);
    const whole = importFtraceText(head + huge + tail)[0]!;
    const imp = createTextImporter('ftrace-text', {});
    imp.feed(head);
    for (let at = 0; at < huge.length; at += 65536) imp.feed(huge.slice(at, at + 65536));
    imp.feed(tail);
    const pieces = imp.end()[0]!;
    for (const t of [whole, pieces]) {
      expect(t.events.length).toBe(2);
      expect(t.diagnostics.map((d) => [d.code, d.line, d.message])).toEqual([
        [
          DIAG.badLine,
          3,
          `a line of ${20 << 20} characters (more than ${16 << 20}) is no trace line; skipped`,
        ],
      ]);
    }
  });
});

describe('a .dat cut short says where it ends', () => {
  it('the real host.dat cut at 500,000 bytes (in its metadata) says the file ends there', () => {
    const cut = new Uint8Array(readFileSync(HOST_DAT)).subarray(0, 500_000);
    const t = load(cut)[0]!;
    // Before: "file ends inside a section header at byte 1039436", past the end of the cut.
    expect(t.diagnostics.map((d) => [d.code, d.offset, d.message])).toEqual([
      [
        DIAG.datDamaged,
        500_000,
        'file ends at byte 500000, before the section it points to at byte 1039436',
      ],
    ]);
  });

  it('cut at 1,500,000 bytes (in its data): offsets inside the file, the pages before the cut load', () => {
    const cut = new Uint8Array(readFileSync(HOST_DAT)).subarray(0, 1_500_000);
    const t = load(cut)[0]!;
    const dat = t.diagnostics.filter((d) => d.code === DIAG.datDamaged);
    expect(dat.length).toBeGreaterThan(0);
    for (const d of dat) expect(d.offset).toBeLessThanOrEqual(1_500_000);
    expect(
      dat.some((d) => /^file ends at byte 1500000, inside a compressed chunk/.test(d.message)),
    ).toBe(true);
    expect(t.events.length).toBeGreaterThan(50_000);
  });
});

/** The offset of the first compressed section's compression header (csize, usize) in a v7 file. */
function firstCompressedSection(b: Uint8Array): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 10;
  while (b[at] !== 0) at++;
  at += 1 + 2 + 4;
  while (b[at] !== 0) at++; // compression name
  at++;
  while (b[at] !== 0) at++; // its version
  at += 1 + 8;
  for (;;) {
    const flags = dv.getUint16(at + 2, true);
    const size = Number(dv.getBigUint64(at + 8, true));
    if ((flags & 1) !== 0) return at + 16;
    at += 16 + size;
  }
}

/** A zstd frame of RLE blocks: `total` bytes of 'A' from 6 + 4 per 128 KiB bytes. */
function zstdRle(total: number): Uint8Array {
  const parts = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38];
  for (let left = total; left > 0;) {
    const n = Math.min(left, 131072);
    left -= n;
    const h = (n << 3) | (1 << 1) | (left === 0 ? 1 : 0);
    parts.push(h & 255, (h >> 8) & 255, (h >> 16) & 255, 0x41);
  }
  return new Uint8Array(parts);
}

function arrayBuffersGrowth(f: () => void): number {
  globalThis.gc?.();
  const before = process.memoryUsage().arrayBuffers;
  f();
  return process.memoryUsage().arrayBuffers - before;
}

describe('decompression bombs in a .dat are refused', () => {
  const zstd = new Uint8Array(readFileSync(path.join(SEED_DATS, 'host-v7-zstd-tc.dat')));
  const zstdTraces = load(zstd);

  it('a zstd section claiming 200 MB from a few bytes', () => {
    const b = zstd.slice();
    const h = firstCompressedSection(b);
    new DataView(b.buffer).setUint32(h + 4, 200 << 20, true);
    let t: Trace[] = [];
    const grew = arrayBuffersGrowth(() => (t = load(b)));
    const d = t[0]!.diagnostics.find((x) => /refused/.test(x.message));
    expect(d).toMatchObject({ code: DIAG.datDamaged, severity: 'error' });
    expect(d!.message).toMatch(new RegExp(`claims ${200 << 20} bytes .*${MAX_RATIO}:1`));
    expect(d!.offset).toBeLessThan(b.length);
    expect(grew).toBeLessThan(50e6);
  });

  it('a zstd data chunk claiming 200 MB', () => {
    const b = zstd.slice();
    const cpu = zstdTraces[0]!.dat!;
    expect(cpu.compression).toBe('zstd');
    const dv = new DataView(b.buffer);
    const at = firstZstdChunk(b, 0);
    expect(at).toBeGreaterThan(0);
    dv.setUint32(at + 8, 200 << 20, true);
    let t: Trace[] = [];
    const grew = arrayBuffersGrowth(() => (t = load(b)));
    const d = t[0]!.diagnostics.find((x) => /refused/.test(x.message));
    expect(d?.message).toMatch(
      /zstd block claims 209715200 bytes uncompressed \(more than \d+\); refused/,
    );
    expect(d!.offset).toBe(at + 4);
    expect(grew).toBeLessThan(50e6);
    // The other CPUs still load.
    expect(t[0]!.events.length).toBeGreaterThan(0);
  });

  it('a zstd chunk that inflates to far more than it claims stops at its claim', () => {
    const b = zstd.slice();
    const dv = new DataView(b.buffer);
    const at = firstZstdChunk(b, 64);
    const bomb = zstdRle(64 << 20); // 2 KiB of frame, 64 MiB of output
    expect(bomb.length).toBeLessThan(b.length - at - 12);
    dv.setUint32(at + 4, bomb.length, true);
    b.set(bomb, at + 12);
    let t: Trace[] = [];
    const t0 = performance.now();
    const grew = arrayBuffersGrowth(() => (t = load(b)));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(grew).toBeLessThan(50e6);
    expect(
      t[0]!.diagnostics.some((d) => d.code === DIAG.datDamaged && d.offset !== undefined),
    ).toBe(true);
  });

  it('a zlib chunk that inflates to 64 MiB while claiming a page is refused as corrupt', () => {
    const text = readFileSync(
      path.resolve(__dirname, '../fixtures/formats/trace-cmd-3.1-local.txt'),
      'utf8',
    );
    const t = importFtraceText(text)[0]!;
    let first = true;
    const bytes = writeTraceDat(t, {
      compression: 'zlib',
      chunkPages: 1,
      deflate: (d) => {
        if (!first) return deflateSync(d);
        first = false;
        return deflateSync(Buffer.alloc(64 << 20));
      },
    });
    let back: Trace[] = [];
    const grew = arrayBuffersGrowth(() => (back = load(bytes)));
    const d = back[0]!.diagnostics.find((x) => /corrupt zlib block/.test(x.message));
    expect(d).toMatchObject({ code: DIAG.datDamaged });
    expect(d!.offset).toBeLessThan(bytes.length);
    expect(grew).toBeLessThan(50e6);
  });
});
