// The decoders a .dat file's compressed sections need, for the engine in core/ingest/trace-dat:
// Node's zlib, and zstd from Node when it has it (22.15+), else our own bounded decoder.

import * as zlib from 'node:zlib';
import type { Decompressors } from '../ingest/trace-dat/index';
import { zstdDecompress } from '../ingest/trace-dat/zstd';

type ZstdSync = (buf: Uint8Array, opts?: object) => Buffer;
const nodeZstd = (zlib as unknown as { zstdDecompressSync?: ZstdSync }).zstdDecompressSync;

export const nodeDecompressors: Decompressors = {
  zlib(input, outSize) {
    return zlib.inflateSync(input, { maxOutputLength: Math.max(outSize, 1) });
  },
  zstd(input, outSize) {
    if (nodeZstd !== undefined) return nodeZstd(input, { maxOutputLength: Math.max(outSize, 1) });
    return zstdDecompress(input, outSize);
  },
};
