// Property and fuzz checks of every ingest format over mutated real traces (issue #10): fast-check
// generates the mutations, `checkText` / `checkDat` state what must hold for each input. Run in a
// watched worker thread by fuzz-run.ts, for test/unit/fuzz.test.ts (a short pass in `npm test`,
// the long one through `npm run fuzz`) and the corpus replay, which runs the same checks on every
// input that once failed.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { createTextImporter, sniffText } from '../../../src/core/ingest/index';
import { importTraceDat } from '../../../src/core/ingest/trace-dat/index';
import { parseDatFile } from '../../../src/core/ingest/trace-dat/file';
import { memorySource } from '../../../src/core/ingest/trace-dat/bytes';
import { nodeDecompressors } from '../../../src/core/io/decompress';
import { Utf8Chunks } from '../../../src/core/io/utf8-chunks';
import { DIAG, Diagnostic } from '../../../src/core/model/diagnostics';
import type { Trace } from '../../../src/core/model/trace';
import { traceInfo, type TraceInfo } from '../../../src/core/report/info';
import { dumpEvent } from './dump';

export const TEXT_FORMATS = [
  'trace-cmd-report',
  'tracefs-raw',
  'perf-script',
  'perf-sched',
] as const;
export type TextFormat = (typeof TEXT_FORMATS)[number];
export type FuzzFormat = TextFormat | 'dat';
export const FORMATS: FuzzFormat[] = [...TEXT_FORMATS, 'dat'];

const FIXTURES = path.resolve(__dirname, '../../fixtures');
const REAL = path.join(FIXTURES, 'real/quiet-passive-local');
const FORMAT_SAMPLES = path.join(FIXTURES, 'formats');
export const SEED_DATS = path.join(FIXTURES, 'fuzz-seeds/dat');
export const CORPUS = path.join(FIXTURES, 'fuzz-corpus');

/** Generous: 1 s per MB, but never less than 250 ms (a GC pause or JIT warm-up on a busy box). */
export function timeBoundMs(bytes: number): number {
  return Math.max(250, (bytes / 1e6) * 1000);
}

/**
 * The process's CPU time in ms. Parse times are CPU times: a fuzz run at `nice 19` beside other
 * jobs waits for a core for hundreds of ms at a time, which is not the parser's doing.
 */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// ---- seeds: real trace text, cut into excerpts ----

