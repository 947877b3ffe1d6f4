// `npm run package` builds a small .vsix: the bundles, grammars and docs, no node_modules.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '../..');
// @ts-expect-error: plain ESM helper without types
const cs = (await import('../e2e/code-server.mjs')) as { packageVsix: (out: string) => string };

interface Dep {
  dependencies?: Record<string, Dep>;
}

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
      'dist/server-main.js',
      ...pkg.contributes.grammars.map((g) => g.path),
      ...pkg.contributes.languages.flatMap((l) => [l.configuration, l.icon.light]),
    ].map((p) => `extension/${p.replace(/^\.\//, '')}`);
    for (const f of need) expect(list, f).toContain(f);

    // Only what package.json's `files` ships (bundles, grammars, media, docs) and vsce's own.
    const allowed = [
      /^\[Content_Types\]\.xml$/,
      /^extension\.vsixmanifest$/,
      /^extension\/(package\.json|README\.md|LICENSE(\.txt)?|changelog\.md)$/i,
      /^extension\/dist\/[\w-]+\.(js|css)$/,
      // libzstd as WebAssembly for Node without zstd (src/core/io/zstd-wasm.ts).
      /^extension\/dist\/zstd\.wasm$/,
      // The CLI, split by command (esbuild.mjs), for `npm install -g`'s bin.
      /^extension\/dist\/cli\/[\w-]+\.mjs$/,
      /^extension\/(syntaxes|media)\/[\w.-]+$/,
      /^extension\/docs\/[\w.-]+\.md$/,
    ];
    const files = list.filter((f) => f !== '' && !f.endsWith('/'));
    expect(files.filter((f) => !allowed.some((re) => re.test(f)))).toEqual([]);

    // No dev dependency inside the bundles: esbuild marks each bundled module with a
    // `// node_modules/<package>/...` comment; every package named is a production dependency
    // (or one of theirs), never a devDependency such as fast-check, vitest or typescript.
    const tree = JSON.parse(
      execFileSync('npm', ['ls', '--omit=dev', '--all', '--json'], { cwd: ROOT, encoding: 'utf8' }),
    ) as Dep;
    const prod = new Set<string>();
    const walk = (d: Dep): void => {
      for (const [name, sub] of Object.entries(d.dependencies ?? {})) {
        prod.add(name);
        walk(sub);
      }
    };
    walk(tree);
    const bundled = new Set<string>();
    for (const f of files.filter((x) => x.endsWith('.js'))) {
      const js = execFileSync('unzip', ['-p', out, f], { encoding: 'utf8', maxBuffer: 64 << 20 });
      for (const m of js.matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm))
        bundled.add(m[1]!);
    }
    expect(bundled.size).toBeGreaterThan(0); // the comments are there to check
    const devDeps = Object.keys(
      (
        JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
          devDependencies: object;
        }
      ).devDependencies,
    );
    expect([...bundled].filter((b) => !prod.has(b) || devDeps.includes(b))).toEqual([]);
  }, 120_000);
});
