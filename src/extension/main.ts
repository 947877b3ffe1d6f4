// The extension's entry: one Ctx, the language client, the commands. Activated by our languages
// and commands only (package.json `activationEvents`).

import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { Ctx, VcpuLensApi } from './ctx';
import { REPORT_SCHEME, ReportDocuments } from './report-view';
import { DAT_TEXT_SCHEME, Timelines } from './timeline-panel';
import { DAT_TEXT } from '../protocol/lsp-ext';

let ctx: Ctx | undefined;

export async function activate(ext: vscode.ExtensionContext): Promise<VcpuLensApi> {
  const t0 = Date.now();
  ctx = new Ctx(ext);
  ext.subscriptions.push(ctx);
  const reports = new ReportDocuments();
  const timelines = new Timelines(ctx);
  ext.subscriptions.push(
    timelines,
    vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, reports),
    // A .dat's trace-cmd report text (Reveal in Trace), read-only: `?` holds the .dat's uri.
    vscode.workspace.registerTextDocumentContentProvider(DAT_TEXT_SCHEME, {
      provideTextDocumentContent: async (uri) =>
        (await ctx?.request(DAT_TEXT, { uri: uri.query })) ??
        `vCPU Lens could not read ${uri.query}`,
    }),
    ...registerCommands({ ctx, reports, timelines }),
  );
  // The language server starts without holding up activation: a view this activation opens (a
  // .dat's timeline) loads its page meanwhile, and requests wait for the server (Ctx.request).
  const c = ctx;
  c.start().then(
    () => c.refreshStatus(),
    (e: unknown) => {
      c.log.error(`could not start the language server: ${(e as Error).stack ?? String(e)}`);
      void vscode.window.showErrorMessage(
        'vCPU Lens could not start its language server (see the vCPU Lens output).',
      );
    },
  );
  // bench-extension reads this line: activation's span, ending now.
  c.log.info(`activated in ${Date.now() - t0} ms`);
  return c.api();
}

export function deactivate(): void {
  ctx?.dispose();
  ctx = undefined;
}
