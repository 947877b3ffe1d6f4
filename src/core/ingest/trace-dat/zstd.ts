// A zstd decoder (RFC 8878) for .dat chunks where Node has no zstd of its own (< 22.15). It decodes
// into a buffer of the size the chunk claims and checks every length before it acts on it, so its
// work is bounded by the input and that size, and a corrupt frame is an error, not garbage.
//
// It replaces fzstd 0.1.1 (MIT, Arjun Barrett; its table layout and FSE reader are followed here),
// which trusts the sequences it decodes: a corrupt 71-byte frame in the fuzz corpus
// (fuzz-corpus/dat/3eaef42c) says 65,280 sequences for an 89-byte chunk, and fzstd runs them all,
// ~11M literal copies past the end of its buffer (typed-array writes out of bounds are dropped,
// slowly), ~1.5 s, then returns what it wrote as if it were the data. It also loops forever on a
// Huffman table whose FSE-coded weights reach a state that reads 0 bits.

/** Corrupt or unsupported zstd data; the message says what. */
export class ZstdError extends Error {}

const MAGIC = 0xfd2fb528;
const BLOCK_MAX = 1 << 17;
/** libzstd's default limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT): bigger windows need an explicit opt-in. */
const WINDOW_LOG_MAX = 27;

// Literal and match length codes (RFC 8878 3.1.1.3.2.1.1): extra bits, and the baseline.
const LL_BITS = new Uint8Array([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12,
  13, 14, 15, 16,
]);
const ML_BITS = new Uint8Array([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
  1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
]);
const baselines = (bits: Uint8Array, first: number): Uint32Array => {
  const b = new Uint32Array(bits.length);
  for (let i = 0, v = first; i < bits.length; v += 1 << bits[i]!, i++) b[i] = v;
  return b;
};
const LL_BASE = baselines(LL_BITS, 0);
const ML_BASE = baselines(ML_BITS, 3);
const LL_MAX_SYMBOL = 35;
const ML_MAX_SYMBOL = 52;
/** Offset codes above 31 would mean offsets past 4 GiB; libzstd refuses them too. */
const OF_MAX_SYMBOL = 31;

/** An FSE decoding table: per state, its symbol, the bits to read and the next state's base. */
interface Fse {
  log: number;
  sym: Uint8Array;
  nb: Uint8Array;
  base: Uint16Array;
}

const msb = (v: number): number => 31 - Math.clz32(v);

/** Spreads normalized counts (-1: "less than 1") over 2^log states (RFC 8878 4.1.1). */
function buildFse(counts: Int16Array, nSymbols: number, log: number): Fse {
  const size = 1 << log;
  const sym = new Uint8Array(size);
  const nb = new Uint8Array(size);
  const base = new Uint16Array(size);
  const next = new Uint16Array(nSymbols);
  let high = size;
  for (let s = 0; s < nSymbols; s++) {
    if (counts[s] === -1) {
      sym[--high] = s;
      next[s] = 1;
    } else next[s] = counts[s]!;
  }
  const step = (size >> 1) + (size >> 3) + 3;
  const mask = size - 1;
  let pos = 0;
  for (let s = 0; s < nSymbols; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      sym[pos] = s;
      do pos = (pos + step) & mask;
      while (pos >= high);
    }
  }
  if (pos !== 0) throw new ZstdError('corrupt FSE table (counts do not fill it)');
  for (let i = 0; i < size; i++) {
    const n = next[sym[i]!]!++;
    const bits = log - msb(n);
    nb[i] = bits;
    base[i] = (n << bits) - size;
  }
  return { log, sym, nb, base };
}

function predefined(counts: number[], log: number): Fse {
  return buildFse(Int16Array.from(counts), counts.length, log);
}

// Predefined distributions (RFC 8878 3.1.1.3.2.2).
const LL_DEFAULT = predefined(
  [
    4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1,
    -1, -1, -1, -1,
  ],
  6,
);
const ML_DEFAULT = predefined(
  [
    1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1,
  ],
  6,
);
const OF_DEFAULT = predefined(
  [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1],
  5,
);

/**
 * Reads an FSE table description at `at` (RFC 8878 4.1.1); returns the table and the byte after
 * it, which must not pass `end`.
 */
