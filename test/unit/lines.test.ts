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

  it('splits a text fed whole into the same lines as fed in small pieces', () => {
    // Over 4 pieces of 64 Ki characters, with a CRLF and a surrogate pair across piece ends.
    const parts: string[] = [];
    let n = 0;
    while (n < 300_000) {
      const line = `line ${parts.length} ${'x'.repeat(parts.length % 97)}`;
      parts.push(line);
      n += line.length + 1;
    }
    let text = parts.join('\n') + '\n';
    text = text.slice(0, 65535) + '\r\n' + text.slice(65535, 131071) + '𝄞' + text.slice(131071);
    const split = (feed: (sp: LineSplitter) => void): string[] => {
      const out: string[] = [];
      const sp = new LineSplitter((t, start, end, _no, codes) => {
        expect(codes.length).toBe(t.length);
        out.push(String.fromCharCode(...codes.subarray(start, end)));
      });
      feed(sp);
      sp.end();
      return out;
    };
    const whole = split((sp) => sp.feed(text));
    const small = split((sp) => {
      for (let i = 0; i < text.length; i += 1000) sp.feed(text.slice(i, i + 1000));
    });
    expect(whole).toEqual(text.replace(/\r?\n$/, '').split(/\r?\n/));
    expect(whole).toEqual(small);
  });
});
