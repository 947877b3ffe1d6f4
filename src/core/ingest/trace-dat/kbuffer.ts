// One CPU's ring-buffer data as events: pages (sub-buffers) in the kernel's format
// (kernel/trace/ring_buffer.c; libtraceevent kbuffer-parse.c), raw or in compressed chunks. Page:
// u64 timestamp, long commit (data size | bit 31 events missed | bit 30 count stored after the
// data), then events, each a 32-bit header `type_len:5 time_delta:27` (bit order by endianness):
//   type_len 1..28  data of type_len*4 bytes follows
//   type_len 0      a u32 length (+4) follows, then the data
//   29 padding (u32 length), 30 time extend (u32: delta bits 27..58), 31 absolute time stamp.

import { ByteSource, Cursor, Damage, Decompressors, inflate } from './bytes';
import type { PageHeader } from './format';

const TS_SHIFT_MUL = 134217728; // 2^27
/** Raw data is read this many pages at a time (1 MiB of 4 KiB pages). */
const RAW_BLOCK_PAGES = 256;
/** A compressed chunk may hold at most this many pages (4 MiB of 4 KiB pages). */
export const MAX_CHUNK_PAGES = 1024;

/** Where one CPU's data lies in the file (a buffer's per-CPU entry, file.ts BufferInfo). */
export interface CpuData {
  cpu: number;
  offset: number;
  size: number;
}

/** What decoding pages needs to know of their file; file.ts's DatFile has it all. */
export interface PageLayout {
  little: boolean;
  longSize: number;
  /** The file's compression ('none' for raw data): each chunk is decompressed with it. */
  compression: string;
  headerPage: PageHeader;
}

export interface StreamSink {
  damage(d: Damage): void;
  /** The page at `offset` says events were lost before it: a count, or -1 when unknown. */
  lost(cpu: number, count: number, offset: number): void;
}

export class CpuStream {
  readonly cpu: number;
  /**
   * Current event: timestamp (clock units), bytes and range of its data. `ts` starts as NaN, a
   * double: it holds doubles (timestamps past 2^31), and a field first made a small integer
   * changes representation on the first page, deprecating the map of every stream made so far.
   */
  ts = NaN;
  bytes: Uint8Array = new Uint8Array(0);
  /** A view of `bytes` (made once per block: the decoder reads the record's fields through it). */
  dv: DataView = new DataView(new ArrayBuffer(0));
  recStart = 0;
  recLen = 0;
  done = false;

  /** The current page's unread data: [pos, end) of `bytes` (a counting reader walks it itself). */
  pos = 0;
  end = 0;
  /** Next page start in `bytes`, and where the current block of pages ends. */
  private nextPage = 0;
  private blockEnd = 0;
  /** File offset of the current block (raw data) or chunk (compressed). */
  private blockFileOffset = 0;

  /** Raw data: the next block's file offset and the end of this CPU's data. */
  private rawPos = 0;
  private rawEnd = 0;
  /** Compressed data: the next chunk header's file offset and how many chunks are left. */
  private chunkPos = 0;
  private chunksLeft = 0;
  private readonly chunked: boolean;
  /** Reused for raw blocks and compressed chunks. */
  private scratch = new Uint8Array(0);
  /** Reused for decompressed chunks (each stream its own: the merge holds every stream's block). */
  private inflated = new Uint8Array(0);
  private readonly little: boolean;
  private readonly big: boolean;
  private readonly pageSize: number;
  /**
   * The page header's layout (PageLayout.headerPage), copied: the page loop reads small integers
   * of its own, not the file's header object, which parseDatFile replaces after it made the file.
   */
  private readonly tsOffset: number;
  private readonly commitOffset: number;
  private readonly commitSize: number;
  private readonly dataOffset: number;

