// Hand-made host + guest trace pairs (trace-cmd report text) whose vCPU states are known to the
// microsecond: vCPU i's host thread `CPU i/KVM` (tid 100 + i) has host CPU i to itself except
// while a hog (`stress`, tid 200 + i) preempts it there; guest CPU i runs a program thread
// (`omp`, pid 10 + i) or another task (`other`, pid 30 + i) from the first microsecond to the last.
// Optionally the last two vCPUs share one host CPU, taking turns (oversubscription).
// Both traces start at the same instant: analyse them with `{ offset: 0n }`.
import { expect } from 'vitest';
import { importFtraceText } from '../../../src/core/ingest/ftrace-text';
import type { Trace } from '../../../src/core/model/trace';

/** [vCPU or guest CPU, from µs, to µs): a stretch of the run. */
export type Stretch = readonly [cpu: number, fromUs: number, toUs: number];

export interface HandPairSpec {
  /** Guest CPUs = vCPU threads = host CPUs. */
  vcpus: number;
  /** Guest CPUs 0 .. programCpus - 1 run the program's threads (`omp`); the rest run `other`. */
  programCpus: number;
  /** The run's length; both traces cover [0, endUs]. */
  endUs: number;
  /** Host: the vCPU thread switched out while runnable (`R+`) for a hog on its host CPU. */
  preempted?: readonly Stretch[];
  /**
   * Host: [vCPU, asleep µs, woken µs, runs µs]: the vCPU thread sleeps (`S`) for the hog, is woken
   * (`sched_waking`) and waits for its host CPU until it runs again.
   */
  waiting?: readonly (readonly [cpu: number, asleepUs: number, wokenUs: number, runsUs: number])[];
  /** Guest: the program thread of that guest CPU asleep (`S`), its CPU idle. */
  sleeps?: readonly Stretch[];
  /**
   * Host: the last vCPU has no host CPU of its own (the host has vcpus - 1): it takes turns of
   * this many µs with the vCPU before it on that one's CPU, each preempting the other (`R+`);
   * the one before runs first, the last one woken and waiting for it.
   */
  shareLastUs?: number;
}

const line = (comm: string, tid: number, cpu: number, us: number, rest: string): string =>
  `${`${comm}-${tid}`.padStart(16)}  [${String(cpu).padStart(3, '0')}]  ${(100 + us / 1e6).toFixed(6)}: ${rest}\n`;

const targetCpu = (c: number): string => `target_cpu=${String(c).padStart(3, '0')}`;

const sw = (
  prev: readonly [string, number],
  state: string,
  next: readonly [string, number],
): string =>
  `sched_switch:         ${prev[0]}:${prev[1]} [120] ${state} ==> ${next[0]}:${next[1]} [120]`;

/** Sorted, disjoint stretches per CPU (the spec must not overlap a CPU's stretches). */
function byCpu(n: number, list: readonly Stretch[]): [number, number][][] {
  const out: [number, number][][] = Array.from({ length: n }, () => []);
  for (const [c, a, b] of list) {
    expect(c >= 0 && c < n && a < b).toBe(true);
    out[c]!.push([a, b]);
  }
  for (const l of out) {
    l.sort((x, y) => x[0] - y[0]);
    for (let j = 1; j < l.length; j++) expect(l[j]![0]).toBeGreaterThan(l[j - 1]![1]);
  }
  return out;
}

/** Lines in time order (stable: lines at one instant keep their CPU order). */
function ordered(lines: { us: number; cpu: number; text: string }[]): string {
  return lines
    .map((l, k) => ({ ...l, k }))
    .sort((x, y) => x.us - y.us || x.k - y.k)
    .map((l) => l.text)
    .join('');
}

function parse(text: string, name: string): Trace {
  const [t] = importFtraceText(text, { name });
  expect(t!.diagnostics).toEqual([]);
  return t!;
}

