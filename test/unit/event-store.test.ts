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