  constructor(
    private readonly src: ByteSource,
    private readonly f: PageLayout,
    cpu: CpuData,
    pageSize: number,
    chunked: boolean,
    private readonly dec: Decompressors,
    private readonly sink: StreamSink,
  ) {
    this.cpu = cpu.cpu;
    this.little = f.little;
    this.big = !f.little;
    this.pageSize = pageSize;
    this.chunked = chunked;
    this.tsOffset = f.headerPage.tsOffset;
    this.commitOffset = f.headerPage.commitOffset;
    this.commitSize = f.headerPage.commitSize;
    this.dataOffset = f.headerPage.dataOffset;
    if (cpu.size === 0) {
      this.done = true;
      return;
    }
    // The page loop advances by the page size: never let it be 0 (or absurd).
    if (pageSize < 64 || pageSize > 1 << 24) {
      this.fail(new Damage(cpu.offset, `CPU ${cpu.cpu}: implausible page size ${pageSize}`));
      return;
    }
    if (chunked) {
      try {
        if (cpu.offset >= src.length)
          throw pastEnd(src.length, `the data of CPU ${cpu.cpu}`, cpu.offset);
        this.chunksLeft = new Cursor(src.read(cpu.offset, 4), f.little, 0, cpu.offset).u32(
          `the chunk count of CPU ${cpu.cpu}`,
        );
      } catch (e) {
        this.fail(e);
        return;
      }
      this.chunkPos = cpu.offset + 4;
    } else {
      let end = cpu.offset + cpu.size;
      if (end > src.length) {
        sink.damage(
          new Damage(
            src.length,
            `file ends inside the data of CPU ${cpu.cpu} (${end - src.length} bytes missing)`,
          ),
        );
        end = Math.max(cpu.offset, src.length);
      }
      this.rawPos = cpu.offset;
      this.rawEnd = end;
    }
  }

  private fail(e: unknown): void {
    if (!(e instanceof Damage)) throw e;
    this.sink.damage(e);
    this.done = true;
  }

  /** Loads the next block of pages (raw) or the next chunk (compressed); false at the end. */
  private loadBlock(): boolean {
    return this.chunked ? this.loadChunk() : this.loadRaw();
  }

  private loadRaw(): boolean {
    if (this.rawPos >= this.rawEnd) return false;
    const len = Math.min(RAW_BLOCK_PAGES * this.pageSize, this.rawEnd - this.rawPos);
    if (this.scratch.length < len) this.scratch = new Uint8Array(len);
    const b = this.src.read(this.rawPos, len, this.scratch);
    if (b.length === 0) return false;
    this.setBlock(b, this.rawPos);
    this.rawPos += b.length;
    if (b.length < len) this.rawPos = this.rawEnd;
    return true;
  }

  private setBlock(b: Uint8Array, fileOffset: number): void {
    this.bytes = b;
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.nextPage = 0;
    this.blockEnd = b.length;
    this.blockFileOffset = fileOffset;
  }

