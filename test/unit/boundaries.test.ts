// The import-boundary lint must actually fail on forbidden imports; otherwise the rule could rot
// silently. Lints snippets as if they lived in the named files.
import { ESLint } from 'eslint';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function ruleIds(file: string, code: string): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (res?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('import boundaries', () => {
  it.each([
    ['src/core/model/x.ts', "import * as vscode from 'vscode';\nexport const v = vscode;\n"],
    [
      'src/core/ingest/x.ts',
      "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
    ],
    ['src/core/timeline/x.ts', "import { join } from 'path';\nexport const j = join;\n"],
    ['src/core/model/x.ts', "import { main } from '../../cli/main';\nexport const m = main;\n"],
    ['src/core/model/x.ts', "import * as d3 from 'd3';\nexport const d = d3;\n"],
    ['src/cli/x.ts', "import * as vscode from 'vscode';\nexport const v = vscode;\n"],
    ['webview/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n"],
    ['webview/x.ts', "import * as vscode from 'vscode';\nexport const v = vscode;\n"],
    [
      'webview/x.ts',
      "import { readTraceFile } from '../src/core/io/read-trace-file';\nexport const r = readTraceFile;\n",
    ],
    ['src/protocol/x.ts', "import { join } from 'node:path';\nexport type J = typeof join;\n"],
  ])('%s rejects: %s', async (file, code) => {
    expect(await ruleIds(file, code)).toContain('no-restricted-imports');
  });

  it.each([
    ['src/core/model/x.ts', 'export const t = document.title;\n'],
    ['src/core/model/x.ts', 'export const e = process.env;\n'],
    ['src/core/ingest/x.ts', 'export const b = Buffer.alloc(1);\n'],
  ])('%s rejects globals: %s', async (file, code) => {
    expect(await ruleIds(file, code)).toContain('no-restricted-globals');
  });

  it.each([
    ['webview/x.ts', 'export function f(e: HTMLElement, s: string) { e.innerHTML = s; }\n'],
    [
      'webview/x.ts',
      "export function f(e: Element, s: string) { e.insertAdjacentHTML('beforeend', s); }\n",
    ],
  ])('%s rejects HTML insertion: %s', async (file, code) => {
    expect(await ruleIds(file, code)).toContain('no-restricted-properties');
  });

  it('keeps the webview protocol to types', async () => {
    expect(await ruleIds('src/protocol/webview.ts', 'export const VERSION = 1;\n')).toContain(
      'no-restricted-syntax',
    );
    expect(
      await ruleIds(
        'src/protocol/webview.ts',
        "import type { ViewState } from '../core/view/states';\nexport type S = ViewState;\n",
      ),
    ).toEqual([]);
  });

  it('allows the webview protocol types, d3 and the pure engine', async () => {
    expect(
      await ruleIds(
        'webview/x.ts',
        "import * as d3 from 'd3';\nimport { TimelineIndex } from '../src/core/view/lod';\nimport type { ToWebview } from '../src/protocol/webview';\nexport const x = [d3, TimelineIndex];\nexport type T = ToWebview;\n",
      ),
    ).toEqual([]);
  });

  it('allows Node I/O in src/core/io', async () => {
    expect(
      await ruleIds(
        'src/core/io/x.ts',
        "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
      ),
    ).toEqual([]);
  });

  it('allows core-internal imports in core', async () => {
    expect(
      await ruleIds(
        'src/core/ingest/x.ts',
        "import { Kind } from '../model/event-kinds';\nexport const k = Kind;\n",
      ),
    ).toEqual([]);
  });
});
