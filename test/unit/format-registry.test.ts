// The one list of formats (src/core/ingest/formats.ts) and what cannot import it: package.json's
// language contributions must name exactly its language ids, each with a grammar, and each
// language's firstLine must claim the first line of that format's samples.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sniffTextFormat, TEXT_FORMATS, TRACE_LANGUAGE_IDS } from '../../src/core/ingest/formats';
import { importText } from '../../src/core/ingest/index';

const ROOT = path.join(__dirname, '../..');
const SAMPLES = path.join(ROOT, 'test/fixtures/formats');

interface Pkg {
  contributes: {
    languages: { id: string; firstLine?: string }[];
    grammars: { language: string }[];
  };
}
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Pkg;

describe('the format registry', () => {
  it("package.json's language ids are the registry's", () => {
    expect(pkg.contributes.languages.map((l) => l.id).sort()).toEqual(
      [...TRACE_LANGUAGE_IDS].sort(),
    );
  });

  it('every registry language has a grammar, and no grammar names another language', () => {
    expect(new Set(pkg.contributes.grammars.map((g) => g.language))).toEqual(
      new Set(TRACE_LANGUAGE_IDS),
    );
  });

  it('format ids and trace formats are unique across the registry', () => {
    const ids = TEXT_FORMATS.map((f) => f.id);
    const flavours = TEXT_FORMATS.flatMap((f) => [...f.traceFormats]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(flavours).size).toBe(flavours.length);
  });

  describe.each(readdirSync(SAMPLES).filter((f) => f.endsWith('.txt')))('%s', (sample) => {
    const text = readFileSync(path.join(SAMPLES, sample), 'utf8');

    it("is sniffed as the format whose flavours include its traces' format", () => {
      const id = sniffTextFormat(text);
      const f = TEXT_FORMATS.find((x) => x.id === id);
      expect(f).toBeDefined();
      for (const t of importText(text)!)
        expect(f!.traceFormats as readonly string[]).toContain(t.format);
    });

    it("has its first line claimed by one of its format's languages", () => {
      const id = sniffTextFormat(text);
      const first = text.slice(0, text.indexOf('\n'));
      const langs = TEXT_FORMATS.find((x) => x.id === id)!.languageIds as readonly string[];
      const claims = pkg.contributes.languages
        .filter((l) => l.firstLine !== undefined && new RegExp(l.firstLine).test(first))
        .map((l) => l.id);
      expect(claims.length).toBeGreaterThan(0);
      for (const l of claims) expect(langs).toContain(l);
    });
  });
});