function lines(text: string): string[] {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

function excerpts(all: string[], head: string[], starts: number[], n: number): string[] {
  return starts.map((s) => [...head, ...all.slice(s, s + n)].join('\n') + '\n');
}

let seedCache: Map<TextFormat, string[]> | undefined;

/** A dozen excerpts of real traces per text format (60-200 lines each). */
export function textSeeds(format: TextFormat): string[] {
  if (seedCache === undefined) {
    seedCache = new Map();
    const guest = lines(gunzipSync(readFileSync(path.join(REAL, 'guest.txt.gz'))).toString('utf8'));
    const host = lines(gunzipSync(readFileSync(path.join(REAL, 'host.txt.gz'))).toString('utf8'));
    const sample = (f: string): string[] =>
      lines(readFileSync(path.join(FORMAT_SAMPLES, f), 'utf8'));
    seedCache.set('trace-cmd-report', [
      ...excerpts(guest.slice(1), [guest[0]!], [0, 5000, 20000, 40000, 60000], 80),
      ...excerpts(host.slice(1), [host[0]!], [0, 30000, 90000, 150000], 80),
      sample('trace-cmd-3.1-tsc.txt').join('\n') + '\n',
      sample('trace-cmd-3.3-latency-local.txt').join('\n') + '\n',
      sample('trace-cmd-3.3-latency-tsc.txt').join('\n') + '\n',
      sample('trace-cmd-3.1-raw.txt').join('\n') + '\n',
    ]);
    const raw = [...sample('tracefs-raw-host.txt'), ''].join('\n');
    const rawGuest = [...sample('tracefs-raw-guest.txt'), ''].join('\n');
    seedCache.set('tracefs-raw', [raw, rawGuest]);
    const sched = sample('perf-sched.txt');
    seedCache.set('perf-sched', [
      sched.join('\n') + '\n',
      sched.slice(20).join('\n') + '\n',
      sched.slice(0, 30).join('\n') + '\n',
    ]);
    // `perf script` (not `perf sched script`): pid/tid and a sample period before the event.
    const script = sched.map((l) =>
      l.replace(
        /^(.{16}) +(\d+) (\[\d+\]) +([\d.]+:) +/,
        (_m, c, pid, cpu, ts) =>
          `${c as string} ${pid as string}/${pid as string} ${cpu as string} ${ts as string}          1 `,
      ),
    );
    // `perf record -g` then `perf script --header`: callchains under every sample.
    const recorded = sample('perf-record-g.txt');
    seedCache.set('perf-script', [
      script.join('\n') + '\n',
      script.slice(25).join('\n') + '\n',
      recorded.join('\n') + '\n',
      recorded.slice(26, 140).join('\n') + '\n',
    ]);
  }
  return seedCache.get(format)!;
}

// ---- importing text the way readTraceFile does, from bytes, in chunks ----

export interface TextRun {
  traces: Trace[];
  format: 'ftrace-text' | 'perf-script' | 'unknown';
  /** CPU time of the import (cpuMs). */
  ms: number;
}

/** Decodes bytes as UTF-8 in `chunk`-byte pieces, sniffs, and feeds the importer piece by piece. */
export function importBytes(bytes: Uint8Array, chunk: number, eventLines = true): TextRun {
  const t0 = cpuMs();
  const dec = new Utf8Chunks();
  const parts: string[] = [];
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < buf.length; at += chunk)
    parts.push(dec.decode(buf.subarray(at, Math.min(buf.length, at + chunk))));
  parts.push(dec.end());
  let head = '';
  for (const p of parts) {
    head += p;
    if (head.length >= 64 * 1024) break;
  }
  const format = sniffText(head.slice(0, 64 * 1024));
  if (format === 'unknown') return { traces: [], format, ms: cpuMs() - t0 };
  const imp = createTextImporter(format, { name: 'fuzz', eventLines });
  for (const p of parts) imp.feed(p);
  const traces = imp.end();
  return { traces, format, ms: cpuMs() - t0 };
}

/** Per source line, the dumps of the events it made. */
function eventsByLine(ts: Trace[]): Map<number, string[]> {
  const m = new Map<number, string[]>();
  for (const t of ts) {
    for (let i = 0; i < t.events.length; i++) {
      const line = t.eventLines![i]!;
      let a = m.get(line);
      if (a === undefined) m.set(line, (a = []));
      a.push(`${t.name} ${dumpEvent(t, i)}`);
    }
  }
  return m;
}

function allEvents(ts: Trace[]): string[] {
  const out: string[] = [];
  for (const t of ts) for (let i = 0; i < t.events.length; i++) out.push(dumpEvent(t, i));
  return out;
}

// ---- text mutations ----

/** What a mutation keeps intact, and so what the importer must still load. */
export type TextMutation =
  | { kind: 'flip'; line: number; at: number; chars: string } // same line count
  | { kind: 'huge'; line: number; at: number; char: string; n: number }
  | { kind: 'unknownEvent'; line: number; name: string }
  | { kind: 'backwards'; line: number; by: number }
  | { kind: 'badUtf8'; line: number; at: number; bytes: number[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; line: number; to: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'crlf' }
  | { kind: 'dropHeader'; n: number }
  | { kind: 'splice'; at: number; junk: string };

export interface TextCase {
  format: TextFormat;
  seed: number;
  mutation: TextMutation;
  /** Feed size in bytes (chunks may end mid-line, mid-character, between \r and \n). */
  chunk: number;
}

const HOSTILE = [
  '\u001b[31m',
  '\u001b]8;;http://x\u0007',
  '\u202e',
  '\u0000',
  '<script>',
  '"',
  '\\',
  '\t',
  '\u00ff',
  '\ud83d\ude00',
  '\ufffd',
  ':',
  '[',
  ']',
  '=',
  '==>',
  ' ',
  '-',
  '9',
  '.',
  '99999999999999999999',
];

const charArb = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string({ minLength: 1, maxLength: 3 }).map((s) => s.replace(/[\r\n]/g, 'x')),
);

