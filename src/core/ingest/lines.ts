// Splits streamed text into lines. Chunks may end anywhere, including between `\r` and `\n` or in
// the middle of a line; the remainder is carried to the next chunk.

import { DIAG, type DiagnosticSink } from '../model/diagnostics';

export type LineHandler = (line: string, lineNo: number) => void;

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
      this.emit(this.carry + chunk.slice(0, nl));
      this.carry = '';
      start = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) break;
      this.emit(chunk.slice(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length) this.carry = chunk.slice(start);
  }

  /** Flushes a last line that had no newline. */
  end(): void {
    if (this.carry.length > 0) {
      this.endedMidLine = true;
      this.emit(this.carry);
      this.carry = '';
    }
  }

  get lines(): number {
    return this.lineNo;
  }

  private emit(line: string): void {
    this.lineNo++;
    const n = line.length;
    this.onLine(n > 0 && line.charCodeAt(n - 1) === 13 ? line.slice(0, n - 1) : line, this.lineNo);
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
