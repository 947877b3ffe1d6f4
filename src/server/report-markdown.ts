// The analysis and the advice as Markdown for the editor's preview: vCPU map, clock map, vCPU
// time, findings, advice (with the what-if's candidates ranked, the chosen, traced and pvsched ones
// marked, and what would decide between those the traces cannot tell apart). Rendered here (not in the extension host) so every duration goes
// through the engine's formatClockDuration.

import { formatClockDuration, formatDuration } from '../core/model/time';
import type { AnalyzeReport } from '../core/report/analyze';
import type { WhatIfCandidate } from '../core/whatif/engine';
import { CLOCK_METHOD, mdText } from './trace-doc';

/** Trace-derived text (comms, messages naming them) as inert Markdown. */
const md = (s: string): string => mdText(s, 2000);

/** The analysis as markdown: vCPU map, clock, vCPU time, findings, advice. */
export function renderReport(rep: AnalyzeReport, summary: string[], adviceOnly: boolean): string {
  const dur = (v: number): string => formatClockDuration(v, rep.unit);
  const go = rep.guestOnly;
  const out: string[] = [
    `# vCPU Lens ${adviceOnly ? 'advice' : 'analysis'}${go !== undefined ? ' (guest only: inferred)' : ''}`,
    '',
    go !== undefined
      ? `guest: ${md(rep.guest.name)}, no host trace: **everything below is inferred** from the guest trace (a vCPU "preempted or waiting" is an inferred absence; the host CPUs, ${go.hostCpus.value}, an estimate)`
      : `host: ${md(rep.host.name)}, guest: ${md(rep.guest.name)}`,
    '',
  ];
  if (go !== undefined && go.missingEvents.length > 0)
    out.push(
      `**The guest trace has no ${go.missingEvents.map(md).join(', ')}**: no absence can be inferred. Record the guest with \`${go.recordHint}\`.`,
      '',
    );
  if (rep.advice !== null) out.push(...renderAdvice(rep.advice, go !== undefined));
  out.push(
    go !== undefined ? '## Findings (inferred)' : '## Findings',
    '',
    ...(rep.findings.length > 0
      ? rep.findings.map((f) => `- (${f.severity}) ${md(f.message)}`)
      : ['- none']),
    '',
  );
  if (adviceOnly) return out.join('\n');
  if (go !== undefined) {
    out.push(
      '## vCPU absence (inferred)',
      '',
      '| vCPU | absent | sure part | intervals | busy (guest) |',
      '|---:|---:|---:|---:|---:|',
      ...go.perVcpu.map(
        (p) =>
          `| ${p.vcpu} | ${dur(p.absent)} | ${dur(p.sure)} | ${p.intervals} | ${dur(p.busy)} |`,
      ),
      '',
      '## Guest threads that lost time (inferred)',
      '',
      ...rep.stallsByThread
        .slice(0, 20)
        .map((t) => `- ${md(t.comm)}-${t.pid}: ${dur(t.lost)} in ${t.episodes} episodes`),
      '',
      '## Reasoning',
      '',
      ...summary.map((l) => `- ${md(l)}`),
    );
    return out.join('\n');
  }
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

/** How the advice names a wait policy: the OpenMP setting that gives it. */
const POLICY_MD: Record<WhatIfCandidate['policy'], string> = {
  spin: 'spin (`OMP_WAIT_POLICY=active`)',
  block: 'block (`OMP_WAIT_POLICY=passive`)',
  'spin-then-block': 'spin, then block (`GOMP_SPINCOUNT`)',
};

const times = (v: number): string => `${v.toFixed(v >= 10 ? 0 : 2)}x`;
const same = (a: WhatIfCandidate | undefined, b: WhatIfCandidate): boolean =>
  a !== undefined && a.threads === b.threads && a.policy === b.policy;
const range = (c: WhatIfCandidate): string =>
  `${formatDuration(c.low)} – ${formatDuration(c.high)}`;
const conf = (c: WhatIfCandidate): string =>
  `${c.threads} thread${c.threads === 1 ? '' : 's'}, ${POLICY_MD[c.policy]}: ${formatDuration(c.predictedWallNs)} (${range(c)})`;

/** The advice: headline, the what-if's candidates ranked, what cannot be told apart, the reasoning. */
function renderAdvice(a: NonNullable<AnalyzeReport['advice']>, inferred: boolean): string[] {
  const r = a.predictedSpeedupRange;
  const out = [
    inferred ? '## Advice (inferred from the guest alone)' : '## Advice',
    '',
    `- threads: ${a.threads} → **${a.dop}** (OMP_NUM_THREADS), wait policy **${a.waitPolicy}**${a.spinCount !== undefined ? ` (GOMP_SPINCOUNT=${a.spinCount})` : ''}`,
    `- predicted: **${times(a.predictedSpeedup)}**${r !== undefined ? ` (${times(r.low)} – ${times(r.high)})` : ''} faster than traced`,
  ];
  if (a.chosen !== undefined) out.push(`- chosen: ${conf(a.chosen)}`);
  if (a.measured !== undefined)
    out.push(
      `- traced: ${conf(a.measured)}; measured ${formatDuration(a.measured.measuredWallNs)}`,
    );
  out.push(
    a.pvsched !== undefined
      ? `- pvsched rule: ${conf(a.pvsched)}`
      : `- pvsched rule: ${a.pvschedDop} threads`,
    '',
  );
  if (a.candidates !== undefined && a.candidates.length > 0) {
    out.push(
      '### What-if candidates',
      '',
      'Predicted wall time of the whole run, fastest first, with the range the traces allow.',
      '',
      '| # | threads | wait policy | predicted wall | range | |',
      '|---:|---:|---|---:|---|---|',
    );
    const ranked = [...a.candidates].sort(
      (x, y) => x.predictedWallNs - y.predictedWallNs || x.threads - y.threads,
    );
    ranked.forEach((c, i) => {
      const marks = [
        same(a.chosen, c) ? '**chosen**' : '',
        same(a.measured, c) ? 'traced' : '',
        same(a.pvsched, c) ? 'pvsched rule' : '',
      ].filter((m) => m !== '');
      out.push(
        `| ${i + 1} | ${c.threads} | ${POLICY_MD[c.policy]} | ${formatDuration(c.predictedWallNs)} | ${range(c)} | ${marks.join(', ')} |`,
      );
    });
    out.push('');
  }
  const evidence = a.decidingEvidence ?? [];
  if (evidence.length > 0 && a.indistinguishable !== undefined) {
    out.push(
      '### The traces cannot tell these apart',
      '',
      ...a.indistinguishable.map((c) => `- ${conf(c)}`),
      '',
      'What would decide:',
      '',
      ...evidence.map((e) => `- ${md(e)}`),
      '',
    );
  }
  out.push('### Reasoning', '', ...a.reasoning.map((l) => `- ${md(l)}`), '');
  return out;
}
