// Hostile task names through every CLI print path and export (issue #10): escape sequences,
// bidi overrides, NUL, HTML, a comm cut inside a UTF-8 character at 16 bytes, a 5,000-character
// name. Nothing reaches the terminal raw; the HTML report and the Perfetto JSON carry the names
// as inert JSON (no `<`) that parses back to them; exports never overwrite without --force.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { dumpWriter, safeLines, safeName } from '../../src/cli/terminal';
import { writeTraceDat } from '../../src/core/export/trace-dat-writer';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';

const ESC_TITLE = '\u001b]0;pwned\u0007x';
const BIDI = '\u202eevil\u2066';
const HTML = '<script>alert(1)</script>';
const NUL = 'nul\u0000c1\u009bx';
const LONG = 'L'.repeat(5000);
/** 'é' x 7 and the first byte of an eighth: a 16-byte comm cut inside a character. */
const CUT = Buffer.concat([Buffer.from('ééééééé'), Buffer.from([0xc3])]);
const HOG = '\u001b[2J<img/src=x/onerror=alert(1)>';

/** Raw control, C1 and bidi characters (a newline is fine). */
const RAW_UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

let dir = '';
let host = '';
let guest = '';

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vl-hostile-'));
  const sim = path.join(dir, 'sim');
  expect(await main(['simulate', '--preset', 'small', '--out', sim], () => {})).toBe(0);
  // The guest's four OpenMP threads and the host's co-runner get hostile names.
  const names = [ESC_TITLE, BIDI, HTML, NUL];
  let g = readFileSync(path.join(sim, 'guest.txt'), 'utf8');
  g = g
    .replace(
      /\bomp([-:])60(\d)/g,
      (_m, sep: string, k: string) => `${names[Number(k)]!}${sep}60${k}`,
    )
    .replace(/comm=omp pid=60(\d)/g, (_m, k: string) => `comm=${names[Number(k)]!} pid=60${k}`);
  // One more thread with a very long name and one with a comm cut inside a character.
  const extra =
    `${`${LONG}-700`.padStart(16)} [000]   100.000001: sched_waking:         comm=${LONG} pid=700 prio=120 target_cpu=000\n` +
    `${'@CUT@-701'.padStart(16)} [000]   100.000002: sched_waking:         comm=@CUT@ pid=701 prio=120 target_cpu=000\n`;
  const gb = Buffer.from(g + extra, 'utf8');
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = gb.indexOf('@CUT@'); at >= 0; at = gb.indexOf('@CUT@', from)) {
    parts.push(gb.subarray(from, at), CUT);
    from = at + 5;
  }
  parts.push(gb.subarray(from));
  guest = path.join(dir, 'guest.txt');
  writeFileSync(guest, Buffer.concat(parts));
  host = path.join(dir, 'host.txt');
  writeFileSync(
    host,
    readFileSync(path.join(sim, 'host.txt'), 'utf8')
      .replace(/\bhog([-:])7000/g, `${HOG}$17000`)
      .replace(/comm=hog pid=7000/g, `comm=${HOG} pid=7000`),
  );
});

