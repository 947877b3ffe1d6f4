// Splits streamed text into lines. Chunks may end anywhere, including between `\r` and `\n` or in
// the middle of a line; the remainder is carried to the next chunk.

import { DIAG, type DiagnosticSink } from '../model/diagnostics';
import { detachExact } from '../model/text-pool';

/** Sniffers look at this many characters of a line: a format's signature is in its first ~100. */
export const SNIFF_LINE_CHARS = 512;

/**
 * Called per line with the text it sits in and its bounds, newline and `\r` excluded: parsers read
 * the line in place in the chunk instead of a substring per line. `codes` holds the text's UTF-16
 * code units (`codes[i] === text.charCodeAt(i)`, exactly `text.length` of them, so a read past
 * the end is undefined where charCodeAt gives NaN: both compare false and make NaN in
 * arithmetic). Hot paths index it: a typed array load is a few instructions, `charCodeAt` a
 * dispatch on the string's representation each time. It is overwritten by the next chunk.
 */
export type LineHandler = (
  text: string,
  start: number,
  end: number,
  lineNo: number,
  codes: Uint16Array,
) => void;

const encoder = new TextEncoder();

/**
 * The code units of `s` in `wide` (grown as needed), as a view of exactly s.length: a native UTF-8
 * encode and a widening copy when `s` is ASCII (nearly every chunk of a trace), else one per unit.
 */
export class CodeUnits {
  private bytes: Uint8Array = new Uint8Array(0);
  private wide: Uint16Array = new Uint16Array(0);

  /** Lets go of the buffers (they are as big as the longest text seen). */
  release(): void {
    this.bytes = new Uint8Array(0);
    this.wide = new Uint16Array(0);
  }

  of(s: string): Uint16Array {
    const n = s.length;
    if (this.wide.length < n) {
      this.bytes = new Uint8Array(n);
      this.wide = new Uint16Array(n);
    }
    const out = this.wide.subarray(0, n);
    // ASCII exactly when every unit became one byte (anything else takes two or more).
    const r = encoder.encodeInto(s, this.bytes.subarray(0, n));
    if (r.read === n && r.written === n) out.set(this.bytes.subarray(0, n));
    else for (let i = 0; i < n; i++) out[i] = s.charCodeAt(i);
    return out;
  }
}

/**
 * Lines longer than this are no trace lines: they are counted and reported, not parsed or held
 * (V8 strings end at ~512M characters; a file of one endless line must not end the import).
 */
export const MAX_LINE_CHARS = 16 << 20;

/**
 * A text fed whole (a document the server opened) is split in pieces of this many characters:
 * the code units of the text being split are held three bytes a character (see CodeUnits).
 */
const PIECE_CHARS = 1 << 16;

export class LineSplitter {
  private carry = '';
  private lineNo = 0;
  private readonly units = new CodeUnits();
  /** The code units of the text being split (see LineHandler). */
  private codes: Uint16Array = new Uint16Array(0);
  /** The line being carried is longer than MAX_LINE_CHARS: its length so far; -1 otherwise. */
  private overlong = -1;
  /** True when the last line had no terminating newline. */
  endedMidLine = false;

  constructor(
    private readonly onLine: LineHandler,
    /** Called, instead of onLine, for a line longer than MAX_LINE_CHARS. */
    private readonly onOverlong?: (lineNo: number, chars: number) => void,
  ) {}

  feed(chunk: string): void {
    if (chunk.length <= 4 * PIECE_CHARS) {
      this.piece(chunk);
      return;
    }
    // Lines may span pieces like they span chunks: the carried line joins them.
    for (let at = 0; at < chunk.length; at += PIECE_CHARS)
      this.piece(chunk.slice(at, at + PIECE_CHARS));
  }

  private piece(chunk: string): void {
    let start = 0;
    if (this.carry.length > 0 || this.overlong >= 0) {
      const nl = chunk.indexOf('\n');
      if (nl < 0) {
        this.hold(chunk, 0, chunk.length);
        return;
      }
      this.hold(chunk, 0, nl);
      if (this.overlong >= 0) {
        this.skip();
      } else {
        const line = this.carry;
        this.carry = '';
        this.codes = this.units.of(line);
        this.emit(line, 0, line.length);
      }
      start = nl + 1;
    }
    this.codes = this.units.of(chunk);
    start = this.whole(chunk, start);
    if (start < chunk.length) this.hold(chunk, start, chunk.length);
  }

  /**
   * Emits the whole lines of chunk from `start`; returns where the last one ended. Its own
   * function: V8 optimises this loop while reading the first chunk (on-stack replacement), and
   * it has none of feed's carried-line path, which the first chunk never takes: optimised with
   * it, feed was deoptimised and recompiled on the second chunk.
   */
  private whole(chunk: string, start: number): number {
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) return start;
      if (nl - start > MAX_LINE_CHARS) {
        this.overlong = nl - start;
        this.skip();
      } else {
        this.emit(chunk, start, nl);
      }
      start = nl + 1;
    }
  }

  /** Carries chunk[start, end) into the line being read, or only counts it once it is too long. */
  private hold(chunk: string, start: number, end: number): void {
    if (this.overlong >= 0) {
      this.overlong += end - start;
    } else if (this.carry.length + (end - start) > MAX_LINE_CHARS) {
      this.overlong = this.carry.length + (end - start);
      this.carry = '';
    } else {
      // A copy, not a slice: a slice keeps its whole 64 KiB chunk alive while the line is carried
      // (each such chunk is copied by the scavenges it survives).
      this.carry += detachExact(chunk.slice(start, end));
    }
  }

  private skip(): void {
    this.lineNo++;
    this.onOverlong?.(this.lineNo, this.overlong);
    this.overlong = -1;
  }

  /** Flushes a last line that had no newline. */
  end(): void {
    this.flush();
    this.codes = new Uint16Array(0);
    this.units.release();
  }

  private flush(): void {
    if (this.overlong >= 0) {
      this.endedMidLine = true;
      this.skip();
    } else if (this.carry.length > 0) {
      this.endedMidLine = true;
      const line = this.carry;
      this.carry = '';
      this.codes = this.units.of(line);
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
      end > start && this.codes[end - 1] === 13 ? end - 1 : end,
      this.lineNo,
      this.codes,
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

/** The diagnostic for a line longer than MAX_LINE_CHARS (skipped, not parsed). */
export function reportOverlong(diags: DiagnosticSink, no: number, chars: number): void {
  diags.add({
    code: DIAG.badLine,
    severity: 'error',
    line: no,
    message: `a line of ${chars} characters (more than ${MAX_LINE_CHARS}) is no trace line; skipped`,
  });
}
