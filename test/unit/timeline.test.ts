// Timelines: per-CPU and per-task intervals from switch/wakeup streams, on hand-made sequences
// (exact intervals) and on the real fixtures (intervals tile the span, vCPU threads preempted).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';
import { importPerfScript } from '../../src/core/ingest/perf-script';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import type { Trace } from '../../src/core/model/trace';
import {
  buildTimelines,
  intervalContaining,
  intervalFinder,
  PARTIAL_END,
  PARTIAL_START,
  retainTaskIntervals,
  taskIntervalAt,
  Timelines,
  withOwnTaskIntervals,
} from '../../src/core/timeline/build';
import { TASK_STATE_NAMES, TaskState } from '../../src/core/timeline/states';

function one(text: string): Trace {
  const [t] = importFtraceText(text, { name: 't' });
  expect(t!.diagnostics).toEqual([]);
  return t!;
}

/** A thread's intervals as `state@cpu [start,end)` with times in µs from the trace start. */
function intervals(tl: Timelines, pid: number): string[] {
  const k = tl.tasks.indexOf.get(pid)!;
  const out: string[] = [];
  for (let j = tl.tasks.offsets[k]!; j < tl.tasks.offsets[k + 1]!; j++) {
    const f = tl.tasks.flags[j]!;
    out.push(
      `${f & PARTIAL_START ? '~' : ''}${TASK_STATE_NAMES[tl.tasks.state[j]!]}@${tl.tasks.cpu[j]} ` +
        `[${(tl.tasks.start[j]! - tl.start) / 1000},${(tl.tasks.end[j]! - tl.start) / 1000})${f & PARTIAL_END ? '~' : ''}`,
    );
  }
  return out;
}

function cpuRuns(tl: Timelines, cpu: number): string[] {
  const c = tl.cpus;
  const out: string[] = [];
  for (let j = c.offsets[cpu]!; j < c.offsets[cpu + 1]!; j++)
    out.push(`${c.pid[j]} [${(c.start[j]! - tl.start) / 1000},${(c.end[j]! - tl.start) / 1000})`);
  return out;
}

const HDR = 'cpus=2\n';
const L = (comm: string, pid: number, cpu: number, us: number, rest: string): string =>
  `${`${comm}-${pid}`.padStart(16)}  [00${cpu}]  ${(100 + us / 1e6).toFixed(6)}: ${rest}\n`;

describe('task timelines', () => {
  it('switch out with R+ is preempted, S is sleeping, a wakeup makes runnable', () => {
    const t = one(
      HDR +
        L('worker', 10, 0, 0, 'sched_waking:         comm=other pid=11 prio=120 target_cpu=000') +
        L('worker', 10, 0, 5, 'sched_switch:         worker:10 [120] R+ ==> other:11 [120]') +
        L('other', 11, 0, 20, 'sched_switch:         other:11 [120] S ==> worker:10 [120]') +
        L('worker', 10, 0, 30, 'sched_waking:         comm=other pid=11 prio=120 target_cpu=001') +
        L('worker', 10, 0, 40, 'sched_switch:         worker:10 [120] D ==> swapper/0:0 [120]') +
        L('<idle>', 0, 1, 50, 'sched_switch:         swapper/1:0 [120] R ==> other:11 [120]'),
    );
    const tl = buildTimelines(t);
    expect(intervals(tl, 10)).toEqual([
      '~running@0 [0,5)',
      'preempted@0 [5,20)',
      'running@0 [20,40)',
      'uninterruptible@0 [40,50)~',
    ]);
    expect(intervals(tl, 11)).toEqual([
      'runnable@0 [0,5)',
      'running@0 [5,20)',
      'sleeping@0 [20,30)',
      'runnable@1 [30,50)',
      'running@1 [50,50)~',
    ]);
    expect(tl.inconsistencies).toBe(0);
  });

  it('a waking seen while the task still runs makes its S switch-out runnable (wakeup in flight)', () => {
    const t = one(
      HDR +
        L('omp', 20, 0, 0, 'sched_switch:         omp:20 [120] R ==> omp:21 [120]') +
        L('omp', 22, 1, 10, 'sched_waking:         comm=omp pid=21 prio=120 target_cpu=000') +
        L('omp', 21, 0, 12, 'sched_switch:         omp:21 [120] S ==> swapper/0:0 [120]') +
        L('<idle>', 0, 0, 30, 'sched_wakeup:         omp:21 [120] CPU:000') +
        L('<idle>', 0, 0, 31, 'sched_switch:         swapper/0:0 [120] R ==> omp:21 [120]'),
    );
    const tl = buildTimelines(t);
    expect(intervals(tl, 21)).toEqual([
      'running@0 [0,12)',
      'runnable@0 [12,31)',
      'running@0 [31,31)~',
    ]);
  });

  it('a forked child starts at the fork, with no partial interval before it', () => {
    const t = one(
      HDR +
        L('sh', 30, 0, 0, 'sched_process_fork:   comm=sh pid=30 child_comm=sh child_pid=31') +
        L('sh', 30, 0, 1, 'sched_wakeup_new:     sh:31 [120] CPU:001') +
        L('<idle>', 0, 1, 4, 'sched_switch:         swapper/1:0 [120] R ==> sh:31 [120]') +
        L('sh', 31, 1, 9, 'sched_switch:         sh:31 [120] X ==> swapper/1:0 [120]'),
    );
    const tl = buildTimelines(t);
    expect(intervals(tl, 31)).toEqual(['runnable@0 [0,4)', 'running@1 [4,9)', 'dead@1 [9,9)~']);
  });

  it('a fork after the trace start opens nothing before the child; a fork naming a running thread is no wakeup', () => {
    const t = one(
      HDR +
        L('sh', 30, 0, 0, 'sched_wakeup_new:     x:40 [120] CPU:000') +
        L('sh', 30, 0, 2, 'sched_process_fork:   comm=sh pid=30 child_comm=sh child_pid=31') +
        L('<idle>', 0, 1, 4, 'sched_switch:         swapper/1:0 [120] R ==> sh:31 [120]') +
        L('sh', 31, 1, 6, 'sched_process_fork:   comm=sh pid=31 child_comm=sh child_pid=31') +
        L('sh', 31, 1, 9, 'sched_switch:         sh:31 [120] S ==> swapper/1:0 [120]'),
    );
    const tl = buildTimelines(t);
    // A partial interval before 2 would be a fork read as a wakeup of a thread seen before; a
    // runnable switch-out at 9 would be the second fork read as a wakeup in flight.
    expect(intervals(tl, 31)).toEqual(['runnable@0 [2,4)', 'running@1 [4,9)', 'sleeping@1 [9,9)~']);
  });
});

