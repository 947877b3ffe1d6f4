// One build for every entry: the CLI (node), the timeline webview (browser), and later the
// extension and server.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';

const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  sourcemap: true,
  logLevel: 'warning',
  target: 'node20',
  platform: 'node',
  format: 'cjs',
};

const entries = [
  // The CLI's launcher (the `vcpu-lens` bin) ...
  { entryPoints: ['src/cli/bin.ts'], outfile: 'dist/cli.js' },
  // ... and the CLI itself, one CommonJS bundle the launcher runs with V8's code cache of the
  // command's last run (src/core/io/code-cache.ts). A command's own modules are initialised on its
  // dynamic import only (esbuild wraps them), so `info` runs and compiles none of the simulator's,
  // the views' or the writers' code. (It was ES modules split by command: Node can cache only a
  // module's top level for those, on Node >= 22.1, and ESM's loader costs a short command ~4 ms.)
  // DuckDB's Node binding is native: loaded from node_modules, and only by fleet / sql / --parquet.
  { entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli-main.js', external: ['@duckdb/node-api'] },
  // Parses byte ranges of big text traces in worker threads (src/core/io/parallel-read.ts).
  { entryPoints: ['src/core/io/parse-worker.ts'], outfile: 'dist/parse-worker.js' },
  // The language server (node IPC child of the extension host): a launcher that turns on the
  // compile cache, then the server itself.
  { entryPoints: ['src/server/launcher.ts'], outfile: 'dist/server.js' },
  { entryPoints: ['src/server/main.ts'], outfile: 'dist/server-main.js' },
  // The extension (the editor provides `vscode`).
  { entryPoints: ['src/extension/main.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  // Extension tests (mocha inside VS Code or code-server), not shipped.
  {
    entryPoints: ['test/electron/index.ts'],
    outfile: 'out/test/electron/index.js',
    external: ['vscode', 'mocha'],
  },
  // The timeline webview: one browser bundle (and its CSS) for VS Code and the HTML report, both
  // of which inline them in the page (esbuild escapes `</script` and `</style` in them; checked
  // below).
  {
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    supported: { 'inline-script': true },
  },
  {
    entryPoints: ['webview/styles.css'],
    outfile: 'dist/webview.css',
    platform: 'browser',
    sourcemap: false,
    supported: { 'inline-style': true },
  },
  // The simulator dashboard in VS Code (its charts are core/report's, as in simulate's report.html).
  {
    entryPoints: ['webview/dashboard/main.ts'],
    outfile: 'dist/sim-dashboard.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    sourcemap: false,
  },
  // The runs table of Analyze Folder of Traces… (its rows and sorting are core/view/fleet-table.ts).
  {
    entryPoints: ['webview/fleet/main.ts'],
    outfile: 'dist/fleet.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    sourcemap: false,
  },
];

// libzstd as WebAssembly (src/core/io/zstd-wasm.ts) for Node without zstd: loaded from next to the
// bundles, so the CLI and the .vsix carry it and nothing is fetched.
const zstdPkg = createRequire(import.meta.url).resolve('@bokuweb/zstd-wasm');
mkdirSync('dist', { recursive: true });
copyFileSync(path.join(path.dirname(zstdPkg), 'zstd.wasm'), 'dist/zstd.wasm');

// The split CLI's chunks of builds before the CLI became one bundle.
rmSync('dist/cli', { recursive: true, force: true });

for (const e of entries) {
  if (watch) {
    const { context } = await import('esbuild');
    const ctx = await context({ ...common, ...e });
    await ctx.watch();
  } else {
    await build({ ...common, ...e });
  }
}

// The timeline's page inlines the bundle as the text of a <script> and a <style> element (no
// resource requests before its first paint): nothing in them may end the element or open a comment.
if (!watch) {
  for (const [file, bad] of [
    ['dist/webview.js', /<\/script|<!--/i],
    ['dist/webview.css', /<\/style/i],
  ]) {
    const m = bad.exec(readFileSync(file, 'utf8'));
    if (m !== null) {
      console.error(`${file}: "${m[0]}" at offset ${m.index} would end its inline element`);
      process.exit(1);
    }
  }
}
