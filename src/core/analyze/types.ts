// The result of a pair's analysis and its parts (findings, the program studied, the advice): the
// shapes pair.ts assembles and findings.ts and dop.ts fill in, apart from the code that makes
// them so that each of those files imports the types and none imports another's code back.

import type { GuestAbsence } from '../correlate/absence';
import type { ClockMap } from '../correlate/clock-map';
import type { StallsResult } from '../correlate/stalls';
import type { VcpuMapResult } from '../correlate/vcpu-map';
import type { VcpuStatesResult } from '../correlate/vcpu-states';
import type { Trace } from '../model/trace';
import type { Timelines } from '../timeline/build';
import type { Program } from './program';
import type { ProgramShape } from '../whatif/shape';
import type { WhatIf } from '../whatif/engine';

/** One host + guest pair analysed: the traces, their timelines and everything correlated. */
export interface PairAnalysis {
  host: Trace;
  guest: Trace;
  /**
   * The host's timelines; thread intervals only for the vCPU threads and their preemptors (every
   * thread keeps its totals), see retainTaskIntervals.
   */
  hostTimelines: Timelines;
  guestTimelines: Timelines;
  vcpuMap: VcpuMapResult;
  clock: ClockMap | undefined;
  states: VcpuStatesResult | undefined;
  stalls: StallsResult | undefined;
  /** Host-relative stretch the totals cover (both traces' overlap), when there is a clock map. */
  window: { start: number; end: number } | undefined;
  /** The guest program studied (the command with the most threads' running time). */
  program: Program | undefined;
  findings: Finding[];
  advice: Advice | undefined;
  /** What could not be done, and why, in words. */
  reasoning: string[];
  /**
   * Set when there was no host trace: `host` is modelled from the guest's inferred absences
   * (analyze/guest-only.ts) and everything read from it is inferred.
   */
  guestOnly?: GuestOnlyBasis;
}

/** What a guest-only analysis rests on: the inferred absences and the host CPUs estimated. */
export interface GuestOnlyBasis {
  absence: GuestAbsence;
  /** Host CPUs the VM got, as the modelled host has them (the mean, rounded, at least 1). */
  hostCpus: { value: number; mean: number; basis: string };
  reasoning: string[];
}

/** The semantic-gap problems findings.ts looks for. */
export type FindingKind =
  | 'oversubscription'
  | 'spin-on-preempted-vcpu'
  | 'barrier-straggler-preempted'
  | 'wakeup-delayed-by-preemption'
  | 'preempted-in-interrupt';

/** One problem the pair shows, with a time span, evidence and a severity. */
export interface Finding {
  kind: FindingKind;
  severity: 'high' | 'medium' | 'low';
  /** Host-relative span the finding covers. */
  start: number;
  end: number;
  message: string;
  /** Measured quantities behind the message, in the host's unit or as counts/ratios. */
  evidence: Record<string, number | string>;
}

/** The guest program under study (program.ts findProgram). */
export type { Program };

/**
 * What to run instead (dop.ts): the what-if's fastest predicted configuration (threads, wait
 * policy, gain), and the pvsched rule's DoP per phase beside it.
 */
export interface Advice {
  /** The program's threads as measured (the DoP it ran with). */
  threads: number;
  /** Recommended OMP_NUM_THREADS: the what-if's choice (the pvsched rule's without a what-if). */
  dop: number;
  /** The pvsched rule's DoP (threads - preempted vCPUs, median over the phases). */
  pvschedDop: number;
  /** The program's shape the what-if rests on, and the what-if (undefined: see reasoning). */
  shape?: ProgramShape;
  whatIf?: WhatIf;
  /** The pvsched rule's own answer (DoP, policy, capacity-model gain), when the what-if chose. */
  rule?: RuleAdvice;
  phases: { start: number; end: number; preemptedVcpus: number; dop: number }[];
  /** vCPUs that actually ran, on average, and host CPUs the VM got. */
  effectiveParallelism: number;
  waitPolicy: 'active' | 'passive' | 'spin-then-block';
  /** GOMP_SPINCOUNT for spin-then-block. */
  spinCount?: number;
  /** Predicted run-time ratio old/new (> 1 is faster): the what-if's, else the capacity model's. */
  predictedSpeedup: number;
  reasoning: string[];
}

/** The pvsched rule and the capacity model's answer, as the advice gave it before the what-if. */
export type RuleAdvice = Omit<Advice, 'shape' | 'whatIf' | 'rule'>;
