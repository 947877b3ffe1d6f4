// The language server's launcher (dist/server.js, what the extension forks): runs the server's
// bundle (dist/server-main.js) with V8's code cache of its last run (core/io/code-cache.ts, written
// as a server exits: everything it compiled, the analysis included), so a server started again
// (every window, every restart) skips compiling its megabyte of bundle, and its parse workers
// their own.

import path from 'node:path';
import { compileCacheForWorkers, runBundle } from '../core/io/code-cache';

// The parse workers (a worker thread for each trace read from disk).
compileCacheForWorkers();

runBundle(path.join(__dirname, 'server-main.js'), 'server');
