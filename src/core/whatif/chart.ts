// The what-if as a chart's data for the webview's advice panel (view/wire.ts WhatIfChart; drawn by
// webview/whatif-chart.ts in VS Code and in the HTML report, which embeds the same webview):
// predicted wall time per thread count, one series per wait policy with its range, the traced
// configuration, the chosen one and the pvsched rule's marked.

import type { WaitPolicy } from '../sim/engine';
import type { WhatIfChart } from '../view/wire';
import { WAIT_POLICIES, type WhatIf } from './engine';

export function whatIfChart(w: WhatIf): WhatIfChart {
  const threads = [...new Set(w.candidates.map((c) => c.threads))].sort((a, b) => a - b);
  const at = (t: number, p: WaitPolicy) =>
    w.candidates.find((c) => c.threads === t && c.policy === p)!;
  return {
    threads,
    series: WAIT_POLICIES.map((policy) => ({
      policy,
      wallNs: threads.map((t) => at(t, policy).predictedWallNs),
      lowNs: threads.map((t) => at(t, policy).low),
      highNs: threads.map((t) => at(t, policy).high),
    })),
    measured: {
      threads: w.measured.threads,
      policy: w.measured.policy,
      wallNs: w.measured.measuredWallNs,
    },
    chosen: { threads: w.chosen.threads, policy: w.chosen.policy },
    pvsched: { threads: w.pvsched.threads, policy: w.pvsched.policy },
    speedup: { ...w.predictedSpeedup },
  };
}
