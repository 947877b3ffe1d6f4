// The columnar store: values round-trip, blocks grow without copying, sealing trims the slack
// and appending after a seal still works.
import { describe, expect, it } from 'vitest';
import { EventStore, EVENT_COLUMN_BYTES } from '../../src/core/model/event-store';

function fill(s: EventStore, from: number, to: number): void {
  for (let i = from; i < to; i++) s.push(i * 10, i % 7, i % 3, i % 1000, i % 5, -i | 0, i * 2);
}

function check(s: EventStore, n: number): void {
  expect(s.length).toBe(n);
  for (const i of [0, 1, 65535, 65536, 65537, n - 1].filter((k) => k < n)) {
    expect([s.ts(i), s.cpu(i), s.type(i), s.task(i), s.lat(i), s.a0(i), s.a1(i)]).toEqual([
      i * 10,
      i % 7,
      i % 3,
      i % 1000,
      i % 5,
      -i | 0,
      i * 2,
    ]);
  }
}

describe('EventStore', () => {
  it('gives carved and sealed blocks their columns in one key order (one hidden class)', () => {
    // Code reading events optimised on one shape is deoptimised by a block of another.
    const s = new EventStore();
    fill(s, 0, 70_000);
    const { blocks } = s.snapshot();
    expect(blocks.length).toBe(2);
    expect(blocks[1]!.ts.length).toBe(70_000 - 65_536);
    expect(Object.keys(blocks[0]!)).toEqual(Object.keys(blocks[1]!));
  });

  it('round-trips every column across block boundaries', () => {
    const s = new EventStore();
    fill(s, 0, 200_000);
    check(s, 200_000);
  });

  it('costs exactly 24 bytes per event once sealed', () => {
    const s = new EventStore();
    fill(s, 0, 100_001);
    s.seal();
    expect(EVENT_COLUMN_BYTES).toBe(24);
    // wide side table keeps its minimum of 2 slots
    expect(s.residentBytes()).toBe(100_001 * 24 + 16);
    check(s, 100_001);
  });

  it('keeps no mostly uncarved slab once sealed: its carved blocks move to a buffer of their size', () => {
    // 33 blocks and a bit: slabs of 1, 2, 4, 8, 16 blocks, then a 24-block slab of which 2 are used.
    for (const n of [33 * 65536 + 7, 33 * 65536]) {
      const s = new EventStore();
      fill(s, 0, n);
      s.seal();
      const buffers = new Set<ArrayBufferLike>();
      s.forEachBlock((b) => {
        for (const col of [b.ts, b.cpu, b.type, b.taskLat, b.a0, b.a1]) buffers.add(col.buffer);
      });
      let allocated = 0;
      for (const b of buffers) allocated += b.byteLength;
      expect(allocated).toBe(n * 24);
      check(s, n);
      fill(s, n, n + 70_000);
      check(s, n + 70_000);
    }
  });

  it('keeps appending after a seal', () => {
    const s = new EventStore();
    fill(s, 0, 70_000);
    s.seal();
    fill(s, 70_000, 140_000);
    check(s, 140_000);
  });

  it('notices events appended out of order and sorts them stably', () => {
    const s = new EventStore();
    for (const ts of [5, 1, 3, 1]) s.push(ts, 0, 0, 0, 0, 0, 0);
    expect(s.sorted).toBe(false);
    expect(Array.from(s.order()!)).toEqual([1, 3, 2, 0]);
  });
});

