// The advice: the what-if's fastest predicted configuration (whatif/: the program's shape read
// from the traces calibrates the simulator, which runs every thread count x wait policy, with
// ranges where the traces cannot tell), and beside it the pvsched rule (next DoP = previous DoP -
// vCPUs preempted) per phase as one named candidate. Without a what-if (no clock map, one
// thread) the rule and a capacity model answer, as they say in the reasoning.

import { type OnCpu, relativeMap, unionIntervals } from '../correlate/clock-map';
import { VcpuState } from '../correlate/vcpu-states';
import { TaskState } from '../timeline/states';
import { Kind } from '../model/event-kinds';
import { kindAt, markerAt } from '../model/payload';
import { formatClockDuration, formatCount } from '../model/time';
import type { WaitPolicy } from '../sim/engine';
import { GOMP_DEFAULT_SPINCOUNT } from '../sim/runtime';
import { readHostSlice, readVmmSleeps, regionCpuOnHostTurns } from '../whatif/host-fit';
import { whatIf } from '../whatif/engine';
import { calibrateWithReference, type Calibrated } from '../whatif/reference';
import { type Estimate, type ProgramShape, readShape } from '../whatif/shape';
import type { Advice, Finding, PairAnalysis, Program } from './types';

/** What the user tells the what-if that the traces may not. */
export interface AdviceOptions {
  /** The program's barrier count (--barriers). */
  barriers?: number;
  /** The tick rate of a clock counting ticks (x86-tsc), Hz. */
  tickHz?: number;
  /** Guest trace markers that each mark one barrier (--barrier-marker). */
  barrierMarker?: RegExp;
  /**
   * A traced run of the same program whose trace shows its work (--reference-host/-guest):
   * blocking (its threads sleep at every barrier). A spinning run takes its work per
   * region from it (whatif/reference.ts); its own host model stays.
   */
  reference?: ReferenceRun;
}

/** The reference run given to the advice: its analysis (analyzePair, advice deferred) and name. */
export interface ReferenceRun {
  analysis: PairAnalysis;
  /** How the reasoning names it, e.g. its two files. */
  label: string;
}

/** Guest markers (trace_marker writes) matching `re`: one per barrier, as the user says. */
function countMarkers(a: PairAnalysis, re: RegExp): { count: number; basis: string } {
  const g = a.guest;
  let count = 0;
  for (let i = 0; i < g.events.length; i++)
    if (kindAt(g, i) === Kind.print && re.test(markerAt(g, i).message)) count++;
  return { count, basis: `${formatCount(count)} guest markers matching /${re.source}/` };
}

/** Assumed when a ticking clock's rate is not given (said in the reasoning). */
const ASSUMED_TICK_HZ = 2.5e9;

const POLICY_ADVICE: Record<WaitPolicy, Advice['waitPolicy']> = {
  spin: 'active',
  block: 'passive',
  'spin-then-block': 'spin-then-block',
};

const PHASES = 20;

