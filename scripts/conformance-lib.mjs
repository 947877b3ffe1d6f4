// The .dat conformance check (issue #18) shared by `npm run conformance` and its vitest test:
// `vcpu-lens dump F.dat` against `trace-cmd report F.dat`, line for line, on every .dat in
// test/fixtures/real and ../shared/fixtures/peer (plus trace-cmd convert v6 and uncompressed v7
// copies of the real ones), and, per text file there, sched event counts from `info --json`
// against `grep -c`.
//
// The oracle is Debian's trace-cmd 3.1.6 where it reads the file, else trace-cmd 3.3.3 (zlib).
// trace-cmd 3.3 prints a latency column (`[001] d..2.  5034.170845:`, or glued to an integer
// clock: `[005] .....303280081900681:`) that dump does not, and libtraceevent >= 1.8 prints
// sched_switch states from the kernel's own table; `normalize33` takes both back to 3.1's layout
// (see there), so the comparison is exact on everything else.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REAL = path.join(ROOT, 'test/fixtures/real');
export const PEER = path.resolve(ROOT, '../shared/fixtures/peer');
export const CLI = path.join(ROOT, 'dist/cli.js');
export const TC31 = '/usr/bin/trace-cmd';
export const TC33 = path.join(os.homedir(), '.cache/trace-cmd-3.3/bin/trace-cmd');

const MAX_BUFFER = 1 << 30;

function walk(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** The .dat files to compare: the lab's real ones, then the peer corpus. */
export function datFiles() {
  return [...walk(REAL), ...walk(PEER)].filter((f) => f.endsWith('.dat'));
}

/** Text traces in the same folders (everything that is not a .dat, a README or a script). */
export function textFiles() {
  const real = walk(REAL).filter((f) => f.endsWith('.txt.gz'));
  const peer = walk(PEER).filter((f) => !f.endsWith('.dat') && path.basename(f) !== 'README.md');
  return [...real, ...peer];
}

export function rel(f) {
  if (f.startsWith(PEER)) return 'peer/' + path.relative(PEER, f);
  return path.relative(ROOT, f);
}

function run(cmd, args) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: MAX_BUFFER });
}

export function haveTool(bin) {
  return existsSync(bin) && run(bin, ['list', '-c']).status === 0;
}

/** `trace-cmd report` of the file by the first tool that reads it: { tool, text } or undefined. */
export function oracle(file, tools) {
  for (const t of tools) {
    const r = run(t.bin, ['report', file]);
    if (r.status === 0 && r.stdout.length > 0)
      return {
        tool: t.name,
        text: t.name === '3.3' ? normalize33(r.stdout, stateTable(t.bin, file)) : r.stdout,
      };
  }
  return undefined;
}

// libtraceevent 1.8's sched_switch plugin prints prev_state with the letters of the kernel's own
// table (the `{ 1, "S" }, ...` pairs of the file's sched_switch print fmt; `SDTtXZPI` when it
// has none), 1.7's (trace-cmd 3.1) with the fixed `SDTtZXxW`. Normalising maps each letter
// through its bit.
const STATE_17 = 'SDTtZXxW';

/** The prev_state letters by bit that trace-cmd 3.3 uses for this file (plugin_sched_switch.c get_states). */
export function stateTable(bin, file) {
  const r = run(bin, ['dump', '--events', file]);
  const m = /^name: sched_switch\n[^]*?^print fmt: (.*)$/m.exec(r.stdout ?? '');
  const flags =
    m &&
    /__print_flags\(REC->prev_state[^"]*"\|",((?:\s*\{\s*(?:0x)?[0-9a-fA-F]+\s*,\s*"[^"]*"\s*\}\s*,?)+)/.exec(
      m[1],
    );
  if (!flags) return 'SDTtXZPI';
  const out = [];
  for (const p of flags[1].matchAll(/\{\s*((?:0x)?[0-9a-fA-F]+)\s*,\s*"([^"]*)"/g)) {
    const v = Number(p[1]);
    if (v > 0) out[Math.log2(v & -v)] = p[2][0];
  }
  return Array.from(out, (c) => c ?? '\0').join('');
}

