// Each per-format sample (test/fixtures/formats) against its canonical dump: whole, in small
// chunks, and read from a file whose name says nothing, so the format is sniffed from content.
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTextImporter, importText, sniffText } from '../../src/core/ingest/index';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import type { Trace } from '../../src/core/model/trace';
import { dumpTrace } from './support/dump';

const DIR = path.resolve(__dirname, '../fixtures/formats');
const SAMPLES = readdirSync(DIR).filter((f) => f.endsWith('.txt'));
const tmp = mkdtempSync(path.join(tmpdir(), 'vl-formats-'));

function dumpAll(traces: Trace[]): string {
  return traces.map(dumpTrace).join('\n---\n') + '\n';
}

describe.each(SAMPLES)('%s', (sample) => {
  const text = readFileSync(path.join(DIR, sample), 'utf8');
  const golden = path.join(DIR, sample.replace(/\.txt$/, '.dump'));
  const opts = { name: 'sample' };

  it('matches its canonical dump', () => {
    const traces = importText(text, opts);
    expect(traces).toBeDefined();
    const dump = dumpAll(traces!);
    if (process.env['UPDATE_DUMPS'] === '1') writeFileSync(golden, dump);
    expect(existsSync(golden), `${golden} is missing: run with UPDATE_DUMPS=1`).toBe(true);
    expect(dump).toBe(readFileSync(golden, 'utf8'));
  });

  it('loads with no diagnostics', () => {
    for (const t of importText(text, opts)!) expect(t.diagnostics).toEqual([]);
  });

  it('gives the same dump fed in 7-character chunks', () => {
    const fmt = sniffText(text);
    expect(fmt).not.toBe('unknown');
    const imp = createTextImporter(fmt as 'ftrace-text' | 'perf-script', opts);
    for (let i = 0; i < text.length; i += 7) imp.feed(text.slice(i, i + 7));
    expect(dumpAll(imp.end())).toBe(readFileSync(golden, 'utf8'));
  });

  it('is sniffed from content under a name that says nothing', async () => {
    const f = path.join(tmp, `${sample}-renamed.bin`);
    copyFileSync(path.join(DIR, sample), f);
    const r = await readTraceFile(f, { name: 'sample', chunkBytes: 97 });
    expect(r.diagnostics).toEqual([]);
    expect(dumpAll(r.traces)).toBe(readFileSync(golden, 'utf8'));
  });
});
