// A small seeded PRNG (mulberry32): the simulator must give the same run for the same seed.

export function mulberry32(seed: number): () => number {
  // The state is a uint32, past the small-integer range half the time: kept in a typed array, a
  // draw writes it in place (in a closure variable each write would allocate a heap number).
  const state = Uint32Array.of(seed >>> 0);
  return () => {
    const a = (state[0]! + 0x6d2b79f5) >>> 0;
    state[0] = a;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