function readFse(
  d: Uint8Array,
  at: number,
  end: number,
  maxLog: number,
  maxSymbol: number,
): [Fse, number] {
  if (at >= end) throw new ZstdError('block ends before an FSE table');
  const log = (d[at]! & 15) + 5;
  if (log > maxLog) throw new ZstdError(`FSE table accuracy ${log} above ${maxLog}`);
  const counts = new Int16Array(256);
  let bit = (at << 3) + 4;
  let left = 1 << log; // probability still to hand out
  let s = -1;
  while (left > 0) {
    if (++s > maxSymbol) throw new ZstdError(`FSE table has symbols above ${maxSymbol}`);
    // The value takes `bits` or `bits + 1` bits: small values need one bit fewer.
    const bits = msb(left + 1);
    const i = bit >> 3;
    const mask = (1 << (bits + 1)) - 1;
    let v = ((d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16)) >> (bit & 7)) & mask;
    const lowMask = (1 << bits) - 1;
    const max = mask - left - 1;
    if ((v & lowMask) < max) {
      bit += bits;
      v &= lowMask;
    } else {
      bit += bits + 1;
      if (v > lowMask) v -= max;
    }
    const count = v - 1;
    counts[s] = count;
    left -= count === -1 ? 1 : count;
    if (count === 0) {
      // A run of zero counts: 2-bit repeat flags, 3 meaning "and more".
      let rep: number;
      do {
        const j = bit >> 3;
        rep = ((d[j]! | (d[j + 1]! << 8)) >> (bit & 7)) & 3;
        bit += 2;
        s += rep;
        if (s > maxSymbol) throw new ZstdError(`FSE table has symbols above ${maxSymbol}`);
      } while (rep === 3);
    }
  }
  if (left !== 0) throw new ZstdError('corrupt FSE table (probabilities do not add up)');
  const next = (bit + 7) >> 3;
  if (next > end) throw new ZstdError('FSE table runs past its block');
  return [buildFse(counts, s + 1, log), next];
}

/**
 * A backward bit stream over d[start, end) (RFC 8878 4.1): read from the last byte's highest set
 * bit down. Reading past the start gives zeros and leaves `left` negative.
 */
class BackBits {
  private readonly floor: number;
  pos: number;

  constructor(
    private readonly d: Uint8Array,
    start: number,
    end: number,
  ) {
    if (end <= start) throw new ZstdError('empty bit stream');
    const last = d[end - 1]!;
    if (last === 0) throw new ZstdError('bit stream without its end mark');
    this.floor = start << 3;
    this.pos = ((end - 1) << 3) + msb(last);
  }

  /** Bits not read yet; negative once more were read than there are. */
  get left(): number {
    return this.pos - this.floor;
  }

  /** `n` (<= 25) bits ending at bit `lo + n` of the array, zeros below the start. */
  at(lo: number, n: number): number {
    if (lo < this.floor) {
      const have = lo + n - this.floor;
      return have <= 0 ? 0 : this.at(this.floor, have) << (n - have);
    }
    const d = this.d;
    const i = lo >> 3;
    return (
      ((d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16) | (d[i + 3]! << 24)) >>> (lo & 7)) &
      ((1 << n) - 1)
    );
  }

  read(n: number): number {
    if (n === 0) return 0;
    this.pos -= n;
    return this.at(this.pos, n);
  }

  /** Up to 31 bits. */
  readLong(n: number): number {
    if (n <= 25) return this.read(n);
    const hi = this.read(n - 16);
    return hi * 65536 + this.read(16);
  }
}

/** A Huffman decoding table: peek `maxBits` bits, get the symbol and how many bits it took. */
interface Huffman {
  maxBits: number;
  sym: Uint8Array;
  nb: Uint8Array;
}

