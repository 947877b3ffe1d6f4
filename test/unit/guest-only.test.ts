// Guest-only mode (issue #23): absences inferred from a guest trace alone. Small hand-made guest
// traces whose absences are known to the microsecond, the CLI without a host trace, and the
// lab's guest-only pairs scored against their host traces (the truth the guest never saw).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeGuestOnly } from '../../src/core/analyze/guest-only';
import { scoreGuestOnly } from '../../src/core/analyze/guest-only-score';
import { analyzePair } from '../../src/core/analyze/pair';
import { inferAbsence } from '../../src/core/correlate/absence';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import type { Trace } from '../../src/core/model/trace';
import type { AnalyzeReport } from '../../src/core/report/analyze';
import { buildTimelines } from '../../src/core/timeline/build';
import { buildTimelineModel } from '../../src/core/view/model';
import { ViewState } from '../../src/core/view/states';
import { main } from '../../src/cli/main';
import { captureStderr } from './support/stderr';

const REAL = path.resolve(__dirname, '../fixtures/real');
const stderr = captureStderr();

/** The monotonic clock's reading at trace time 0 (hrtimer's now/expires are not the trace clock). */
const MONO0 = 5_000_000_000;

const line = (comm: string, pid: number, cpu: number, us: number, rest: string): string =>
  `${`${comm}-${pid}`.padStart(16)}  [${String(cpu).padStart(3, '0')}]  ${(100 + us / 1e6).toFixed(6)}: ${rest}`;

interface GuestSpec {
  endUs: number;
  /** Guest CPU 0 runs `work` (pid 100) the whole time, its tick every 4 ms, 50 µs late. */
  absentUs?: readonly [fromUs: number, toUs: number][];
  /** Leave the timer events out (the periodic tick only). */
  noTimers?: boolean;
  /** Leave the tick and timer events out (scheduler events only). */
  schedOnly?: boolean;
  /** Idle CPU 1 wakes for its timer at these times (on time: NOHZ sleeps between). */
  idleTimersUs?: readonly number[];
}

/**
 * A 2-CPU guest: CPU 0 busy with `work`, ticking every 4 ms (hrtimer_start for the next tick
 * after each expiry, forwarded past any missed ones), absent (no events, the tick held back)
 * over `absentUs`; CPU 1 idle throughout (NOHZ: no tick, no events but its switch to idle).
 */