function textMutationArb(nLines: number, nChars: number): fc.Arbitrary<TextMutation> {
  // Lines 0-5 decide the flavour, widths and clock: a mutation there may change the whole trace.
  const body = fc.integer({ min: Math.min(6, nLines - 1), max: nLines - 1 });
  const anyLine = fc.integer({ min: 0, max: nLines - 1 });
  const at = fc.nat({ max: 200 });
  return fc.oneof(
    fc.record({
      kind: fc.constant('flip' as const),
      line: body,
      at,
      chars: fc.array(charArb, { minLength: 1, maxLength: 4 }).map((a) => a.join('')),
    }),
    fc.record({
      kind: fc.constant('huge' as const),
      line: body,
      at,
      char: fc.constantFrom('a', ' ', '9', '=', '\u00e9', '['),
      n: fc.oneof(fc.integer({ min: 1000, max: 8000 }), fc.integer({ min: 8000, max: 200_000 })),
    }),
    fc.record({
      kind: fc.constant('unknownEvent' as const),
      line: body,
      name: fc.stringMatching(/^[a-z_][a-z0-9_]{0,30}$/),
    }),
    fc.record({
      kind: fc.constant('backwards' as const),
      line: body,
      by: fc.integer({ min: 1, max: 1_000_000 }),
    }),
    fc.record({
      kind: fc.constant('badUtf8' as const),
      line: body,
      at,
      bytes: fc
        .constantFrom(
          [0xff],
          [0xc3],
          [0xe2, 0x82],
          [0xed, 0xa0, 0x80],
          [0xf0, 0x9f, 0x98],
          [0x80, 0x80],
          [0xc0, 0xaf],
          [0xef, 0xbb, 0xbf],
        )
        .map((b): number[] => [...b]),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: nChars }) }),
    fc.record({ kind: fc.constant('duplicate' as const), line: anyLine, to: anyLine }),
    fc.record({ kind: fc.constant('swap' as const), a: body, b: body }),
    fc.record({ kind: fc.constant('crlf' as const) }),
    fc.record({ kind: fc.constant('dropHeader' as const), n: fc.integer({ min: 1, max: 12 }) }),
    fc.record({
      kind: fc.constant('splice' as const),
      at: fc.nat({ max: nChars }),
      junk: fc.string({ maxLength: 40, unit: 'binary' }),
    }),
  );
}

export function textCaseArb(format: TextFormat): fc.Arbitrary<TextCase> {
  // One arbitrary per seed, built once (building them per generated case costs more than parsing).
  const perSeed = textSeeds(format).map((s, seed) =>
    fc.record({
      format: fc.constant(format),
      seed: fc.constant(seed),
      mutation: textMutationArb(lines(s).length, s.length),
      chunk: fc.oneof(
        { arbitrary: fc.constant(1 << 16), weight: 4 },
        { arbitrary: fc.integer({ min: 1, max: 16 }), weight: 1 },
        { arbitrary: fc.integer({ min: 17, max: 4096 }), weight: 2 },
      ),
    }),
  );
  return fc.oneof(...perSeed);
}

const enc = new TextEncoder();

