// Helpers the benchmark scripts share: fresh child processes that answer with one JSON line,
// timing `cat` and `trace-cmd report` as the baselines, and number formatting.

import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cached, saveMeta } from './bench-inputs.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Generated inputs and bundles (gitignored). */
export const DATA = path.join(ROOT, 'bench-data');
/** The real traces the inputs are made from: ../shared beside the checkout, as in CI. */
export const FIXTURES = path.join(ROOT, 'test/fixtures/real');
/** The engine bundle the ingest children load. */
export const ENGINE = path.join(DATA, 'engine.cjs');

/** Runs `node [nodeArgs] script [childArgs]`; resolves with the last line of stdout as JSON. */
export function runNode(script, nodeArgs, childArgs, env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...nodeArgs, script, ...childArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) reject(new Error(`child ${childArgs.join(' ')} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)));
    });
  });
}

/**
 * `node [nodeArgs]` with scripts/bench-rusage.mjs preloaded, stdout discarded: its wall time, CPU
 * time (user + sys, its worker threads included) and peak RSS, as the process itself counts them.
 */
export function runNodeRusage(nodeArgs) {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--import', pathToFileURL(path.join(ROOT, 'scripts/bench-rusage.mjs')).href, ...nodeArgs],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 24 },
  );
  const wallMs = performance.now() - t0;
  const line = r.stderr?.split('\n').find((l) => l.startsWith('VL_RUSAGE '));
  if (r.status !== 0 || line === undefined)
    throw new Error(`node ${nodeArgs.join(' ')} exited with ${r.status}: ${r.stderr?.slice(-500)}`);
  const u = JSON.parse(line.slice('VL_RUSAGE '.length));
  return { wallMs, cpuMs: (u.userUs + u.sysUs) / 1000, maxRssKiB: u.maxRssKiB };
}

/** The min, median and max of `xs`, printed with `d` decimals: "median (min-max)". */
export function spread(xs, d) {
  return `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}-${fmt(Math.max(...xs), d)})`;
}

/** Wall time of `cmd args > /dev/null` (stderr: `errTo`), rejecting on a non-zero exit. */
function timeToNull(cmd, args, errTo) {
  return new Promise((resolve, reject) => {
    const devnull = openSync('/dev/null', 'w');
    const t0 = performance.now();
    const p = spawn(cmd, args, { stdio: ['ignore', devnull, errTo] });
    p.on('error', (e) => {
      closeSync(devnull);
      reject(e);
    });
    p.on('close', (code) => {
      const ms = performance.now() - t0;
      closeSync(devnull);
      if (code !== 0) reject(new Error(`${cmd} ${args[0]} exited with ${code}`));
      else resolve(ms);
    });
  });
}

/** Wall time of `cat FILE > /dev/null`. */
export function timeCat(file) {
  return timeToNull('cat', [file], 'inherit');
}

/** Wall time of `trace-cmd report FILE > /dev/null`. */
export function timeTraceCmd(file) {
  return timeToNull('trace-cmd', ['report', file], 'ignore');
}

/** Event lines and bytes `trace-cmd report FILE` prints (all lines but its `cpus=N` header). */
export function traceCmdOutput(file) {
  return new Promise((resolve, reject) => {
    const p = spawn('trace-cmd', ['report', file], { stdio: ['ignore', 'pipe', 'ignore'] });
    let bytes = 0;
    let lines = 0;
    p.stdout.on('data', (d) => {
      bytes += d.length;
      for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) lines++;
    });
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0
        ? resolve({ traceCmdBytes: bytes, traceCmdEvents: lines - 1 })
        : reject(new Error(`trace-cmd report exited with ${code}`)),
    );
  });
}

/**
 * A .dat v7 (uncompressed) of a generated text's events, written by our writer in a fresh
 * process (bench.mjs's makedat child) and cached; when trace-cmd is installed, `trace-cmd report`
 * reads it once and must print every event (its bytes are the text rate's baseline).
 */
export async function datFromText(text, out, genVersion) {
  const want = { genVersion, textBytes: text.bytes, events: text.events };
  const have = cached(out, want);
  if (have !== undefined) return have;
  log(`writing ${path.relative(ROOT, out)} with our .dat writer`);
  const t0 = performance.now();
  const tmp = out + '.tmp';
  const bench = path.join(ROOT, 'scripts/bench.mjs');
  const r = await runNode(
    bench,
    ['--max-old-space-size=8192'],
    ['--child', 'makedat', text.file, tmp],
  );
  renameSync(tmp, out);
  const meta = { ...want, bytes: statSync(out).size, writtenEvents: r.events };
  log(`  ${(meta.bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (traceCmdVersion() !== undefined) {
    log('  trace-cmd report on it once: events and bytes it prints');
    Object.assign(meta, await traceCmdOutput(out));
    if (meta.traceCmdEvents !== text.events)
      throw new Error(
        `trace-cmd report printed ${meta.traceCmdEvents} events, ${text.events} written`,
      );
  }
  saveMeta(out, meta);
  return { file: out, ...meta, cached: false };
}

export function traceCmdVersion() {
  const r = spawnSync('trace-cmd', ['--version'], { encoding: 'utf8' });
  if (r.error) return undefined;
  const m = /version\s+(\S+)/.exec(`${r.stdout}${r.stderr}`);
  return m ? m[1] : 'unknown version';
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
}

export function log(s) {
  process.stderr.write(s + '\n');
}

export function fmt(x, d) {
  return Number.isFinite(x) ? x.toFixed(d) : String(x);
}

export function fmtInt(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function verdict(ok) {
  return ok ? 'PASS' : 'MISS';
}

export function machine() {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    cpu = os.cpus()[0]?.model ?? 'unknown';
  }
  const git = (args) =>
    spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const rev = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const dirty = git(['status', '--porcelain', '--', 'src']) !== '';
  return {
    cpu,
    rev: dirty ? `${rev} + uncommitted src changes` : rev,
    cores: os.availableParallelism(),
    ramGiB: os.totalmem() / 1024 ** 3,
    node: process.version,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

function newestMtime(dir) {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    m = Math.max(m, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return m;
}

/** Builds dist/ when src/ is newer, and always the engine bundle the ingest children load. */
export async function ensureBuilt() {
  const cli = path.join(ROOT, 'dist/cli.js');
  const srcNewest = Math.max(
    newestMtime(path.join(ROOT, 'src')),
    statSync(path.join(ROOT, 'esbuild.mjs')).mtimeMs,
  );
  if (!existsSync(cli) || statSync(cli).mtimeMs < srcNewest) {
    log('building dist/ (node esbuild.mjs)');
    const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
    if (r.status !== 0) throw new Error('node esbuild.mjs failed');
  }
  await bundleNode(
    [
      "export { readTraceFile } from './src/core/io/read-trace-file';",
      "export { traceInfo } from './src/core/report/info';",
      "export { EVENT_COLUMN_BYTES } from './src/core/model/event-store';",
      "export { writeTraceDat } from './src/core/export/trace-dat-writer';",
    ],
    ENGINE,
  );
}

/** Bundles re-exports of the engine (lines of `export ... from './src/...'`) into a CJS file. */
export async function bundleNode(exportLines, outfile) {
  mkdirSync(path.dirname(outfile), { recursive: true });
  const { build } = await import('esbuild');
  await build({
    stdin: {
      contents: exportLines.join('\n'),
      resolveDir: ROOT,
      loader: 'ts',
      sourcefile: path.basename(outfile, '.cjs') + '.ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
}

/**
 * Replaces the section headed `heading` in BENCHMARKS.md with `heading`, the `intro` line and
 * `section` (appended when the heading is missing); the other sections stay as they are.
 */
export function writeBenchSection(heading, intro, section) {
  const file = path.join(ROOT, 'BENCHMARKS.md');
  const md = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const body = `${heading}\n\n${intro}\n\n${section.trimEnd()}\n`;
  const at = md.indexOf(heading);
  let out;
  if (at < 0) out = `${md.trimEnd()}\n\n${body}`;
  else {
    const next = md.indexOf('\n## ', at + heading.length);
    out = md.slice(0, at) + body + (next >= 0 ? md.slice(next) : '');
  }
  writeFileSync(file, out);
  log(`wrote ${path.relative(ROOT, file)} (${heading.replace(/^#+ /, '')})`);
}
