// The columnar event store: every event of a trace in 24 bytes (ts f64, cpu u16, type u16,
// task+latency u32, two int32 payload words), in fixed-size blocks so that growing never copies
// and never doubles peak memory. No object per event.

import { LAT_SPARSE, TASK_BITS, TASK_MASK } from './event-kinds';
import { SLAB_BYTES_MAX } from './slabs';
import type { Ts } from './time';

const BLOCK_SHIFT = 16;
const BLOCK = 1 << BLOCK_SHIFT;
/** Events per block: what a consumer copying block by block (trace-parts.ts) must hold. */
export const EVENTS_PER_BLOCK = BLOCK;
const BLOCK_MASK = BLOCK - 1;
/** Bytes per event in the columns (what `bytesPerEvent` reports before side tables). */
export const EVENT_COLUMN_BYTES = 8 + 2 + 2 + 4 + 4 + 4;

export interface Block {
  ts: Float64Array;
  cpu: Uint16Array;
  type: Uint16Array;
  taskLat: Uint32Array;
  a0: Int32Array;
  a1: Int32Array;
}

/**
 * push() calls writableBlock for the store's first events too (it returns the open block), so that
 * the call has run when V8 optimises push and the importers it is inlined into: the call made only
 * at each 65,536th event had no feedback (the first event's call ran before V8 kept any), and the
 * second block's first event threw the optimised importer away.
 */
const DRY_BLOCK_CALLS = 32;

/** Bytes of one block's columns. */
const BLOCK_BYTES = BLOCK * EVENT_COLUMN_BYTES;
/** Whether a buffer can be carved into blocks (it holds at least one). */
const holdsBlock = (b: ArrayBuffer): boolean => b.byteLength >= BLOCK_BYTES;
/** Blocks per slab at most: 24 x 1.5 MiB = 36 MiB (see model/slabs.ts for why). */
const SLAB_BLOCKS_MAX = Math.floor(SLAB_BYTES_MAX / BLOCK_BYTES);

/**
 * Blocks are carved out of slabs, one ArrayBuffer each (all six columns of a block together):
 * a store's first slabs are small (one block, then two, four...), later ones SLAB_BYTES_MAX, so a
 * dropped store gives its memory back to the system (model/slabs.ts). A store decoded on a
 * worker and then merged (a .dat read by CPU groups) stayed resident in that worker's arena when
 * its blocks came from malloc one by one.
 */
class Slabs {
  private buf: ArrayBuffer | undefined;
  private used = 0;
  private blocks = 0;
  private size = 1;
  /** Slabs to carve before allocating (see EventStore.reuseSlabs). */
  source: (() => ArrayBuffer | undefined) | undefined;

  block(): Block {
    if (this.buf === undefined || this.used === this.blocks) {
      const reused = this.source?.();
      if (reused !== undefined && holdsBlock(reused)) {
        this.blocks = Math.floor(reused.byteLength / BLOCK_BYTES);
        this.buf = reused;
      } else {
        this.blocks = this.size;
        this.size = Math.min(SLAB_BLOCKS_MAX, this.size * 2);
        this.buf = new ArrayBuffer(this.blocks * BLOCK_BYTES);
      }
      this.used = 0;
    }
    return carve(this.buf, this.used++ * BLOCK_BYTES);
  }

