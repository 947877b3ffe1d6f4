// `vcpu-lens info` of every .dat the lab and the peers have, and of damaged copies of each (cut
// short, bytes flipped), by two builds side by side: the text, the --json and the exit code must
// be the same. For a change to how `info` reads (issue #21's count-only .dat read), old build
// against new.
//
//   node scripts/info-compare.mjs OLD_DIST [NEW_DIST] [--damaged N] [--jobs N]
//
// OLD_DIST, NEW_DIST: folders holding cli.js (a copy of dist/ made before the change; NEW_DIST
// defaults to this checkout's dist/). --damaged: damaged copies per file (default 4: two cut, two
// flipped; the same bytes every run). Damaged copies go to a temporary folder, removed at the end.

import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REAL = path.join(ROOT, 'test/fixtures/real');
const PEER = path.resolve(ROOT, '../shared/fixtures/peer');

const { values: v, positionals } = parseArgs({
  allowPositionals: true,
  options: { damaged: { type: 'string', default: '4' }, jobs: { type: 'string', default: '2' } },
});
if (positionals.length < 1) {
  process.stderr.write('usage: node scripts/info-compare.mjs OLD_DIST [NEW_DIST] [--damaged N]\n');
  process.exit(2);
}
const oldCli = path.resolve(positionals[0], 'cli.js');
const newCli = path.resolve(positionals[1] ?? path.join(ROOT, 'dist'), 'cli.js');
const damagedPerFile = Number(v.damaged);
const jobs = Math.max(1, Number(v.jobs));

/** The .dat files under a folder (one level of scenario folders, as real/ and peer/ hold them). */
function datFiles(dir) {
  if (!existsSync(dir)) {
    process.stderr.write(`(${dir} is missing: its files are not compared)\n`);
    return [];
  }
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      for (const f of readdirSync(p)) if (f.endsWith('.dat')) out.push(path.join(p, f));
    } else if (e.name.endsWith('.dat')) out.push(p);
  }
  return out.sort();
}

/**
 * Numbers in [0, 1) drawn from SHA-256 of the seed and a counter: the same damaged copy every
 * run, from Node's own hash rather than a generator of ours.
 */
function rng(seed) {
  let block = Buffer.alloc(0);
  let at = 0;
  let n = 0;
  return () => {
    if (at + 4 > block.length) {
      block = createHash('sha256').update(`${seed}:${n++}`).digest();
      at = 0;
    }
    const v = block.readUInt32LE(at);
    at += 4;
    return v / 4294967296;
  };
}

/** Damaged copies of `file` in `dir`: cut at 35% and 80%, then 16 and 200 random bytes flipped. */
function damage(file, dir, n, k) {
  const bytes = readFileSync(file);
  const out = [];
  const base = `${k}-${path.basename(path.dirname(file))}-${path.basename(file)}`;
  for (let i = 0; i < n; i++) {
    const name = path.join(dir, `${base}.${i}`);
    if (i % 2 === 0) {
      const cut = [0.35, 0.8, 0.55, 0.95][(i / 2) % 4];
      writeFileSync(name, bytes.subarray(0, Math.floor(bytes.length * cut)));
    } else {
      const b = Buffer.from(bytes);
      const r = rng(k * 1000 + i);
      const flips = i % 4 === 1 ? 16 : 200;
      // Past the first 4 KiB: a flipped magic or version only says "not a .dat" to both builds.
      for (let j = 0; j < flips; j++) {
        const at = 4096 + Math.floor(r() * (b.length - 4096));
        b[at] ^= 1 << Math.floor(r() * 8);
      }
      writeFileSync(name, b);
    }
    out.push(name);
  }
  return out;
}

function run(cli, args) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => err.push(d));
    p.on('close', (code) =>
      resolve({ code, out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString() }),
    );
  });
}

/** The first line where a and b differ, for the report. */
function firstDiff(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++)
    if (x[i] !== y[i]) return `line ${i + 1}:\n    old: ${x[i]}\n    new: ${y[i]}`;
  return '(same lines)';
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'info-compare-'));
try {
  const originals = [...datFiles(REAL), ...datFiles(PEER)];
  const cases = [];
  originals.forEach((f, k) => {
    cases.push(f);
    cases.push(...damage(f, tmp, damagedPerFile, k));
  });
  const work = [];
  for (const f of cases) for (const json of [false, true]) work.push({ f, json });
  let bad = 0;
  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const { f, json } = work[next++];
      const args = ['info', f, ...(json ? ['--json'] : [])];
      const [a, b] = await Promise.all([run(oldCli, args), run(newCli, args)]);
      done++;
      if (a.code !== b.code || a.out !== b.out) {
        bad++;
        process.stdout.write(
          `DIFFERENT ${path.relative(ROOT, f)}${json ? ' --json' : ''}: exit ${a.code} / ${b.code}; ${firstDiff(a.out, b.out)}\n`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  process.stdout.write(
    `${done} runs (${originals.length} files, ${cases.length - originals.length} damaged copies, text and --json): ${bad} different\n`,
  );
  process.exitCode = bad === 0 ? 0 : 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
