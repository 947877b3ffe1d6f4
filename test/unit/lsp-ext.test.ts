// The custom LSP methods: each a typed RequestType / NotificationType with its own name, so that
// client and server cannot disagree on a method's name or shapes. The @ts-expect-error lines are
// checked by `tsc -p .`: should a method lose its types, they stop being errors and fail it.

import { describe, expect, it } from 'vitest';
import type { MessageConnection } from 'vscode-jsonrpc';
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import * as ext from '../../src/protocol/lsp-ext';

const exported: [string, unknown][] = Object.entries(ext);
const names = exported.flatMap(([, v]) =>
  v instanceof RequestType || v instanceof NotificationType ? [v.method] : [],
);

describe('lsp-ext', () => {
  it('names every custom method once, under vcpuLens/', () => {
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const n of names) expect(n).toMatch(/^vcpuLens\/[a-z][A-Za-z]+$/);
    expect(new Set(names).size).toBe(names.length);
  });

  it('exports no method as a bare string', () => {
    const strings = exported.filter(([, v]) => typeof v === 'string' && v.startsWith('vcpuLens/'));
    expect(strings).toEqual([]);
  });
});

// Compile-time only: never called.
export function typeChecks(c: MessageConnection): void {
  // @ts-expect-error params of another method
  void c.sendRequest(ext.ANALYZE, { uri: 'file:///h', pairUri: 1 });
  // @ts-expect-error a result of another method
  const r: Promise<ext.DocStatus> = c.sendRequest(ext.ANALYZE, { uri: 'file:///h' });
  void r;
  // @ts-expect-error a handler for another method's params
  c.onRequest(ext.SIMULATE, (p: ext.ExportParams) => ({ ok: false, message: p.path }));
  // @ts-expect-error a notification's params
  void c.sendNotification(ext.OPEN_FROM_DISK, { uri: 'file:///h' });
}
