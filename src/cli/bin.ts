#!/usr/bin/env node
// The `vcpu-lens` launcher (dist/cli.js): turns on V8's compile cache where Node has it, then
// loads the CLI, built as ES modules split by command (dist/cli/main.mjs and its chunks), so a
// command loads only its own code: `info` never loads the simulator, the views or the writers.

import module from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Node >= 22.1: compiled code is cached on disk and later runs skip compiling the bundle; the
// parse workers use it through the environment they inherit (as the server's launcher does). Node
// 20 has no such function: a no-op there. A cache that cannot be written is not an error.
const dir = (
  module as { enableCompileCache?: () => { directory?: string } | undefined }
).enableCompileCache?.()?.directory;
if (dir !== undefined) process.env['NODE_COMPILE_CACHE'] ??= dir;

// Tests and scripts that load the CLI's main() themselves set this.
if (process.env['VCPU_LENS_NO_MAIN'] === undefined) {
  const entry = pathToFileURL(path.join(__dirname, 'cli', 'main.mjs')).href;
  import(entry).then(
    (m: { runCli: () => void }) => m.runCli(),
    (e: unknown) => {
      process.stderr.write(`vcpu-lens: cannot load ${entry}: ${String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