function guestText(spec: GuestSpec): string {
  const out: string[] = [];
  const w = ['work', 100] as const;
  out.push(line('<idle>', 0, 0, 0, 'sched_switch:         swapper/0:0 [120] R ==> work:100 [120]'));
  out.push(
    line('kworker', 50, 1, 0, 'sched_switch:         kworker:50 [120] S ==> swapper/1:0 [120]'),
  );
  const absent = spec.absentUs ?? [];
  let expiryUs = 4_000;
  while (expiryUs < spec.endUs) {
    // The vCPU is back when it is not in an absence: the tick fires then (50 µs late at least).
    let at = expiryUs + 50;
    for (const [a, b] of absent) if (at >= a && at < b) at = b;
    if (at >= spec.endUs) break;
    const now = MONO0 + at * 1000;
    if (!spec.schedOnly) out.push(line(w[0], w[1], 0, at, 'local_timer_entry:    vector=236'));
    if (!spec.schedOnly && !spec.noTimers) {
      out.push(
        line(
          w[0],
          w[1],
          0,
          at + 1,
          `hrtimer_expire_entry: hrtimer=0xffff8b767ba235c0 now=${now + 1000} function=tick_sched_timer/0x0`,
        ),
      );
    }
    // Forwarded: the next expiry on the 4 ms grid after now.
    expiryUs = (Math.floor(at / 4_000) + 1) * 4_000;
    if (!spec.schedOnly && !spec.noTimers) {
      const e = MONO0 + expiryUs * 1000;
      out.push(
        line(
          w[0],
          w[1],
          0,
          at + 2,
          `hrtimer_start:        hrtimer=0xffff8b767ba235c0 function=tick_sched_timer/0x0 expires=${e} softexpires=${e}`,
        ),
      );
    }
    // Something that needs the timer's expiry to have been known before: the first start.
  }
  // CPU 1 idle: a NOHZ sleep until each timer, which fires on time.
  let armedAt = 0;
  for (const u of spec.idleTimersUs ?? []) {
    const e = MONO0 + u * 1000;
    if (!spec.schedOnly) {
      if (!spec.noTimers)
        out.push(
          line(
            '<idle>',
            0,
            1,
            armedAt + 3,
            `hrtimer_start:        hrtimer=0xffff8b767bb235c0 function=tick_sched_timer/0x0 expires=${e} softexpires=${e}`,
          ),
        );
      out.push(line('<idle>', 0, 1, u + 20, 'local_timer_entry:    vector=236'));
      if (!spec.noTimers)
        out.push(
          line(
            '<idle>',
            0,
            1,
            u + 21,
            `hrtimer_expire_entry: hrtimer=0xffff8b767bb235c0 now=${e + 21_000} function=tick_sched_timer/0x0`,
          ),
        );
    }
    armedAt = u + 21;
  }
  // The first tick's timer start, before any expiry (trace start).
  if (!spec.schedOnly && !spec.noTimers)
    out.splice(
      2,
      0,
      line(
        w[0],
        w[1],
        0,
        1,
        `hrtimer_start:        hrtimer=0xffff8b767ba235c0 function=tick_sched_timer/0x0 expires=${MONO0 + 4_000_000} softexpires=${MONO0 + 4_000_000}`,
      ),
    );
  out.push(
    line(w[0], w[1], 0, spec.endUs, 'sched_switch:         work:100 [120] S ==> swapper/0:0 [120]'),
  );
  // In time order (lines at one instant keep their order).
  const ts = (l: string): number => Number(/(\d+\.\d+):/.exec(l)![1]);
  out.sort((a, b) => ts(a) - ts(b));
  return `cpus=2\n${out.join('\n')}\n`;
}

function guest(spec: GuestSpec): Trace {
  const [t] = importFtraceText(guestText(spec), { name: 'guest' });
  expect(t!.diagnostics).toEqual([]);
  return t!;
}

/** µs after the trace's first event (100 s) to the trace's relative ns. */
const ns = (t: Trace, us: number): number => Number(100_000_000_000n - t.tsBase) + us * 1000;

