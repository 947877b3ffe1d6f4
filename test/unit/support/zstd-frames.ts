// What the zstd decoders' tests share: the zstd CLI's frames (test/fixtures/zstd, README there),
// hex literals for hand-made frames, and a refusal with the CPU time it took.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { ZstdError } from '../../../src/core/ingest/trace-dat/zstd';
import { cpuMs } from './fuzz';

export const ZSTD_FIXTURES = path.resolve(__dirname, '../../fixtures/zstd');

/** Every frame in test/fixtures/zstd, as [file name, bytes]. */
export const frames = readdirSync(ZSTD_FIXTURES)
  .filter((f) => f.endsWith('.zst'))
  .map((f) => [f, new Uint8Array(readFileSync(path.join(ZSTD_FIXTURES, f)))] as const);

/** Bytes from hex, spaces ignored (`'28 b5 2f fd'`). */
export const hex = (s: string): Uint8Array =>
  Uint8Array.from(Buffer.from(s.replace(/ /g, ''), 'hex'));

/** Runs `f`, which must throw a ZstdError; returns its message and the CPU time it took. */
export function refused(f: () => unknown): { message: string; ms: number } {
  const t0 = cpuMs();
  try {
    f();
  } catch (e) {
    const ms = cpuMs() - t0;
    expect(e).toBeInstanceOf(ZstdError);
    return { message: (e as Error).message, ms };
  }
  throw new Error('decoded without an error');
}