/** The mutated input as bytes, and which original lines it keeps as they were (old -> new number). */
export function applyText(
  src: string,
  m: TextMutation,
): {
  bytes: Uint8Array;
  kept: Map<number, number> | 'prefix' | 'all' | 'multiset' | 'none';
  cutLine?: number;
} {
  const ls = lines(src);
  const keepAllBut = (k: number): Map<number, number> => {
    const m2 = new Map<number, number>();
    for (let i = 0; i < ls.length; i++) if (i !== k) m2.set(i + 1, i + 1);
    return m2;
  };
  const join = (a: string[]): string => a.join('\n') + '\n';
  const lineAt = (k: number, s: string): string[] => ls.map((l, i) => (i === k ? s : l));
  const ins = (l: string, at: number, s: string): string =>
    l.slice(0, Math.min(at, l.length)) +
    s +
    l.slice(Math.min(at, l.length) + (s.length > 0 ? 0 : 0));
  switch (m.kind) {
    case 'flip': {
      const l = ls[m.line]!;
      const p = Math.min(m.at, Math.max(0, l.length - 1));
      const s = l.slice(0, p) + m.chars + l.slice(p + m.chars.length);
      return { bytes: enc.encode(join(lineAt(m.line, s))), kept: keepAllBut(m.line) };
    }
    case 'huge':
      return {
        bytes: enc.encode(join(lineAt(m.line, ins(ls[m.line]!, m.at, m.char.repeat(m.n))))),
        kept: keepAllBut(m.line),
      };
    case 'unknownEvent': {
      const s = ls[m.line]!.replace(/(\d: +)(?:[\w-]+:)?[\w-]+:/, `$1${m.name}:`);
      return { bytes: enc.encode(join(lineAt(m.line, s))), kept: keepAllBut(m.line) };
    }
    case 'backwards': {
      const s = ls[m.line]!.replace(/ (\d+)(\.(\d+))?:/, (_x, sec: string, _f, frac?: string) => {
        const digits = BigInt(sec + (frac ?? ''));
        const v = digits > BigInt(m.by) ? digits - BigInt(m.by) : 0n;
        const str = v.toString().padStart((frac?.length ?? 0) + 1, '0');
        return frac === undefined
          ? ` ${str}:`
          : ` ${str.slice(0, str.length - frac.length)}.${str.slice(str.length - frac.length)}:`;
      });
      return { bytes: enc.encode(join(lineAt(m.line, s))), kept: keepAllBut(m.line) };
    }
    case 'badUtf8': {
      const before = enc.encode(
        ls
          .slice(0, m.line)
          .map((l) => l + '\n')
          .join(''),
      );
      const l = enc.encode(ls[m.line]!);
      const p = Math.min(m.at, l.length);
      const after = enc.encode(
        '\n' +
          ls
            .slice(m.line + 1)
            .map((x) => x + '\n')
            .join(''),
      );
      const out = new Uint8Array(before.length + l.length + m.bytes.length + after.length);
      out.set(before);
      out.set(l.subarray(0, p), before.length);
      out.set(m.bytes, before.length + p);
      out.set(l.subarray(p), before.length + p + m.bytes.length);
      out.set(after, before.length + l.length + m.bytes.length);
      return { bytes: out, kept: keepAllBut(m.line) };
    }
    case 'truncate': {
      const cut = src.slice(0, m.at);
      return { bytes: enc.encode(cut), kept: 'prefix', cutLine: cut.split('\n').length };
    }
    case 'duplicate': {
      const a = [...ls];
      a.splice(m.to, 0, ls[m.line]!);
      return { bytes: enc.encode(join(a)), kept: 'multiset' };
    }
    case 'swap': {
      const a = [...ls];
      a[m.a] = ls[m.b]!;
      a[m.b] = ls[m.a]!;
      return { bytes: enc.encode(join(a)), kept: 'multiset' };
    }
    case 'crlf':
      return { bytes: enc.encode(ls.join('\r\n') + '\r\n'), kept: 'all' };
    case 'dropHeader':
      return { bytes: enc.encode(join(ls.slice(m.n))), kept: 'none' };
    case 'splice':
      return { bytes: enc.encode(src.slice(0, m.at) + m.junk + src.slice(m.at)), kept: 'none' };
  }
}

const originals = new Map<string, { byLine: Map<number, string[]>; all: string[] }>();

function original(
  format: TextFormat,
  seed: number,
): { byLine: Map<number, string[]>; all: string[] } {
  const key = `${format}/${seed}`;
  let o = originals.get(key);
  if (o === undefined) {
    const r = importBytes(enc.encode(textSeeds(format)[seed]!), 1 << 16);
    o = { byLine: eventsByLine(r.traces), all: allEvents(r.traces) };
    originals.set(key, o);
  }
  return o;
}

