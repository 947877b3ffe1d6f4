// Analyses and advice shown to people: the analyze result as Markdown, in read-only documents
// (`vcpu-lens-report:/host.txt analysis.md`).

import * as vscode from 'vscode';
import type { AnalyzeResult } from '../protocol/lsp-ext';

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

/** The analysis as markdown: vCPU map, clock, vCPU time, findings, advice. */
export function renderReport(r: Extract<AnalyzeResult, { ok: true }>, adviceOnly: boolean): string {
  const rep = r.report;
  const dur = (v: number): string =>
    rep.unit === 'ns' ? `${(v / 1e9).toFixed(3)} s` : `${Math.round(v)} ticks`;
  const out: string[] = [
    `# vCPU Lens ${adviceOnly ? 'advice' : 'analysis'}`,
    '',
    `host: ${rep.host.name}, guest: ${rep.guest.name}`,
    '',
  ];
  if (rep.advice !== null) {
    const a = rep.advice;
    out.push(
      '## Advice',
      '',
      `- threads: ${a.threads} → **${a.dop}** (OMP_NUM_THREADS), wait policy **${a.waitPolicy}**${a.spinCount !== undefined ? ` (GOMP_SPINCOUNT=${a.spinCount})` : ''}`,
      `- predicted: **${a.predictedSpeedup.toFixed(2)}x**`,
      ...a.reasoning.map((l) => `- ${l}`),
      '',
    );
  }
  out.push(
    '## Findings',
    '',
    ...(rep.findings.length > 0
      ? rep.findings.map((f) => `- (${f.severity}) ${f.message}`)
      : ['- none']),
    '',
  );
  if (adviceOnly) return out.join('\n');
  out.push(
    '## vCPUs',
    '',
    '| vCPU | host thread | running | preempted | waiting | idle | preemptions |',
    '|---:|---|---:|---:|---:|---:|---:|',
  );
  for (const v of rep.vcpuTime) {
    const m = rep.vcpus.find((x) => x.vcpu === v.vcpu);
    out.push(
      `| ${v.vcpu} | ${m?.hostComm ?? '?'} (${m?.hostTid ?? '?'}) | ${dur(v.running)} | ${dur(v.preempted)} | ${dur(v.waiting)} | ${dur(v.idle)} | ${v.preemptions} |`,
    );
  }
  out.push('', '## Clock map', '');
  if (rep.clock !== null)
    out.push(
      `- ${rep.clock.method}: host − guest = ${BigInt(rep.clock.hostRef) - BigInt(rep.clock.guestRef)} ± ${dur(rep.clock.bound)}`,
      ...rep.clock.reasoning.map((l) => `- ${l}`),
    );
  out.push('', '## Guest threads that lost time', '');
  for (const t of rep.stallsByThread.slice(0, 20))
    out.push(`- ${t.comm}-${t.pid}: ${dur(t.lost)} in ${t.episodes} episodes`);
  out.push('', '## Reasoning', '', ...r.summary.map((l) => `- ${l}`));
  return out.join('\n');
}
