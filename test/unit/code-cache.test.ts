// runBundle (core/io/code-cache.ts): a bundle run again takes the cache its last run wrote, with the
// functions that run compiled; a rebuilt bundle, a damaged cache, another user's folder and
// NODE_DISABLE_COMPILE_CACHE=1 each leave the bundle to be compiled (and it still runs).
// Each run is a process of its own, as the CLI's are: V8 keeps a script compiled in a process and
// would take it again without reading any cache.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
let tools: string;
let harness: string;
let dir: string;
let env: NodeJS.ProcessEnv;
let bundle: string;

interface Run {
  cached: boolean;
  willWrite: boolean;
  slot: { file?: string; why?: string };
  exports: unknown;
}

/** runBundle(bundle, key) in a new Node process (which writes its cache as it exits). */
function runBundle(file: string, key: string, e: NodeJS.ProcessEnv): Run {
  const r = spawnSync(process.execPath, [harness, file, key], {
    env: { PATH: process.env['PATH'], ...e },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`harness failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Run;
}

beforeAll(async () => {
  tools = fs.mkdtempSync(path.join(os.tmpdir(), 'vl-code-cache-tools-'));
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['src/core/io/code-cache.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: path.join(tools, 'code-cache.js'),
    logLevel: 'silent',
  });
  harness = path.join(tools, 'harness.js');
  fs.writeFileSync(
    harness,
    `const r = require('./code-cache.js').runBundle(process.argv[2], process.argv[3]);\n` +
      `process.stdout.write(JSON.stringify({ cached: r.cached, willWrite: r.willWrite, slot: r.slot, exports: r.exports }));\n`,
  );
});
afterAll(() => fs.rmSync(tools, { recursive: true, force: true }));

/** A CommonJS bundle with some functions to compile, exporting what it was given. */
function writeBundle(tag: string): void {
  const fns = Array.from(
    { length: 50 },
    (_, i) =>
      `function f${i}(x) { let s = 0; for (let k = 0; k < x; k++) s += k * ${i}; return s; }`,
  ).join('\n');
  fs.writeFileSync(
    bundle,
    `"use strict";\n${fns}\nmodule.exports = { tag: ${JSON.stringify(tag)}, sum: f7(10), dir: __dirname, file: __filename, req: typeof require('node:path').join };\n`,
  );
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vl-code-cache-'));
  env = { NODE_COMPILE_CACHE: path.join(dir, 'cache') };
  bundle = path.join(dir, 'bundle.js');
  writeBundle('one');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('runBundle', () => {
  it('runs the bundle as Node would, and a second run takes the cache the first wrote', () => {
    const first = runBundle(bundle, 'info', env);
    expect(first.exports).toEqual({ tag: 'one', sum: 315, dir, file: bundle, req: 'function' });
    expect(first.cached).toBe(false);
    expect(first.willWrite).toBe(true);
    expect(fs.statSync(first.slot.file!).size).toBeGreaterThan(0);
    const second = runBundle(bundle, 'info', env);
    expect(second.cached).toBe(true);
    expect(second.willWrite).toBe(false);
    expect(second.exports).toEqual(first.exports);
  });

  it('keeps one cache per command: another command compiles for itself', () => {
    runBundle(bundle, 'info', env);
    const other = runBundle(bundle, 'analyze', env);
    expect(other.cached).toBe(false);
    expect(other.slot.file).not.toBe(runBundle(bundle, 'info', env).slot.file);
  });

  it('does not take the cache of the bundle before it was rebuilt, and removes it once the new one is written', () => {
    const old = runBundle(bundle, 'info', env);
    // Another size, and another change time for the same size (what a rebuild gives).
    writeBundle('two, rebuilt');
    const t = new Date(Date.now() + 5000);
    fs.utimesSync(bundle, t, t);
    const rebuilt = runBundle(bundle, 'info', env);
    expect(rebuilt.cached).toBe(false);
    expect((rebuilt.exports as { tag: string }).tag).toBe('two, rebuilt');
    expect(fs.existsSync(old.slot.file!)).toBe(false);
    expect(fs.existsSync(rebuilt.slot.file!)).toBe(true);
  });

  it('compiles again over a damaged cache, and writes a good one', () => {
    const first = runBundle(bundle, 'info', env);
    const good = fs.readFileSync(first.slot.file!);
    fs.writeFileSync(first.slot.file!, good.subarray(0, good.length >> 1));
    const damaged = runBundle(bundle, 'info', env);
    expect(damaged.cached).toBe(false);
    expect(damaged.willWrite).toBe(true);
    expect((damaged.exports as { sum: number }).sum).toBe(315);
    expect(runBundle(bundle, 'info', env).cached).toBe(true);
  });

  it('uses no cache in a folder others can write, nor when NODE_DISABLE_COMPILE_CACHE=1', () => {
    const folder = path.join(env['NODE_COMPILE_CACHE']!, 'vcpu-lens');
    fs.mkdirSync(folder, { recursive: true });
    fs.chmodSync(folder, 0o777);
    const open = runBundle(bundle, 'info', env);
    expect(open.slot.file).toBeUndefined();
    expect(open.slot.why).toMatch(/not a folder of this user's alone/);
    expect((open.exports as { sum: number }).sum).toBe(315);
    fs.chmodSync(folder, 0o700);
    const off = runBundle(bundle, 'info', { ...env, NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(off.slot.file).toBeUndefined();
    expect(off.willWrite).toBe(false);
    expect(fs.readdirSync(folder)).toEqual([]);
  });

  it('names a cache only after a command-like key', () => {
    const odd = runBundle(bundle, '../../etc/passwd', env);
    expect(path.dirname(odd.slot.file!)).toBe(path.join(env['NODE_COMPILE_CACHE']!, 'vcpu-lens'));
    expect(path.basename(odd.slot.file!)).toMatch(/^other@/);
  });
});