/** Throws (an assertion message) when a property does not hold for this input. */
export function checkText(c: TextCase): { bytes: number; ms: number } {
  const src = textSeeds(c.format)[c.seed]!;
  const { bytes, kept, cutLine } = applyText(src, c.mutation);
  // Timed as files are read (64 KiB pieces); tiny pieces cost per call, not per byte of input,
  // and are checked for giving the same events (below), not for speed.
  const whole = timed(bytes.length, () => importBytes(bytes, 1 << 16));
  const r = c.chunk === 1 << 16 ? whole : importBytes(bytes, c.chunk);
  let nLines = 1;
  for (const b of bytes) if (b === 0x0a) nLines++;
  for (const t of r.traces) checkDiagnostics(t.diagnostics, 'line', nLines);
  if (r.format === 'unknown') {
    check(kept === 'none' || kept === 'prefix', `the mutated ${c.format} is no longer sniffed`);
    return { bytes: bytes.length, ms: r.ms };
  }
  const o = original(c.format, c.seed);
  if (kept instanceof Map) {
    const got = eventsByLine(r.traces);
    for (const [from, to] of kept) {
      const want = o.byLine.get(from) ?? [];
      const have = got.get(to) ?? [];
      check(
        sameList(want, have),
        `line ${from}: events ${JSON.stringify(want)} became ${JSON.stringify(have)}`,
      );
    }
  } else if (kept === 'prefix') {
    const got = eventsByLine(r.traces);
    for (const [line, want] of o.byLine) {
      if (line >= cutLine!) continue;
      check(sameList(want, got.get(line) ?? []), `truncated: line ${line} lost its events`);
    }
  } else if (kept === 'all') {
    check(sameList(o.all, allEvents(r.traces)), 'CRLF line ends changed the events');
  } else if (kept === 'multiset') {
    const have = new Map<string, number>();
    for (const e of allEvents(r.traces)) have.set(e, (have.get(e) ?? 0) + 1);
    for (const e of o.all) {
      const n = have.get(e) ?? 0;
      check(n > 0, `duplicated/reordered lines lost an event: ${e}`);
      have.set(e, n - 1);
    }
  }
  // Invariant 3: the chunking does not matter.
  if (r !== whole)
    check(sameList(allEvents(whole.traces), allEvents(r.traces)), 'chunking changed the events');
  return { bytes: bytes.length, ms: whole.ms };
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class PropertyFailure extends Error {}

/**
 * Runs an import and checks it kept to the time bound (CPU time). Over the bound, it is run twice
 * more and the fastest run counts: work that grows faster than the input repeats, a GC does not.
 */
function timed<R extends { ms: number }>(bytes: number, run: () => R): R {
  let r = run();
  for (let i = 0; i < 2 && r.ms > timeBoundMs(bytes); i++) {
    const again = run();
    if (again.ms < r.ms) r = again;
  }
  check(r.ms <= timeBoundMs(bytes), `took ${r.ms.toFixed(0)} ms of CPU for ${bytes} bytes`);
  return r;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new PropertyFailure(message);
}

/** Every diagnostic says where (a line, or a byte offset within the file), except the cap's summary. */
function checkDiagnostics(ds: Diagnostic[], where: 'line' | 'offset', limit: number): void {
  for (const d of ds) {
    if (d.code === DIAG.capped) continue;
    const v = where === 'line' ? d.line : d.offset;
    check(v !== undefined, `diagnostic without a ${where}: ${d.code} ${d.message}`);
    check(
      Number.isInteger(v) && v! >= (where === 'line' ? 1 : 0) && v! <= limit,
      `diagnostic ${where} ${v} outside the input (${limit}): ${d.code} ${d.message}`,
    );
  }
}

// ---- .dat ----

export interface DatSeed {
  name: string;
  bytes: Uint8Array;
  /** Byte ranges worth mutating: [start, end, what]. */
  regions: [number, number, string][];
  /** CPU data ranges of the top buffer (for "other CPUs are untouched"). */
  cpus: { cpu: number; offset: number; size: number; end: number }[];
  compressed: boolean;
  original: Map<number, string[]>;
}

let datSeedList: DatSeed[] | undefined;

export function datSeedFiles(): string[] {
  return [
    'guest-v7-none',
    'guest-v7-zlib',
    'guest-v7-zstd-tc',
    'guest-v7-be-long4',
    'host-v6-tc',
    'host-v7-none',
    'host-v7-zlib',
    'host-v7-zstd-tc',
  ];
}

export function datSeeds(): DatSeed[] {
  if (datSeedList === undefined)
    datSeedList = datSeedFiles().map((n) =>
      makeDatSeed(n, new Uint8Array(readFileSync(path.join(SEED_DATS, `${n}.dat`)))),
    );
  return datSeedList;
}

export function makeDatSeed(name: string, bytes: Uint8Array): DatSeed {
  const f = parseDatFile(memorySource(bytes), nodeDecompressors);
  if (!('buffers' in f)) throw new Error(`seed ${name} does not parse`);
  const regions: [number, number, string][] = [[0, Math.min(bytes.length, 96), 'header']];
  const little = f.little;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (f.version === 7) {
    // Walk the sections: each header, and the first bytes of each body (options, counts, sizes).
    let at = 10;
    while (bytes[at] !== 0) at++; // version string
    at += 1 + 2 + 4; // NUL, endian, long size, page size
    while (bytes[at] !== 0) at++;
    at++;
    while (bytes[at] !== 0) at++;
    at += 1 + 8;
    while (at + 16 <= bytes.length) {
      const id = dv.getUint16(at, little);
      const flags = dv.getUint16(at + 2, little);
      const size = Number(dv.getBigUint64(at + 8, little));
      if (id > 22 || (flags & ~1) !== 0) break;
      regions.push([at, at + 16, `section ${id} header`]);
      regions.push([
        at + 16,
        Math.min(bytes.length, at + 16 + Math.min(size, 256)),
        `section ${id} body`,
      ]);
      if (id === 3) break; // the flyrecord data follows; its CPUs are below
      at += 16 + size;
    }
    // The trailing options (BUFFER) after the data.
    const last = f.buffers[0]?.cpus.reduce((e, c) => Math.max(e, c.offset + c.size), 0) ?? 0;
    if (last > 0 && last < bytes.length) regions.push([last, bytes.length, 'trailing options']);
  } else {
    regions.push([96, Math.min(bytes.length, 4096), 'v6 metadata']);
  }
  // Where each CPU's data really ends: trace-cmd's BUFFER size of a compressed CPU leaves out
  // its 4-byte chunk count, so walk the chunk list.
  const cpus = (f.buffers[0]?.cpus ?? []).map((c) => {
    if (f.compression === 'none' || c.size === 0) return { ...c, end: c.offset + c.size };
    let at = c.offset + 4;
    for (let k = dv.getUint32(c.offset, little); k > 0; k--) at += 8 + dv.getUint32(at, little);
    return { ...c, end: at };
  });
  for (const c of cpus) {
    if (c.size === 0) continue;
    if (f.compression !== 'none') {
      regions.push([c.offset, c.offset + 12, `CPU ${c.cpu} chunk count and header`]);
      regions.push([
        c.offset + 12,
        c.offset + Math.min(c.size, 64),
        `CPU ${c.cpu} compressed data`,
      ]);
    } else {
      for (let p = c.offset; p < c.offset + c.size; p += f.pageSize) {
        regions.push([p, p + 24, `CPU ${c.cpu} page header`]);
        regions.push([
          p + 16,
          Math.min(p + f.pageSize, c.offset + c.size),
          `CPU ${c.cpu} page data`,
        ]);
      }
    }
  }
  const seed: DatSeed = {
    name,
    bytes,
    regions: regions.filter(([s, e]) => e > s && s < bytes.length),
    cpus,
    compressed: f.compression !== 'none',
    original: new Map(),
  };
  seed.original = perCpu(importDat(bytes).traces);
  return seed;
}

export function importDat(bytes: Uint8Array): { traces: Trace[]; ms: number } {
  const t0 = cpuMs();
  const traces = importTraceDat(memorySource(bytes), {
    name: 'fuzz.dat',
    decompressors: nodeDecompressors,
  });
  return { traces, ms: cpuMs() - t0 };
}

/** Per CPU, the trace's events as `ts name` (what holds whatever happened to comms). */
export function eventsPerCpu(t: Trace | undefined): Map<number, string[]> {
  const m = new Map<number, string[]>();
  if (t === undefined) return m;
  for (let i = 0; i < t.events.length; i++) {
    const cpu = t.events.cpu(i);
    let a = m.get(cpu);
    if (a === undefined) m.set(cpu, (a = []));
    a.push(`${t.tsBase + BigInt(t.events.ts(i))} ${t.eventTypes[t.events.type(i)]!.name}`);
  }
  return m;
}

/** eventsPerCpu of the first trace. */
function perCpu(ts: Trace[]): Map<number, string[]> {
  return eventsPerCpu(ts[0]);
}

export type DatMutation =
  | { kind: 'bytes'; region: number; at: number; values: number[] }
  | { kind: 'u32'; region: number; at: number; value: number }
  | { kind: 'truncate'; at: number };

export interface DatCase {
  seed: number;
  mutation: DatMutation;
}

export function datCaseArb(): fc.Arbitrary<DatCase> {
  const perSeed = datSeeds().map((s, seed) => {
    const region = fc.nat({ max: s.regions.length - 1 });
    return fc.record({
      seed: fc.constant(seed),
      mutation: fc.oneof(
        fc.record({
          kind: fc.constant('bytes' as const),
          region,
          at: fc.nat({ max: 4096 }),
          values: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 8 }),
        }),
        fc.record({
          kind: fc.constant('u32' as const),
          region,
          at: fc.nat({ max: 4096 }),
          value: fc.constantFrom(
            0,
            1,
            0x7fffffff,
            0xffffffff,
            0x80000000,
            0x40000000,
            4096,
            4097,
            0x10000000,
          ),
        }),
        fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: s.bytes.length }) }),
      ),
    });
  });
  return fc.oneof(...perSeed);
}