  /**
   * Once loading is done: when most of the current slab was never carved, copies the blocks of
   * `blocks` (those before `end`) carved from it into a buffer of their own size, in their place. A
   * trace of 2.1M events otherwise holds a 36 MiB slab for its last two blocks (its pages are
   * never touched, but the buffer is allocated: 16 of 42 bytes per event in arrayBuffers).
   */
  trim(blocks: Block[], end: number): void {
    const buf = this.buf;
    if (buf === undefined) return;
    let first = end;
    while (first > 0 && blocks[first - 1]!.ts.buffer === buf) first--;
    const keep = end - first;
    if (keep === 0 || buf.byteLength < 2 * keep * BLOCK_BYTES) return;
    const out = new ArrayBuffer(keep * BLOCK_BYTES);
    const to = new Uint8Array(out);
    for (let k = 0; k < keep; k++) {
      const at = blocks[first + k]!.ts.byteOffset;
      to.set(new Uint8Array(buf, at, BLOCK_BYTES), k * BLOCK_BYTES);
      blocks[first + k] = carve(out, k * BLOCK_BYTES);
    }
    // Full: the next block comes from a new slab.
    this.buf = out;
    this.blocks = keep;
    this.used = keep;
  }
}

/** A block's columns at byte `o` of `buf` (BLOCK_BYTES from there). */
function carve(buf: ArrayBuffer, o: number): Block {
  const take = <T>(make: (b: ArrayBuffer, at: number, n: number) => T, bytes: number): T => {
    const a = make(buf, o, BLOCK);
    o += bytes * BLOCK;
    return a;
  };
  // Widest first, so each column is aligned to its element size.
  const ts = take((b, at, n) => new Float64Array(b, at, n), 8);
  const taskLat = take((b, at, n) => new Uint32Array(b, at, n), 4);
  const a0 = take((b, at, n) => new Int32Array(b, at, n), 4);
  const a1 = take((b, at, n) => new Int32Array(b, at, n), 4);
  const cpu = take((b, at, n) => new Uint16Array(b, at, n), 2);
  const type = take((b, at, n) => new Uint16Array(b, at, n), 2);
  // Keys in Block's order, as seal and DROPPED make them: one hidden class for every block, so
  // code reading events that met a carved block first is not deoptimised by a sealed one.
  return { ts, cpu, type, taskLat, a0, a1 };
}

/** What a dropped block is replaced by (reading it is a bug: it reads as zeros of length 0). */
const DROPPED: Block = {
  ts: new Float64Array(0),
  cpu: new Uint16Array(0),
  type: new Uint16Array(0),
  taskLat: new Uint32Array(0),
  a0: new Int32Array(0),
  a1: new Int32Array(0),
};

export class EventStore {
  private readonly blocks: Block[] = [];
  private readonly slabs = new Slabs();
  private n = 0;
  private cur: Block | undefined;
  /** 64-bit side values for the few payloads that do not fit an int32 (see event-kinds.ts). */
  private wide: Float64Array = new Float64Array(256);
  private nWide = 0;
  /** Latency strings that did not fit the 10-bit latency table, by event index. */
  private readonly sparseLat = new Map<number, string>();
  /** Set when events were appended out of timestamp order. */
  sorted = true;
  private lastTs = -Infinity;

  get length(): number {
    return this.n;
  }

  /** Appends one event and returns its index. `lat` is a latency-table id (0 = none). */
  push(
    ts: number,
    cpu: number,
    type: number,
    task: number,
    lat: number,
    a0: number,
    a1: number,
  ): number {
    const i = this.n;
    const off = i & BLOCK_MASK;
    let b = this.cur;
    // The first events also call writableBlock (which then returns the current block): see
    // DRY_BLOCK_CALLS.
    if (off === 0 || b === undefined || i < DRY_BLOCK_CALLS) b = this.writableBlock(off);
    b.ts[off] = ts;
    b.cpu[off] = cpu;
    b.type[off] = type;
    b.taskLat[off] = ((lat << TASK_BITS) | task) >>> 0;
    b.a0[off] = a0;
    b.a1[off] = a1;
    if (ts < this.lastTs) this.sorted = false;
    else this.lastTs = ts;
    this.n = i + 1;
    return i;
  }

