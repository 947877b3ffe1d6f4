// Guest-only analysis: a guest trace with no host trace. The absences the guest's own events
// show (correlate/absence.ts) become a modelled host: one host thread per vCPU, switched out
// while runnable (`R+`) when its vCPU was absent, asleep while its guest CPU was idle, running
// otherwise, with the host CPU count the VM got estimated from how many vCPUs ran at once while
// one was absent. That modelled host goes through the pair mode (analyze/pair.ts) unchanged, so
// states, stalls, findings and advice are the pair mode's, read on inferred ground: the result
// carries `guestOnly` and every presenter marks it inferred.

import { inferAbsence, type AbsenceOptions, type GuestAbsence } from '../correlate/absence';
import { DiagnosticSink } from '../model/diagnostics';
import { Kind } from '../model/event-kinds';
import { TraceBuilder, type Trace } from '../model/trace';
import { buildTimelines, type Timelines } from '../timeline/build';
import { formatDuration } from '../model/time';
import { advise, type AdviceOptions } from './dop';
import { analyzePair } from './pair';
import type { GuestOnlyBasis, PairAnalysis } from './types';

/** Modelled vCPU threads' ids: far above any pid a kernel hands out (PID_MAX_LIMIT is 4M). */
export const MODEL_TID_BASE = 1 << 22;

export interface GuestOnlyOptions {
  /** The guest's timelines when already built. */
  timelines?: Timelines;
  advice?: AdviceOptions;
  absence?: AbsenceOptions;
}

const RUN = 0;
const SLEEP = 1;
const ABSENT = 2;

/** Analyses a guest trace alone: inferred absences through the pair pipeline (see above). */
export function analyzeGuestOnly(guest: Trace, opts: GuestOnlyOptions = {}): PairAnalysis {
  const guestTl = opts.timelines ?? buildTimelines(guest);
  const absence = inferAbsence(guest, guestTl, opts.absence);
  const { host, hostTl, hostCpus } = modelHost(guest, guestTl, absence);
  const vcpuMap = new Map<number, number>();
  for (let v = 0; v < guest.cpuCount; v++) vcpuMap.set(v, MODEL_TID_BASE + v);
  const pair = analyzePair(host, guest, {
    vcpuMap,
    offset: 0n,
    timelines: { host: hostTl, guest: guestTl },
    ...(opts.advice !== undefined ? { advice: opts.advice } : {}),
  });
  const basis: GuestOnlyBasis = {
    absence,
    hostCpus,
    reasoning: [
      'guest-only: no host trace; the host here is modelled from the guest trace (vCPU threads switched out while their vCPU was inferred absent, asleep while their guest CPU was idle); "preempted" below means inferred absent, and nothing says who ran instead',
      ...absence.basis,
      hostCpus.basis,
    ],
  };
  // The uncertainty carried into the advice: how much of the absent time is sure, and whether
  // the advice holds with a host CPU more or fewer than estimated.
  if (pair.advice !== undefined && pair.program !== undefined) {
    const total = absence.perVcpu.reduce((x, p) => x + p.absentNs, 0);
    const sure = absence.perVcpu.reduce((x, p) => x + p.sureNs, 0);
    const head = (x: { dop: number; waitPolicy: string }): string =>
      `${x.dop} thread${x.dop === 1 ? '' : 's'}, ${x.waitPolicy}`;
    const alt: string[] = [];
    for (const cpus of [hostCpus.value - 1, hostCpus.value + 1]) {
      if (cpus < 1 || cpus > guest.cpuCount) continue;
      const b = advise(
        { ...pair, host: { ...pair.host, cpuCount: cpus } },
        pair.program,
        pair.findings,
        opts.advice,
      );
      if (b !== undefined) alt.push(`with ${cpus} host CPU${cpus === 1 ? '' : 's'}: ${head(b)}`);
    }
    pair.advice.reasoning.unshift(
      `inferred from the guest alone: ${formatDuration(total)} of vCPU absence, ${total > 0 ? ((100 * sure) / total).toFixed(0) : '0'}% of it from a late timer's expiry on (sure), the rest where an absence began estimated; absences shorter than a CPU's gap between timers are not seen. Host CPUs estimated at ${hostCpus.value} (${hostCpus.mean.toFixed(2)}); the advice (${head(pair.advice)}) ${alt.length > 0 ? `against ${alt.join('; ')}` : 'has no other host CPU count to try'}`,
    );
  }
  if (pair.clock !== undefined)
    pair.clock = {
      ...pair.clock,
      method: 'guest-only',
      reasoning: ['guest-only: the modelled host shares the guest trace clock (no mapping)'],
    };
  // The vCPU threads are the model's, not found on any host.
  const vm = pair.vcpuMap.chosen;
  if (vm !== undefined) {
    vm.vmm = 'none (guest-only)';
    vm.key = 'modelled';
    for (const v of vm.vcpus) {
      v.method = 'guest-only';
      v.confidence = 0;
      v.evidence = `no host trace: a modelled thread for guest CPU ${v.vcpu}`;
    }
    pair.vcpuMap.reasoning = [
      'guest-only: no host trace, so no vCPU thread is known; each guest CPU has a modelled one',
    ];
  }
  if (absence.missing.length > 0)
    // Nothing showed time passing unseen: "never absent" would be a claim, not a reading.
    return {
      ...pair,
      findings: [],
      advice: undefined,
      stalls: undefined,
      reasoning: [
        ...pair.reasoning,
        `guest-only: the guest trace has no ${absence.missing.join(', ')}, so no absence can be inferred; no stalls, findings or advice`,
      ],
      guestOnly: basis,
    };
  return { ...pair, guestOnly: basis };
}

