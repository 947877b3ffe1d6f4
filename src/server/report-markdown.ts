// The analysis and the advice as Markdown for the editor's preview: vCPU map, clock map, vCPU
// time, findings, advice. Rendered here (not in the extension host) so every duration goes
// through the engine's formatClockDuration.

import { formatClockDuration } from '../core/model/time';
import type { AnalyzeReport } from '../core/report/analyze';
import { CLOCK_METHOD, mdText } from './trace-doc';

/** Trace-derived text (comms, messages naming them) as inert Markdown. */
const md = (s: string): string => mdText(s, 2000);

/** The analysis as markdown: vCPU map, clock, vCPU time, findings, advice. */
export function renderReport(rep: AnalyzeReport, summary: string[], adviceOnly: boolean): string {
  const dur = (v: number): string => formatClockDuration(v, rep.unit);
  const out: string[] = [
    `# vCPU Lens ${adviceOnly ? 'advice' : 'analysis'}`,
    '',
    `host: ${md(rep.host.name)}, guest: ${md(rep.guest.name)}`,
    '',
  ];
  if (rep.advice !== null) {
    const a = rep.advice;
    out.push(
      '## Advice',
      '',
      `- threads: ${a.threads} → **${a.dop}** (OMP_NUM_THREADS), wait policy **${a.waitPolicy}**${a.spinCount !== undefined ? ` (GOMP_SPINCOUNT=${a.spinCount})` : ''}`,
      `- predicted: **${a.predictedSpeedup.toFixed(2)}x**`,
      ...a.reasoning.map((l) => `- ${md(l)}`),
      '',
    );
  }
  out.push(
    '## Findings',
    '',
    ...(rep.findings.length > 0
      ? rep.findings.map((f) => `- (${f.severity}) ${md(f.message)}`)
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
      `| ${v.vcpu} | ${md(m?.hostComm ?? '?')} (${m?.hostTid ?? '?'}) | ${dur(v.running)} | ${dur(v.preempted)} | ${dur(v.waiting)} | ${dur(v.idle)} | ${v.preemptions} |`,
    );
  }
  out.push('', '## Clock map', '');
  if (rep.clock !== null)
    out.push(
      `- ${CLOCK_METHOD[rep.clock.method as keyof typeof CLOCK_METHOD] ?? rep.clock.method}: host − guest = ${BigInt(rep.clock.hostRef) - BigInt(rep.clock.guestRef)} (trace units) ± ${dur(rep.clock.bound)}`,
      ...rep.clock.reasoning.map((l) => `- ${md(l)}`),
    );
  out.push('', '## Guest threads that lost time', '');
  for (const t of rep.stallsByThread.slice(0, 20))
    out.push(`- ${md(t.comm)}-${t.pid}: ${dur(t.lost)} in ${t.episodes} episodes`);
  out.push('', '## Reasoning', '', ...summary.map((l) => `- ${md(l)}`));
  return out.join('\n');
}