/** Reads a Huffman tree description (RFC 8878 4.2.1); returns the table and the byte after it. */
function readHuffman(d: Uint8Array, at: number, end: number): [Huffman, number] {
  if (at >= end) throw new ZstdError('block ends before a Huffman table');
  const header = d[at]!;
  const weights = new Uint8Array(256);
  let n = 0;
  let next: number;
  if (header < 128) {
    // FSE-compressed weights: two states over one table, alternating, until the bits run out.
    next = at + 1 + header;
    if (next > end) throw new ZstdError('Huffman table runs past its block');
    const [fse, from] = readFse(d, at + 1, next, 6, 255);
    const bits = new BackBits(d, from, next);
    let s1 = bits.read(fse.log);
    let s2 = bits.read(fse.log);
    // At most 255 weights (the 256th is implied): stop with room for the last one, as libzstd.
    for (;;) {
      if (n > 253) throw new ZstdError('more than 255 Huffman weights');
      weights[n++] = fse.sym[s1]!;
      s1 = fse.base[s1]! + bits.read(fse.nb[s1]!);
      if (bits.left < 0) {
        weights[n++] = fse.sym[s2]!;
        break;
      }
      if (n > 253) throw new ZstdError('more than 255 Huffman weights');
      weights[n++] = fse.sym[s2]!;
      s2 = fse.base[s2]! + bits.read(fse.nb[s2]!);
      if (bits.left < 0) {
        weights[n++] = fse.sym[s1]!;
        break;
      }
    }
  } else {
    n = header - 127;
    next = at + 1 + ((n + 1) >> 1);
    if (next > end) throw new ZstdError('Huffman table runs past its block');
    for (let i = 0; i < n; i++) {
      const b = d[at + 1 + (i >> 1)]!;
      weights[i] = i & 1 ? b & 15 : b >> 4;
    }
  }
  // The last symbol's weight is implied: the one that makes the total a power of two.
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (w > 11) throw new ZstdError(`Huffman weight ${w} above 11`);
    if (w > 0) total += 1 << (w - 1);
  }
  if (total === 0) throw new ZstdError('Huffman table with no symbol');
  const maxBits = msb(total) + 1;
  if (maxBits > 11) throw new ZstdError('Huffman codes longer than 11 bits');
  const rest = (1 << maxBits) - total;
  if ((rest & (rest - 1)) !== 0) throw new ZstdError('corrupt Huffman weights');
  weights[n++] = msb(rest) + 1;
  // Codes by weight, then symbol: a symbol of weight w takes 2^(w-1) consecutive entries.
  const size = 1 << maxBits;
  const sym = new Uint8Array(size);
  const nb = new Uint8Array(size);
  let pos = 0;
  for (let w = 1; w <= maxBits; w++) {
    const len = 1 << (w - 1);
    for (let s = 0; s < n; s++) {
      if (weights[s] !== w) continue;
      sym.fill(s, pos, pos + len);
      nb.fill(maxBits + 1 - w, pos, pos + len);
      pos += len;
    }
  }
  return [{ maxBits, sym, nb }, next];
}

/** Decodes one Huffman stream d[start, end) into out[from, to); it must use every bit. */
function huffmanStream(
  h: Huffman,
  d: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  from: number,
  to: number,
): void {
  const bits = new BackBits(d, start, end);
  const { maxBits, sym, nb } = h;
  for (let i = from; i < to; i++) {
    const v = bits.at(bits.pos - maxBits, maxBits);
    out[i] = sym[v]!;
    bits.pos -= nb[v]!;
  }
  if (bits.left !== 0) throw new ZstdError('Huffman stream not used exactly');
}

/** What a frame carries from block to block. */
interface Frame {
  out: Uint8Array;
  /** Where the frame's output starts, and the next byte to write. */
  start: number;
  y: number;
  blockMax: number;
  /** The repeat offsets. */
  rep: [number, number, number];
  huffman?: Huffman;
  ll?: Fse;
  of?: Fse;
  ml?: Fse;
}

let literalScratch: Uint8Array | undefined;

function sequenceTable(
  d: Uint8Array,
  at: number,
  end: number,
  mode: number,
  dflt: Fse,
  prev: Fse | undefined,
  maxLog: number,
  maxSymbol: number,
  what: string,
): [Fse, number] {
  switch (mode) {
    case 0:
      return [dflt, at];
    case 1: {
      if (at >= end) throw new ZstdError('block ends inside the sequences header');
      const s = d[at]!;
      if (s > maxSymbol) throw new ZstdError(`${what} code ${s} above ${maxSymbol}`);
      return [
        { log: 0, sym: Uint8Array.of(s), nb: new Uint8Array(1), base: new Uint16Array(1) },
        at + 1,
      ];
    }
    case 2:
      return readFse(d, at, end, maxLog, maxSymbol);
    default:
      if (prev === undefined) throw new ZstdError(`repeated ${what} table with none before`);
      return [prev, at];
  }
}

