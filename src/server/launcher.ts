// The language server's launcher (dist/server.js, what the extension forks): turns on V8's
// compile cache where Node has it, then loads the server (dist/server-main.js), so a server
// started again (every window, every restart) skips compiling its megabyte of bundle, and its
// parse workers their own.

import module from 'node:module';
import path from 'node:path';

// Node >= 22.1 (code-server's Node, VS Code's Electron from 1.101): compiled code cached on disk,
// in Node's own folder under the temporary directory. Older Node has no such function: a no-op.
// A cache that cannot be written is not an error.
const cache = (
  module as { enableCompileCache?: () => { directory?: string } | undefined }
).enableCompileCache?.();
// The parse workers (worker threads for each trace read from disk) are Node instances of their
// own: they use the cache through the environment they inherit.
if (cache?.directory !== undefined) process.env['NODE_COMPILE_CACHE'] ??= cache.directory;

// Loaded at run time, not bundled in: the cache must be on before the server's code is compiled.
module.createRequire(__filename)(path.join(__dirname, 'server-main.js'));
