// The what-if against the simulator's own oracle: a preset's run is recorded as host + guest
// traces, analysed like a real pair, and the configuration the what-if recommends is compared
// with the best one found by running every team size (simulateOracle, `simulate --dop oracle`)
// and every wait policy in the simulator itself.
import { describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import {
  simulate,
  simulateOracle,
  type SimConfig,
  type WaitPolicy,
} from '../../src/core/sim/engine';
import { PRESETS } from '../../src/core/sim/presets';
import { simulateTraces } from '../../src/core/sim/record';

/** npb-ua-b (36 vCPUs, 38,768 barriers) is left out: 108 candidates of 36 threads each. */
const CASES: [string, WaitPolicy][] = [
  ['small', 'block'],
  ['small', 'spin'],
  ['lab-4v2p', 'block'],
  ['lab-4v2p', 'spin'],
];

describe('what-if on the simulator presets against the oracle', () => {
  it.each(CASES)(
    "%s recorded with %s waits: the recommendation is the oracle's",
    (name, policy) => {
      const p = PRESETS[name]!;
      const cfg: SimConfig = {
        ...p.config,
        ...p.coRunner,
        policy,
        barriers: Math.min(p.config.barriers, 400),
      };
      const s = simulateTraces(cfg);
      // The program's barrier count, as the user would give it (a spinning run shows none).
      const a = analyzePair(s.host, s.guest, { advice: { barriers: cfg.barriers } });
      const wi = a.advice!.whatIf!;
      // The oracle for the traced policy, the best fixed team size: a blocking run shows the
      // program's shape, so the what-if finds the same size; a spinning run hides how much of a
      // thread's time is work, so only the judged set below is checked there.
      if (policy === 'block') {
        const oracle = simulateOracle(cfg);
        const ofPolicy = wi.candidates.filter((c) => c.policy === policy);
        expect(ofPolicy[0]!.threads).toBe(oracle.bestDop);
      }
      // And over every policy: the simulator's best configuration is the what-if's choice, or
      // one it says it cannot tell apart from it.
      let best = { threads: 0, policy: 'spin' as WaitPolicy, wallNs: Infinity };
      for (const pol of ['spin', 'block', 'spin-then-block'] as const)
        for (let t = 1; t <= cfg.threads; t++) {
          const r = simulate({ ...cfg, policy: pol, dop: 'fixed', fixedDop: t });
          if (r.wallNs < best.wallNs) best = { threads: t, policy: pol, wallNs: r.wallNs };
        }
      const said = wi.indistinguishable.map(
        (c) => `${c.threads} ${c.threads === 1 ? '' : c.policy}`,
      );
      expect(said).toContain(`${best.threads} ${best.threads === 1 ? '' : best.policy}`);
    },
  );
});