export function advise(
  a: PairAnalysis,
  program: Program | undefined,
  findings: Finding[],
  opts: AdviceOptions = {},
): Advice | undefined {
  if (a.states === undefined || a.window === undefined || program === undefined) return undefined;
  const w = a.window;
  const span = w.end - w.start;
  const threads = program.pids.length;
  const tls = a.states.timelines;
  // Per phase: mean number of vCPUs that wanted to run and could not (preempted or waiting).
  const phases: Advice['phases'] = [];
  const step = span / PHASES;
  const lost = new Float64Array(PHASES);
  for (const tl of tls) lostByPhase(tl, w, step, lost);
  for (let p = 0; p < PHASES; p++) {
    const s0 = w.start + p * step;
    const preemptedVcpus = lost[p]! / step;
    phases.push({
      start: s0,
      end: s0 + step,
      preemptedVcpus,
      dop: Math.max(1, Math.min(threads, Math.round(threads - preemptedVcpus))),
    });
  }
  const dops = phases.map((p) => p.dop).sort((x, y) => x - y);
  const dop = dops[dops.length >> 1]!;
  const running = a.states.time.reduce((s, t) => s + t.running, 0);
  const effectiveParallelism = running / span;
  const spin = findings.find((f) => f.kind === 'spin-on-preempted-vcpu');
  const over = findings.find((f) => f.kind === 'oversubscription');
  const spinning = program.sleepShare < 0.1;
  const reasoning: string[] = [];
  reasoning.push(
    `${program.comm} ran ${threads} threads on ${tls.length} vCPUs; on average ${effectiveParallelism.toFixed(2)} vCPUs were running on the ${a.host.cpuCount} host CPUs`,
  );
  const meanLost = phases.reduce((s, p) => s + p.preemptedVcpus, 0) / phases.length;
  if (!a.states.schedulingSeen)
    reasoning.push(
      'the host trace has no sched_switch, so no preemption can be seen and none is counted below: record the host with sched_switch and sched_wakeup for the DoP rule to have something to go on',
    );
  reasoning.push(
    `on average ${meanLost.toFixed(2)} vCPUs were preempted or waiting for a host CPU; by the pvsched rule (DoP = threads - preempted vCPUs) the DoP per phase is ${[...new Set(dops)].join('-')}, median ${dop}`,
  );
  let waitPolicy: Advice['waitPolicy'];
  let spinCount: number | undefined;
  let predictedSpeedup = 1;
  if (spinning && (spin !== undefined || over !== undefined)) {
    waitPolicy = effectiveParallelism < threads ? 'passive' : 'spin-then-block';
    if (waitPolicy === 'spin-then-block') spinCount = 10_000;
    // Capacity model: CPU the program's threads burned spinning while a sibling could not run is
    // freed by blocking; the rest is the work, spread over the host CPUs the VM got.
    // The trace cannot tell spinning from work while a sibling is stalled, so the work is at least
    // one thread's share of the CPU the program used (the model's stated assumption).
    const waste = Number(spin?.evidence['spinWaste'] ?? 0);
    const work = Math.max(running - waste, running / threads);
    const capacity = Math.max(1, Math.min(dop, effectiveParallelism));
    const newSpan = Math.min(span, work / capacity);
    predictedSpeedup = span / newSpan;
    reasoning.push(
      `the threads spin (${(100 * program.sleepShare).toFixed(1)}% of their time asleep) while vCPUs are preempted: ${
        waitPolicy === 'passive'
          ? 'block instead (OMP_WAIT_POLICY=passive)'
          : `spin briefly, then block (GOMP_SPINCOUNT=${spinCount})`
      }, and run ${dop} threads so that a preempted vCPU holds none`,
      `predicted ${predictedSpeedup.toFixed(1)}x faster: of ${fmt(running, a)} of vCPU running time, ${fmt(waste, a)} ran while a sibling thread could not run; ` +
        `taking the work as the rest, but at least one thread's share (${fmt(work, a)}), over ${capacity.toFixed(2)} host CPUs it takes ${fmt(newSpan, a)} instead of ${fmt(span, a)}. ` +
        'A capacity model: it leaves out the cost of blocking and waking (IPIs, halted vCPUs); `vcpu-lens simulate --preset lab-4v2p --compare` shows those costs on a modelled program',
    );
  } else if (spinning) {
    waitPolicy = 'active';
    reasoning.push(
      'the threads spin, but their vCPUs were rarely preempted: spinning is fine here',
    );
  } else {
    waitPolicy = 'passive';
    const straggle = findings.find((f) => f.kind === 'barrier-straggler-preempted');
    const share = Number(straggle?.evidence['share'] ?? 0);
    predictedSpeedup = dop < threads ? 1 / (1 - Math.min(0.9, share * (1 - dop / threads))) : 1;
    reasoning.push(
      `the threads already block (${(100 * program.sleepShare).toFixed(1)}% of their time asleep): keep OMP_WAIT_POLICY=passive; do not spin while vCPUs are preempted`,
      dop < threads
        ? `with ${dop} threads, a preempted vCPU is less likely to hold one: predicted ${predictedSpeedup.toFixed(2)}x from the ${(100 * share).toFixed(1)}% of the run a thread sat on a preempted vCPU`
        : 'no DoP change: vCPUs were rarely preempted',
    );
  }
  const rule: Advice = {
    threads,
    dop,
    pvschedDop: dop,
    phases,
    effectiveParallelism,
    waitPolicy,
    ...(spinCount !== undefined ? { spinCount } : {}),
    predictedSpeedup,
    reasoning,
  };
  const vm = a.vcpuMap.chosen;
  if (vm === undefined || a.clock === undefined || threads < 2) return rule;
  if (threads > vm.vcpus.length)
    // The simulator runs at most one program thread per vCPU (a guest scheduler sharing a vCPU
    // between them is not modelled), so the traced configuration cannot be replayed.
    return {
      ...rule,
      reasoning: [
        ...rule.reasoning,
        `no what-if: the program ran ${threads} threads on ${vm.vcpus.length} vCPU${vm.vcpus.length === 1 ? '' : 's'}, and the simulator models at most one thread per vCPU; the pvsched rule's answer above stands`,
      ],
    };
  const ticking = a.host.clock.unit !== 'ns';
  const tickHz = opts.tickHz ?? ASSUMED_TICK_HZ;
  const own = shapeOf(a, program, vm.vcpus, opts);
  const hostSliceNs = readHostSlice(
    a.hostTimelines,
    vm.vcpus.map((v) => v.hostTid),
    w,
    ticking ? 1e9 / tickHz : 1,
  );
  // In a spinning run with a thread on every vCPU the guest never halts, so the vCPU threads'
  // host sleeps are the VMM's own (QEMU's big lock under TCG): the simulated vCPUs sleep alike;
  // and with the barriers counted, the vCPU threads' own turns tell the CPU a region costs.
  const everyVcpu = own.waits === 'spin' && threads >= vm.vcpus.length;
  const alive = everyVcpu ? teamSpan(a, program.pids) : undefined;
  const vcpuTids = vm.vcpus.map((v) => v.hostTid);
  const nsPerUnit = ticking ? 1e9 / tickHz : 1;
  const vmmSleeps = everyVcpu
    ? readVmmSleeps(a.hostTimelines, vcpuTids, alive ?? w, nsPerUnit)
    : undefined;
  const regionCpuNs =
    alive !== undefined && own.barriers !== undefined
      ? regionCpuOnHostTurns(a.hostTimelines, vcpuTids, alive, own.barriers.value, nsPerUnit)
      : undefined;
  // A reference run of the same program that shows its work gives a spinning run its work.
  const cal =
    opts.reference !== undefined
      ? calibrate(own, program.comm, opts.reference, opts.tickHz, regionCpuNs)
      : undefined;
  const shape = cal?.shape ?? own;
  const wi = whatIf(shape, {
    pvschedThreads: dop,
    ...(hostSliceNs !== undefined ? { hostSliceNs } : {}),
    ...(vmmSleeps !== undefined ? { vmmSleeps } : {}),
    ...(regionCpuNs !== undefined ? { regionCpuNs } : {}),
  });
  const c = wi.chosen;
  const head = [...wi.reasoning];
  if (ticking && opts.tickHz === undefined)
    head.push(
      `the clock counts ticks and its rate was not given: taken as ${ASSUMED_TICK_HZ / 1e9} GHz (durations above scale with it; the note on units says how to give the real rate)`,
    );
  head.push(...shape.notes, ...(cal?.notes ?? []));
  const { spinCount: _ruleSpin, ...ruleRest } = rule;
  return {
    ...ruleRest,
    dop: c.threads,
    waitPolicy: POLICY_ADVICE[c.policy],
    ...(c.policy === 'spin-then-block' ? { spinCount: GOMP_DEFAULT_SPINCOUNT } : {}),
    predictedSpeedup: wi.predictedSpeedup.value,
    shape,
    whatIf: wi,
    rule,
    reasoning: [...head, ...reasoning.map((r) => `pvsched rule: ${r}`)],
  };
}