function state18to17(s, table) {
  if (s === 'R' || s === 'R+') return s;
  const plus = s.endsWith('+') ? '+' : '';
  const body = plus ? s.slice(0, -1) : s;
  let bits = 0;
  for (const part of body.split('|')) {
    const i = table.indexOf(part);
    if (i < 0 || part.length !== 1) return s;
    bits |= 1 << i;
  }
  let out = '';
  for (let i = 0; i < 8; i++) if (bits & (1 << i)) out += (out ? '|' : '') + STATE_17[i];
  return (out || 'R') + plus;
}

/**
 * trace-cmd 3.3 report text in 3.1's layout: the latency column dropped (`[001] d..2.  5.0:`
 * becomes `[001]     5.0:`, an integer clock glued to it gets 3.1's `%12d`), and sched_switch
 * prev_state letters mapped from libtraceevent 1.8's table to 1.7's.
 */
export function normalize33(text, table = 'SDTtXZPI') {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i];
    const m = /^(.{16}-\d+ +\[\d{3,}\]) ([.dDXbzhHsnNpP0-9a-fA-F]{4,5})( *)(\d+(?:\.\d+)?):/.exec(
      l,
    );
    if (m) {
      const ts = m[4];
      const time = ts.includes('.') ? ' ' + ts.padStart(12) : ts.padStart(12);
      l = m[1] + time + ':' + l.slice(m[0].length);
    }
    const sw = / sched_switch: +(.*?:\d+ \[-?\d+\]) (\S+) ==> /.exec(l);
    if (sw) {
      const at = sw.index + sw[0].length - sw[2].length - 5;
      l = l.slice(0, at) + state18to17(sw[2], table) + l.slice(at + sw[2].length);
    }
    lines[i] = l;
  }
  return lines.join('\n');
}

/** `node dist/cli.js dump FILE`'s stdout. */
export function dump(file) {
  const r = run(process.execPath, [CLI, 'dump', file]);
  return { text: r.stdout, status: r.status, stderr: r.stderr };
}

/** Line-by-line comparison: { lines, mismatched, first } (first: `line N: want | got`). */
export function compareText(want, got) {
  const a = want.split('\n');
  const b = got.split('\n');
  if (a.at(-1) === '') a.pop();
  if (b.at(-1) === '') b.pop();
  let mismatched = Math.abs(a.length - b.length);
  let first;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) continue;
    mismatched++;
    first ??= `line ${i + 1}: want ${JSON.stringify(a[i])} got ${JSON.stringify(b[i])}`;
  }
  if (first === undefined && a.length !== b.length)
    first = `line ${n + 1}: want ${a.length} lines, got ${b.length}`;
  return { lines: a.length, mismatched, first };
}

/** The convert variants of the real .dat files made by trace-cmd 3.1 into `dir`. */
export function convertVariants(dir) {
  const out = [];
  for (const f of walk(REAL).filter((x) => x.endsWith('.dat'))) {
    for (const v of [
      { version: '6', compression: 'none' },
      { version: '7', compression: 'none' },
    ]) {
      const name = `${path
        .relative(REAL, f)
        .replace(/\//g, '-')
        .replace(/\.dat$/, '')}-v${v.version}-${v.compression}.dat`;
      const o = path.join(dir, name);
      const r = run(TC31, [
        'convert',
        '-i',
        f,
        '-o',
        o,
        '--file-version',
        v.version,
        '--compression',
        v.compression,
      ]);
      if (r.status === 0)
        out.push({ file: o, label: `${rel(f)} as v${v.version} ${v.compression}` });
    }
  }
  return out;
}

/**
 * Runs of the oracle when its first disagrees with us. trace-cmd 3.1.6 itself is not always
 * deterministic: on a 32-bit v6 peer file (wsdias sched_rr_trace.dat) about 1 report in 200
 * prints the timestamps raw (`2050838042902`) instead of in seconds, the file and the binary the
 * same. A disagreement is judged against what most runs of the oracle print.
 */
