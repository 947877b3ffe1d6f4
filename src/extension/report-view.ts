// Analyses and advice shown to people: the Markdown the server renders (server/report-markdown.ts),
// in read-only documents (`vcpu-lens-report:/host.txt analysis.md`) shown as a Markdown preview.

import * as vscode from 'vscode';

/** Analysis texts shown as read-only documents (`vcpu-lens-report:/host.txt analysis.md`). */
export const REPORT_SCHEME = 'vcpu-lens-report';

export class ReportDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  async show(name: string, text: string): Promise<void> {
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${name}.md` });
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    // Rendered (Markdown preview beside the trace), not its source in a preview tab the next
    // click would replace; the same name again updates the open preview.
    await vscode.workspace.openTextDocument(uri);
    await vscode.commands.executeCommand('markdown.showPreviewToSide', uri);
  }
}