/**
 * Adds vCPU timeline `tl`'s time preempted or waiting to `lost`, per phase of `step` from
 * `w.start`: one pass over the intervals, each spread over the phases it overlaps. A function of
 * its own, the columns in locals: the loop runs once, mostly before V8 optimises it, and V8
 * compiles a loop inside advise (~3,700 bytes of bytecode) only after several times as many
 * iterations as one in a small function.
 */
function lostByPhase(
  tl: { start: Float64Array; end: Float64Array; state: Uint8Array },
  w: { start: number; end: number },
  step: number,
  lost: Float64Array,
): void {
  const { start, end, state } = tl;
  const wStart = w.start;
  const wEnd = w.end;
  for (let j = 0; j < state.length; j++) {
    const st = state[j];
    if (st !== VcpuState.preempted && st !== VcpuState.waiting) continue;
    const a0 = Math.max(start[j]!, wStart);
    const a1 = Math.min(end[j]!, wEnd);
    if (!(a1 > a0)) continue;
    const p1 = Math.min(PHASES - 1, Math.floor((a1 - wStart) / step));
    for (let p = Math.min(PHASES - 1, Math.floor((a0 - wStart) / step)); p <= p1; p++) {
      const s0 = wStart + p * step;
      const x = Math.max(a0, s0);
      const y = Math.min(a1, s0 + step);
      if (y > x) lost[p]! += y - x;
    }
  }
}

