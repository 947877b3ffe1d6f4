// Bounds-checked reads of a trace-cmd .dat file over a Uint8Array, in the file's byte order. A read
// past the end throws `Damage` (offset + reason), which the reader turns into a diagnostic: bad
// input never escapes as an exception.

/** A truncated or corrupt file, at a byte offset of the (decompressed) input. */
export class Damage extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
    /** The whole message, when `<reason> at byte <offset>` does not say it well. */
    message = `${reason} at byte ${offset}`,
  ) {
    super(message);
  }
}

/**
 * The injected decoders for compressed sections (io/ provides Node's zlib and a zstd). With
 * `into` (at least `outSize` bytes, the caller's to reuse) a decoder may write there and return
 * a view of it, valid until the caller reuses it: a trace's chunks then make no fresh buffer each.
 */
export interface Decompressors {
  zlib?(input: Uint8Array, outSize: number, into?: Uint8Array): Uint8Array;
  zstd?(input: Uint8Array, outSize: number, into?: Uint8Array): Uint8Array;
}

/**
 * Random access to a file's bytes (core has no file system): a buffer in memory, or positional
 * reads that io/ provides. Reading a big file in pieces into a reused buffer is much faster than
 * one huge buffer where fresh memory is costly to touch.
 */
export interface ByteSource {
  readonly length: number;
  /**
   * Bytes [offset, offset + length), fewer at the end of the file. With `into` the result may be a
   * view of it (valid until the next read into it); without, it is the caller's to keep.
   */
  read(offset: number, length: number, into?: Uint8Array): Uint8Array;
}

/**
 * A ByteSource over bytes already in memory (no copies). A class: a `{ length, read }` literal
 * shares its map with every literal of those keys, and one whose length is a double (a file's
 * size from stat) deprecated it under the streams that read it.
 */
class MemorySource implements ByteSource {
  readonly length: number;
  constructor(private readonly buf: Uint8Array) {
    this.length = buf.length;
  }
  read(offset: number, length: number): Uint8Array {
    const buf = this.buf;
    return buf.subarray(Math.min(offset, buf.length), Math.min(offset + length, buf.length));
  }
}

export function memorySource(buf: Uint8Array): ByteSource {
  return new MemorySource(buf);
}

const LATIN1 = new TextDecoder('latin1');
const UTF8 = new TextDecoder('utf-8');

/** A byte string as text (UTF-8 where valid; trace-cmd prints bytes as they are). */
export function text(b: Uint8Array, start = 0, end = b.length): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (b[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  return (ascii ? LATIN1 : UTF8).decode(b.subarray(start, end));
}

export class Cursor {
  readonly view: DataView;
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    readonly little: boolean,
    pos = 0,
    /** Offset of buf[0] in the file, for diagnostics. */
    readonly base = 0,
    /**
     * For decompressed bytes: the file offset of the compressed section or chunk they came from.
     * Their own positions are not file offsets, so damage in them is reported here.
     */
    readonly inflatedAt?: number,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = pos;
  }

  /** The file offset of byte `pos` of this cursor, as diagnostics report it. */
  offsetOf(pos = this.pos): number {
    return this.inflatedAt ?? this.base + pos;
  }

  get left(): number {
    return this.buf.length - this.pos;
  }

  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.buf.length)
      throw new Damage(this.offsetOf(), `file ends inside ${what}`);
  }

  u8(what = 'a byte'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'a 2-byte field'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, this.little);
    this.pos += 2;
    return v;
  }

  u32(what = 'a 4-byte field'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, this.little);
    this.pos += 4;
    return v;
  }

  /** An 8-byte unsigned value; offsets and sizes past 2^53 are damage. */
  u64(what = 'an 8-byte field'): number {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, this.little);
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new Damage(this.offsetOf(), `${what} is implausibly large (${v})`);
    this.pos += 8;
    return Number(v);
  }

  u64big(what = 'an 8-byte field'): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, this.little);
    this.pos += 8;
    return v;
  }

  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** A NUL-terminated string. */
  cstr(what: string): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new Damage(this.offsetOf(), `file ends inside ${what}`);
    const s = text(this.buf, this.pos, end);
    this.pos = end + 1;
    return s;
  }
}

/** The most a compressed section (kallsyms, event formats: megabytes) may claim uncompressed. */
export const MAX_BLOCK = 256 << 20;
/**
 * zlib cannot expand data more than ~1032:1; zstd can (an RLE block is 4 bytes for 128 KiB), but
 * trace data and metadata never come near. A block claiming more than this ratio is a bomb.
 */
export const MAX_RATIO = 1100;
/** Blocks up to this size are decompressed whatever their ratio (sparse pages compress well). */
const RATIO_FREE_BYTES = 1 << 20;

/**
 * Decompresses one block, or throws Damage naming the offset. A block is refused before anything
 * is allocated when it claims more than `limit` bytes, or (above 1 MiB) more than MAX_RATIO times
 * its compressed size; the decoders are told the claimed size and stop there, so a block that
 * inflates to more than it claims is damage too, not an allocation. `into`: see Decompressors.
 */
export function inflate(
  algo: string,
  d: Decompressors,
  input: Uint8Array,
  outSize: number,
  offset: number,
  limit = MAX_BLOCK,
  into?: Uint8Array,
): Uint8Array {
  const f = algo === 'zlib' ? d.zlib : algo === 'zstd' ? d.zstd : undefined;
  if (outSize > limit)
    throw new Damage(
      offset,
      `${algo} block claims ${outSize} bytes uncompressed (more than ${limit}); refused`,
    );
  if (outSize > RATIO_FREE_BYTES && outSize > input.length * MAX_RATIO)
    throw new Damage(
      offset,
      `${algo} block claims ${outSize} bytes from ${input.length} compressed (more than ${MAX_RATIO}:1, a decompression bomb?); refused`,
    );
  if (f === undefined) throw new Damage(offset, `no decoder for '${algo}' compression`);
  let out: Uint8Array;
  try {
    out =
      into !== undefined && into.length >= outSize ? f(input, outSize, into) : f(input, outSize);
  } catch (e) {
    throw new Damage(
      offset,
      `corrupt ${algo} block (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (out.length !== outSize)
    throw new Damage(offset, `${algo} block gave ${out.length} bytes, header says ${outSize}`);
  return out;
}
