// The import graph of src/ and webview/, read with the TypeScript compiler's parser (static
// imports and re-exports, `import x = require()`, dynamic `import()`): no import cycles, and each
// part imports only what ARCHITECTURE.md's boundaries allow it (STYLE.md §1). The lint enforces the
// same boundaries per import; this test sees the whole graph, so it also catches cycles.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

interface Edge {
  /** A repository-relative file, or a package name (`node:fs`, `d3`). */
  to: string;
  /** Whether the target is a file of ours. */
  local: boolean;
  /** `import type` / `export type` (erased: no code runs). */
  typeOnly: boolean;
}

type Graph = Map<string, Edge[]>;

/** The module specifiers one file names, with whether each is type-only. */
function specifiers(file: string, text: string): { spec: string; typeOnly: boolean }[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: { spec: string; typeOnly: boolean }[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause;
      const named = c?.namedBindings;
      const allTypes =
        c !== undefined &&
        (c.isTypeOnly ||
          (c.name === undefined &&
            named !== undefined &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((e) => e.isTypeOnly)));
      out.push({ spec: n.moduleSpecifier.text, typeOnly: allTypes });
    } else if (
      ts.isExportDeclaration(n) &&
      n.moduleSpecifier !== undefined &&
      ts.isStringLiteral(n.moduleSpecifier)
    ) {
      const named = n.exportClause;
      const allTypes =
        n.isTypeOnly ||
        (named !== undefined &&
          ts.isNamedExports(named) &&
          named.elements.length > 0 &&
          named.elements.every((e) => e.isTypeOnly));
      out.push({ spec: n.moduleSpecifier.text, typeOnly: allTypes });
    } else if (
      ts.isImportEqualsDeclaration(n) &&
      ts.isExternalModuleReference(n.moduleReference) &&
      ts.isStringLiteral(n.moduleReference.expression)
    ) {
      out.push({ spec: n.moduleReference.expression.text, typeOnly: n.isTypeOnly });
    } else if (
      ts.isCallExpression(n) &&
      n.expression.kind === ts.SyntaxKind.ImportKeyword &&
      n.arguments.length > 0 &&
      ts.isStringLiteralLike(n.arguments[0]!)
    ) {
      out.push({ spec: (n.arguments[0] as ts.StringLiteralLike).text, typeOnly: false });
    } else if (
      ts.isImportTypeNode(n) &&
      ts.isLiteralTypeNode(n.argument) &&
      ts.isStringLiteral(n.argument.literal)
    ) {
      out.push({ spec: n.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** A relative specifier as the file it names (TypeScript's resolution: .ts, then index.ts). */
function resolveLocal(from: string, spec: string, exists: (f: string) => boolean): string {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const f of [base, `${base}.ts`, `${base}/index.ts`, base.replace(/\.js$/, '.ts')])
    if (exists(f)) return f;
  throw new Error(`${from}: import '${spec}' names no file`);
}

/** The graph of some files given as repository-relative path → source text. */
export function importGraph(files: Map<string, string>): Graph {
  const g: Graph = new Map();
  for (const [file, text] of files) {
    g.set(
      file,
      specifiers(file, text).map(({ spec, typeOnly }) =>
        spec.startsWith('.')
          ? { to: resolveLocal(file, spec, (f) => files.has(f)), local: true, typeOnly }
          : { to: spec, local: false, typeOnly },
      ),
    );
  }
  return g;
}

/**
 * The files that import each other in a loop: per strongly connected component, one shortest
 * loop through its first file (in import order) and all of the component's files.
 */
export function cycles(g: Graph): { loop: string[]; files: string[] }[] {
  // Tarjan's strongly connected components, iteratively.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const comps: string[][] = [];
  let next = 0;
  const succ = (v: string): string[] => (g.get(v) ?? []).filter((e) => e.local).map((e) => e.to);
  for (const root of [...g.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { v: string; i: number }[] = [{ v: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const ws = succ(top.v);
      if (top.i < ws.length) {
        const w = ws[top.i++]!;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const up = work[work.length - 1]!.v;
        low.set(up, Math.min(low.get(up)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        if (comp.length > 1 || succ(top.v).includes(top.v)) comps.push(comp);
      }
    }
  }
  // Within each component, one loop through its first file (a shortest one, breadth first).
  return comps.map((comp) => ({ loop: loopThrough(comp), files: [...comp].sort() }));

  function loopThrough(comp: string[]): string[] {
    const inComp = new Set(comp);
    const start = [...comp].sort()[0]!;
    const prev = new Map<string, string>();
    const queue = [start];
    for (let q = 0; q < queue.length; q++) {
      const v = queue[q]!;
      for (const w of succ(v)) {
        if (!inComp.has(w)) continue;
        if (w === start) {
          const loop = [v];
          while (loop[0] !== start) loop.unshift(prev.get(loop[0]!)!);
          return loop;
        }
        if (!prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    return comp;
  }
}

// ---- the allowed imports (STYLE.md §1, ARCHITECTURE.md "Import boundaries") ----

type Part = 'core' | 'core/io' | 'protocol' | 'server' | 'cli' | 'extension' | 'webview';

function partOf(file: string): Part | undefined {
  if (file.startsWith('src/core/io/')) return 'core/io';
  if (file.startsWith('src/core/')) return 'core';
  for (const p of ['protocol', 'server', 'cli', 'extension'] as const)
    if (file.startsWith(`src/${p}/`)) return p;
  if (file.startsWith('webview/')) return 'webview';
  return undefined;
}

const NODE_BUILTIN = /^node:/;
const isCore = (f: string): boolean => f.startsWith('src/core/');

/** Why `file` may not import `e`, or undefined when it may. */
export function forbidden(file: string, e: Edge): string | undefined {
  const part = partOf(file);
  const to = e.to;
  switch (part) {
    case undefined:
      return undefined;
    case 'core':
    case 'core/io':
      if (e.local) return isCore(to) ? undefined : 'core imports nothing of ours outside core';
      if (part === 'core/io' && NODE_BUILTIN.test(to)) return undefined;
      // Reports draw SVG with d3's DOM-free scales and path generators.
      if (file.startsWith('src/core/report/') && (to === 'd3-scale' || to === 'd3-shape'))
        return undefined;
      return part === 'core'
        ? 'core imports no packages (Node only in core/io)'
        : 'core/io imports Node built-ins only';
    case 'protocol':
      if (e.local) {
        if (to.startsWith('src/protocol/')) return undefined;
        if (isCore(to)) return e.typeOnly ? undefined : 'protocol imports core types only';
        return 'protocol imports core types only';
      }
      return to === 'vscode-languageserver-protocol' && file === 'src/protocol/lsp-ext.ts'
        ? undefined
        : 'protocol imports no packages but the LSP message types (in lsp-ext.ts)';
    case 'server':
    case 'cli':
      if (e.local)
        return isCore(to) || to.startsWith('src/protocol/') || to.startsWith(`src/${part}/`)
          ? undefined
          : `${part} imports core, protocol and itself`;
      if (NODE_BUILTIN.test(to)) return undefined;
      if (part === 'server' && /^vscode-languageserver(-textdocument)?(\/node)?$/.test(to))
        return undefined;
      // The fleet's SQL and Parquet: DuckDB's native binding, loaded lazily, there only.
      if (file.startsWith('src/cli/fleet/') && to === '@duckdb/node-api') return undefined;
      return `${part} imports no ${to}`;
    case 'extension':
      if (e.local) {
        if (to.startsWith('src/extension/') || to.startsWith('src/protocol/')) return undefined;
        if (isCore(to) && e.typeOnly) return undefined;
        return 'extension imports protocol (and core types only): the engine runs in the server';
      }
      return NODE_BUILTIN.test(to) || to === 'vscode' || to === 'vscode-languageclient/node'
        ? undefined
        : `extension imports no ${to}`;
    case 'webview':
      if (e.local)
        return to.startsWith('webview/') ||
          to === 'src/protocol/webview.ts' ||
          to.startsWith('src/core/view/') ||
          to.startsWith('src/core/model/') ||
          // The simulator dashboard: core's charts, the presets and sweeps its form offers.
          to === 'src/core/report/sim-dashboard.ts' ||
          to === 'src/core/report/vnode.ts' ||
          to === 'src/core/sim/presets.ts' ||
          to === 'src/core/sim/sweep.ts'
          ? undefined
          : 'webview imports protocol/webview.ts, the pure engine (core/view, core/model) and itself';
      return to === 'd3' ? undefined : `webview imports d3 only, not ${to}`;
  }
}

export function violations(g: Graph): string[] {
  const out: string[] = [];
  for (const [file, edges] of g)
    for (const e of edges) {
      const why = forbidden(file, e);
      if (why !== undefined) out.push(`${file} -> ${e.to}: ${why}`);
    }
  return out;
}

function sources(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(path.join(ROOT, dir))) {
      const rel = `${dir}/${name}`;
      if (statSync(path.join(ROOT, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.ts')) files.set(rel, readFileSync(path.join(ROOT, rel), 'utf8'));
    }
  };
  walk('src');
  walk('webview');
  return files;
}

describe('import graph of src/ and webview/', () => {
  const files = sources();
  const g = importGraph(files);

  it('reads the whole tree', () => {
    expect(files.size).toBeGreaterThan(80);
    const local = [...g.values()].flat().filter((e) => e.local).length;
    expect(local).toBeGreaterThan(200);
    for (const f of [
      'src/cli/main.ts',
      'src/server/main.ts',
      'src/extension/main.ts',
      'webview/main.ts',
    ])
      expect(g.get(f)!.some((e) => e.local)).toBe(true);
  });

  it('has no import cycle', () => {
    const found = cycles(g).map(({ loop, files }) => {
      const others = files.filter((f) => !loop.includes(f));
      return (
        [...loop, loop[0]].join(' -> ') +
        (others.length > 0 ? ` (in one knot with ${others.join(', ')})` : '')
      );
    });
    expect(found).toEqual([]);
  });

  it('keeps each part to the imports it is allowed (STYLE.md §1)', () => {
    expect(violations(g)).toEqual([]);
  });
});

describe('the checker itself', () => {
  const g = importGraph(
    new Map([
      ['src/core/a.ts', "import { b } from './b';\nexport const a = b;"],
      ['src/core/b.ts', "import type { C } from './c';\nexport const b: C = 1;"],
      ['src/core/c.ts', "export type { A } from './a';\nexport type C = number;"],
      ['src/core/d.ts', "export const d = () => import('./d');"],
      ['src/core/e.ts', "import { a } from './a';\nexport const e = a;"],
      ['src/extension/x.ts', "import { a } from '../core/a';\nimport * as v from 'vscode';"],
      [
        'src/extension/y.ts',
        "import type { A } from '../core/c';\nimport { b } from '../server/s';",
      ],
      ['src/server/s.ts', 'export const b = 1;'],
      ['webview/w.ts', "import { TIMELINE } from '../src/protocol/lsp-ext';"],
      ['src/protocol/lsp-ext.ts', 'export const TIMELINE = 1;'],
    ]),
  );

  it('finds a cycle through imports, type-only imports and re-exports, and a dynamic self-import', () => {
    expect(cycles(g).sort((x, y) => x.loop[0]!.localeCompare(y.loop[0]!))).toEqual([
      {
        loop: ['src/core/a.ts', 'src/core/b.ts', 'src/core/c.ts'],
        files: ['src/core/a.ts', 'src/core/b.ts', 'src/core/c.ts'],
      },
      { loop: ['src/core/d.ts'], files: ['src/core/d.ts'] },
    ]);
  });

  it('names the forbidden imports, type-only ones by their rule', () => {
    expect(violations(g)).toEqual([
      'src/extension/x.ts -> src/core/a.ts: extension imports protocol (and core types only): the engine runs in the server',
      'src/extension/y.ts -> src/server/s.ts: extension imports protocol (and core types only): the engine runs in the server',
      'webview/w.ts -> src/protocol/lsp-ext.ts: webview imports protocol/webview.ts, the pure engine (core/view, core/model) and itself',
    ]);
  });
});
