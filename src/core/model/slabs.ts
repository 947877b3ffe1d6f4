// Fixed-length columns carved out of big ArrayBuffers, for stores that grow by blocks (events,
// timeline intervals). The first slabs are small (one block, then two, four...), later ones
// SLAB_BYTES_MAX: an allocation that big is always its own mmap, so once its columns are
// dropped the memory goes back to the system. Blocks allocated one by one come from malloc's
// heaps, where a freed block stays resident (glibc trims only the heap's top): on a 10M-event
// trace that kept ~200 MiB of dropped timeline blocks in the process. Untouched slab pages cost
// no memory.

/** 36 MiB: above glibc's largest mmap threshold (32 MiB), so every such slab is its own mmap. */
export const SLAB_BYTES_MAX = 36 << 20;

/** A typed array constructor (Float64Array, Int32Array...). */
export interface TypedArrayCtor<A> {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): A;
  readonly BYTES_PER_ELEMENT: number;
}

/** Hands out columns of `length` elements of one type, from slabs of up to SLAB_BYTES_MAX. */
export class ColumnSlabs<A> {
  private buf: ArrayBuffer | undefined;
  private used = 0;
  private blocks = 0;
  private next = 1;
  private readonly maxBlocks: number;

  constructor(
    private readonly ctor: TypedArrayCtor<A>,
    private readonly length: number,
  ) {
    this.maxBlocks = Math.max(1, Math.floor(SLAB_BYTES_MAX / (length * ctor.BYTES_PER_ELEMENT)));
  }

  take(): A {
    if (this.buf === undefined || this.used === this.blocks) {
      this.blocks = this.next;
      this.next = Math.min(this.maxBlocks, this.next * 2);
      this.buf = new ArrayBuffer(this.blocks * this.length * this.ctor.BYTES_PER_ELEMENT);
      this.used = 0;
    }
    const at = this.used++ * this.length * this.ctor.BYTES_PER_ELEMENT;
    return new this.ctor(this.buf, at, this.length);
  }

  /** Lets go of the slab being carved (the columns handed out keep their slabs alive). */
  release(): void {
    this.buf = undefined;
    this.used = this.blocks = 0;
  }
}
