// The Advice Markdown the editor opens in a preview (server/report-markdown.ts), on a real pair:
// the what-if's candidates ranked in a table with the chosen, traced and pvsched ones marked,
// predicted walls and ranges in formatDuration's words, the reasoning, and what would decide
// between the candidates the traces cannot tell apart (only when there are such).
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { formatDuration } from '../../src/core/model/time';
import { analyzeReport, type AnalyzeReport } from '../../src/core/report/analyze';
import type { WhatIfCandidate } from '../../src/core/whatif/engine';
import { renderReport } from '../../src/server/report-markdown';

const PAIR = path.resolve(__dirname, '../fixtures/real/quiet-passive-local');

let rep: AnalyzeReport;
type Advice = NonNullable<AnalyzeReport['advice']>;
const advice = (): Advice => rep.advice!;

beforeAll(async () => {
  const [h, g] = await Promise.all([
    readTraceFile(path.join(PAIR, 'host.txt.gz'), {}),
    readTraceFile(path.join(PAIR, 'guest.txt.gz'), {}),
  ]);
  rep = analyzeReport(analyzePair(h.traces[0]!, g.traces[0]!));
}, 60_000);

/** The candidates table's rows as cells (the leading rank kept). */
function rows(md: string): string[][] {
  const lines = md.split('\n');
  const start = lines.indexOf('### What-if candidates');
  return lines
    .slice(start)
    .filter((l) => /^\| \d+ \|/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
}

const key = (c: { threads: number; policy: string }): string => `${c.threads} ${c.policy}`;
const POLICY_OF: Record<string, WhatIfCandidate['policy']> = {
  'spin (`OMP_WAIT_POLICY=active`)': 'spin',
  'block (`OMP_WAIT_POLICY=passive`)': 'block',
  'spin, then block (`GOMP_SPINCOUNT`)': 'spin-then-block',
};

describe('the Advice Markdown', () => {
  it('ranks every candidate fastest first with its predicted wall and range', () => {
    const a = advice();
    expect(a.candidates!.length).toBeGreaterThanOrEqual(3);
    const r = rows(renderReport(rep, [], true));
    expect(r).toHaveLength(a.candidates!.length);
    const byKey = new Map(a.candidates!.map((c) => [key(c), c]));
    let last = -Infinity;
    r.forEach((cells, i) => {
      expect(cells[0]).toBe(String(i + 1));
      const c = byKey.get(`${cells[1]} ${POLICY_OF[cells[2]!]}`)!;
      expect(c, cells.join(' | ')).toBeDefined();
      expect(cells[3]).toBe(formatDuration(c.predictedWallNs));
      expect(cells[4]).toBe(`${formatDuration(c.low)} – ${formatDuration(c.high)}`);
      expect(c.predictedWallNs).toBeGreaterThanOrEqual(last);
      last = c.predictedWallNs;
      byKey.delete(key(c));
    });
    expect(byKey.size).toBe(0);
  });

  it('marks the chosen, traced and pvsched candidates on their rows, once each', () => {
    const a = advice();
    const r = rows(renderReport(rep, [], true));
    for (const [mark, c] of [
      ['**chosen**', a.chosen!],
      ['traced', a.measured!],
      ['pvsched rule', a.pvsched!],
    ] as const) {
      const marked = r.filter((cells) => cells[5]!.split(', ').includes(mark));
      expect(marked, mark).toHaveLength(1);
      expect(`${marked[0]![1]} ${POLICY_OF[marked[0]![2]!]}`, mark).toBe(key(c));
    }
  });

  it('heads the advice with the speedup range and the chosen, traced and pvsched configurations', () => {
    const a = advice();
    const md = renderReport(rep, [], true);
    const r = a.predictedSpeedupRange!;
    const x = (v: number): string => `${v.toFixed(v >= 10 ? 0 : 2)}x`;
    expect(md).toContain(
      `- predicted: **${x(a.predictedSpeedup)}** (${x(r.low)} – ${x(r.high)}) faster than traced`,
    );
    expect(md).toContain(
      `- chosen: ${a.chosen!.threads} thread${a.chosen!.threads === 1 ? '' : 's'}, `,
    );
    expect(md).toContain(`measured ${formatDuration(a.measured!.measuredWallNs)}`);
    expect(md).toMatch(/^- pvsched rule: \d+ threads?, .*: .* \(.* – .*\)$/m);
  });

  it('lists the candidates the traces cannot tell apart, with ranges, and the evidence that would decide', () => {
    const a = advice();
    expect(a.decidingEvidence!.length).toBeGreaterThan(0);
    const md = renderReport(rep, [], true);
    const sec = md.slice(md.indexOf('### The traces cannot tell these apart'));
    expect(md).toContain('### The traces cannot tell these apart');
    for (const c of a.indistinguishable!)
      expect(sec).toContain(
        `${formatDuration(c.predictedWallNs)} (${formatDuration(c.low)} – ${formatDuration(c.high)})`,
      );
    expect(sec).toContain('What would decide:');
    // Evidence lines are escaped Markdown text: compare with the escapes removed.
    const plain = sec.replace(/\\(.)/g, '$1');
    for (const e of a.decidingEvidence!) expect(plain).toContain(`- ${e}`);
  });

  it('has no such section when the traces tell the chosen candidate apart', () => {
    const a = advice();
    const md = renderReport(
      { ...rep, advice: { ...a, indistinguishable: [a.chosen!], decidingEvidence: [] } },
      [],
      true,
    );
    expect(md).not.toContain('cannot tell these apart');
    expect(md).toContain('### What-if candidates');
  });

  it('gives the reasoning with its ranges as inert text', () => {
    const a = advice();
    const evil = '<img src=x onerror=alert(1)> [link](http://x)';
    const md = renderReport(
      { ...rep, advice: { ...a, reasoning: [...a.reasoning, evil] } },
      [],
      true,
    );
    const from = md.indexOf('### Reasoning');
    const sec = md.slice(from, md.indexOf('\n## ', from));
    expect(sec.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(a.reasoning.length + 1);
    // Markup characters are backslash-escaped: the preview shows them, it does not act on them.
    expect(sec).toContain('\\<img');
    expect(sec).not.toMatch(/[^\\]<img/);
    expect(sec).not.toMatch(/[^\\]\]\(http/);
    // The what-if's reasoning carries its ranges (formatDuration's words, escaped).
    expect(sec.replace(/\\(.)/g, '$1')).toContain(`measured, replayed in`);
  });
});
