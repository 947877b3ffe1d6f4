// UTF-8 decoding of a byte stream in chunks, fast for the nearly-ASCII text traces are.

import { isAscii } from 'node:buffer';

/** Where the first bytes that are not UTF-8 were: byte offset in the file, and line when known. */
export interface InvalidUtf8 {
  offset: number;
  line?: number;
}

/**
 * UTF-8 decoding of a byte stream in chunks. Trace text is nearly all ASCII: such chunks are
 * decoded with a plain byte copy (several times faster than TextDecoder), others by TextDecoder
 * after holding back an incomplete trailing sequence for the next chunk.
 */
export class Utf8Chunks {
  private readonly td = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  private carry: Buffer | undefined;
  private first = true;
  /** Bytes taken so far, from `startOffset`. */
  private consumed: number;
  /**
   * The first bytes that are not UTF-8 (replaced by U+FFFD): their offset in the stream, and how
   * many newlines precede them in the text returned by the `decode` (or `end`) call that met them,
   * so the caller can number their line. Set by that call, never changed after.
   */
  invalid: { offset: number; newlinesBefore: number } | undefined;

  /** `startOffset`: the stream's first byte's offset in its file (a part read on its own). */
  constructor(startOffset = 0) {
    this.consumed = startOffset;
  }

  /** Set once invalid UTF-8 was replaced by U+FFFD (a U+FFFD written as such is not). */
  get replaced(): boolean {
    return this.invalid !== undefined;
  }

  decode(chunk: Buffer): string {
    let buf = this.carry !== undefined ? Buffer.concat([this.carry, chunk]) : chunk;
    let base = this.consumed - (this.carry?.length ?? 0);
    this.consumed += chunk.length;
    this.carry = undefined;
    if (this.first) {
      this.first = false;
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
        buf = buf.subarray(3);
        base += 3;
      }
    }
    if (isAscii(buf)) return buf.toString('latin1');
    const cut = completeUtf8Length(buf);
    if (cut < buf.length) this.carry = Buffer.from(buf.subarray(cut));
    return this.checked(this.td.decode(buf.subarray(0, cut)), buf, cut, base);
  }

  end(): string {
    const rest = this.carry;
    this.carry = undefined;
    if (rest === undefined) return '';
    return this.checked(this.td.decode(rest), rest, rest.length, this.consumed - rest.length);
  }

  /** Notes the first invalid bytes of `bytes[0, n)` (at stream offset `base`), decoded as `s`. */
  private checked(s: string, bytes: Uint8Array, n: number, base: number): string {
    if (this.invalid === undefined && s.includes('\uFFFD')) {
      const at = firstInvalidUtf8(bytes, n);
      if (at >= 0) {
        let newlines = 0;
        for (let i = 0; i < at; i++) if (bytes[i] === 10) newlines++;
        this.invalid = { offset: base + at, newlinesBefore: newlines };
      }
    }
    return s;
  }
}

/**
 * The index of the first byte of `b[0, n)` that does not start or continue a well-formed UTF-8
 * sequence (Unicode's table 3-7: no overlongs, surrogates or code points past U+10FFFF), or -1.
 */
export function firstInvalidUtf8(b: Uint8Array, n = b.length): number {
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    // A sequence cut by the end of `b[0, n)` is invalid too.
    if (i + need >= n) return i;
    const c1 = b[i + 1]!;
    if (c1 < lo || c1 > hi) return i;
    for (let k = 2; k <= need; k++) {
      const ck = b[i + k]!;
      if (ck < 0x80 || ck > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Length of the longest prefix of `b` that does not end inside a UTF-8 sequence. */
function completeUtf8Length(b: Buffer): number {
  const n = b.length;
  // Look back at most 3 bytes for the lead byte of the last sequence.
  for (let back = 1; back <= Math.min(4, n); back++) {
    const c = b[n - back]!;
    if ((c & 0xc0) === 0x80) continue; // continuation byte
    if (c < 0x80) return n; // ASCII: complete
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return back >= need ? n : n - back;
  }
  return n;
}
