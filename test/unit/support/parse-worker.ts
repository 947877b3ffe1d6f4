// The parse worker bundled for tests (as esbuild.mjs bundles it into dist/), so tests of parallel
// and worker reading run against the source they test, not a stale dist/.
import { build } from 'esbuild';
import path from 'node:path';

/** Bundles src/core/io/parse-worker.ts to `outfile` (CommonJS, for node:worker_threads). */
export async function bundleParseWorker(outfile: string): Promise<void> {
  await build({
    entryPoints: [path.resolve(__dirname, '../../../src/core/io/parse-worker.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'warning',
  });
}
