// The CLI bundle runs only what a command needs: what `vcpu-lens info` (and dump, tasks, help)
// initialise before any command's own dynamic import must not hold the simulator, the analysis,
// the view model, the what-if, the .dat writer or the HTML report (issue #21: start-up). The
// bundle holds every command; esbuild wraps a module reached only by a dynamic import in an init
// function run by that import, so V8 compiles nothing of it until then.
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

/** The source files main reaches by static imports: those initialised at start. */
async function loadedAtStart(): Promise<string[]> {
  // As esbuild.mjs builds the CLI (one CommonJS bundle), in memory.
  const r = await build({
    absWorkingDir: ROOT,
    entryPoints: ['src/cli/main.ts'],
    external: ['@duckdb/node-api'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: 'dist/cli-main.js',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs: Metafile['inputs'] = r.metafile.inputs;
  const seen = new Set<string>();
  const todo = ['src/cli/main.ts'];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const i of inputs[f]?.imports ?? [])
      if (i.kind === 'import-statement' && i.external !== true) todo.push(i.path);
  }
  return [...seen];
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