/** Each vCPU's modelled host state over the guest's span: run, sleep (idle), absent. */
function stateRuns(
  guestTl: Timelines,
  absence: GuestAbsence,
  v: number,
): { at: number[]; st: number[] } {
  const c = guestTl.cpus;
  const t = absence.table;
  const at: number[] = [];
  const st: number[] = [];
  const push = (a: number, s: number): void => {
    if (at.length > 0 && at[at.length - 1] === a) {
      // Two changes at one instant: the later one stands.
      st[st.length - 1] = s;
      if (st.length > 1 && st[st.length - 2] === s) {
        at.pop();
        st.pop();
      }
      return;
    }
    if (st.length > 0 && st[st.length - 1] === s) return;
    at.push(a);
    st.push(s);
  };
  // The guest CPU's intervals (idle = sleep, else run), with the absences laid over them.
  let q = 0;
  while (q < t.length && t.vcpu[q]! < v) q++;
  const end = q;
  let e = end;
  while (e < t.length && t.vcpu[e] === v) e++;
  let k = end;
  for (let j = c.offsets[v]!; j < c.offsets[v + 1]!; j++) {
    const base = c.pid[j] === 0 ? SLEEP : RUN;
    // A sleep starts a unit into the idle interval: at its first instant the interval before
    // (which ends there) is the one a lookup of the guest's idle state finds.
    let from = base === SLEEP ? Math.min(c.start[j]! + 1, c.end[j]!) : c.start[j]!;
    const to = c.end[j]!;
    while (k < e && t.start[k]! < to) {
      if (t.end[k]! <= from) {
        k++;
        continue;
      }
      if (t.start[k]! > from) push(from, base);
      push(Math.max(from, t.start[k]!), ABSENT);
      if (t.end[k]! >= to) {
        from = to;
        break;
      }
      from = t.end[k]!;
      k++;
    }
    if (from < to) push(from, base);
  }
  return { at, st };
}

