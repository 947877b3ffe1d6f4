// Reading trace-cmd .dat files: every real .dat fixture (and its trace-cmd convert variants) dumps
// exactly as `trace-cmd report` printed it, decodes to the same model events as that report read
// as text, and damaged copies (cut short, bytes flipped) load what comes before the damage.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTraceCmdText } from '../../src/core/export/trace-cmd-text';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';
import { importTraceDat } from '../../src/core/ingest/trace-dat/index';
import { nodeDecompressors } from '../../src/core/io/decompress';
import { DIAG } from '../../src/core/model/diagnostics';
import type { Trace } from '../../src/core/model/trace';
import { fieldsStr, taskStr } from './support/dump';
import { REAL, realScenarios } from './support/fixtures';
import { mulberry32 as rng } from '../../src/core/sim/rng';

const DATS = realScenarios()
  .filter((d) => existsSync(path.join(REAL, d, 'host.dat')))
  .flatMap((d) => [`${d}/host`, `${d}/guest`]);
const TRACE_CMD = spawnSync('trace-cmd', ['list', '-c'], { encoding: 'utf8' }).status === 0;
const NO_TRACE_CMD = TRACE_CMD
  ? ''
  : ' (skipped: needs trace-cmd on PATH, e.g. apt-get install trace-cmd)';

function load(bytes: Uint8Array, name = 'x.dat'): Trace[] {
  return importTraceDat(bytes, { name, decompressors: nodeDecompressors });
}

function dump(t: Trace): string {
  let out = '';
  writeTraceCmdText(t, (s) => (out += s));
  return out;
}

function report(stem: string): string {
  return gunzipSync(readFileSync(path.join(REAL, `${stem}.txt.gz`))).toString('utf8');
}

describe('real .dat fixtures', () => {
  it('are the 20 trace-cmd v7 zstd files the README lists', () => {
    expect(DATS.length).toBe(20); // 12 from ../shared, 8 of the 4 heavy-* of this repository's own
    for (const stem of DATS) {
      const t = load(readFileSync(path.join(REAL, `${stem}.dat`)))[0]!;
      expect(t.dat).toMatchObject({ fileVersion: 7, compression: 'zstd' });
    }
  });

  it.each(DATS)('%s.dat dumps byte for byte as trace-cmd report printed it', (stem) => {
    const traces = load(readFileSync(path.join(REAL, `${stem}.dat`)));
    expect(traces.length).toBe(1);
    const t = traces[0]!;
    expect(t.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
    const text = report(stem);
    expect(t.events.length).toBe(text.split('\n').length - 2); // minus `cpus=N` and the last newline
    expect(dump(t) === text).toBe(true);
  });

  it.each(DATS)('%s.dat decodes to the same model events as its report text', (stem) => {
    const d = load(readFileSync(path.join(REAL, `${stem}.dat`)))[0]!;
    const x = importFtraceText(report(stem), { name: 'x' })[0]!;
    expect(d.events.length).toBe(x.events.length);
    expect(d.cpuCount).toBe(x.cpuCount);
    expect(d.clock.unit).toBe(x.clock.unit);
    expect(d.clock.source).toBe('file');
    const scale = d.clock.unit === 'ns' ? 1000n : 1n;
    let bad = 0;
    for (let i = 0; i < d.events.length; i++) {
      const a = `${d.events.cpu(i)} ${d.eventTypes[d.events.type(i)]!.name} ${taskStr(d, d.events.task(i))} ${fieldsStr(d, i)}`;
      const b = `${x.events.cpu(i)} ${x.eventTypes[x.events.type(i)]!.name} ${taskStr(x, x.events.task(i))} ${fieldsStr(x, i)}`;
      // The text has microseconds; the .dat has the nanoseconds they were rounded from.
      const ta = (d.tsBase + BigInt(d.events.ts(i)) + scale / 2n) / scale;
      const tb = (x.tsBase + BigInt(x.events.ts(i))) / scale;
      if (a !== b || ta !== tb) {
        if (bad++ < 3) expect(`${ta} ${a}`).toBe(`${tb} ${b}`);
      }
    }
    expect(bad).toBe(0);
  });
});

describe.skipIf(!TRACE_CMD)(`trace-cmd convert variants${NO_TRACE_CMD}`, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vl-dat-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const VARIANTS = [
    { version: '6', compression: 'none' },
    { version: '7', compression: 'none' },
  ];
  const cases = DATS.flatMap((stem) => VARIANTS.map((v) => ({ stem, ...v })));
  it.each(cases)(
    '$stem as v$version $compression dumps as trace-cmd report',
    ({ stem, version, compression }) => {
      const out = path.join(dir, `${stem.replace('/', '-')}-v${version}-${compression}.dat`);
      const r = spawnSync('trace-cmd', [
        'convert',
        '-i',
        path.join(REAL, `${stem}.dat`),
        '-o',
        out,
        '--file-version',
        version,
        '--compression',
        compression,
      ]);
      expect(r.status).toBe(0);
      const t = load(readFileSync(out))[0]!;
      expect(t.dat).toMatchObject({ fileVersion: Number(version), compression });
      expect(dump(t) === report(stem)).toBe(true);
    },
  );
});