/** The mutated file, where the mutation starts, and where the bytes it wrote end (exclusive). */
export function applyDat(
  s: DatSeed,
  m: DatMutation,
): { bytes: Uint8Array; where: number; whereEnd: number } {
  if (m.kind === 'truncate') return { bytes: s.bytes.slice(0, m.at), where: m.at, whereEnd: m.at };
  const [start, end] = s.regions[m.region]!;
  const at = start + (m.at % Math.max(1, end - start));
  const b = s.bytes.slice();
  if (m.kind === 'bytes') {
    m.values.forEach((v, i) => {
      if (at + i < b.length) b[at + i] = v;
    });
  } else if (at + 4 <= b.length) {
    new DataView(b.buffer).setUint32(at, m.value, true);
  }
  const n = m.kind === 'bytes' ? m.values.length : 4;
  return { bytes: b, where: at, whereEnd: Math.min(b.length, at + n) };
}

export function checkDat(c: DatCase): { bytes: number; ms: number } {
  const s = datSeeds()[c.seed]!;
  return checkDatBytes(s, c.mutation);
}

export function checkDatBytes(s: DatSeed, m: DatMutation): { bytes: number; ms: number } {
  const { bytes, where, whereEnd } = applyDat(s, m);
  const r = timed(bytes.length, () => importDat(bytes));
  check(r.traces.length > 0, 'no trace at all');
  for (const t of r.traces) checkDiagnostics(t.diagnostics, 'offset', bytes.length);
  const got = perCpu(r.traces);
  if (
    m.kind === 'truncate' &&
    r.traces[0]!.diagnostics.some((d) => /BUFFER options missing/.test(d.message))
  ) {
    // Cut before the trailing BUFFER options: CPU streams are recovered from the data in file
    // order, and one whose first page is later than the previous CPU's is read as part of it.
    // So: the recovered streams, one after the other, are a prefix of the original CPUs' events
    // in file order.
    const want = [...s.cpus]
      .sort((a, b) => a.offset - b.offset)
      .flatMap((c) => s.original.get(c.cpu) ?? []);
    const have = [...got.keys()].sort((a, b) => a - b).flatMap((c) => got.get(c)!);
    check(
      have.length <= want.length && have.every((e, i) => e === want[i]),
      `cut at ${where}: the recovered CPU streams are not a prefix of the original data`,
    );
    // ... and hold at least every event of the CPUs whose data ends before the cut.
    const whole = s.cpus
      .filter((c) => c.end <= where)
      .reduce((n, c) => n + (s.original.get(c.cpu)?.length ?? 0), 0);
    check(
      have.length >= whole,
      `cut at ${where}: ${have.length} events recovered, the CPUs before the cut had ${whole}`,
    );
  } else if (m.kind === 'truncate') {
    // Each CPU keeps a prefix of its events, whatever the cut, and a CPU whose data ends before
    // the cut keeps them all.
    for (const [cpu, have] of got) {
      const want = s.original.get(cpu) ?? [];
      check(
        have.length <= want.length && have.every((e, i) => e === want[i]),
        `cut at ${where}: CPU ${cpu} is not a prefix of the original`,
      );
    }
    for (const c of s.cpus.filter((x) => x.end <= where))
      check(
        sameList(s.original.get(c.cpu) ?? [], got.get(c.cpu) ?? []),
        `cut at ${where}: CPU ${c.cpu}, whose data ends at ${c.end}, lost events`,
      );
  } else {
    // Damage inside one CPU's data leaves the other CPUs' events as they were.
    // The bytes written may run from one CPU's data into the next one's: both are damaged.
    const hit = s.cpus.filter((cp) => where < cp.end && whereEnd > cp.offset).map((cp) => cp.cpu);
    if (s.cpus.some((cp) => where >= cp.offset && where < cp.end)) {
      for (const [cpu, want] of s.original) {
        if (hit.includes(cpu)) continue;
        check(
          sameList(want, got.get(cpu) ?? []),
          `damage in CPU ${hit.join(' and ')}'s data changed CPU ${cpu}`,
        );
      }
    }
  }
  // info's count-only read of the same bytes reports what a full read (without event text) does.
  const info = (countOnly: boolean): TraceInfo[] =>
    importTraceDat(memorySource(bytes), {
      name: 'fuzz.dat',
      decompressors: nodeDecompressors,
      eventText: false,
      countOnly,
    }).map(traceInfo);
  check(
    isDeepStrictEqual(info(true), info(false)),
    'info of a count-only read differs from info of a full read',
  );
  return { bytes: bytes.length, ms: r.ms };
}

