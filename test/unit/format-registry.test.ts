// The one list of formats (src/core/ingest/formats.ts) and what cannot import it: package.json's
// language contributions must name exactly its language ids, each with a grammar, and each
// language's firstLine must claim the first line of that format's samples.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sniffTextFormat, TEXT_FORMATS, TRACE_LANGUAGE_IDS } from '../../src/core/ingest/formats';
import { importText } from '../../src/core/ingest/index';
import { readTraceFile } from '../../src/core/io/read-trace-file';

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

  it('refuses a file no format claims with its real size, not the size of what was sniffed', async () => {
    const f = path.join(mkdtempSync(path.join(tmpdir(), 'vl-reg-')), 'notes.txt');
    writeFileSync(f, 'just some notes\n'.repeat(200_000)); // 3.2 MB, past every read window
    const r = await readTraceFile(f, { threads: 1 });
    expect(r.format).toBe('unknown');
    expect(r.fileBytes).toBe(3_200_000);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['VL1009']);
    expect(r.diagnostics[0]!.message).toContain('3,200,000-byte file');
  });
});