/** Decodes a compressed block d[at, end) into the frame's output (RFC 8878 3.1.1.3). */
function compressedBlock(f: Frame, d: Uint8Array, at: number, end: number): void {
  const out = f.out;
  const limit = Math.min(out.length, f.y + f.blockMax);
  // ---- literals ----
  const b0 = d[at]!;
  const type = b0 & 3;
  const format = (b0 >> 2) & 3;
  let litSize: number;
  let lit: Uint8Array;
  let litPos: number;
  let p = at;
  if (type < 2) {
    if (format === 1) {
      litSize = (b0 >> 4) | (d[p + 1]! << 4);
      p += 2;
    } else if (format === 3) {
      litSize = (b0 >> 4) | (d[p + 1]! << 4) | (d[p + 2]! << 12);
      p += 3;
    } else {
      litSize = b0 >> 3;
      p += 1;
    }
    if (litSize > f.blockMax) throw new ZstdError(`${litSize} literals in a block`);
    if (type === 0) {
      if (p + litSize > end) throw new ZstdError('literals run past their block');
      lit = d;
      litPos = p;
      p += litSize;
    } else {
      if (p >= end) throw new ZstdError('literals run past their block');
      lit = literalScratch ??= new Uint8Array(BLOCK_MAX);
      lit.fill(d[p]!, 0, litSize);
      litPos = 0;
      p += 1;
    }
  } else {
    let compSize: number;
    const streams = format === 0 ? 1 : 4;
    if (format < 2) {
      litSize = (b0 >> 4) | ((d[p + 1]! & 63) << 4);
      compSize = (d[p + 1]! >> 6) | (d[p + 2]! << 2);
      p += 3;
    } else if (format === 2) {
      litSize = (b0 >> 4) | (d[p + 1]! << 4) | ((d[p + 2]! & 3) << 12);
      compSize = (d[p + 2]! >> 2) | (d[p + 3]! << 6);
      p += 4;
    } else {
      litSize = (b0 >> 4) | (d[p + 1]! << 4) | ((d[p + 2]! & 63) << 12);
      compSize = (d[p + 2]! >> 6) | (d[p + 3]! << 2) | (d[p + 4]! << 10);
      p += 5;
    }
    if (litSize > f.blockMax) throw new ZstdError(`${litSize} literals in a block`);
    const litEnd = p + compSize;
    if (litEnd > end) throw new ZstdError('literals run past their block');
    if (type === 2) [f.huffman, p] = readHuffman(d, p, litEnd);
    else if (f.huffman === undefined)
      throw new ZstdError('literals reuse a Huffman table with none before');
    lit = literalScratch ??= new Uint8Array(BLOCK_MAX);
    litPos = 0;
    if (streams === 1) huffmanStream(f.huffman!, d, p, litEnd, lit, 0, litSize);
    else {
      if (p + 6 > litEnd) throw new ZstdError('literals end inside their jump table');
      const s1 = d[p]! | (d[p + 1]! << 8);
      const s2 = d[p + 2]! | (d[p + 3]! << 8);
      const s3 = d[p + 4]! | (d[p + 5]! << 8);
      const a = p + 6;
      const b = a + s1;
      const c = b + s2;
      const e = c + s3;
      if (e >= litEnd) throw new ZstdError('literal streams run past their block');
      if (litSize < 6) throw new ZstdError(`${litSize} literals cannot make 4 streams`);
      const seg = (litSize + 3) >> 2;
      huffmanStream(f.huffman!, d, a, b, lit, 0, seg);
      huffmanStream(f.huffman!, d, b, c, lit, seg, 2 * seg);
      huffmanStream(f.huffman!, d, c, e, lit, 2 * seg, 3 * seg);
      huffmanStream(f.huffman!, d, e, litEnd, lit, 3 * seg, litSize);
    }
    p = litEnd;
  }
  const litEnd = litPos + litSize;
  // ---- sequences ----
  if (p >= end) throw new ZstdError('block ends before its sequences');
  let ns = d[p++]!;
  if (ns >= 128) {
    if (ns === 255) {
      ns = d[p]! + (d[p + 1]! << 8) + 0x7f00;
      p += 2;
    } else {
      ns = ((ns - 128) << 8) + d[p]!;
      p += 1;
    }
  }
  let y = f.y;
  if (ns === 0) {
    if (p !== end) throw new ZstdError('bytes after a block with no sequences');
  } else {
    // Each sequence makes at least 3 bytes (the shortest match): refuse before decoding any.
    if (litSize + 3 * ns > limit - y)
      throw new ZstdError(
        `${ns} sequences and ${litSize} literals cannot fit in the ${limit - y} bytes left`,
      );
    if (p >= end) throw new ZstdError('block ends inside the sequences header');
    const modes = d[p++]!;
    if ((modes & 3) !== 0) throw new ZstdError('reserved bits set in the sequences header');
    let llT: Fse, ofT: Fse, mlT: Fse;
    [llT, p] = sequenceTable(
      d,
      p,
      end,
      modes >> 6,
      LL_DEFAULT,
      f.ll,
      9,
      LL_MAX_SYMBOL,
      'literal length',
    );
    [ofT, p] = sequenceTable(
      d,
      p,
      end,
      (modes >> 4) & 3,
      OF_DEFAULT,
      f.of,
      8,
      OF_MAX_SYMBOL,
      'offset',
    );
    [mlT, p] = sequenceTable(
      d,
      p,
      end,
      (modes >> 2) & 3,
      ML_DEFAULT,
      f.ml,
      9,
      ML_MAX_SYMBOL,
      'match length',
    );
    f.ll = llT;
    f.of = ofT;
    f.ml = mlT;
    const bits = new BackBits(d, p, end);
    let sLL = bits.read(llT.log);
    let sOF = bits.read(ofT.log);
    let sML = bits.read(mlT.log);
    let [r0, r1, r2] = f.rep;
    let lp = litPos;
    for (let k = 0; k < ns; k++) {
      const ofCode = ofT.sym[sOF]!;
      const mlCode = mlT.sym[sML]!;
      const llCode = llT.sym[sLL]!;
      // 2 ** ofCode without Math.pow (the sequence loop's hottest line): ofCode <= 31.
      const ofValue = (ofCode < 31 ? 1 << ofCode : 0x80000000) + bits.readLong(ofCode);
      const ml = ML_BASE[mlCode]! + bits.read(ML_BITS[mlCode]!);
      const ll = LL_BASE[llCode]! + bits.read(LL_BITS[llCode]!);
      let offset: number;
      if (ofValue > 3) {
        offset = ofValue - 3;
        r2 = r1;
        r1 = r0;
        r0 = offset;
      } else {
        // Repeat offsets; with no literals they shift by one (RFC 8878 3.1.2.5).
        const idx = ofValue - (ll !== 0 ? 1 : 0);
        if (idx === 0) offset = r0;
        else {
          offset = idx === 1 ? r1 : idx === 2 ? r2 : r0 - 1;
          if (idx > 1) r2 = r1;
          r1 = r0;
          r0 = offset;
        }
      }
      if (k + 1 < ns) {
        sLL = llT.base[sLL]! + bits.read(llT.nb[sLL]!);
        sML = mlT.base[sML]! + bits.read(mlT.nb[sML]!);
        sOF = ofT.base[sOF]! + bits.read(ofT.nb[sOF]!);
      }
      if (bits.left < 0) throw new ZstdError('sequences run past their bit stream');
      if (ll > litEnd - lp) throw new ZstdError('a sequence takes more literals than there are');
      if (ll + ml > limit - y) throw new ZstdError('sequences make more bytes than the block may');
      if (ll > 16) out.set(lit.subarray(lp, lp + ll), y);
      else for (let i = 0; i < ll; i++) out[y + i] = lit[lp + i]!;
      y += ll;
      lp += ll;
      if (offset === 0 || offset > y - f.start)
        throw new ZstdError(`a match ${offset} bytes back, before the frame's start`);
      const from = y - offset;
      // A match that overlaps what it writes repeats its first `offset` bytes: copy them in
      // whole periods, each copy twice as long as the last; short ones byte by byte.
      if (ml <= 16) for (let i = 0; i < ml; i++) out[y + i] = out[from + i]!;
      else if (offset >= ml) out.copyWithin(y, from, from + ml);
      else if (offset < 8) for (let i = 0; i < ml; i++) out[y + i] = out[from + i]!;
      else {
        let done = 0;
        for (let step = offset; done < ml; step += step) {
          const n = Math.min(step, ml - done);
          out.copyWithin(y + done, from, from + n);
          done += n;
        }
      }
      y += ml;
    }
    if (bits.left !== 0) throw new ZstdError('sequence bit stream not used exactly');
    f.rep = [r0, r1, r2];
    litPos = lp;
  }
  const rest = litEnd - litPos;
  if (rest > limit - y) throw new ZstdError('literals make more bytes than the block may');
  out.set(lit.subarray(litPos, litEnd), y);
  f.y = y + rest;
}

