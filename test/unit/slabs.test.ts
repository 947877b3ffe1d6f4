// Columns carved from slabs: the right length and type, never overlapping, and slabs that grow
// to at most SLAB_BYTES_MAX (so big ones are always their own mmap, see model/slabs.ts).
import { describe, expect, it } from 'vitest';
import { ColumnSlabs, SLAB_BYTES_MAX } from '../../src/core/model/slabs';
import { BufferReleaser } from '../../src/core/io/release';

describe('ColumnSlabs', () => {
  it('hands out disjoint columns from slabs that double up to SLAB_BYTES_MAX', () => {
    const slabs = new ColumnSlabs(Float64Array, 65536);
    const cols = Array.from({ length: 200 }, () => slabs.take());
    const sizes: number[] = [];
    for (const [i, c] of cols.entries()) {
      expect(c).toBeInstanceOf(Float64Array);
      expect(c.length).toBe(65536);
      c.fill(i);
      if (i === 0 || c.buffer !== cols[i - 1]!.buffer) sizes.push(c.buffer.byteLength);
    }
    // Nothing written to one column shows in another.
    for (const [i, c] of cols.entries()) expect([c[0], c[65535]]).toEqual([i, i]);
    expect(sizes.slice(0, 4)).toEqual([1, 2, 4, 8].map((k) => k * 65536 * 8));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(SLAB_BYTES_MAX);
    expect(Math.max(...sizes)).toBeGreaterThan(SLAB_BYTES_MAX - 65536 * 8);
  });

  it('release starts a new slab: columns already handed out are not written over', () => {
    const slabs = new ColumnSlabs(Uint8Array, 16);
    const a = slabs.take(); // the first slab: one column
    const b = slabs.take(); // the second: two columns, one left after this
    expect(b.buffer).not.toBe(a.buffer);
    slabs.release();
    const c = slabs.take();
    expect(c.buffer).not.toBe(b.buffer);
    expect(c.buffer.byteLength).toBe(4 * 16);
  });
});

describe('BufferReleaser', () => {
  it('detaches what it was handed once flushed, skipping duplicates and detached buffers', async () => {
    const r = new BufferReleaser();
    const a = new ArrayBuffer(1 << 20);
    const b = new ArrayBuffer(4096);
    const gone = new ArrayBuffer(8);
    structuredClone(gone, { transfer: [gone] });
    expect(gone.byteLength).toBe(0);
    r.free([a, b, a]);
    r.free([gone]);
    await r.flush();
    expect([a.byteLength, b.byteLength]).toEqual([0, 0]);
    // Nothing pending: a second flush has nothing to do.
    await r.flush();
  });
});
