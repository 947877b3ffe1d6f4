#!/usr/bin/env node
// The `vcpu-lens` launcher (dist/cli.js): runs the CLI's bundle (dist/cli-main.js) with V8's code
// cache of the command's last run (core/io/code-cache.ts), so a command run again skips parsing and
// compiling the code it runs: the bundle holds every command, and a command compiles only its own
// part of it (the others' modules are initialised on their command's dynamic import only).

import path from 'node:path';
import { compileCacheForWorkers, runBundle } from '../core/io/code-cache';
import { WORKER_ENV } from './fleet/worker-env';

// The parse workers (big traces read on worker threads).
compileCacheForWorkers();

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
