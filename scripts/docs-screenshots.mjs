// Writes the docs' workbench screenshots (docs/show-in-timeline.png, docs/reveal-in-trace.png,
// docs/sim-dashboard.png) by
// running the workbench tests that take them (code-server + Chromium, test/e2e/workbench.test.ts)
// with VL_DOCS_SHOTS=1: the pictures are what the tests saw, never made by hand.
// Usage: node scripts/docs-screenshots.mjs   (after `npm run build`)

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const r = spawnSync(
  path.join(ROOT, 'node_modules/.bin/vitest'),
  ['run', 'test/e2e/workbench.test.ts', '-t', process.env['VL_E2E_FILTER'] ?? 'Show in Timeline|Simulate'],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, VL_DOCS_SHOTS: '1' } },
);
process.exit(r.status ?? 1);
