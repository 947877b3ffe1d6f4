// `npm run package` builds a small .vsix: the bundles, grammars and docs, no node_modules.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '../..');
// @ts-expect-error: plain ESM helper without types
const cs = (await import('../e2e/code-server.mjs')) as { packageVsix: (out: string) => string };

describe('the VS Code package', () => {
  it('vsce packages the bundles without node_modules, and every contributed file is inside', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'vl-vsix-')), 'vcpu-lens.vsix');
    cs.packageVsix(out);
    expect(statSync(out).size).toBeLessThan(2 * 1024 * 1024);
    const list = execFileSync('unzip', ['-Z1', out], { encoding: 'utf8' }).split('\n');
    expect(list.some((f) => f.includes('node_modules'))).toBe(false);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      main: string;
      contributes: {
        grammars: { path: string }[];
        languages: { configuration: string; icon: { light: string } }[];
      };
    };
    const need = [
      pkg.main,
      'dist/server.js',
      ...pkg.contributes.grammars.map((g) => g.path),
      ...pkg.contributes.languages.flatMap((l) => [l.configuration, l.icon.light]),
    ].map((p) => `extension/${p.replace(/^\.\//, '')}`);
    for (const f of need) expect(list, f).toContain(f);
  }, 120_000);
});
