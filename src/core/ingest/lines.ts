// Splits streamed text into lines. Chunks may end anywhere, including between `\r` and `\n` or in
// the middle of a line; the remainder is carried to the next chunk.

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