describe('EventStore: dropping consumed blocks', () => {
  /** The distinct buffers the store's blocks live in, in block order. */
  const slabsOf = (s: EventStore): ArrayBuffer[] => {
    const out: ArrayBuffer[] = [];
    s.forEachBlock((b) => {
      const buf = b.ts.buffer as ArrayBuffer;
      if (b.ts.length > 0 && out[out.length - 1] !== buf) out.push(buf);
    });
    return out;
  };

  it('hands each slab to free once, when no block of it is left, and the rest with dropAll', () => {
    const s = new EventStore();
    // 100 blocks: slabs of 1, 2, 4, 8, 16, 24, 24 and 21 blocks.
    const n = 100 * 65536 - 5;
    fill(s, 0, n);
    s.seal();
    const slabs = slabsOf(s);
    expect(slabs.length).toBeGreaterThan(6);
    const freed: ArrayBuffer[] = [];
    const free = (b: ArrayBuffer[]): void => void freed.push(...b);
    // Drop 30.5 blocks: the slabs of blocks 0-14 (1 + 2 + 4 + 8 blocks) are free, the one of
    // blocks 15-30 is still in use (block 30 is kept).
    s.dropBlocksBefore(30 * 65536 + 100, free);
    expect(freed).toEqual(slabs.slice(0, 4));
    expect(s.ts(30 * 65536 + 100)).toBe((30 * 65536 + 100) * 10);
    s.dropBlocksBefore(31 * 65536, free);
    expect(freed).toEqual(slabs.slice(0, 5));
    s.dropAll(free);
    // Every slab once, the sealed last block's own columns, and the side table of wide values.
    expect(freed.slice(0, slabs.length)).toEqual(slabs);
    expect(new Set(freed).size).toBe(freed.length);
    expect(freed.length).toBe(slabs.length + 5 + 1);
  });
});

describe('EventStore.pushColumns', () => {
  it('stores what as many pushes would: across blocks, after a seal, and the sorted flag', () => {
    const cols = (n: number, from: number, tsOf: (i: number) => number) => ({
      ts: Float64Array.from({ length: n }, (_, k) => tsOf(from + k)),
      cpu: Uint16Array.from({ length: n }, (_, k) => (from + k) % 7),
      type: Uint16Array.from({ length: n }, (_, k) => (from + k) % 3),
      taskLat: Uint32Array.from(
        { length: n },
        (_, k) => ((((from + k) % 5) << 22) | ((from + k) % 1000)) >>> 0,
      ),
      a0: Int32Array.from({ length: n }, (_, k) => -(from + k) | 0),
      a1: Int32Array.from({ length: n }, (_, k) => (from + k) * 2),
    });
    const a = new EventStore();
    fill(a, 0, 1000);
    a.seal(); // the next append reopens the sealed last block
    expect(
      a.pushColumns(
        cols(70_000, 1000, (i) => i * 10),
        70_000,
      ),
    ).toBe(1000);
    expect(
      a.pushColumns(
        cols(65_536, 71_000, (i) => i * 10),
        65_536,
      ),
    ).toBe(71_000);
    check(a, 136_536);
    expect(a.order()).toBeUndefined();
    // One timestamp going back, in the middle of a copied stretch, is noticed.
    const b = new EventStore();
    fill(b, 0, 10);
    b.pushColumns(
      cols(100, 10, (i) => (i === 60 ? 5 : i * 10)),
      100,
    );
    expect(b.order()).toBeDefined();
  });
});

describe('EventStore.reuseSlabs', () => {
  it('carves new blocks from the slabs handed in before allocating, and keeps the values', () => {
    const consumed = new EventStore();
    fill(consumed, 0, 7 * 65536); // slabs of 1, 2 and 4 blocks
    const freed: ArrayBuffer[] = [];
    consumed.dropAll((b) => void freed.push(...b));
    const slabs = freed.filter((b) => EventStore.holdsBlock(b));
    expect(slabs.map((b) => b.byteLength / (65536 * 24))).toEqual([1, 2, 4]);
    // Slabs of old data, overwritten as the new store fills them.
    const s = new EventStore();
    const pool = [...slabs];
    s.reuseSlabs(() => pool.shift());
    fill(s, 0, 8 * 65536 + 3);
    check(s, 8 * 65536 + 3);
    const used = new Set<ArrayBuffer>();
    s.forEachBlock((b) => void used.add(b.ts.buffer as ArrayBuffer));
    // The 7 blocks of the 3 old slabs, then new slabs for the rest.
    for (const b of slabs) expect(used.has(b)).toBe(true);
    expect(pool).toEqual([]);
    expect(used.size).toBe(5);
  });
});
