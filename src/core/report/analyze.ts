// What `vcpu-lens analyze` reports: the stable JSON schema `vcpu-lens.analyze/1` (docs/cli.md).
// Times are in the traces' own unit (`unit`: ns, or raw counts for x86-tsc / counter clocks);
// absolute timestamps are strings so they stay exact.

import type { PairAnalysis } from '../analyze/types';
import { ABSENCE_EVIDENCE_NAMES, ABSENCE_RECORD_HINT } from '../correlate/absence';
import { VcpuState, type VcpuTimeline } from '../correlate/vcpu-states';
import { formatAbsTs } from '../model/time';
import type { WhatIfCandidate } from '../whatif/engine';

export const ANALYZE_SCHEMA = 'vcpu-lens.analyze/1';

/** A vCPU's host time in each state, in the report's unit. */
export interface VcpuStateTimes {
  vcpu: number;
  running: number;
  preempted: number;
  waiting: number;
  idle: number;
  vmm: number;
  blocked: number;
  unknown: number;
}

export interface AnalyzeReport {
  schema: typeof ANALYZE_SCHEMA;
  unit: 'ns' | 'count';
  /**
   * The counter rate (Hz) the traces' ticks were converted to ns at when loaded (--tsc-hz), or
   * null: as recorded (a .dat's TSC2NSEC, an ns clock, or counts: `unit` says which).
   */
  tscHz: number | null;
  host: { name: string; format: string; span: number };
  /** The stretch of host time the vCPU totals cover: both traces' overlap (host absolute). */
  window: { start: string; end: string; duration: number } | null;
  guest: { name: string; format: string; span: number; cpus: number };
  vm: { vmm: string; key: string } | null;
  vcpus: {
    vcpu: number;
    hostTid: number;
    hostComm: string;
    method: string;
    confidence: number;
    evidence: string;
  }[];
  vcpuMapReasoning: string[];
  clock: {
    method: string;
    hostRef: string;
    guestRef: string;
    slope: number;
    bound: number;
    unit: string;
    agreement: number | null;
    reasoning: string[];
  } | null;
  /** Per vCPU, host time in each state (`idle`: halted because the guest CPU was idle). */
  vcpuTime: (VcpuStateTimes & { steal: number; preemptions: number })[];
  /**
   * The same states over the whole host trace (vcpuTime counts only the window both traces
   * cover): what the host trace alone says each vCPU did, e.g. all its halted time.
   */
  vcpuTimeWholeHost: VcpuStateTimes[];
  /**
   * What the vCPU states rest on and what they cannot show, in words: which host events (a host
   * trace without sched_switch cannot show preemption), how idle was told from VMM time.
   */
  vcpuStateBasis: string[];
  /** False when the host trace has no sched_switch at all: preempted, waiting, steal and preemptions are 0 because nothing could show them. */
  preemptionSeen: boolean;
  /** Guest threads by time lost to their vCPU not running. */
  stallsByThread: {
    pid: number;
    comm: string;
    lost: number;
    lostPreempted: number;
    episodes: number;
  }[];
  /** Host tasks by vCPU time they took by preempting. */
  preemptors: { pid: number; comm: string; took: number; episodes: number }[];
  /** The longest stall episodes (at most 50). */
  stalls: {
    vcpu: number;
    kind: string;
    start: string;
    end: string;
    duration: number;
    guestPid: number;
    guestComm: string;
    preemptorPid: number;
    preemptorComm: string;
    pcpu: number;
  }[];
  /** `why`: how its threads were found to be one program, and what was left out (the tracer...). */
  program: { comm: string; pids: number[]; sleepShare: number; why: string } | null;
  findings: {
    kind: string;
    severity: string;
    start: string;
    end: string;
    message: string;
    evidence: Record<string, number | string>;
  }[];
  advice: {
    threads: number;
    dop: number;
    waitPolicy: string;
    spinCount?: number;
    predictedSpeedup: number;
    effectiveParallelism: number;
    phases: { start: string; end: string; preemptedVcpus: number; dop: number }[];
    /** The pvsched rule's DoP (threads - preempted vCPUs). */
    pvschedDop: number;
    /**
     * The what-if (ns): every threads x policy candidate's predicted wall with its range, fastest
     * first; the chosen one, the traced and the pvsched ones; those it cannot tell apart.
     */
    candidates?: WhatIfCandidate[];
    chosen?: WhatIfCandidate;
    measured?: WhatIfCandidate & { measuredWallNs: number };
    pvsched?: WhatIfCandidate;
    indistinguishable?: WhatIfCandidate[];
    predictedSpeedupRange?: { low: number; high: number };
    decidingEvidence?: string[];
    simulations?: { count: number; barriersPerSimulation: number };
    reasoning: string[];
  } | null;
  reasoning: string[];
  /**
   * Present only for a guest trace analysed alone (`analyze --guest G`): everything above is then
   * inferred. `host` is the host modelled from the guest (vCPU threads absent while the guest
   * shows time passing unseen), `vcpuTime.preempted` and `waiting` are inferred absence, the
   * stalls' preemptor is `<host>` (unknown), and the advice rests on the estimated host CPUs.
   */
  guestOnly?: GuestOnlyReport;
}