const ORACLE_RUNS = 5;

/** Compares one .dat: a row { file, oracle, lines, mismatched, first }. */
export function checkDat(file, label, tools) {
  const o = oracle(file, tools);
  if (o === undefined)
    return { file: label, oracle: 'none', lines: 0, mismatched: 1, first: 'no trace-cmd reads it' };
  const d = dump(file);
  const c = compareText(o.text, d.text);
  if (c.mismatched === 0) return { file: label, oracle: o.tool, ...c };
  // Before a mismatch counts: does the oracle print the same again?
  const tool = tools.filter((t) => t.name === o.tool);
  const texts = [o.text];
  for (let k = 1; k < ORACLE_RUNS; k++) texts.push(oracle(file, tool)?.text ?? '');
  const counts = new Map();
  for (const t of texts) counts.set(t, (counts.get(t) ?? 0) + 1);
  if (counts.size === 1) return { file: label, oracle: o.tool, ...c };
  const [most, n] = [...counts].sort((x, y) => y[1] - x[1])[0];
  return {
    file: label,
    oracle: `${o.tool} (unstable: ${ORACLE_RUNS - n} of ${ORACLE_RUNS} runs differ)`,
    ...compareText(most, d.text),
  };
}

/** The scheduler events whose text lines are counted (also test/unit/peer-text.test.ts). */
export const SCHED = [
  'sched_switch',
  'sched_wakeup',
  'sched_wakeup_new',
  'sched_waking',
  'sched_migrate_task',
  'sched_process_fork',
  'sched_process_exit',
  'sched_process_free',
  'sched_process_wait',
  'sched_stat_runtime',
];

/**
 * Sched event counts of a text trace: `info --json` against `grep -c` of the event name (trace-cmd
 * and tracefs `name:`, perf `sched:name:`), and none of them kept as undecoded text.
 */
export function checkText(file) {
  const raw = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const r = run(process.execPath, [CLI, 'info', '--json', file]);
  let info;
  try {
    info = JSON.parse(r.stdout);
  } catch {
    return {
      file: rel(file),
      oracle: 'grep -c',
      lines: 0,
      mismatched: 1,
      first: `info failed: ${r.stderr.slice(0, 200)}`,
    };
  }
  const byName = {};
  let keptAsText = 0;
  for (const t of info.traces ?? []) {
    for (const [k, v] of Object.entries(t.events.byName)) {
      const name = k.slice(k.lastIndexOf(':') + 1);
      byName[name] = (byName[name] ?? 0) + v;
    }
    for (const d of t.diagnostics.items)
      if (d.code === 'VL1002' && SCHED.some((s) => d.message.startsWith(s + ':'))) keptAsText++;
  }
  const lines = text.split('\n');
  let mismatched = 0;
  let first;
  let counted = 0;
  for (const s of SCHED) {
    const re = new RegExp(`[ :]${s}: `);
    let want = 0;
    for (const l of lines) if (re.test(l)) want++;
    const got = byName[s] ?? 0;
    counted += want;
    if (want !== got) {
      mismatched++;
      first ??= `${s}: grep -c ${want}, info ${got}`;
    }
  }
  if (keptAsText > 0) {
    mismatched++;
    first ??= `${keptAsText} sched events kept as text`;
  }
  return { file: rel(file), oracle: 'grep -c', lines: counted, mismatched, first };
}

/** The tools available, in the order they are tried. */
export function tools() {
  const out = [];
  if (haveTool(TC31)) out.push({ name: '3.1', bin: TC31 });
  if (haveTool(TC33)) out.push({ name: '3.3', bin: TC33 });
  return out;
}

export function tmpDir() {
  return mkdtempSync(path.join(os.tmpdir(), 'vl-conf-'));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

export function isBuilt() {
  return existsSync(CLI) && statSync(CLI).size > 0;
}
