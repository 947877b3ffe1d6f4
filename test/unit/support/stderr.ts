// What the CLI writes to stderr during each test of a file: one capture, not a copy per test file.

import { afterEach, beforeEach, vi } from 'vitest';

/** Registers hooks that capture stderr per test; the returned array holds the current test's writes. */
export function captureStderr(): string[] {
  const written: string[] = [];
  beforeEach(() => {
    written.length = 0;
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return written;
}
