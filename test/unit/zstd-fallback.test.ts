// Where zstd.wasm cannot be loaded (a broken install), a .dat's zstd sections are still read: by
// our JavaScript decoder, not reported as damaged.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { nodeDecompressors } from '../../src/core/io/decompress';

vi.mock('../../src/core/io/zstd-wasm', () => ({
  zstdDecompressWasm: (): never => {
    throw new Error("ENOENT: no such file or directory, open 'dist/zstd.wasm'");
  },
}));

const nativeZstd = 'zstdDecompressSync' in process.getBuiltinModule('node:zlib');
const text = new Uint8Array(readFileSync(path.resolve(__dirname, '../fixtures/zstd/text-1.zst')));

describe('zstd without zstd.wasm', () => {
  it.skipIf(nativeZstd)(
    `falls back to the JavaScript decoder${nativeZstd ? ' (skipped: this Node has zlib.zstdDecompressSync)' : ''}`,
    () => {
      expect(nodeDecompressors.zstd!(text, 140_000).length).toBe(140_000);
      // The JavaScript decoder's own words for a frame bigger than the claim.
      expect(() => nodeDecompressors.zstd!(text, 1000)).toThrow(
        'frame holds 140000 bytes, more than the 1000 claimed',
      );
    },
  );
});