/** Runs the CLI, returning the exit code and everything it printed (stdout and stderr). */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err.push(String(s));
    return true;
  });
  try {
    const code = await main(
      argv,
      (s) => out.push(s),
      (s) => out.push(s),
    );
    return { code, out: out.join('\n'), err: err.join('') };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('the terminal never gets a raw control or bidi character', () => {
  it.each([
    ['info', () => ['info', guest, host]],
    ['tasks (guest)', () => ['tasks', guest, '--top', '50']],
    ['tasks (host)', () => ['tasks', host, '--top', '50']],
    ['analyze', () => ['analyze', host, guest]],
  ])('%s', async (_what, argv) => {
    const r = await run(...argv());
    expect(r.code).toBeLessThanOrEqual(1);
    expect(r.out.length).toBeGreaterThan(0);
    expect(r.out).not.toMatch(RAW_UNSAFE);
    expect(r.err).not.toMatch(RAW_UNSAFE);
    // Names are shown escaped, and long ones cut to a table's width.
    expect(r.out).not.toMatch(/L{100}/);
    if (argv()[0] !== 'info') expect(r.out).toMatch(/\\u001b\]0;pwned|\\u202eevil|\\u001b\[2J<img/);
  });

  it('tasks shows each hostile name escaped, and the cut character as U+FFFD', async () => {
    const r = await run('tasks', guest, '--top', '50');
    expect(r.out).toContain('\\u001b]0;pwned\\u0007x');
    expect(r.out).toContain('\\u202eevil\\u2066');
    expect(r.out).toContain('nul\\u0000c1\\u009bx');
    expect(r.out).toContain('ééééééé\ufffd');
    expect(r.out).toContain(`${'L'.repeat(63)}…`);
  });

  it('--json keeps the names exactly (escaped as JSON, parsed back)', async () => {
    const r = await run('tasks', guest, '--top', '50', '--json');
    expect(r.out).not.toMatch(RAW_UNSAFE);
    const comms = new Set<string>();
    const walk = (v: unknown): void => {
      if (typeof v === 'string') comms.add(v);
      else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(JSON.parse(r.out));
    for (const n of [ESC_TITLE, BIDI, HTML, NUL, LONG, 'ééééééé\ufffd']) expect(comms).toContain(n);
  });

  it('dump writes the bytes as they are to a file or pipe, escaped to a terminal', async () => {
    const r = await run('dump', guest);
    expect(r.out).toContain(ESC_TITLE); // byte for byte, as trace-cmd report would
    const toTty: string[] = [];
    dumpWriter({ isTTY: true, write: (s: string) => toTty.push(s) })(r.out);
    expect(toTty.join('')).not.toMatch(RAW_UNSAFE);
    expect(toTty.join('')).toContain('\\u001b]0;pwned');
    const toPipe: string[] = [];
    dumpWriter({ isTTY: false, write: (s: string) => toPipe.push(s) })(r.out);
    expect(toPipe.join('')).toBe(r.out);
  });

  it('safeLines keeps line breaks and JSON validity; safeName cuts long names', () => {
    const json = JSON.stringify({ n: BIDI + NUL });
    expect(JSON.parse(safeLines(json))).toEqual({ n: BIDI + NUL });
    expect(safeLines('a\nb\u001b')).toBe('a\nb\\u001b');
    expect(safeName('x'.repeat(10), 5)).toBe('xxxx…');
  });
});

describe('hostile names in a .dat (16-byte comm fields)', () => {
  it('round-trip through the writer and print escaped; a comm cut inside a character reads as U+FFFD', async () => {
    const t = importFtraceText(readFileSync(guest, 'utf8'), { name: 'guest' })[0]!;
    const dat = path.join(dir, 'guest.dat');
    writeFileSync(dat, writeTraceDat(t));
    const r = await run('tasks', dat, '--top', '50');
    expect(r.code).toBeLessThanOrEqual(1);
    expect(r.out).not.toMatch(RAW_UNSAFE);
    expect(r.err).not.toMatch(RAW_UNSAFE);
    expect(r.out).toContain('\\u001b]0;pwned\\u0007x');
    expect(r.out).toContain('\\u202eevil\\u2066');
    // 15 bytes kept of 'ééééééé' + U+FFFD: the last character is cut, and decodes as U+FFFD.
    expect(r.out).toContain('ééééééé\ufffd');
    const json = await run('tasks', dat, '--top', '50', '--json');
    expect(JSON.parse(json.out)).toBeTruthy();
    expect(json.out).not.toMatch(RAW_UNSAFE);
  });
});

describe('the HTML report and the Perfetto export embed hostile names inertly', () => {
  it('analyze --out / --chrome-trace: JSON with no `<`, parsing back to the names', async () => {
    const html = path.join(dir, 'report.html');
    const trace = path.join(dir, 'trace.json');
    const r = await run('analyze', host, guest, '--out', html, '--chrome-trace', trace);
    expect(r.code).toBeLessThanOrEqual(1);
    const page = readFileSync(html, 'utf8');
    // Only the two script elements the report has: the model (JSON) and the bundle.
    expect(page.match(/<script\b/g)).toHaveLength(2);
    const m = /<script type="application\/json" id="vcpu-lens-model">([^]*?)<\/script>/.exec(page);
    expect(m).not.toBeNull();
    expect(m![1]).not.toContain('<');
    const strings = new Set<string>();
    const walk = (v: unknown): void => {
      if (typeof v === 'string') strings.add(v);
      else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(JSON.parse(m![1]!));
    const all = [...strings].join('\n');
    expect(all).toContain(HTML);
    expect(all).toContain(HOG);
    expect(all).toContain(ESC_TITLE);

    const text = readFileSync(trace, 'utf8');
    expect(text).not.toContain('<');
    strings.clear();
    walk(JSON.parse(text));
    const names = [...strings].join('\n');
    expect(names).toContain(HTML);
    expect(names).toContain(HOG);
  });
});

describe('CLI exports never overwrite without --force', () => {
  it('analyze --out and --chrome-trace refuse an existing file, and --force overwrites it', async () => {
    const html = path.join(dir, 'keep.html');
    const trace = path.join(dir, 'keep.json');
    writeFileSync(html, 'mine');
    writeFileSync(trace, 'mine too');
    let r = await run('analyze', host, guest, '--out', html);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/keep\.html exists; give --force to overwrite/);
    expect(readFileSync(html, 'utf8')).toBe('mine');
    r = await run('analyze', host, guest, '--chrome-trace', trace);
    expect(r.code).toBe(2);
    expect(readFileSync(trace, 'utf8')).toBe('mine too');
    r = await run('analyze', host, guest, '--out', html, '--chrome-trace', trace, '--force');
    expect(r.code).toBeLessThanOrEqual(1);
    expect(statSync(html).size).toBeGreaterThan(1000);
    expect(readFileSync(trace, 'utf8')).toMatch(/^\{/);
  });

  it('simulate --out refuses a directory with any of its files, and --force overwrites', async () => {
    const out = path.join(dir, 'sim2');
    expect((await run('simulate', '--preset', 'small', '--out', out)).code).toBe(0);
    writeFileSync(path.join(out, 'truth.json'), 'mine');
    const r = await run('simulate', '--preset', 'small', '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/truth\.json.* exist; give --force to overwrite/);
    expect(readFileSync(path.join(out, 'truth.json'), 'utf8')).toBe('mine');
    expect((await run('simulate', '--preset', 'small', '--out', out, '--force')).code).toBe(0);
    expect(readFileSync(path.join(out, 'truth.json'), 'utf8')).toMatch(/^\{/);
  });
});