/** What a guest-only analysis inferred, and on what. Times in the report's unit. */
export interface GuestOnlyReport {
  inferred: true;
  /** Host CPUs the VM got, estimated (the what-if's and the findings' host CPU count). */
  hostCpus: { value: number; mean: number; basis: string };
  /** The guest's tick rate read from the data, or null. */
  hz: number | null;
  /** Timer lateness below this is taken as the vCPU present. */
  slack: number;
  seen: {
    ticks: number;
    timerStarts: number;
    timerExpiries: number;
    runtime: number;
    ipis: number;
  };
  /** Events the guest trace lacks for the inference (empty when it has what it needs). */
  missingEvents: string[];
  /** The recording command that gives the inference what it reads. */
  recordHint: string;
  perVcpu: { vcpu: number; absent: number; sure: number; intervals: number; busy: number }[];
  /** Every inferred absence, per vCPU in time order; `earliest`..`latest`: where it could have begun. */
  intervals: {
    vcpu: number;
    start: string;
    end: string;
    duration: number;
    earliest: string;
    latest: string;
    evidence: string;
    confidence: number;
  }[];
  /** What the inference rests on, what it cannot see, and how sure the advice is, in words. */
  basis: string[];
}

export function analyzeReport(a: PairAnalysis): AnalyzeReport {
  const unit = a.host.clock.unit;
  const vm = a.vcpuMap.chosen;
  const abs = (rel: number): string =>
    formatAbsTs(a.host.tsBase + BigInt(Math.round(rel)), unit, unit === 'ns' ? 9 : 0);
  return {
    schema: ANALYZE_SCHEMA,
    unit,
    tscHz: a.host.clock.tscHz ?? a.guest.clock.tscHz ?? null,
    host: {
      name: a.host.name,
      format: a.host.format,
      span: a.hostTimelines.end - a.hostTimelines.start,
    },
    window:
      a.window === undefined
        ? null
        : {
            start: abs(a.window.start),
            end: abs(a.window.end),
            duration: a.window.end - a.window.start,
          },
    guest: {
      name: a.guest.name,
      format: a.guest.format,
      span: a.guestTimelines.end - a.guestTimelines.start,
      cpus: a.guest.cpuCount,
    },
    vm: vm !== undefined ? { vmm: vm.vmm, key: vm.key } : null,
    vcpus: (vm?.vcpus ?? []).map((v) => ({ ...v })),
    vcpuMapReasoning: a.vcpuMap.reasoning,
    clock:
      a.clock === undefined
        ? null
        : {
            method: a.clock.method,
            hostRef: a.clock.hostRef.toString(),
            guestRef: a.clock.guestRef.toString(),
            slope: a.clock.slope,
            bound: a.clock.bound,
            unit: a.clock.unit,
            agreement: Number.isNaN(a.clock.agreement) ? null : a.clock.agreement,
            reasoning: a.clock.reasoning,
          },
    vcpuTime: (a.states?.time ?? []).map((t) => ({
      vcpu: t.vcpu,
      running: t.running,
      preempted: t.preempted,
      waiting: t.waiting,
      idle: t.halted,
      vmm: t.vmm,
      blocked: t.blocked,
      unknown: t.unknown,
      steal: t.steal,
      preemptions: t.preemptions,
    })),
    vcpuTimeWholeHost: (a.states?.timelines ?? []).map(wholeHostTime),
    vcpuStateBasis: a.states?.basis ?? [],
    preemptionSeen: a.states?.schedulingSeen ?? false,
    stallsByThread: (a.stalls?.byGuestThread ?? []).map((t) => ({ ...t })),
    preemptors: (a.stalls?.byPreemptor ?? []).map((p) => ({ ...p })),
    stalls: (a.stalls?.stalls.longest(50) ?? []).map((s) => ({
      vcpu: s.vcpu,
      kind: s.kind,
      start: abs(s.hostStart),
      end: abs(s.hostEnd),
      duration: s.hostEnd - s.hostStart,
      guestPid: s.guestPid,
      guestComm: s.guestComm,
      preemptorPid: s.preemptorPid,
      preemptorComm: s.preemptorComm,
      pcpu: s.pcpu,
    })),
    program: a.program === undefined ? null : { ...a.program },
    findings: a.findings.map((f) => ({
      kind: f.kind,
      severity: f.severity,
      start: abs(f.start),
      end: abs(f.end),
      message: f.message,
      evidence: f.evidence,
    })),
    advice:
      a.advice === undefined
        ? null
        : {
            threads: a.advice.threads,
            dop: a.advice.dop,
            waitPolicy: a.advice.waitPolicy,
            ...(a.advice.spinCount !== undefined ? { spinCount: a.advice.spinCount } : {}),
            predictedSpeedup: a.advice.predictedSpeedup,
            effectiveParallelism: a.advice.effectiveParallelism,
            phases: a.advice.phases.map((p) => ({
              start: abs(p.start),
              end: abs(p.end),
              preemptedVcpus: p.preemptedVcpus,
              dop: p.dop,
            })),
            pvschedDop: a.advice.pvschedDop,
            ...whatIfReport(a),
            reasoning: a.advice.reasoning,
          },
    reasoning: a.reasoning,
    ...(a.guestOnly !== undefined ? { guestOnly: guestOnlyReport(a, abs) } : {}),
  };
}