// ---- keeping what failed ----

/**
 * Writes a failing case (and the input it makes) under `<dir>/<format>/`, laid out as the corpus
 * (test/fixtures/fuzz-corpus) is, so that keeping it there is a copy.
 */
export function saveCase(
  format: FuzzFormat,
  c: TextCase | DatCase,
  why: string,
  dir: string,
): string {
  const json = JSON.stringify(c);
  let h = 0x811c9dc5;
  for (let i = 0; i < json.length; i++) h = Math.imul(h ^ json.charCodeAt(i), 0x01000193) >>> 0;
  const sub = path.join(dir, format);
  mkdirSync(sub, { recursive: true });
  const stem = path.join(sub, h.toString(16).padStart(8, '0'));
  writeFileSync(`${stem}.json`, JSON.stringify({ why, case: c }, null, 1) + '\n');
  // The input itself too, so the replay holds even if the seeds or mutators change.
  writeFileSync(`${stem}.bin`, inputOf(format, c));
  return `${stem}.json`;
}

/** Every saved case: its format, file and the case. */
export interface CorpusCase {
  format: FuzzFormat;
  file: string;
  c: TextCase | DatCase;
  /** The input as it was saved. */
  input?: Uint8Array;
  /** A failure not fixed yet, and why: replayed as a test that must still fail. */
  known?: string;
}

