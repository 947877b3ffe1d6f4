// Reads a trace-cmd .dat file from disk for the engine's .dat reader (core/ingest/trace-dat), which
// asks for metadata sections and then 1 MiB blocks per CPU into a reused buffer: far faster than
// one file-sized buffer, whose fresh pages are slow to touch, and memory stays flat.

import { closeSync, openSync, readSync } from 'node:fs';
import type { ImportOptions } from '../ingest/importer';
import { ByteSource, importTraceDat } from '../ingest/trace-dat/index';
import type { Trace } from '../model/trace';
import { nodeDecompressors } from './decompress';

/** Positional reads of an open file. */
export function fileSource(fd: number, size: number): ByteSource {
  return {
    length: size,
    read(offset: number, length: number, into?: Uint8Array): Uint8Array {
      const n = Math.max(0, Math.min(length, size - offset));
      const b = into !== undefined && into.length >= n ? into : new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const r = readSync(fd, b, got, n - got, offset + got);
        if (r === 0) break;
        got += r;
      }
      return b.subarray(0, got);
    },
  };
}

/** Imports the .dat at `path` (`size` bytes) on this thread. Throws only if it cannot be opened. */
export function readDatFile(path: string, size: number, opts: ImportOptions): Trace[] {
  const fd = openSync(path, 'r');
  try {
    return importTraceDat(fileSource(fd, size), { ...opts, decompressors: nodeDecompressors });
  } finally {
    closeSync(fd);
  }
}