function guestOnlyReport(a: PairAnalysis, abs: (rel: number) => string): GuestOnlyReport {
  const g = a.guestOnly!;
  const ab = g.absence;
  const t = ab.table;
  return {
    inferred: true,
    hostCpus: { ...g.hostCpus },
    hz: ab.hz ?? null,
    slack: ab.slackNs,
    seen: { ...ab.seen },
    missingEvents: ab.missing,
    recordHint: ABSENCE_RECORD_HINT,
    perVcpu: ab.perVcpu.map((p) => ({
      vcpu: p.vcpu,
      absent: p.absentNs,
      sure: p.sureNs,
      intervals: p.intervals,
      busy: p.busyNs,
    })),
    intervals: Array.from({ length: t.length }, (_, j) => ({
      vcpu: t.vcpu[j]!,
      start: abs(t.start[j]!),
      end: abs(t.end[j]!),
      duration: t.end[j]! - t.start[j]!,
      earliest: abs(t.earliest[j]!),
      latest: abs(t.latest[j]!),
      evidence: ABSENCE_EVIDENCE_NAMES[t.evidence[j]!]!,
      confidence: t.confidence[j]!,
    })),
    basis: g.reasoning,
  };
}

/** The what-if's part of the advice (absent without a what-if). */
function whatIfReport(a: PairAnalysis): Partial<NonNullable<AnalyzeReport['advice']>> {
  const w = a.advice?.whatIf;
  if (w === undefined) return {};
  return {
    candidates: w.candidates,
    chosen: w.chosen,
    measured: w.measured,
    pvsched: w.pvsched,
    indistinguishable: w.indistinguishable,
    predictedSpeedupRange: { low: w.predictedSpeedup.low, high: w.predictedSpeedup.high },
    decidingEvidence: w.decidingEvidence,
    simulations: { count: w.cost.simulations, barriersPerSimulation: w.cost.barriersPerSimulation },
  };
}

/** A vCPU's time in each state over its whole timeline (the host trace's span). */
function wholeHostTime(tl: VcpuTimeline): VcpuStateTimes {
  const t = new Float64Array(7);
  for (let j = 0; j < tl.state.length; j++) t[tl.state[j]!]! += tl.end[j]! - tl.start[j]!;
  return {
    vcpu: tl.vcpu,
    running: t[VcpuState.running]!,
    preempted: t[VcpuState.preempted]!,
    waiting: t[VcpuState.waiting]!,
    idle: t[VcpuState.halted]!,
    vmm: t[VcpuState.vmm]!,
    blocked: t[VcpuState.blocked]!,
    unknown: t[VcpuState.unknown]!,
  };
}