  /** Loads the next compressed chunk; false at the end. */
  private loadChunk(): boolean {
    if (this.chunksLeft === 0) return false;
    this.chunksLeft--;
    const at = this.chunkPos;
    try {
      if (at >= this.src.length)
        throw pastEnd(
          this.src.length,
          `compressed chunk ${this.chunksLeft + 1} from the end of CPU ${this.cpu}`,
          at,
        );
      const h = new Cursor(this.src.read(at, 8), this.f.little, 0, at);
      const csize = h.u32(`a chunk header of CPU ${this.cpu}`);
      const usize = h.u32(`a chunk header of CPU ${this.cpu}`);
      if (csize > this.src.length - (at + 8))
        throw new Damage(
          this.src.length,
          'file ends',
          `file ends at byte ${this.src.length}, inside a compressed chunk of CPU ${this.cpu} that claims ${csize} bytes from byte ${at + 8}`,
        );
      if (this.scratch.length < csize) this.scratch = new Uint8Array(csize);
      const data = this.src.read(at + 8, csize, this.scratch);
      if (data.length < csize)
        throw new Damage(
          at + 8 + data.length,
          `file ends inside a compressed chunk of CPU ${this.cpu}`,
        );
      // trace-cmd compresses ~10 pages per chunk: far more is a corrupt or hostile header.
      const limit = Math.max(1 << 20, this.pageSize * MAX_CHUNK_PAGES);
      // Grown to the largest chunk so far once inflate has accepted its size.
      const into =
        usize <= limit && usize > this.inflated.length ? new Uint8Array(usize) : this.inflated;
      const block = inflate(this.f.compression, this.dec, data, usize, at, limit, into);
      if (into.length > this.inflated.length) this.inflated = into;
      this.setBlock(block, at);
      this.chunkPos = at + 8 + csize;
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  private where(pos: number): number {
    return this.chunked ? this.blockFileOffset : this.blockFileOffset + pos;
  }

  /** The file offset of the current event (of its compressed chunk, for compressed data). */
  recOffset(): number {
    return this.where(this.recStart);
  }

  /** Loads the next page with data; false at the end of this CPU's data. */
  private loadPage(): boolean {
    for (;;) {
      if (this.nextPage + this.dataOffset > this.blockEnd) {
        if (!this.chunked && this.nextPage < this.blockEnd && this.rawPos >= this.rawEnd)
          this.sink.damage(
            new Damage(
              this.where(this.nextPage),
              `CPU ${this.cpu}: data ends inside a page header`,
            ),
          );
        if (!this.loadBlock()) return false;
        continue;
      }
      const p = this.nextPage;
      this.nextPage += this.pageSize;
      const dv = this.dv;
      const tsLo = dv.getUint32(p + this.tsOffset + (this.big ? 4 : 0), this.little);
      const tsHi = dv.getUint32(p + this.tsOffset + (this.big ? 0 : 4), this.little);
      const commit =
        this.commitSize === 8
          ? dv.getUint32(p + this.commitOffset + (this.big ? 4 : 0), this.little)
          : dv.getUint32(p + this.commitOffset, this.little);
      let size = commit & 0x7ffffff;
      const data = p + this.dataOffset;
      const limit = Math.min(p + this.pageSize, this.blockEnd);
      if ((commit & 0x80000000) !== 0) {
        let lost = -1;
        if ((commit & 0x40000000) !== 0 && data + size + this.f.longSize <= limit) {
          lost =
            this.f.longSize === 8
              ? dv.getUint32(data + size + (this.big ? 4 : 0), this.little)
              : dv.getUint32(data + size, this.little);
        }
        this.sink.lost(this.cpu, lost, this.where(p));
      }
      if (data + size > limit) {
        this.sink.damage(
          new Damage(
            this.where(p),
            `CPU ${this.cpu}: page says ${size} bytes of events, ${Math.max(0, limit - data)} are there`,
          ),
        );
        size = Math.max(0, limit - data);
      }
      this.ts = tsLo + tsHi * 4294967296;
      this.pos = data;
      this.end = data + size;
      if (size > 0) return true;
    }
  }

  /**
   * Moves to the next page with data, for a reader that walks the page's records itself (the
   * count-only read): `ts` is the page's timestamp, [pos, end) its data; false at the end (call
   * it no more then). It stores nothing itself: a store first made as a stream ends would
   * deoptimise the reader's loop, which V8 has optimised by then with this inlined.
   */
  nextDataPage(): boolean {
    return !this.done && this.loadPage();
  }

  /** Moves to the next data event; false (and `done`) at the end. */
  next(): boolean {
    if (this.done) return false;
    for (;;) {
      if (this.pos + 4 > this.end) {
        // `done` stored at every page, not only at the end: a store first made as the stream
        // ends ran where V8 had optimised this (and the merge that inlines it) with no feedback
        // for it, and threw that code away before the next file's read.
        const more = this.loadPage();
        this.done = !more;
        if (!more) return false;
        continue;
      }
      const dv = this.dv;
      const pos = this.pos;
      const w = dv.getUint32(pos, this.little);
      const typeLen = this.big ? w >>> 27 : w & 31;
      const delta = this.big ? w & 0x7ffffff : w >>> 5;
      let p = pos + 4;
      let len: number;
      if (typeLen === 0) {
        if (p + 4 > this.end) {
          this.broken(pos, 'an event length');
          continue;
        }
        len = ((dv.getUint32(p, this.little) - 4 + 3) & ~3) >>> 0;
        p += 4;
      } else if (typeLen <= 28) {
        len = typeLen * 4;
      } else if (typeLen === 29) {
        // Padding; a zero delta means the rest of the page is unused.
        if (delta === 0) {
          this.pos = this.end;
          continue;
        }
        if (p + 4 > this.end) {
          this.broken(pos, 'a padding length');
          continue;
        }
        this.ts += delta;
        this.pos = p + dv.getUint32(p, this.little);
        continue;
      } else {
        if (p + 4 > this.end) {
          this.broken(pos, 'a time extend');
          continue;
        }
        const ext = dv.getUint32(p, this.little) * TS_SHIFT_MUL + delta;
        if (typeLen === 30) this.ts += ext;
        else this.ts = ext;
        this.pos = p + 4;
        continue;
      }
      if (p + len > this.end) {
        this.broken(pos, 'an event');
        continue;
      }
      this.ts += delta;
      this.recStart = p;
      this.recLen = len;
      this.pos = p + len;
      return true;
    }
  }

  /** A page whose events do not fit: report and skip the rest of the page. */
  private broken(pos: number, what: string): void {
    this.sink.damage(
      new Damage(this.where(pos), `CPU ${this.cpu}: ${what} runs past the page's data`),
    );
    this.pos = this.end;
  }
}

/** The file ends before `what`, which should have been at byte `at`. */
function pastEnd(length: number, what: string, at: number): Damage {
  return new Damage(
    length,
    'file ends',
    `file ends at byte ${length}, before ${what} at byte ${at}`,
  );
}