describe('guest-only absence inference', () => {
  it('finds a busy vCPU absent from before its late tick until the tick fires', () => {
    const g = guest({ endUs: 100_000, absentUs: [[41_000, 53_000]] });
    const a = inferAbsence(g, buildTimelines(g));
    const t = a.table;
    expect(a.missing).toEqual([]);
    expect(a.hz).toBe(250);
    expect(t.length).toBe(1);
    expect(t.vcpu[0]).toBe(0);
    // The tick due at 44 ms fired at 53 ms: absent until then, surely from 44 ms on; begun after
    // the CPU's last event before 44 ms (the 40 ms tick's hrtimer_start at 40.052 ms).
    expect(t.latest[0]).toBe(ns(g, 44_000));
    expect(t.end[0]).toBe(ns(g, 53_001));
    expect(t.earliest[0]).toBe(ns(g, 40_052));
    expect(t.start[0]).toBeGreaterThan(t.earliest[0]!);
    expect(t.start[0]).toBeLessThan(t.latest[0]!);
    expect(a.perVcpu[1]!.absentNs).toBe(0);
  });

  it('never counts an idle vCPU absent, however long it records nothing', () => {
    // CPU 1 runs the idle task for the whole 100 ms and records nothing but two timers 30 and
    // 50 ms apart (NOHZ), by its timers and by its ticks alike.
    for (const noTimers of [false, true]) {
      const g = guest({ endUs: 100_000, idleTimersUs: [30_000, 80_000], noTimers });
      const a = inferAbsence(g, buildTimelines(g));
      expect(a.seen.ticks).toBeGreaterThan(20);
      expect(a.table.length).toBe(0);
      expect(a.perVcpu.map((p) => p.absentNs)).toEqual([0, 0]);
      expect(a.perVcpu[1]!.busyNs).toBe(0);
    }
  });

  it('falls back to the periodic tick when no timer expiries pair', () => {
    const g = guest({ endUs: 100_000, absentUs: [[41_000, 53_000]], noTimers: true });
    const a = inferAbsence(g, buildTimelines(g));
    expect(a.seen.timerExpiries).toBe(0);
    expect(a.missing).toEqual([]);
    expect(a.table.length).toBe(1);
    expect(a.table.evidence[0]).toBe(1); // late-tick
    expect(a.table.end[0]).toBe(ns(g, 53_000));
    // The missed tick: a period after the one before (40.05 ms).
    expect(a.table.latest[0]).toBe(ns(g, 44_050));
    expect(a.basis.join('\n')).toMatch(/periodic ticks read instead/);
  });

  it('names the events to record when the guest has neither ticks nor timers', () => {
    const g = guest({ endUs: 100_000, schedOnly: true });
    const a = inferAbsence(g, buildTimelines(g));
    expect(a.missing).toEqual([
      'irq_vectors:local_timer_entry',
      'timer:hrtimer_start',
      'timer:hrtimer_expire_entry',
    ]);
    const r = analyzeGuestOnly(g);
    expect(r.advice).toBeUndefined();
    expect(r.findings).toEqual([]);
  });

  it('carries the absence into the states and stalls of the pair pipeline', () => {
    const g = guest({ endUs: 100_000, absentUs: [[41_000, 53_000]] });
    const r = analyzeGuestOnly(g);
    const abs = r.guestOnly!.absence.table;
    const absent = abs.end[0]! - abs.start[0]!;
    const t0 = r.states!.time[0]!;
    expect(t0.preempted + t0.waiting).toBeCloseTo(absent, 0);
    expect(r.states!.time[1]!.preempted + r.states!.time[1]!.waiting).toBe(0);
    // The guest thread on the absent vCPU lost that time.
    const work = r.stalls!.byGuestThread.find((s) => s.pid === 100)!;
    expect(work.lost).toBeCloseTo(absent, 0);
    expect(r.guestOnly!.hostCpus.value).toBeGreaterThanOrEqual(1);
  });
});

describe('guest-only timeline model', () => {
  it('lays inferred absence over the guest CPU lane as its own state, with no host CPU lanes', () => {
    const g = guest({ endUs: 100_000, absentUs: [[41_000, 53_000]] });
    const r = analyzeGuestOnly(g);
    const m = buildTimelineModel(r);
    expect(m.meta.guestOnly).toBe(true);
    expect(m.meta.lanes.some((l) => l.group === 'host-cpus')).toBe(false);
    const absentOf = (id: string): [number, number][] => {
      const k = m.meta.lanes.findIndex((l) => l.id === id);
      expect(k).toBeGreaterThanOrEqual(0);
      const c = m.lanes[k]!;
      const out: [number, number][] = [];
      for (let j = 0; j < c.state.length; j++)
        if (c.state[j] === ViewState.absent) out.push([c.start[j]!, c.end[j]!]);
      return out;
    };
    const t = r.guestOnly!.absence.table;
    const cpu0 = m.meta.lanes.find((l) => l.group === 'guest-cpus' && l.cpu === 0)!;
    const cpu1 = m.meta.lanes.find((l) => l.group === 'guest-cpus' && l.cpu === 1)!;
    const got = absentOf(cpu0.id);
    expect(got).toHaveLength(1);
    expect(got[0]![1] - got[0]![0]).toBe(Math.round(t.end[0]!) - Math.round(t.start[0]!));
    expect(absentOf(cpu1.id)).toEqual([]);
    // The vCPU lane says the same, as absence rather than a seen preemption.
    const vcpu0 = m.meta.lanes.find((l) => l.group === 'vcpus' && l.vcpu === 0)!;
    expect(absentOf(vcpu0.id)).toHaveLength(1);
    const k = m.meta.lanes.indexOf(vcpu0);
    expect([...m.lanes[k]!.state]).not.toContain(ViewState.preempted);
  });
});