describe('cpu timelines', () => {
  it('tile the span: first interval from the trace start, last to its end, both partial', () => {
    const t = one(
      HDR +
        L('a', 1, 0, 0, 'sched_waking:         comm=b pid=2 prio=120 target_cpu=000') +
        L('a', 1, 0, 10, 'sched_switch:         a:1 [120] R+ ==> b:2 [120]') +
        L('b', 2, 0, 25, 'sched_switch:         b:2 [120] S ==> swapper/0:0 [120]') +
        L('<idle>', 0, 1, 40, 'sched_waking:         comm=a pid=1 prio=120 target_cpu=001'),
    );
    const tl = buildTimelines(t);
    expect(cpuRuns(tl, 0)).toEqual(['1 [0,10)', '2 [10,25)', '0 [25,40)']);
    expect(tl.cpus.flags[tl.cpus.offsets[0]!]! & PARTIAL_START).toBe(PARTIAL_START);
    expect(tl.cpus.flags[tl.cpus.offsets[1]! - 1]! & PARTIAL_END).toBe(PARTIAL_END);
  });

  it('a task that shows up with no switch to it leaves an unknown gap, not a made-up interval', () => {
    // As in the real 6.18 host traces: idle wakes rcu_preempt, and the idle->rcu_preempt switch is missing.
    const t = one(
      HDR +
        L(
          '<idle>',
          0,
          1,
          0,
          'sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=001',
        ) +
        L('<idle>', 0, 1, 6, 'sched_wakeup:         rcu_preempt:15 [120] CPU:001') +
        L(
          'rcu_preempt',
          15,
          1,
          24,
          'sched_switch:         rcu_preempt:15 [120] W ==> swapper/1:0 [120]',
        ) +
        L('<idle>', 0, 1, 30, 'sched_waking:         comm=x pid=9 prio=120 target_cpu=001'),
    );
    const tl = buildTimelines(t);
    expect(tl.inconsistencies).toBe(1);
    // Idle confirmed until 6; rcu_preempt ran at some unknown time before its switch-out at 24.
    expect(cpuRuns(tl, 1)).toEqual(['0 [0,6)', '-1 [6,24)', '0 [24,30)']);
    expect(tl.cpus.task[tl.cpus.offsets[1]! + 1]).toBe(t.tasks.intern(15, 'rcu_preempt', 120));
    expect(intervals(tl, 15)).toEqual([
      'runnable@1 [0,6)',
      'unknown@-1 [6,24)',
      'sleeping@1 [24,30)~',
    ]);
  });

  it('a negative pid (perf script prints -1 for a thread it does not know) is a pid, not "no evidence yet"', () => {
    // The CPU's pid went 5, -1, 5: the second 5 was taken for the CPU's first evidence and
    // opened a second interval at the trace start (an internal error on every command).
    const line = (tid: number, us: number): string =>
      ` a ${tid} [000]  5081.${String(147000 + us).padStart(6, '0')}: sched:sched_stat_runtime: comm=a pid=5 runtime=100 [ns]\n`;
    const [t] = importPerfScript(
      line(5, 0) + line(-1, 10) + line(5, 20) + line(-3310, 30) + line(5, 40),
    );
    const tl = buildTimelines(t!);
    expect(cpuRuns(tl, 0)).toEqual([
      '5 [0,0)',
      '-1 [0,10)',
      '-1 [10,10)',
      '-1 [10,20)',
      '5 [20,20)',
      '-1 [20,30)',
      '-3310 [30,30)',
      '-1 [30,40)',
      '5 [40,40)',
    ]);
  });

  it('taskIntervalAt finds the interval covering a time', () => {
    const t = one(
      HDR +
        L('a', 1, 0, 0, 'sched_switch:         a:1 [120] S ==> b:2 [120]') +
        L('b', 2, 0, 10, 'sched_switch:         b:2 [120] R ==> a:1 [120]') +
        L('a', 1, 0, 20, 'sched_switch:         a:1 [120] S ==> b:2 [120]'),
    );
    const tl = buildTimelines(t);
    const k = tl.tasks.indexOf.get(1)!;
    const at = (us: number): string =>
      TASK_STATE_NAMES[tl.tasks.state[taskIntervalAt(tl.tasks, k, tl.start + us * 1000)]!]!;
    expect([at(5), at(15), at(20)]).toEqual(['sleeping', 'running', 'sleeping']);
    expect(taskIntervalAt(tl.tasks, k, tl.start - 1)).toBe(-1);
  });
});

