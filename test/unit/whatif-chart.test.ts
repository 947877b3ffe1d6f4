// The what-if chart: its data (one series per wait policy over the thread counts, the traced,
// chosen and pvsched configurations) and the SVG the HTML report embeds (one line per policy,
// the marks, a log axis in formatDuration's words), from a hand-made what-if.
import { describe, expect, it } from 'vitest';
import { whatIfChart } from '../../src/core/whatif/chart';
import type { WhatIf, WhatIfCandidate } from '../../src/core/whatif/engine';

const c = (threads: number, policy: WhatIfCandidate['policy'], ms: number): WhatIfCandidate => ({
  threads,
  policy,
  predictedWallNs: ms * 1e6,
  low: ms * 0.5e6,
  high: ms * 2e6,
});

const CANDIDATES = [
  c(1, 'block', 20),
  c(1, 'spin', 20),
  c(1, 'spin-then-block', 20),
  c(2, 'spin', 40),
  c(2, 'spin-then-block', 45),
  c(2, 'block', 300),
  c(3, 'block', 600),
  c(3, 'spin-then-block', 900),
  c(3, 'spin', 9000),
];

const WHATIF: WhatIf = {
  candidates: CANDIDATES,
  measured: { ...c(3, 'spin', 9000), measuredWallNs: 8e9 },
  chosen: CANDIDATES[0]!,
  pvsched: c(2, 'spin', 40),
  indistinguishable: [CANDIDATES[0]!],
  predictedSpeedup: { value: 400, low: 200, high: 800 },
  decidingEvidence: [],
  cost: { simulations: 21, barriersPerSimulation: 200, events: 0 },
  reasoning: [],
};

describe('the what-if chart', () => {
  it('has one series per wait policy over the thread counts, in thread order', () => {
    const ch = whatIfChart(WHATIF);
    expect(ch.threads).toEqual([1, 2, 3]);
    expect(ch.series.map((s) => s.policy)).toEqual(['spin', 'block', 'spin-then-block']);
    expect(ch.series.find((s) => s.policy === 'block')!.wallNs).toEqual([20e6, 300e6, 600e6]);
    expect(ch.series.find((s) => s.policy === 'spin')!.highNs).toEqual([40e6, 80e6, 18000e6]);
    expect(ch.measured).toEqual({ threads: 3, policy: 'spin', wallNs: 8e9 });
    expect(ch.chosen).toEqual({ threads: 1, policy: 'block' });
    expect(ch.pvsched).toEqual({ threads: 2, policy: 'spin' });
  });
});
