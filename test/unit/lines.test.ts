// lines.ts: the code units handed to line parsers must be the text's own, exactly as many.

import { describe, expect, it } from 'vitest';
import { CodeUnits, LineSplitter } from '../../src/core/ingest/lines';

/** The UTF-16 code units of s, one by one. */
const unitsOf = (s: string): number[] =>
  Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));

describe('CodeUnits', () => {
  it.each([
    ['ASCII', '  cpuhog-31353 [000]  5387.050247: sched_switch:'],
    ['Latin-1 beyond ASCII', 'cpuhogÿ é\u0080'],
    ['a unit whose low byte is ASCII', 'cpuhogſ \u015b[\u013a]'],
    ['a surrogate pair and a lone surrogate', 'a𝄞b\ud800c'],
    ['nothing', ''],
  ])('gives the units of %s, exactly as many', (_, s) => {
    const u = new CodeUnits().of(s);
    expect(u.length).toBe(s.length);
    expect(Array.from(u)).toEqual(unitsOf(s));
  });

  it('gives a shorter text its own units after a longer one', () => {
    const cu = new CodeUnits();
    cu.of('a much longer text than the next');
    expect(Array.from(cu.of('é.'))).toEqual([0xe9, 0x2e]);
    expect(Array.from(cu.of('ab'))).toEqual([0x61, 0x62]);
  });
});

describe('LineSplitter', () => {
  it("hands each line its text's code units, for carried lines too", () => {
    const seen: string[] = [];
    const sp = new LineSplitter((text, start, end, _no, codes) => {
      expect(codes.length).toBe(text.length);
      expect(Array.from(codes)).toEqual(unitsOf(text));
      seen.push(String.fromCharCode(...codes.subarray(start, end)));
    });
    for (const piece of ['ab', 'ç\nde', 'f\r\n', 'ſ\n', 'last']) sp.feed(piece);
    sp.end();
    expect(seen).toEqual(['abç', 'def', 'ſ', 'last']);
  });
});
