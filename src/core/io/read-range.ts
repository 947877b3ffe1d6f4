// Reads bytes [start, end) of a file as decoded text pieces: 1 MiB reads, handed on as 64 KiB
// strings (V8 builds larger strings far more slowly). Shared by the sequential and parallel paths.

import { createReadStream } from 'node:fs';
import { InvalidUtf8, Utf8Chunks } from './utf8-chunks';

/** Bytes per read: big enough that the next read overlaps the parsing of this one. */
export const READ_BYTES = 1 << 20;
/** Bytes per decoded string handed to the importer. */
export const DECODE_BYTES = 1 << 16;

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
  const input = createReadStream(path, {
    start,
    ...(Number.isFinite(end) ? { end: end - 1 } : {}),
    highWaterMark: READ_BYTES,
  });
  let go = true;
  for await (const buf of input as AsyncIterable<Buffer>) {
    bytes += buf.length;
    for (let at = 0; at < buf.length && go; at += DECODE_BYTES) {
      const text = decoder.decode(buf.subarray(at, Math.min(buf.length, at + DECODE_BYTES)));
      note();
      go = onText(text) !== false;
    }
    if (!go) {
      input.destroy();
      return result();
    }
  }
  const tail = decoder.end();
  note();
  if (tail.length > 0) onText(tail);
  return result();
}
