// Output helpers for the CLI: trace-derived text (task names, markers) is escaped before it
// reaches a terminal, so a hostile comm cannot move the cursor, change the title or reorder the
// line. `main` sends everything it prints through `safeLines` as a last line of defence, so a
// print path that forgets `safeText` still cannot inject.

import type { Diagnostic } from '../core/model/diagnostics';

// Control characters (C0, DEL, C1), bidi overrides, embeddings, isolates and marks.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// The same without the newline, for whole multi-line outputs.
const UNSAFE_BUT_NEWLINE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Replaces control characters and bidi controls with visible `\uXXXX` escapes. */
export function safeText(s: string): string {
  return s.replace(UNSAFE, escape);
}

/**
 * `safeText` for a whole output that keeps its line breaks. In JSON output the escapes are JSON's
 * own (`\u202e` inside a string), so the JSON still parses to the original text.
 */
export function safeLines(s: string): string {
  return s.replace(UNSAFE_BUT_NEWLINE, escape);
}

/** A name for a table column: escaped, and at most `max` characters (a comm can be megabytes). */
export function safeName(s: string, max = 64): string {
  const t = safeText(s);
  return t.length <= max ? t : `${t.slice(0, max - 1)}…`;
}

export function log(msg: string): void {
  process.stderr.write(safeLines(msg) + '\n');
}

/**
 * Where `dump` writes: to a terminal, escaped like everything else; to a file or a pipe, the
 * bytes exactly (it reproduces `trace-cmd report`, which prints comms as they are).
 */
export function dumpWriter(
  stream: { isTTY?: boolean; write(s: string): unknown } = process.stdout,
): (s: string) => void {
  return stream.isTTY === true
    ? (s) => void stream.write(safeLines(s))
    : (s) => void stream.write(s);
}

/** A diagnostic on one line: `file:line@offset: severity CODE: message`, escaped. */
export function formatDiag(d: Diagnostic): string {
  const where = `${d.source !== undefined ? safeText(d.source) : ''}${d.line !== undefined ? `:${d.line}` : ''}${d.offset !== undefined ? `@${d.offset}` : ''}`;
  return `${where}${where ? ': ' : ''}${d.severity} ${d.code}: ${safeText(d.message)}`;
}
