// compileZstdWasmAhead: zstd.wasm compiled on V8's background threads while the CLI loads its
// code; the read after it takes that module instead of compiling one on its own thread.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { headerCompression } from '../../src/core/ingest/trace-dat/file';
import { zstdDecompress } from '../../src/core/ingest/trace-dat/zstd';
import { REAL } from './support/fixtures';
import { frames } from './support/zstd-frames';

/** The WebAssembly global (not in the type libraries this build has). */
const wasmApi = (
  globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object } }
).WebAssembly;
const nativeZstd = process.versions['zstd'] !== undefined;
const why = nativeZstd ? ' (skipped: this Node has zstd of its own, zstd.wasm is not used)' : '';

describe('compileZstdWasmAhead', () => {
  it.skipIf(nativeZstd)(`leaves the first decode nothing to compile${why}`, async () => {
    // A fresh copy of the module: no other test's decode has compiled it yet.
    vi.resetModules();
    const wasm = await import('../../src/core/io/zstd-wasm');
    const compiles = vi.spyOn(wasmApi, 'Module');
    try {
      wasm.compileZstdWasmAhead();
      await wasm.zstdWasmCompiled();
      const [, z] = frames[0]!;
      const want = zstdDecompress(z, 300_000);
      expect(Buffer.from(wasm.zstdDecompressWasm(z, want.length))).toEqual(Buffer.from(want));
      expect(compiles).not.toHaveBeenCalled();
    } finally {
      compiles.mockRestore();
    }
  });

  it.skipIf(nativeZstd)(`without it, the first decode compiles on this thread${why}`, async () => {
    vi.resetModules();
    const wasm = await import('../../src/core/io/zstd-wasm');
    const compiles = vi.spyOn(wasmApi, 'Module');
    try {
      const [, z] = frames[0]!;
      const want = zstdDecompress(z, 300_000);
      expect(Buffer.from(wasm.zstdDecompressWasm(z, want.length))).toEqual(Buffer.from(want));
      expect(compiles).toHaveBeenCalledTimes(1);
    } finally {
      compiles.mockRestore();
    }
  });
});

describe('headerCompression (the hint that starts it)', () => {
  const magic = [0x17, 0x08, 0x44, ...Buffer.from('tracing')];
  it.each([
    [
      'a v7 zstd header',
      [...magic, 0x37, 0, 0, 8, 0, 0x10, 0, 0, ...Buffer.from('zstd\0')],
      'zstd',
    ],
    [
      'a v7 zlib header',
      [...magic, 0x37, 0, 0, 8, 0, 0x10, 0, 0, ...Buffer.from('zlib\0')],
      'zlib',
    ],
    [
      'a v7 header cut inside the name',
      [...magic, 0x37, 0, 0, 8, 0, 0x10, 0, 0, 0x7a, 0x73],
      undefined,
    ],
    ['a v6 header', [...magic, 0x36, 0, 0, 8, 0, 0x10, 0, 0, 0, 0, 0, 0], undefined],
    ['not a .dat', [...Buffer.from('# tracer: nop\n#\n# entries-in-buffer')], undefined],
  ])('%s', (_what, bytes, want) => {
    expect(headerCompression(Uint8Array.from(bytes))).toBe(want);
  });

  const host = path.join(REAL, 'quiet-passive-tsc', 'host.dat');
  const noHost = existsSync(host) ? undefined : ` (skipped: ${host} is missing)`;
  it.skipIf(noHost)(`a real v7 .dat (trace-cmd 3.1.6)${noHost ?? ''}`, () => {
    const head = readFileSync(host).subarray(0, 64);
    expect(headerCompression(head)).toBe('zstd');
  });
});