  /**
   * New blocks are carved first from the slabs `take` hands out (undefined: none now), before any
   * is allocated: a merge writes into the slabs of the stores it consumes, memory already paged
   * in, instead of touching as much fresh memory (slow to fault in on this kind of VM) while the
   * consumed slabs are freed. Whatever the slabs held is overwritten before it is read.
   */
  reuseSlabs(take: (() => ArrayBuffer | undefined) | undefined): void {
    this.slabs.source = take;
  }

  /** Whether a buffer handed to `free` can be given to reuseSlabs (it holds a whole block). */
  static holdsBlock(b: ArrayBuffer): boolean {
    return holdsBlock(b);
  }

  /**
   * Appends `count` events given as columns (`c`: taskLat packed as push packs it), as that many
   * pushes would, by block copies. Returns the index of the first.
   */
  pushColumns(c: Readonly<Block>, count: number): number {
    const first = this.n;
    for (let done = 0; done < count;) {
      const off = this.n & BLOCK_MASK;
      const b = off === 0 || this.cur === undefined ? this.writableBlock(off) : this.cur;
      const take = Math.min(count - done, BLOCK - off);
      const end = done + take;
      b.ts.set(c.ts.subarray(done, end), off);
      b.cpu.set(c.cpu.subarray(done, end), off);
      b.type.set(c.type.subarray(done, end), off);
      b.taskLat.set(c.taskLat.subarray(done, end), off);
      b.a0.set(c.a0.subarray(done, end), off);
      b.a1.set(c.a1.subarray(done, end), off);
      let lastTs = this.lastTs;
      for (let k = done; k < end; k++) {
        const ts = c.ts[k]!;
        if (ts < lastTs) this.sorted = false;
        else lastTs = ts;
      }
      this.lastTs = lastTs;
      this.n += take;
      done = end;
    }
    return first;
  }

  /** The block event n goes to (`off` = n's offset in it): a new one, or the sealed last one reopened. */
  private writableBlock(off: number): Block {
    // Within a block still open (push's first events, see DRY_BLOCK_CALLS): that block.
    if (off !== 0 && this.cur !== undefined) return this.cur;
    if (off !== 0) this.unseal();
    else this.blocks.push(this.slabs.block());
    const b = this.blocks[this.blocks.length - 1]!;
    this.cur = b;
    return b;
  }

  /** Gives a sealed last block its full size again. */
  private unseal(): void {
    const last = this.blocks[this.blocks.length - 1]!;
    const b = this.slabs.block();
    b.ts.set(last.ts);
    b.cpu.set(last.cpu);
    b.type.set(last.type);
    b.taskLat.set(last.taskLat);
    b.a0.set(last.a0);
    b.a1.set(last.a1);
    this.blocks[this.blocks.length - 1] = b;
  }

  /**
   * Lets go of the blocks wholly before event i (a consumer that has copied them elsewhere, e.g.
   * a merge): their memory can be freed before the whole store is. Events before i are gone.
   * `free` is handed each slab once none of its blocks is left, to give it back at once (see
   * FreeBuffers); without it the slabs go with the garbage collector.
   */
  dropBlocksBefore(i: number, free?: FreeBuffers): void {
    this.dropUpTo(Math.min(i >>> BLOCK_SHIFT, this.blocks.length), free);
  }

  /** Lets go of every block and the wide values: the store is consumed (length stays). */
  dropAll(free?: FreeBuffers): void {
    this.dropUpTo(this.blocks.length, free);
    const wide = this.wide;
    this.wide = new Float64Array(0);
    free?.([wide.buffer as ArrayBuffer]);
  }

  private dropUpTo(m: number, free: FreeBuffers | undefined): void {
    const slabs: ArrayBuffer[] = [];
    for (let k = 0; k < m; k++) {
      const b = this.blocks[k]!;
      if (b === DROPPED) continue;
      this.blocks[k] = DROPPED;
      // A slab's blocks are adjacent and dropped in order: it is free once the block after this
      // one is not carved from it.
      const slab = b.ts.buffer as ArrayBuffer;
      if (this.blocks[k + 1]?.ts.buffer !== slab) slabs.push(slab);
      // A sealed block's columns are copies of their own (seal), not carved from a slab.
      if (b.cpu.buffer !== slab)
        for (const col of [b.cpu, b.type, b.taskLat, b.a0, b.a1])
          slabs.push(col.buffer as ArrayBuffer);
    }
    if (slabs.length > 0) free?.(slabs);
  }