function lines(t: Trace[]): string[] {
  return t.flatMap((x) => dump(x).split('\n').slice(1, -1));
}

describe('damaged .dat files', () => {
  // The smallest fixture: 2,270 events on 4 CPUs, zstd chunks.
  const full = readFileSync(path.join(REAL, 'noisy-active-tsc/guest.dat'));
  const all = new Set(lines(load(full)));
  const variants: { name: string; bytes: Uint8Array }[] = [{ name: 'v7 zstd', bytes: full }];
  if (TRACE_CMD) {
    const dir = mkdtempSync(path.join(tmpdir(), 'vl-dat-dmg-'));
    for (const v of ['6', '7']) {
      const out = path.join(dir, `v${v}.dat`);
      spawnSync('trace-cmd', [
        'convert',
        '-i',
        path.join(REAL, 'noisy-active-tsc/guest.dat'),
        '-o',
        out,
        '--file-version',
        v,
        '--compression',
        'none',
      ]);
      variants.push({ name: `v${v} none`, bytes: readFileSync(out) });
    }
    rmSync(dir, { recursive: true, force: true });
  }

  it.each(variants)(
    '$name cut short anywhere: a diagnostic with an offset, and only events of the whole file',
    ({ bytes }) => {
      const r = rng(7);
      const cuts = [0, 5, 10, 13, 20, 40, 100, 300, 1000, 4096];
      for (let i = 0; i < 30; i++) cuts.push(Math.floor(r() * bytes.length));
      // The last pages: the cut lands inside CPU data.
      for (let i = 1; i <= 10; i++) cuts.push(bytes.length - i * 1531);
      const nearEnd = new Set(cuts.slice(-10));
      for (const cut of cuts) {
        const traces = load(bytes.subarray(0, cut));
        const diags = traces.flatMap((t) => t.diagnostics);
        expect(
          diags.some((d) => d.code === DIAG.datDamaged && d.offset !== undefined),
          `cut at ${cut}`,
        ).toBe(true);
        const got = lines(traces);
        for (const l of got) expect(all.has(l), `cut at ${cut}: ${l}`).toBe(true);
        // Cut inside the CPU data: the pages before the cut load.
        if (nearEnd.has(cut)) expect(got.length, `cut at ${cut}`).toBeGreaterThan(0);
      }
    },
  );

  it('keeps every event of the CPU pages before a cut in the data (v7 zstd)', () => {
    // Cut in the middle of the last CPU's data: the other CPUs' streams are whole.
    const t = load(full.subarray(0, full.length - 300));
    const got = lines(t);
    expect(got.length).toBeGreaterThan(all.size / 2);
  });

  it.each(variants)('$name with random bytes flipped: no exception, no hang', ({ bytes }) => {
    const r = rng(11);
    for (let run = 0; run < 25; run++) {
      const copy = Uint8Array.from(bytes);
      const n = 1 + Math.floor(r() * 8);
      for (let k = 0; k < n; k++) copy[Math.floor(r() * copy.length)] = Math.floor(r() * 256);
      const traces = load(copy);
      expect(traces.length).toBeGreaterThan(0);
    }
  });
});
