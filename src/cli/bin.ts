#!/usr/bin/env node
// The `vcpu-lens` launcher (dist/cli.js): runs the CLI's bundle (dist/cli-main.js) with V8's code
// cache of the command's last run (core/io/code-cache.ts), so a command run again skips parsing and
// compiling the code it runs: the bundle holds every command, and a command compiles only its own
// part of it (the others' modules are initialised on their command's dynamic import only).

import module from 'node:module';
import path from 'node:path';
import { runBundle } from '../core/io/code-cache';
import { WORKER_ENV } from './fleet/worker-env';

// Node >= 22.1: the parse workers (worker threads, Node instances of their own, loading
// dist/parse-worker.js) cache their compiled code through the environment they inherit, as the
// server's launcher does. Node 20 has no such function: a no-op there.
const dir = (
  module as { enableCompileCache?: () => { directory?: string } | undefined }
).enableCompileCache?.()?.directory;
if (dir !== undefined) process.env['NODE_COMPILE_CACHE'] ??= dir;

/** Whose cache a run uses: its command's (the first argument that is not an option). */
function cacheKey(argv: string[]): string {
  if (process.env[WORKER_ENV] === '1') return 'fleet-worker';
  return argv.find((a) => !a.startsWith('-')) ?? 'help';
}

// Tests and scripts that load the CLI's main() themselves set this.
if (process.env['VCPU_LENS_NO_MAIN'] === undefined) {
  const entry = path.join(__dirname, 'cli-main.js');
  let cli: { runCli: () => void } | undefined;
  try {
    cli = runBundle(entry, cacheKey(process.argv.slice(2))).exports as { runCli: () => void };
  } catch (e) {
    process.stderr.write(`vcpu-lens: cannot load ${entry}: ${String(e)}\n`);
    process.exitCode = 70;
  }
  cli?.runCli();
}