/** The modelled host trace and the host CPU count the VM got (see the file's comment). */
function modelHost(
  guest: Trace,
  guestTl: Timelines,
  absence: GuestAbsence,
): { host: Trace; hostTl: Timelines; hostCpus: GuestOnlyBasis['hostCpus'] } {
  const n = guest.cpuCount;
  const b = new TraceBuilder(`${guest.name} (modelled host)`, guest.format, new DiagnosticSink());
  b.relTs({ hi: Number(guest.tsBase / 1_000_000_000n), lo: Number(guest.tsBase % 1_000_000_000n) });
  const swType = b.typeId('sched_switch');
  const wakeType = b.typeId('sched_wakeup');
  if (b.kindOf(swType) !== Kind.schedSwitch) throw new Error('sched_switch is not decoded');
  const other = b.tasks.intern(0, '<host>');
  const threads = Array.from({ length: n }, (_, v) =>
    b.tasks.intern(MODEL_TID_BASE + v, `vCPU ${v} (inferred)`),
  );
  const states = { R: b.stateId('R'), 'R+': b.stateId('R+'), S: b.stateId('S') };
  const events: { ts: number; v: number; from: number; to: number }[] = [];
  const runs = Array.from({ length: n }, (_, v) => stateRuns(guestTl, absence, v));
  runs.forEach((r, v) => {
    for (let j = 0; j < r.at.length; j++)
      events.push({ ts: r.at[j]!, v, from: j === 0 ? -1 : r.st[j - 1]!, to: r.st[j]! });
  });
  events.sort((x, y) => x.ts - y.ts || x.v - y.v);
  // How many vCPUs ran at once while one that had work was absent: the host CPUs the VM got.
  const cur = new Int8Array(n).fill(SLEEP);
  let running = 0;
  let absent = 0;
  let last = NaN;
  let contended = 0;
  let weighted = 0;
  for (const e of events) {
    if (absent > 0 && !Number.isNaN(last)) {
      contended += e.ts - last;
      weighted += (e.ts - last) * running;
    }
    last = e.ts;
    const thread = threads[e.v]!;
    const s = cur[e.v]!;
    if (s === RUN) running--;
    if (s === ABSENT) absent--;
    cur[e.v] = e.to;
    if (e.to === RUN) running++;
    if (e.to === ABSENT) absent++;
    if (e.to === RUN) b.event(e.ts, e.v, swType, other, 0, other | (states.R << 22), thread);
    else if (e.from === RUN)
      b.event(
        e.ts,
        e.v,
        swType,
        thread,
        0,
        thread | ((e.to === ABSENT ? states['R+'] : states.S) << 22),
        other,
      );
    else if (e.to === ABSENT)
      // Asleep (idle) to absent: woken for work and waiting for a host CPU.
      b.event(e.ts, e.v, wakeType, other, 0, thread, e.v);
    else if (e.from === ABSENT) {
      // Absent to asleep: it ran (for no time the guest saw) and went idle.
      b.event(e.ts, e.v, swType, other, 0, other | (states.R << 22), thread);
      b.event(e.ts, e.v, swType, thread, 0, thread | (states.S << 22), other);
    }
  }
  // The span's end, on a CPU whose current task it names (an event names who is on its CPU).
  const endTs = Math.max(guestTl.end, last);
  if (n > 0)
    b.event(
      endTs,
      0,
      b.typeId('modelled_end'),
      cur[0] === RUN ? threads[0]! : other,
      0,
      b.text(''),
      0,
    );
  const mean = contended > 0 ? weighted / contended : n;
  // Rounded up: vCPUs running at once used that many host CPUs, and missed short absences only
  // make the mean lower than it was, never higher.
  const value = Math.max(1, Math.min(n, Math.ceil(mean - 1e-9)));
  const trace = b.finish(guest.clock);
  return {
    // The timelines have a lane per vCPU; the count the analysis reads is the estimate's.
    host: { ...trace, cpuCount: value, cpuCountSource: 'events' },
    hostTl: buildTimelines(trace),
    hostCpus: {
      value,
      mean,
      basis:
        contended > 0
          ? `host CPUs the VM got: ${value}, the mean number of vCPUs running (${mean.toFixed(2)}) while at least one with work was absent, rounded up`
          : `no vCPU was seen absent: the VM is taken to have had a host CPU per vCPU (${n})`,
    },
  };
}
