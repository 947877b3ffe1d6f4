// Splits streamed text into lines. Chunks may end anywhere, including between `\r` and `\n` or in
// the middle of a line; the remainder is carried to the next chunk.

import { DIAG, type DiagnosticSink } from '../model/diagnostics';

/** Sniffers look at this many characters of a line: a format's signature is in its first ~100. */
export const SNIFF_LINE_CHARS = 512;

/**
 * Called per line with the text it sits in and its bounds, newline and `\r` excluded: parsers read
 * the line in place in the chunk (a flat string, fast to index) instead of a substring per line.
 */
export type LineHandler = (text: string, start: number, end: number, lineNo: number) => void;

export class LineSplitter {
  private carry = '';
  private lineNo = 0;
  /** True when the last line had no terminating newline. */
  endedMidLine = false;

  constructor(private readonly onLine: LineHandler) {}

  feed(chunk: string): void {
    let start = 0;
    if (this.carry.length > 0) {
      const nl = chunk.indexOf('\n');
      if (nl < 0) {
        this.carry += chunk;
        return;
      }
      const line = this.carry + chunk.slice(0, nl);
      this.carry = '';
      this.emit(line, 0, line.length);
      start = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) break;
      this.emit(chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length) this.carry = chunk.slice(start);
  }

  /** Flushes a last line that had no newline. */
  end(): void {
    if (this.carry.length > 0) {
      this.endedMidLine = true;
      const line = this.carry;
      this.carry = '';
      this.emit(line, 0, line.length);
    }
  }

  get lines(): number {
    return this.lineNo;
  }

  private emit(text: string, start: number, end: number): void {
    this.lineNo++;
    this.onLine(
      text,
      start,
      end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end,
      this.lineNo,
    );
  }
}

/** A line quoted for a diagnostic: JSON-escaped (no control characters reach a terminal) and cut. */
export function preview(s: string): string {
  return JSON.stringify(s.length > 120 ? s.slice(0, 120) + '…' : s);
}

/**
 * Reports what the importers' line parsers could not take, the same way for every format: an
 * unreadable line is an error; the file's last line, when it had no newline, is a warning that
 * says it may be cut short, whether or not it parsed (`reported`: a diagnostic about it exists).
 */
export function reportLine(
  diags: DiagnosticSink,
  line: string,
  no: number,
  parsed: boolean,
  lastWithoutNewline: boolean,
  reported: boolean,
  what: string,
): void {
  if (!parsed) {
    diags.add({
      code: lastWithoutNewline ? DIAG.truncatedLine : DIAG.badLine,
      severity: lastWithoutNewline ? 'warning' : 'error',
      line: no,
      message: lastWithoutNewline
        ? `last line is cut short (file truncated?): ${preview(line)}`
        : `not ${what}: ${preview(line)}`,
    });
  } else if (lastWithoutNewline && !reported) {
    diags.add({
      code: DIAG.truncatedLine,
      severity: 'warning',
      line: no,
      message: `the file ends without a newline, so its last line may be cut short (loaded as read): ${preview(line)}`,
    });
  }
}