/** The program's shape in pair `a`, whose vCPUs are `vcpus`. */
function shapeOf(
  a: PairAnalysis,
  program: Program,
  vcpus: readonly { hostTid: number }[],
  opts: AdviceOptions,
): ProgramShape {
  const tickHz = opts.tickHz ?? ASSUMED_TICK_HZ;
  return readShape(
    {
      host: a.host,
      guest: a.guest,
      hostTimelines: a.hostTimelines,
      guestTimelines: a.guestTimelines,
      window: a.window!,
      vcpuTids: vcpus.map((v) => v.hostTid),
      program,
      ...(a.stalls !== undefined
        ? {
            lostByPid: new Map(a.stalls.byGuestThread.map((t) => [t.pid, t.lost])),
            lostIntervals: lostIntervals(a, program.pids),
          }
        : {}),
    },
    {
      nsPerUnit: a.host.clock.unit !== 'ns' ? 1e9 / tickHz : 1,
      ...(opts.barriers !== undefined ? { barriers: opts.barriers } : {}),
      ...(opts.barrierMarker !== undefined
        ? { markerBarriers: countMarkers(a, opts.barrierMarker) }
        : {}),
    },
  );
}

/**
 * `own` (the run's shape) with the work read from the reference run, or the reason it is not
 * used. The reference's own barriers are its sleeps (the run's --barriers count is not its).
 */
function calibrate(
  own: ProgramShape,
  comm: string,
  ref: ReferenceRun,
  tickHz: number | undefined,
  regionCpuNs: Estimate | undefined,
): Calibrated {
  const r = ref.analysis;
  const rp = r.program;
  const rvm = r.vcpuMap.chosen;
  const why =
    rp === undefined
      ? 'no multi-threaded program in its guest trace (a one-thread reference shows no barrier, so its work per region is not read: trace a blocking run of two or more threads)'
      : r.window === undefined || r.clock === undefined || rvm === undefined
        ? 'its host and guest traces could not be paired (no vCPU map or clock map)'
        : rp.pids.length > rvm.vcpus.length
          ? `its program ran ${rp.pids.length} threads on ${rvm.vcpus.length} vCPUs`
          : undefined;
  if (why !== undefined || rp === undefined || rvm === undefined)
    return {
      shape: own,
      used: false,
      notes: [`the reference run ${ref.label} is ignored: ${why ?? 'nothing to read'}`],
    };
  const o = tickHz !== undefined ? { tickHz } : {};
  const shape = shapeOf(r, rp, rvm.vcpus, o);
  // The reference's own what-if calibrates its wakeup path against its wall (a blocking run).
  const wake =
    shape.waits === 'block'
      ? advise(r, rp, r.findings, o)?.whatIf?.calibratedWakeCostNs
      : undefined;
  return calibrateWithReference(
    own,
    comm,
    {
      shape,
      comm: rp.comm,
      label: ref.label,
      ...(wake !== undefined ? { calibratedWakeCostNs: wake } : {}),
    },
    regionCpuNs,
  );
}

