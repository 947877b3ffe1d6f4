// Runs a CommonJS bundle (the CLI's, the language server's) with V8's code cache for it on disk,
// made at the end of a run: the next run of the same command deserializes the bytecode of every
// function the last one compiled instead of parsing and compiling them again. Node's own compile
// cache (module.enableCompileCache, Node >= 22.1 only) serializes a module as it is loaded, before
// its functions have run, so their lazy compiles are paid on every run; and Node 20 has none.

import fs from 'node:fs';
import module, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

/**
 * Node's own compile cache for the worker threads a bundle starts (Node >= 22.1; a no-op before):
 * each is a Node instance of its own, loading its own bundle (dist/parse-worker.js) with Node's
 * loader, and takes the cache from the environment it inherits. A cache that cannot be written is
 * not an error.
 */
export function compileCacheForWorkers(): void {
  const dir = (
    module as { enableCompileCache?: () => { directory?: string } | undefined }
  ).enableCompileCache?.()?.directory;
  if (dir !== undefined) process.env['NODE_COMPILE_CACHE'] ??= dir;
}

/** Where a bundle's cache is read and written, and why not when it is not. */
export interface CacheSlot {
  /** The cache file, or undefined when caching is off or the folder is not safe to use. */
  file: string | undefined;
  /** The start of the names of this key's caches on this Node (older bundles' are removed). */
  prefix?: string;
  why?: string;
}

/**
 * The cache file for `bundle` run as `key` (a command name: each command compiles its own part of
 * the bundle). Off with NODE_DISABLE_COMPILE_CACHE=1, Node's own switch. The folder is
 * NODE_COMPILE_CACHE's, or Node's default under the temporary directory, in a `vcpu-lens`
 * folder of its own that must belong to this user and be writable by no one else: cached
 * bytecode runs as code. The name holds what the cache was made from (the bundle's size,
 * modification time and inode, Node's version and architecture): a rebuilt bundle gets a new
 * file, and V8 rejects a cache made by another V8 or with other flags (then it is written again).
 */
export function cacheSlot(
  bundle: fs.Stats,
  key: string,
  env: NodeJS.ProcessEnv = process.env,
): CacheSlot {
  if (env['NODE_DISABLE_COMPILE_CACHE'] === '1')
    return { file: undefined, why: 'NODE_DISABLE_COMPILE_CACHE=1' };
  const base = env['NODE_COMPILE_CACHE'] || path.join(os.tmpdir(), 'node-compile-cache');
  const dir = path.join(base, 'vcpu-lens');
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0)
      return { file: undefined, why: `${dir} is not a folder of this user's alone` };
  } catch (e) {
    return { file: undefined, why: `${dir}: ${(e as Error).message}` };
  }
  const safeKey = /^[a-z][a-z0-9-]{0,31}$/.test(key) ? key : 'other';
  const made = `${bundle.size}-${Math.trunc(bundle.mtimeMs * 1000)}-${bundle.ino}`;
  const prefix = `${safeKey}@${process.version}-${process.arch}-`;
  return { file: path.join(dir, `${prefix}${made}.cache`), prefix };
}

/** What runBundle did with the cache (for tests and diagnostics). */
export interface BundleRun {
  exports: unknown;
  slot: CacheSlot;
  /** A cache was read and V8 took it. */
  cached: boolean;
  /** A cache will be written when the process exits (none was there, or V8 rejected it). */
  willWrite: boolean;
  /** Writes the cache now (what the process's exit does when willWrite). */
  save: () => void;
}

/**
 * Loads and runs the CommonJS bundle at `file` as Node would (its own require, __dirname,
 * module.exports), with its code cache for `key` when there is one, and writes that cache when
 * the process exits if there was none or V8 rejected it (a write that fails is not an error: the
 * next run compiles as this one did).
 */
export function runBundle(
  file: string,
  key: string,
  env: NodeJS.ProcessEnv = process.env,
): BundleRun {
  const fd = fs.openSync(file, 'r');
  let source: string;
  let stat: fs.Stats;
  try {
    stat = fs.fstatSync(fd);
    source = fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
  const slot = cacheSlot(stat, key, env);
  let cachedData: Buffer | undefined;
  if (slot.file !== undefined) {
    try {
      cachedData = fs.readFileSync(slot.file);
    } catch {
      // None yet.
    }
  }
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    {
      filename: file,
      ...(cachedData !== undefined ? { cachedData } : {}),
      // A bundle's import() of an external package (DuckDB's binding) goes to Node's loader
      // (Node >= 20.12; the extension host of VS Code 1.90 runs 20.9, whose server has no import()).
      importModuleDynamically: (vm as Partial<typeof vm>).constants
        ?.USE_MAIN_CONTEXT_DEFAULT_LOADER as vm.ScriptOptions['importModuleDynamically'],
    },
  );
  const cached = cachedData !== undefined && !script.cachedDataRejected;
  const willWrite = slot.file !== undefined && !cached;
  const save = (): void => {
    if (slot.file !== undefined) writeCache(slot.file, slot.prefix!, script);
  };
  if (willWrite) process.once('exit', save);
  const mod = { exports: {} as unknown };
  const run = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: { exports: unknown },
    filename: string,
    dirname: string,
  ) => void;
  run.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  return { exports: mod.exports, slot, cached, willWrite, save };
}

/**
 * The cache of everything `script` compiled so far, written whole or not at all (a temporary file
 * renamed over the old one: concurrent runs, the fleet's workers, never read half a file); the
 * same command's caches of older bundles are removed.
 */
function writeCache(file: string, prefix: string, script: vm.Script): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(tmp, file);
    const dir = path.dirname(file);
    const name = path.basename(file);
    for (const f of fs.readdirSync(dir))
      if (f !== name && f.startsWith(prefix) && f.endsWith('.cache'))
        fs.rmSync(path.join(dir, f), { force: true });
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}
