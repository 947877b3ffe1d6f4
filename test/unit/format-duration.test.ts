import { describe, expect, it } from 'vitest';
import {
  formatClockDuration,
  formatDuration,
  formatTicks,
  formatCount,
  formatClockOffset,
} from '../../src/core/model/time';

describe('formatDuration', () => {
  it.each([
    [31_401.6e6, '31.4 s'],
    [6.245e6, '6.245 ms'],
    [820e3, '820 µs'],
    [412, '412 ns'],
    [4e9, '4 s'],
    [17.4e9, '17.4 s'],
    [5.0134e9, '5.013 s'],
    [999.96e6, '1000 ms'],
    [1234.5e9, '1235 s'],
    [0, '0 ns'],
    [-6.245e6, '-6.245 ms'],
  ])('%d ns reads %s', (ns, text) => {
    expect(formatDuration(ns)).toBe(text);
  });
  it('counts get thousands separators and the word ticks', () => {
    expect(formatTicks(13_997_267)).toBe('13,997,267 ticks');
    expect(formatClockDuration(13_997_267, 'count')).toBe('13,997,267 ticks');
    expect(formatClockDuration(13_997_267, 'ns')).toBe('14 ms');
  });
});

describe('formatCount', () => {
  it('groups digits as en-US Intl does, without loading it', () => {
    for (const n of [
      0,
      7,
      -7,
      999,
      1000,
      -1000,
      12345.6,
      999999.5,
      13997267,
      -(2 ** 53),
      1e21,
      2 ** 64,
    ])
      expect(formatCount(n)).toBe(Math.round(n).toLocaleString('en-US'));
    expect(formatCount(NaN)).toBe('NaN');
  });
});

describe('formatClockOffset', () => {
  it('groups a tick offset as en-US Intl does, without loading it (bigints past 2^53 too)', () => {
    for (const v of [0n, 5n, -5n, 999n, 1000n, -1000n, 11498479028802n, -(2n ** 63n), 10n ** 21n])
      expect(formatClockOffset(v, 'count')).toBe(`${v.toLocaleString('en-US')} ticks`);
    expect(formatClockOffset(-1_500_000_001n, 'ns')).toBe('-1.500000001 s');
  });
});
