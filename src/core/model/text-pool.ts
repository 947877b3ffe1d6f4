// Free text kept per event (generic event fields, markers, kvm fields) as UTF-8 bytes in one
// growing buffer: no string object per event, and nothing keeps the 64 KiB chunk a line was cut
// from alive (a JS substring would).

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class TextPool {
  private bytes: Uint8Array = new Uint8Array(1 << 16);
  private offsets: Int32Array = new Int32Array(1024);
  private n = 0;
  private used = 0;

  /** Stores `s` and returns its id. */
  push(s: string): number {
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    const need = this.used + s.length * 3;
    if (need > this.bytes.length) {
      let cap = this.bytes.length * 2;
      while (cap < need) cap *= 2;
      const b = new Uint8Array(cap);
      b.set(this.bytes.subarray(0, this.used));
      this.bytes = b;
    }
    if (this.n + 2 > this.offsets.length) {
      const o = new Int32Array(this.offsets.length * 2);
      o.set(this.offsets);
      this.offsets = o;
    }
    this.offsets[this.n] = this.used;
    this.used += encoder.encodeInto(s, this.bytes.subarray(this.used)).written;
    this.offsets[this.n + 1] = this.used;
    return this.n++;
  }

  get(id: number): string {
    if (id < 0 || id >= this.n) throw new RangeError(`text id ${id} out of range (${this.n})`);
    return decoder.decode(this.bytes.subarray(this.offsets[id]!, this.offsets[id + 1]!));
  }

  get length(): number {
    return this.n;
  }

  /** Bytes held (capacity, as resident). */
  residentBytes(): number {
    return this.bytes.byteLength + this.offsets.byteLength;
  }

  /** The bytes and offsets (trimmed copies), for moving the pool to another thread. */
  snapshot(): { bytes: Uint8Array; offsets: Int32Array } {
    return { bytes: this.bytes.slice(0, this.used), offsets: this.offsets.slice(0, this.n + 1) };
  }

  static restore(snap: { bytes: Uint8Array; offsets: Int32Array }): TextPool {
    const p = new TextPool();
    p.bytes = snap.bytes.length > 0 ? snap.bytes : new Uint8Array(1 << 16);
    p.offsets = snap.offsets.length > 1 ? snap.offsets : new Int32Array(1024);
    p.n = Math.max(0, snap.offsets.length - 1);
    p.used = snap.bytes.length;
    return p;
  }

  /** Appends every text of `other`; the first gets id `this.length` as it was before the call. */
  appendAll(other: TextPool): void {
    for (let id = 0; id < other.n; id++) {
      // Copy bytes directly: both pools hold UTF-8.
      const a = other.offsets[id]!;
      const b = other.offsets[id + 1]!;
      this.pushBytes(other.bytes.subarray(a, b));
    }
  }

  private pushBytes(src: Uint8Array): void {
    const need = this.used + src.length;
    if (need > this.bytes.length) {
      let cap = Math.max(this.bytes.length * 2, 1 << 16);
      while (cap < need) cap *= 2;
      const b = new Uint8Array(cap);
      b.set(this.bytes.subarray(0, this.used));
      this.bytes = b;
    }
    if (this.n + 2 > this.offsets.length) {
      const o = new Int32Array(Math.max(this.offsets.length * 2, 1024));
      o.set(this.offsets.subarray(0, this.n + 1));
      this.offsets = o;
    }
    this.offsets[this.n] = this.used;
    this.bytes.set(src, this.used);
    this.used += src.length;
    this.offsets[this.n + 1] = this.used;
    this.n++;
  }
}

/**
 * A copy of `s` that does not share memory with the string it was cut from. V8 represents
 * substrings of 13+ characters as views into their parent; an interned comm kept as such a view
 * would keep a whole input chunk alive. Used only when a new string is first stored.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : decoder.decode(encoder.encode(s));
}

/**
 * detach for any string, lone surrogates included (a chunk of a JS string may end between the
 * two halves of a pair, which a UTF-8 round trip would turn into U+FFFD): used where the copy
 * must equal the original, as a map key or a line being carried to the next chunk.
 */
export function detachExact(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}