describe('vcpu-lens analyze --guest G (no host trace)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vcpu-lens-guest-only-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (args: string[]): Promise<{ code: number; out: string }> => {
    const out: string[] = [];
    const code = await main(args, (s) => out.push(s));
    return { code, out: out.join('\n') };
  };

  it('exits 0 with VL1017 naming the events to record when the guest has no tick or timer', async () => {
    const file = path.join(dir, 'sched-only.txt');
    writeFileSync(file, guestText({ endUs: 100_000, schedOnly: true }));
    const { code, out } = await run(['analyze', '--guest', file]);
    expect(code).toBe(0);
    const err = stderr.join('');
    expect(err).toMatch(/VL1017/);
    expect(err).toMatch(/irq_vectors:local_timer_entry/);
    expect(err).toMatch(/timer:hrtimer_expire_entry/);
    expect(out).toMatch(/trace-cmd record -e sched -e irq_vectors:local_timer_entry/);
  });

  it('marks the JSON inferred and lists each absence with its evidence', async () => {
    const file = path.join(dir, 'absent.txt');
    writeFileSync(file, guestText({ endUs: 100_000, absentUs: [[41_000, 53_000]] }));
    const { code, out } = await run(['analyze', '--guest', file, '--json']);
    expect(code).toBe(0);
    const r = JSON.parse(out) as AnalyzeReport;
    expect(r.schema).toBe('vcpu-lens.analyze/1');
    expect(r.guestOnly!.inferred).toBe(true);
    // Nothing claims to be known of a host: the vCPU threads and the clock are the model's.
    expect(r.clock!.method).toBe('guest-only');
    expect(r.vcpus.map((v) => [v.method, v.confidence])).toEqual([
      ['guest-only', 0],
      ['guest-only', 0],
    ]);
    expect(r.guestOnly!.intervals).toHaveLength(1);
    expect(r.guestOnly!.intervals[0]).toMatchObject({
      vcpu: 0,
      evidence: 'late-timer',
      end: '100.053001000',
    });
    expect(stderr.join('')).not.toMatch(/VL1017/);
  });

  it('refuses pair-only options without a host trace', async () => {
    const file = path.join(dir, 'absent.txt');
    const { code } = await run(['analyze', '--guest', file, '--offset', '5']);
    expect(code).toBe(2);
    expect(stderr.join('')).toMatch(/--offset needs a host trace/);
  });
});

describe('guest-only against the host on the lab pairs', () => {
  for (const name of ['guestonly-quiet-active', 'guestonly-noisy-passive']) {
    it(`${name}: absent time per vCPU within ±20% of the host's, recall and precision >= 0.8, the same advice`, async () => {
      const load = async (f: string): Promise<Trace> =>
        (await readTraceFile(path.join(REAL, name, f))).traces[0]!;
      const [host, g] = await Promise.all([load('host.dat'), load('guest.dat')]);
      const pair = analyzePair(host, g);
      const go = analyzeGuestOnly(g);
      const score = scoreGuestOnly(pair, go.guestOnly!.absence.table)!;
      expect(score.perVcpu).toHaveLength(4);
      for (const v of score.perVcpu) {
        expect(v.hostOffNs).toBeGreaterThan(1e9);
        expect(Math.abs(v.error)).toBeLessThanOrEqual(0.2);
      }
      expect(score.recall).toBeGreaterThanOrEqual(0.8);
      expect(score.precision).toBeGreaterThanOrEqual(0.8);
      expect(go.advice).toBeDefined();
      expect([go.advice!.dop, go.advice!.waitPolicy]).toEqual([
        pair.advice!.dop,
        pair.advice!.waitPolicy,
      ]);
    }, 60_000);
  }
});