export function corpusCases(): CorpusCase[] {
  const out: CorpusCase[] = [];
  for (const format of FORMATS) {
    const dir = path.join(CORPUS, format);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)
      .filter((x) => x.endsWith('.json'))
      .sort()) {
      const j = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
        case: TextCase | DatCase;
        known?: string;
      };
      const bin = path.join(dir, f.replace(/\.json$/, '.bin'));
      out.push({
        format,
        file: `${format}/${f}`,
        c: j.case,
        ...(j.known !== undefined ? { known: j.known } : {}),
        ...(existsSync(bin) ? { input: new Uint8Array(readFileSync(bin)) } : {}),
      });
    }
  }
  return out;
}

function inputOf(format: FuzzFormat, c: TextCase | DatCase): Uint8Array {
  if (format === 'dat') {
    const d = c as DatCase;
    return applyDat(datSeeds()[d.seed]!, d.mutation).bytes;
  }
  const t = c as TextCase;
  return applyText(textSeeds(t.format)[t.seed]!, t.mutation).bytes;
}

/** The properties that hold for any input: no throw, in time, diagnostics that say where. */
export function checkRawInput(format: FuzzFormat, bytes: Uint8Array): void {
  if (format === 'dat') {
    const r = timed(bytes.length, () => importDat(bytes));
    for (const t of r.traces) checkDiagnostics(t.diagnostics, 'offset', bytes.length);
    return;
  }
  const r = timed(bytes.length, () => importBytes(bytes, 1 << 16));
  let nLines = 1;
  for (const b of bytes) if (b === 0x0a) nLines++;
  for (const t of r.traces) checkDiagnostics(t.diagnostics, 'line', nLines);
}

/** Checks one generated case; the input's size and its parse time (the timed run). */
export function checkCase(
  format: FuzzFormat,
  c: TextCase | DatCase,
): { bytes: number; ms: number } {
  return format === 'dat' ? checkDat(c as DatCase) : checkText(c as TextCase);
}
