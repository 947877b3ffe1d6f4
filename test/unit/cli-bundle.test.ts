// The CLI bundle loads only what a command needs: what `vcpu-lens info` (and dump, tasks, help)
// load before any command's own dynamic import must not hold the simulator, the analysis, the
// view model, the what-if, the .dat writer or the HTML report (issue #21: start-up).
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

/** The source files in the CLI's first chunks: main and what it imports statically. */
async function loadedAtStart(): Promise<string[]> {
  // As esbuild.mjs builds the CLI (ES modules split at dynamic imports), in memory.
  const r = await build({
    absWorkingDir: ROOT,
    entryPoints: ['src/cli/main.ts'],
    external: ['@duckdb/node-api'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    splitting: true,
    outdir: 'dist/cli',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const outs: Metafile['outputs'] = r.metafile.outputs;
  const main = Object.keys(outs).find((o) => o.endsWith('dist/cli/main.js'))!;
  const seen = new Set<string>();
  const todo = [main];
  while (todo.length > 0) {
    const o = todo.pop()!;
    if (seen.has(o)) continue;
    seen.add(o);
    for (const i of outs[o]!.imports)
      if (i.kind === 'import-statement' && !i.external) todo.push(i.path);
  }
  return [...seen].flatMap((o) => Object.keys(outs[o]!.inputs));
}

describe('the CLI bundle', () => {
  it('starts without the simulator, analysis, views, what-if, .dat writer or HTML report', async () => {
    const inputs = await loadedAtStart();
    // What info reads with is there (the check below has something to look at) ...
    expect(inputs).toContain('src/core/io/read-trace-file.ts');
    expect(inputs).toContain('src/core/report/info.ts');
    // ... and nothing of what only analyze and simulate run (presets: simulate's option help).
    const heavy = inputs.filter(
      (f) =>
        /^src\/core\/(analyze|correlate|view|whatif|timeline)\//.test(f) ||
        (/^src\/core\/sim\//.test(f) && f !== 'src/core/sim/presets.ts') ||
        /^src\/core\/export\/trace-dat-writer\.ts$/.test(f) ||
        /^src\/core\/report\/(html|analyze|sim-dashboard)\.ts$/.test(f) ||
        /^src\/cli\/(html-report|simulate-run)\.ts$/.test(f) ||
        f.includes('node_modules/d3'),
    );
    expect(heavy).toEqual([]);
  });
});