export function handPair(spec: HandPairSpec): { host: Trace; guest: Trace } {
  const { vcpus, programCpus, endUs } = spec;
  const lines: { us: number; cpu: number; text: string }[] = [];
  // Each stretch off the CPU: how the vCPU thread left it and, when it slept, when it was woken.
  const off = [
    ...(spec.preempted ?? []).map(([c, a, b]) => ({ c, a, b, state: 'R+', wokenUs: undefined })),
    ...(spec.waiting ?? []).map(([c, a, wokenUs, b]) => ({ c, a, b, state: 'S', wokenUs })),
  ];
  const offByCpu = byCpu(
    vcpus,
    off.map((o) => [o.c, o.a, o.b] as const),
  );
  // vCPUs with a host CPU of their own (with shareLastUs, the last two share one).
  const own = spec.shareLastUs === undefined ? vcpus : vcpus - 2;
  for (const [c, stretches] of offByCpu.entries()) {
    if (c >= own) break;
    const vcpu = [`CPU ${c}/KVM`, 100 + c] as const;
    const hog = ['stress', 200 + c] as const;
    const target = targetCpu(c);
    let cur: readonly [string, number] = vcpu;
    const at = (us: number, text: string): void => {
      lines.push({ us, cpu: c, text: line(cur[0], cur[1], c, us, text) });
    };
    // Every vCPU thread shows itself at 0 (the vCPU map finds it by name), unless off its CPU then.
    if (stretches[0]?.[0] !== 0) at(0, `sched_waking:         comm=x pid=5 prio=120 ${target}`);
    for (const [a, b] of stretches) {
      const o = off.find((x) => x.c === c && x.a === a)!;
      at(a, sw(vcpu, o.state, hog));
      cur = hog;
      if (o.wokenUs !== undefined)
        at(o.wokenUs, `sched_waking:         comm=CPU ${c}/KVM pid=${100 + c} prio=120 ${target}`);
      if (b >= endUs) break;
      at(b, sw(hog, 'S', vcpu));
      cur = vcpu;
    }
    at(endUs, `sched_waking:         comm=x pid=5 prio=120 ${target}`);
  }
  if (spec.shareLastUs !== undefined) {
    const c = own;
    expect(offByCpu[c]!.length + offByCpu[c + 1]!.length).toBe(0);
    const pair = [[`CPU ${c}/KVM`, 100 + c] as const, [`CPU ${c + 1}/KVM`, 101 + c] as const];
    const at = (us: number, on: number, text: string): void => {
      lines.push({ us, cpu: c, text: line(pair[on]![0], pair[on]![1], c, us, text) });
    };
    at(
      0,
      0,
      `sched_waking:         comm=${pair[1]![0]} pid=${pair[1]![1]} prio=120 ${targetCpu(c)}`,
    );
    let on = 0;
    for (let t = spec.shareLastUs; t < endUs; t += spec.shareLastUs) {
      at(t, on, sw(pair[on]!, 'R+', pair[1 - on]!));
      on = 1 - on;
    }
    at(endUs, on, `sched_waking:         comm=x pid=5 prio=120 ${targetCpu(c)}`);
  }
  const hostCpus = spec.shareLastUs === undefined ? vcpus : vcpus - 1;
  const host = parse(`cpus=${hostCpus}\n${ordered(lines)}`, 'host');

  lines.length = 0;
  for (const [c, sleeps] of byCpu(vcpus, spec.sleeps ?? []).entries()) {
    const task = c < programCpus ? (['omp', 10 + c] as const) : (['other', 30 + c] as const);
    const idle = [`swapper/${c}`, 0] as const;
    const at = (us: number, cur: readonly [string, number], text: string): void => {
      lines.push({ us, cpu: c, text: line(cur[1] === 0 ? '<idle>' : cur[0], cur[1], c, us, text) });
    };
    at(0, idle, sw(idle, 'R', task));
    for (const [a, b] of sleeps) {
      expect(c < programCpus && b < endUs).toBe(true);
      at(a, task, sw(task, 'S', idle));
      at(b, idle, sw(idle, 'R', task));
    }
    at(endUs, task, `sched_waking:         comm=x pid=5 prio=120 ${targetCpu(c)}`);
  }
  const guest = parse(`cpus=${vcpus}\n${ordered(lines)}`, 'guest');
  return { host, guest };
}
