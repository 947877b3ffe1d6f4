// Reads bytes [start, end) of a file as decoded text pieces: 1 MiB reads, handed on as 64 KiB
// strings (V8 builds larger strings far more slowly). Shared by the sequential and parallel paths.

import { open } from 'node:fs/promises';
import { InvalidUtf8, Utf8Chunks } from './utf8-chunks';

/** Bytes per read: big enough that the next read overlaps the parsing of this one. */
export const READ_BYTES = 1 << 20;
/** Bytes per decoded string handed to the importer. */
export const DECODE_BYTES = 1 << 16;

/**
 * The bytes of path[start, end) (`end` exclusive; Infinity: to the end of the file) in reads of
 * `size`, into two buffers used in turn: the next read runs while the caller works on this one.
 * A yielded buffer is overwritten once the caller asks for the one after it, so the caller must
 * be done with it (decoded, copied) by then. A stream's new buffer per read kept every buffer
 * read since the last scavenge resident (16 MiB and more on a big file) and cost an allocation each.
 */
export async function* readFileChunks(
  path: string,
  start: number,
  end: number,
  size: number = READ_BYTES,
): AsyncGenerator<Buffer, void, undefined> {
  size = Math.max(1, size);
  const fh = await open(path, 'r');
  let pending: Promise<{ bytesRead: number }> | undefined;
  try {
    const bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
    let turn = 0;
    const issue = (at: number): Promise<{ bytesRead: number }> | undefined =>
      at < end ? fh.read(bufs[turn]!, 0, Math.min(size, end - at), at) : undefined;
    let at = start;
    pending = issue(at);
    while (pending !== undefined) {
      const { bytesRead } = await pending;
      pending = undefined;
      if (bytesRead === 0) break;
      const buf = bufs[turn]!;
      at += bytesRead;
      turn ^= 1;
      // Issued at the position this read reached, so a short read loses nothing.
      pending = issue(at);
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    // A read still under way when the caller stopped early: done (or failed) before the close.
    await pending?.catch(() => undefined);
    await fh.close();
  }
}

/**
 * Feeds the decoded text of path[start, end) to `onText`; returns whether any invalid UTF-8 was
 * replaced, and where the first was (its file offset; its line in the range when `linesFed`, the
 * number of complete lines fed so far, is given). `end` is exclusive; Infinity reads to the end
 * of the file. `onText` returning false stops the reading there (the rest of the current read is
 * not decoded).
 */
export async function readTextRange(
  path: string,
  start: number,
  end: number,
  onText: (text: string) => boolean | void,
  linesFed?: () => number,
): Promise<{ replaced: boolean; bytes: number; invalid?: InvalidUtf8 }> {
  const decoder = new Utf8Chunks(start);
  let invalid: InvalidUtf8 | undefined;
  // Called after each decode, before its text is fed: the piece's line starts after those fed.
  const note = (): void => {
    if (invalid !== undefined || decoder.invalid === undefined) return;
    const lines = linesFed?.();
    invalid = {
      offset: decoder.invalid.offset,
      ...(lines !== undefined ? { line: lines + 1 + decoder.invalid.newlinesBefore } : {}),
    };
  };
  const result = (): { replaced: boolean; bytes: number; invalid?: InvalidUtf8 } => ({
    replaced: decoder.replaced,
    bytes,
    ...(invalid !== undefined ? { invalid } : {}),
  });
  let bytes = 0;
  // A function of its own: a piece decoded inline here would stay alive across the next await in
  // this async function's registers (see read-trace-file.ts).
  const take = (buf: Buffer): boolean => {
    let go = true;
    for (let at = 0; at < buf.length && go; at += DECODE_BYTES) {
      const text = decoder.decode(buf.subarray(at, Math.min(buf.length, at + DECODE_BYTES)));
      note();
      go = onText(text) !== false;
    }
    return go;
  };
  for await (const buf of readFileChunks(path, start, end)) {
    bytes += buf.length;
    if (!take(buf)) return result();
  }
  const tail = decoder.end();
  note();
  if (tail.length > 0) onText(tail);
  return result();
}