/**
 * Decodes zstd frames into a buffer of `outSize` bytes; returns the bytes decoded (fewer when
 * the frames end early). Throws ZstdError for corrupt data, for output past `outSize`, for a
 * frame that needs a dictionary or a window above 128 MiB. Checksums are skipped, not verified.
 */
export function zstdDecompress(input: Uint8Array, outSize: number): Uint8Array {
  const out = new Uint8Array(outSize);
  const d = input;
  const len = d.length;
  let at = 0;
  let y = 0;
  while (at < len) {
    if (len - at < 4) throw new ZstdError('input ends inside a frame magic number');
    const magic = (d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16) | (d[at + 3]! << 24)) >>> 0;
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      // A skippable frame: its size, then that many bytes.
      if (len - at < 8) throw new ZstdError('input ends inside a skippable frame header');
      const size = (d[at + 4]! | (d[at + 5]! << 8) | (d[at + 6]! << 16) | (d[at + 7]! << 24)) >>> 0;
      if (size > len - at - 8) throw new ZstdError('skippable frame runs past the input');
      at += 8 + size;
      continue;
    }
    if (magic !== MAGIC) throw new ZstdError(`not a zstd frame (magic 0x${magic.toString(16)})`);
    let p = at + 4;
    if (p >= len) throw new ZstdError('input ends inside a frame header');
    const fhd = d[p++]!;
    const fcsFlag = fhd >> 6;
    const single = (fhd >> 5) & 1;
    const checksum = (fhd >> 2) & 1;
    const dictFlag = fhd & 3;
    if (fhd & 8) throw new ZstdError('reserved bit set in a frame header');
    const headerEnd = p + (single ? 0 : 1) + [0, 1, 2, 4][dictFlag]! + [single, 2, 4, 8][fcsFlag]!;
    if (headerEnd > len) throw new ZstdError('input ends inside a frame header');
    let window = 0;
    if (!single) {
      const wd = d[p++]!;
      const log = 10 + (wd >> 3);
      if (log > WINDOW_LOG_MAX)
        throw new ZstdError(`window of 2^${log} bytes (more than 2^${WINDOW_LOG_MAX})`);
      window = 2 ** log + (2 ** log / 8) * (wd & 7);
    }
    let dict = 0;
    for (let i = 0, n = [0, 1, 2, 4][dictFlag]!; i < n; i++) dict += d[p++]! * 2 ** (8 * i);
    if (dict !== 0) throw new ZstdError(`frame needs dictionary ${dict}`);
    let fcs: number | undefined;
    const fcsBytes = [single, 2, 4, 8][fcsFlag]!;
    if (fcsBytes > 0) {
      fcs = 0;
      for (let i = 0; i < fcsBytes; i++) fcs += d[p++]! * 2 ** (8 * i);
      if (fcsBytes === 2) fcs += 256;
      if (fcs > outSize - y)
        throw new ZstdError(`frame holds ${fcs} bytes, more than the ${outSize - y} claimed`);
    }
    if (single) window = fcs!;
    const f: Frame = {
      out,
      start: y,
      y,
      blockMax: Math.min(window, BLOCK_MAX),
      rep: [1, 4, 8],
    };
    for (let last = 0; !last;) {
      if (p + 3 > len) throw new ZstdError('input ends inside a block header');
      const h = d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16);
      p += 3;
      last = h & 1;
      const type = (h >> 1) & 3;
      const size = h >>> 3;
      if (size > f.blockMax)
        throw new ZstdError(`block of ${size} bytes (more than ${f.blockMax} in this frame)`);
      if (type === 1) {
        if (p >= len) throw new ZstdError('input ends inside an RLE block');
        if (size > outSize - f.y) throw new ZstdError(`more than the ${outSize} bytes claimed`);
        out.fill(d[p]!, f.y, f.y + size);
        f.y += size;
        p += 1;
        continue;
      }
      if (type === 3) throw new ZstdError('reserved block type');
      if (size > len - p) throw new ZstdError(`block of ${size} bytes runs past the input`);
      if (type === 0) {
        if (size > outSize - f.y) throw new ZstdError(`more than the ${outSize} bytes claimed`);
        out.set(d.subarray(p, p + size), f.y);
        f.y += size;
      } else {
        if (size === 0) throw new ZstdError('empty compressed block');
        compressedBlock(f, d, p, p + size);
      }
      p += size;
    }
    if (fcs !== undefined && f.y - f.start !== fcs)
      throw new ZstdError(`frame made ${f.y - f.start} bytes, its header says ${fcs}`);
    if (checksum) {
      if (p + 4 > len) throw new ZstdError('input ends inside a frame checksum');
      p += 4;
    }
    y = f.y;
    at = p;
  }
  return y === outSize ? out : out.subarray(0, y);
}
