// UTF-8 decoding of a byte stream in chunks, fast for the nearly-ASCII text traces are.

import { isAscii } from 'node:buffer';

/**
 * UTF-8 decoding of a byte stream in chunks. Trace text is nearly all ASCII: such chunks are
 * decoded with a plain byte copy (several times faster than TextDecoder), others by TextDecoder
 * after holding back an incomplete trailing sequence for the next chunk.
 */
export class Utf8Chunks {
  private readonly td = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  private carry: Buffer | undefined;
  private first = true;
  /** Set once invalid UTF-8 was replaced by U+FFFD. */
  replaced = false;

  decode(chunk: Buffer): string {
    let buf = this.carry !== undefined ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    if (this.first) {
      this.first = false;
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf)
        buf = buf.subarray(3);
    }
    if (isAscii(buf)) return buf.toString('latin1');
    const cut = completeUtf8Length(buf);
    if (cut < buf.length) this.carry = Buffer.from(buf.subarray(cut));
    return this.checked(this.td.decode(buf.subarray(0, cut)));
  }

  end(): string {
    const rest = this.carry;
    this.carry = undefined;
    return rest !== undefined ? this.checked(this.td.decode(rest)) : '';
  }

  private checked(s: string): string {
    if (!this.replaced && s.includes('\uFFFD')) this.replaced = true;
    return s;
  }
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
