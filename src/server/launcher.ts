// The language server's launcher (dist/server.js, what the extension forks): runs the server's
// bundle (dist/server-main.js) with V8's code cache of its last run (core/io/code-cache.ts, written
// as a server exits: everything it compiled, the analysis included), so a server started again
// (every window, every restart) skips compiling its megabyte of bundle, and its parse workers
// their own.

import module from 'node:module';
import path from 'node:path';
import { runBundle } from '../core/io/code-cache';

// Node >= 22.1 (code-server's Node, VS Code's Electron from 1.101): the parse workers (worker
// threads for each trace read from disk, Node instances of their own) cache their compiled code in
// Node's own folder, through the environment they inherit. Older Node has no such function.
const cache = (
  module as { enableCompileCache?: () => { directory?: string } | undefined }
).enableCompileCache?.();
if (cache?.directory !== undefined) process.env['NODE_COMPILE_CACHE'] ??= cache.directory;

runBundle(path.join(__dirname, 'server-main.js'), 'server');