/**
 * Where every program thread is alive (from the last one's first run in the guest to the first
 * one's last run), in the host trace's relative time: before and after it a vCPU may be halted.
 */
function teamSpan(
  a: PairAnalysis,
  pids: readonly number[],
): { start: number; end: number } | undefined {
  if (a.clock === undefined) return undefined;
  const tl = a.guestTimelines.tasks;
  let start = -Infinity;
  let end = Infinity;
  for (const pid of pids) {
    const k = tl.indexOf.get(pid);
    if (k === undefined) return undefined;
    let first = Infinity;
    let last = -Infinity;
    for (let j = tl.offsets[k]!; j < tl.offsets[k + 1]!; j++)
      if (tl.state[j] === TaskState.running) {
        first = Math.min(first, tl.start[j]!);
        last = Math.max(last, tl.end[j]!);
      }
    start = Math.max(start, first);
    end = Math.min(end, last);
  }
  if (!(end > start)) return undefined;
  const toHost = relativeMap(a.clock, a.guest.tsBase, a.host.tsBase).toHost;
  return { start: toHost(start), end: toHost(end) };
}

/**
 * Each program thread's stalls (its vCPU off the host's CPUs while it ran in the guest) as sorted,
 * merged intervals in the guest trace's relative time (the stalls come in time order:
 * unionIntervals merges them without sorting). This runs once per analysis, cold, over every
 * stall: columns per thread, not a pair per stall.
 */
function lostIntervals(a: PairAnalysis, pids: readonly number[]): Map<number, OnCpu> {
  const out = new Map<number, OnCpu>();
  const st = a.stalls?.stalls;
  if (st === undefined || a.clock === undefined) return out;
  const toGuest = relativeMap(a.clock, a.guest.tsBase, a.host.tsBase).toGuest;
  // Each program thread's slot, in the order its first stall comes (the map's order).
  const slotOf = new Map<number, number>();
  for (const pid of pids) slotOf.set(pid, -1);
  const order: number[] = [];
  const counts: number[] = [];
  const slots = new Int32Array(st.length).fill(-1);
  const guestPid = st.guestPid;
  // The stalls come per vCPU, mostly in long runs of one guest thread: the map is read only when
  // the pid changes (54k stalls on quiet-passive-tsc, read once, cold). -1: not a program thread.
  let lastPid = NaN;
  let slot = -1;
  for (let i = 0; i < st.length; i++) {
    const pid = guestPid[i]!;
    if (pid !== lastPid) {
      lastPid = pid;
      const k = slotOf.get(pid);
      if (k === undefined) slot = -1;
      else if (k >= 0) slot = k;
      else {
        slot = order.length;
        slotOf.set(pid, slot);
        order.push(pid);
        counts.push(0);
      }
    }
    if (slot < 0) continue;
    slots[i] = slot;
    counts[slot]!++;
  }
  const starts = counts.map((n) => new Float64Array(n));
  const ends = counts.map((n) => new Float64Array(n));
  const filled = new Int32Array(counts.length);
  for (let i = 0; i < st.length; i++) {
    const k = slots[i]!;
    if (k < 0) continue;
    const n = filled[k]!++;
    starts[k]![n] = toGuest(st.hostStart[i]!);
    ends[k]![n] = toGuest(st.hostEnd[i]!);
  }
  for (let k = 0; k < order.length; k++)
    out.set(order[k]!, unionIntervals([{ start: starts[k]!, end: ends[k]! }]));
  return out;
}

function fmt(v: number, a: PairAnalysis): string {
  return formatClockDuration(v, a.host.clock.unit);
}