const REAL = path.resolve(__dirname, '../fixtures/real');
const BUNDLED = path.resolve(__dirname, '../fixtures/real/quiet-passive-local');

describe('timelines on real traces', () => {
  const cases = [
    ['bundled quiet-passive-local host', path.join(BUNDLED, 'host.txt.gz')],
    ['bundled quiet-passive-local guest', path.join(BUNDLED, 'guest.txt.gz')],
    ['quiet-active-tsc host', path.join(REAL, 'quiet-active-tsc/host.txt.gz')],
    ['raw-noisy-passive host', path.join(REAL, 'raw-noisy-passive/host.txt.gz')],
    ['raw-noisy-passive perf', path.join(REAL, 'raw-noisy-passive/host.perf-sched.txt.gz')],
  ];

  it.each(cases)(
    '%s: CPU intervals tile the span and task intervals are contiguous',
    async (_n, file) => {
      const r = await readTraceFile(file);
      const t = r.traces[0]!;
      const tl = buildTimelines(t);
      for (let cpu = 0; cpu < t.cpuCount; cpu++) {
        const a = tl.cpus.offsets[cpu]!;
        const b = tl.cpus.offsets[cpu + 1]!;
        expect(b).toBeGreaterThan(a);
        expect(tl.cpus.start[a]).toBe(tl.start);
        expect(tl.cpus.end[b - 1]).toBe(tl.end);
        for (let j = a + 1; j < b; j++) expect(tl.cpus.start[j]).toBe(tl.cpus.end[j - 1]);
      }
      let checked = 0;
      for (let k = 0; k < tl.tasks.pids.length; k++) {
        for (let j = tl.tasks.offsets[k]! + 1; j < tl.tasks.offsets[k + 1]!; j++) {
          if (tl.tasks.start[j] !== tl.tasks.end[j - 1])
            throw new Error(`thread ${tl.tasks.pids[k]}: gap at interval ${j}`);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(1000);
    },
  );

  it('the vCPU threads of the bundled host trace are preempted thousands of times', async () => {
    const r = await readTraceFile(path.join(BUNDLED, 'host.txt.gz'));
    const t = r.traces[0]!;
    const tl = buildTimelines(t);
    for (const pid of [3315, 3316, 3317, 3318]) {
      const k = tl.tasks.indexOf.get(pid)!;
      expect(tl.tasks.comms[k]).toMatch(/^CPU [0-3]\/TCG$/);
      let preempted = 0;
      let runningTime = 0;
      for (let j = tl.tasks.offsets[k]!; j < tl.tasks.offsets[k + 1]!; j++) {
        if (tl.tasks.state[j] === TaskState.preempted) preempted++;
        if (tl.tasks.state[j] === TaskState.running)
          runningTime += tl.tasks.end[j]! - tl.tasks.start[j]!;
      }
      expect(preempted).toBeGreaterThan(2000);
      // Task running time equals the time CPUs ran that pid.
      let onCpus = 0;
      for (let j = 0; j < tl.cpus.pid.length; j++)
        if (tl.cpus.pid[j] === pid) onCpus += tl.cpus.end[j]! - tl.cpus.start[j]!;
      expect(Math.abs(onCpus - runningTime)).toBeLessThan(1e-6 * runningTime + 1);
    }
  });
});

describe('retainTaskIntervals', () => {
  /** Every thread's intervals, as `intervals()` prints them. */
  const all = (tl: Timelines): Map<number, string[]> =>
    new Map([...tl.tasks.pids].map((pid) => [pid, intervals(tl, pid)]));

  it.each([
    // `busy`: the threads with intervals, fewest first.
    ['most threads kept (moved down in place)', (busy: number[]) => busy.slice(1)],
    ['few threads kept (copied out smaller)', (busy: number[]) => busy.slice(-1)],
  ])('%s: kept threads keep exactly their intervals, the others none', async (_n, pick) => {
    const r = await readTraceFile(path.join(BUNDLED, 'host.txt.gz'));
    const tl = buildTimelines(r.traces[0]!);
    const before = all(tl);
    const busy = [...tl.tasks.pids]
      .filter((pid) => before.get(pid)!.length > 0)
      .sort((a, b) => before.get(a)!.length - before.get(b)!.length);
    const keep = new Set(pick(busy));
    const kept = [...keep].reduce((n, pid) => n + before.get(pid)!.length, 0);
    const total = tl.tasks.start.length;
    expect(kept).toBeLessThan(total);
    retainTaskIntervals(tl.tasks, keep);
    expect(tl.tasks.start.length).toBe(kept);
    for (const col of [tl.tasks.end, tl.tasks.state, tl.tasks.cpu, tl.tasks.flags])
      expect(col.length).toBe(kept);
    // Fewer than half kept: the columns are copies of the kept length, not views of the old.
    expect(tl.tasks.start.buffer.byteLength).toBe(kept * 2 < total ? kept * 8 : total * 8);
    for (const pid of tl.tasks.pids)
      expect(intervals(tl, pid)).toEqual(keep.has(pid) ? before.get(pid) : []);
  });

  it.each([
    ['most threads kept (moved down in place)', (busy: number[]) => busy.slice(1)],
    ['few threads kept (copied out smaller)', (busy: number[]) => busy.slice(-1)],
  ])('%s on a withOwnTaskIntervals copy: the original keeps every interval', async (_n, pick) => {
    const r = await readTraceFile(path.join(BUNDLED, 'host.txt.gz'));
    const tl = buildTimelines(r.traces[0]!);
    const before = all(tl);
    const busy = [...tl.tasks.pids]
      .filter((pid) => before.get(pid)!.length > 0)
      .sort((a, b) => before.get(a)!.length - before.get(b)!.length);
    const keep = new Set(pick(busy));
    const copy = withOwnTaskIntervals(tl);
    retainTaskIntervals(copy.tasks, keep);
    for (const pid of tl.tasks.pids) {
      expect(intervals(copy, pid)).toEqual(keep.has(pid) ? before.get(pid) : []);
      expect(intervals(tl, pid)).toEqual(before.get(pid));
    }
  });
});

describe('intervalFinder', () => {
  it('answers as intervalContaining does, for forward, backward, boundary and outside queries', () => {
    // Three owners of contiguous integer intervals (some empty), one owner with none.
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const starts: number[] = [];
    const ends: number[] = [];
    const offsets = [0];
    for (const count of [500, 0, 3, 2000]) {
      let t = Math.floor(rnd() * 100);
      for (let j = 0; j < count; j++) {
        const d = rnd() < 0.1 ? 0 : 1 + Math.floor(rnd() * 20);
        starts.push(t);
        ends.push(t + d);
        t += d;
      }
      offsets.push(starts.length);
    }
    const o = Int32Array.from(offsets);
    const st = Float64Array.from(starts);
    const en = Float64Array.from(ends);
    const find = intervalFinder(o, st, en);
    let checked = 0;
    for (let q = 0; q < 20_000; q++) {
      const k = Math.floor(rnd() * 4);
      const span = (en[o[k + 1]! - 1] ?? 100) + 50;
      // Mostly forward steps, sometimes a jump back; integers (boundaries) and halves.
      const t = rnd() < 0.5 ? Math.floor(rnd() * span) : Math.floor(rnd() * span) + 0.5;
      expect(find(k, t)).toBe(intervalContaining(o, st, en, k, t));
      checked++;
    }
    expect(checked).toBe(20_000);
    // A pass in time order, as stall attribution makes.
    const find2 = intervalFinder(o, st, en);
    for (let t = -3; t < 40_000; t += 0.5)
      expect(find2(3, t)).toBe(intervalContaining(o, st, en, 3, t));
  });
});