  /** Records a latency string that had no room in the latency table. */
  setSparseLatency(i: number, lat: string): void {
    this.sparseLat.set(i, lat);
    const b = this.blocks[i >>> BLOCK_SHIFT]!;
    const off = i & BLOCK_MASK;
    b.taskLat[off] = ((LAT_SPARSE << TASK_BITS) | (b.taskLat[off]! & TASK_MASK)) >>> 0;
  }

  sparseLatency(i: number): string | undefined {
    return this.sparseLat.get(i);
  }

  /** Stores 64-bit values and returns the index of the first. */
  pushWide(a: number, b: number): number {
    if (this.nWide + 2 > this.wide.length) {
      const w = new Float64Array(this.wide.length * 2);
      w.set(this.wide);
      this.wide = w;
    }
    const at = this.nWide;
    this.wide[at] = a;
    this.wide[at + 1] = b;
    this.nWide += 2;
    return at;
  }

  wideAt(i: number): number {
    return this.wide[i]!;
  }

  ts(i: number): Ts {
    return this.blocks[i >>> BLOCK_SHIFT]!.ts[i & BLOCK_MASK]! as Ts;
  }

  cpu(i: number): number {
    return this.blocks[i >>> BLOCK_SHIFT]!.cpu[i & BLOCK_MASK]!;
  }

  type(i: number): number {
    return this.blocks[i >>> BLOCK_SHIFT]!.type[i & BLOCK_MASK]!;
  }

  task(i: number): number {
    return this.blocks[i >>> BLOCK_SHIFT]!.taskLat[i & BLOCK_MASK]! & TASK_MASK;
  }

  /** Latency-table id (0 = none, LAT_SPARSE = see sparseLatency). */
  lat(i: number): number {
    return this.blocks[i >>> BLOCK_SHIFT]!.taskLat[i & BLOCK_MASK]! >>> TASK_BITS;
  }

  a0(i: number): number {
    return this.blocks[i >>> BLOCK_SHIFT]!.a0[i & BLOCK_MASK]!;
  }

  a1(i: number): number {
    return this.blocks[i >>> BLOCK_SHIFT]!.a1[i & BLOCK_MASK]!;
  }

  /** Overwrites a payload word (used when a later line completes an earlier event). */
  setA1(i: number, v: number): void {
    this.blocks[i >>> BLOCK_SHIFT]!.a1[i & BLOCK_MASK] = v;
  }

  /**
   * Calls `fn(block, count, firstIndex)` per block: the fast path for whole-trace passes, where a
   * per-event method call would cost more than the work.
   */
  forEachBlock(fn: (b: Readonly<Block>, count: number, first: number) => void): void {
    for (let k = 0; k < this.blocks.length; k++) {
      const first = k << BLOCK_SHIFT;
      fn(this.blocks[k]!, Math.min(BLOCK, this.n - first), first);
    }
  }

