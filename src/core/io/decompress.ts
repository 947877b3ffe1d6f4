// The decoders a .dat file's compressed sections need, for the engine in core/ingest/trace-dat:
// Node's zlib, and zstd from Node when it has it (22.15+), else libzstd as WebAssembly (zstd-wasm.ts),
// else (its .wasm missing or refused) our own JavaScript decoder.

import type { Decompressors } from '../ingest/trace-dat/index';
import { ZstdError, zstdDecompress } from '../ingest/trace-dat/zstd';
import { zstdDecompressWasm } from './zstd-wasm';

type ZstdSync = (buf: Uint8Array, opts?: object) => Buffer;
/** zlib, loaded by the first compressed section: ~12 ms that an uncompressed .dat never needs. */
const zlib = (): typeof import('node:zlib') => process.getBuiltinModule('node:zlib');

/**
 * zlib's output chunk for a section that says it holds `outSize` bytes: all of it in one piece
 * (the default 16 KiB makes a buffer per piece and copies them together again: a third of the
 * native zstd time on a 2 MB .dat), but never a huge allocation on a size a corrupt file claims.
 */
const chunk = (outSize: number): number => Math.min(Math.max(outSize, 64), 8 << 20);

/** Set once zstd.wasm could not be loaded: the JavaScript decoder then does every section. */
let noWasm = false;

function zstdFallback(input: Uint8Array, outSize: number, into?: Uint8Array): Uint8Array {
  if (!noWasm) {
    try {
      return zstdDecompressWasm(input, outSize, into);
    } catch (e) {
      if (e instanceof ZstdError) throw e;
      noWasm = true; // not found, or not compiled: a broken install, not a broken file
    }
  }
  return zstdDecompress(input, outSize);
}

export const nodeDecompressors: Decompressors = {
  zlib(input, outSize) {
    return zlib().inflateSync(input, {
      maxOutputLength: Math.max(outSize, 1),
      chunkSize: chunk(outSize),
    });
  },
  zstd(input, outSize, into) {
    const nodeZstd = (zlib() as { zstdDecompressSync?: ZstdSync }).zstdDecompressSync;
    if (nodeZstd !== undefined)
      return nodeZstd(input, { maxOutputLength: Math.max(outSize, 1), chunkSize: chunk(outSize) });
    return zstdFallback(input, outSize, into);
  },
};
