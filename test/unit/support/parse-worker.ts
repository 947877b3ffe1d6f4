// Workers bundled for tests (as esbuild.mjs bundles the parse worker into dist/), so tests of
// parallel and worker reading run against the source they test, not a stale dist/.
import { build } from 'esbuild';
import path from 'node:path';

/** Bundles `entry` to `outfile` as CommonJS, for node:worker_threads. */
export async function bundleWorker(
  entry: string,
  outfile: string,
  define: Record<string, string> = {},
): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'warning',
    define,
  });
}

/** Bundles src/core/io/parse-worker.ts to `outfile`. */
export function bundleParseWorker(outfile: string): Promise<void> {
  return bundleWorker(path.resolve(__dirname, '../../../src/core/io/parse-worker.ts'), outfile);
}