  /**
   * Event indices in timestamp order (stable). The identity when events arrived sorted, which is
   * what every format we read produces unless the file was edited or merged by hand.
   */
  order(): Uint32Array | undefined {
    if (this.sorted) return undefined;
    const idx = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) idx[i] = i;
    const tsAll = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) tsAll[i] = this.ts(i);
    idx.sort((x, y) => tsAll[x]! - tsAll[y]! || x - y);
    return idx;
  }

  /**
   * The events in timestamp order (stable) as a new store, with their sparse latencies and wide
   * values, and the order taken (new index -> old); undefined when they already are in it.
   */
  sortedByTime(): { store: EventStore; order: Uint32Array } | undefined {
    const order = this.order();
    if (order === undefined) return undefined;
    const out = new EventStore();
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      const b = this.blocks[i >>> BLOCK_SHIFT]!;
      const o = i & BLOCK_MASK;
      const taskLat = b.taskLat[o]!;
      out.push(
        b.ts[o]!,
        b.cpu[o]!,
        b.type[o]!,
        taskLat & TASK_MASK,
        taskLat >>> TASK_BITS,
        b.a0[o]!,
        b.a1[o]!,
      );
      const sparse = this.sparseLat.get(i);
      if (sparse !== undefined) out.setSparseLatency(k, sparse);
    }
    out.wide = this.wide;
    out.nWide = this.nWide;
    out.seal();
    return { store: out, order };
  }

  /**
   * Trims the last block to the events it holds, once loading is done (appending after this still
   * works: a new block is started). Keeps a finished trace at 24 bytes per event, not 24 + slack.
   */
  seal(): void {
    const last = this.blocks[this.blocks.length - 1];
    const used = this.n & BLOCK_MASK;
    if (last === undefined) return;
    if (used === 0) {
      this.slabs.trim(this.blocks, this.blocks.length);
      this.cur = undefined;
      return;
    }
    this.blocks[this.blocks.length - 1] = {
      ts: last.ts.slice(0, used),
      cpu: last.cpu.slice(0, used),
      type: last.type.slice(0, used),
      taskLat: last.taskLat.slice(0, used),
      a0: last.a0.slice(0, used),
      a1: last.a1.slice(0, used),
    };
    this.slabs.trim(this.blocks, this.blocks.length - 1);
    this.cur = undefined;
    if (this.nWide < this.wide.length) this.wide = this.wide.slice(0, Math.max(this.nWide, 2));
  }

  /** Bytes resident in the columns and side tables (not the string tables). */
  residentBytes(): number {
    let bytes = this.wide.byteLength + this.sparseLat.size * 64;
    for (const b of this.blocks) bytes += b.ts.length * EVENT_COLUMN_BYTES;
    return bytes;
  }

  /** The blocks (sealed first), side tables and flags, for moving the store to another thread. */
  snapshot(): EventStoreSnapshot {
    this.seal();
    return {
      blocks: this.blocks.slice(),
      n: this.n,
      wide: this.wide.slice(0, this.nWide),
      sparseLat: [...this.sparseLat],
      sorted: this.sorted,
      lastTs: this.lastTs,
    };
  }

  static restore(snap: EventStoreSnapshot): EventStore {
    const e = new EventStore();
    e.blocks.push(...snap.blocks);
    e.n = snap.n;
    e.wide = snap.wide.length > 0 ? snap.wide : new Float64Array(2);
    e.nWide = snap.wide.length;
    for (const [i, lat] of snap.sparseLat) e.sparseLat.set(i, lat);
    e.sorted = snap.sorted;
    e.lastTs = snap.lastTs;
    return e;
  }

  /** Every typed array the store holds (to list as transferables). */
  buffers(): ArrayBuffer[] {
    const out: ArrayBuffer[] = [];
    for (const b of this.blocks)
      for (const a of [b.ts, b.cpu, b.type, b.taskLat, b.a0, b.a1])
        out.push(a.buffer as ArrayBuffer);
    return out;
  }
}

/**
 * Gives buffers back to the system now, not when the garbage collector next runs (which can be
 * long after a merge: V8 sees no heap pressure from memory outside its heap). The buffers are
 * detached: nothing may read them afterwards. Node's is io/release.ts.
 */
export type FreeBuffers = (buffers: ArrayBuffer[]) => void;

export interface EventStoreSnapshot {
  blocks: Block[];
  n: number;
  wide: Float64Array;
  sparseLat: [number, string][];
  sorted: boolean;
  lastTs: number;
}
