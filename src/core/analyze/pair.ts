// The dual-level analysis of one host + guest trace pair: vCPU map, clock map, vCPU states and
// stall attribution, as one result the CLI (and later the server and the report) present.

import {
  ClockMap,
  EventPairing,
  estimateClockMap,
  timeShiftClockMap,
  pairedClockMap,
  recordedClockMap,
  relativeMap,
} from '../correlate/clock-map';
import { vmActivityReasoning } from '../correlate/guest-mode';
import { attributeStalls } from '../correlate/stalls';
import { inferVcpusFromActivity } from '../correlate/vcpu-infer';
import { identifyVcpus, VmThreads } from '../correlate/vcpu-map';
import { vcpuStates } from '../correlate/vcpu-states';
import type { Trace } from '../model/trace';
import type { TextOnlyKind } from '../ingest/importer';
import { buildTimelines, preemptorsOf, retainTaskIntervals, Timelines } from '../timeline/build';
import { AdviceOptions, advise } from './dop';
import { findFindings } from './findings';
import type { PairAnalysis } from './types';

export interface PairOptions {
  /** vCPU number → host thread id, from the user. */
  vcpuMap?: Map<number, number>;
  /** host - guest in the traces' unit, from the user (no drift). */
  offset?: bigint;
  /** Events the user pairs across the two traces (the clock source after an explicit offset). */
  pairing?: EventPairing;
  /** Leave these guest events out of the clock estimate. */
  skipGuestEvent?: (i: number) => boolean;
  /** The traces' timelines when already built (while reading: timeline/build.ts startTimelines). */
  timelines?: { host?: Timelines | undefined; guest?: Timelines | undefined };
  /** What the advice's what-if is told (barriers, a tick rate). */
  advice?: AdviceOptions;
  /**
   * Leave the advice out (its what-if runs the simulator many times): a caller that shows it
   * later adds it with withAdvice (the language server, on the first request that shows it).
   */
  deferAdvice?: boolean;
}

/**
 * The event text an analysis reads (ImportOptions.eventText for the traces it is given): the
 * generic events' (the host's kvm_write_tsc_offset for recorded TSC offsets, the guest's
 * hrtimer_start / hrtimer_expire_entry for inferred absences) and kvm_vcpu_wakeup's (poll or
 * wait); print markers' only for --barrier-marker, and every event's for a pairing (matched
 * against `name: text`). Markers left unprinted spare a .dat's kallsyms (their ip's %ps).
 */
export function analysisEventText(
  opts: Pick<PairOptions, 'pairing' | 'advice'>,
): boolean | TextOnlyKind[] {
  if (opts.pairing !== undefined) return true;
  const kinds: TextOnlyKind[] = ['generic', 'kvm_vcpu_wakeup'];
  if (opts.advice?.barrierMarker !== undefined) kinds.push('print');
  return kinds;
}

export function analyzePair(host: Trace, guest: Trace, opts: PairOptions = {}): PairAnalysis {
  const reasoning: string[] = [];
  const hostTimelines = opts.timelines?.host ?? buildTimelines(host);
  const guestTimelines = opts.timelines?.guest ?? buildTimelines(guest);
  const vcpuMap = identifyVcpus(host, {
    guestCpus: guest.cpuCount,
    ...(guest.dat?.traceId !== undefined ? { guestTraceId: guest.dat.traceId } : {}),
    ...(opts.vcpuMap !== undefined ? { explicit: opts.vcpuMap } : {}),
  });
  const base: PairAnalysis = {
    host,
    guest,
    hostTimelines,
    guestTimelines,
    vcpuMap,
    clock: undefined,
    states: undefined,
    stalls: undefined,
    window: undefined,
    program: undefined,
    findings: [],
    advice: undefined,
    reasoning,
  };
  // Several VMs with the guest's CPU count (names alike, e.g. two QEMU guests): the guest's events
  // can only happen while its own vCPU threads are on a host CPU, so the right VM is the one whose
  // on-CPU time holds them, at its best offset, clearly better than any other.
  let estimated: { vm: VmThreads; clock: ClockMap | undefined; why: string[] } | undefined;
  const sameSize = vcpuMap.vms.filter((v) => v.vcpus.length === guest.cpuCount);
  if (vcpuMap.chosen === undefined && opts.vcpuMap === undefined && sameSize.length >= 2) {
    const fits = sameSize.map((vm) => {
      const why: string[] = [];
      const clock = estimateClockMap(host, hostTimelines, guest, vm.vcpus, {}, why);
      return { vm, clock, why, agreement: clock?.agreement ?? 0 };
    });
    fits.sort((a, b) => b.agreement - a.agreement);
    const [best, second] = [fits[0]!, fits[1]!];
    const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
    if (best.agreement >= 0.9 && best.agreement - second.agreement >= 0.1) {
      vcpuMap.chosen = best.vm;
      estimated = best;
      vcpuMap.reasoning.push(
        `chose ${best.vm.vmm} ${best.vm.key}: ${pct(best.agreement)} of the guest's events fall in its vCPU threads' on-CPU time at the best offset, against ${fits
          .slice(1)
          .map((f) => `${pct(f.agreement)} for ${f.vm.key}`)
          .join(', ')}`,
      );
    } else
      vcpuMap.reasoning.push(
        `activity does not tell the ${fits.length} VMs apart (${fits.map((f) => `${f.vm.key} ${pct(f.agreement)}`).join(', ')} of guest events fit): give --vcpu-map`,
      );
  }
  if (vcpuMap.chosen === undefined && opts.vcpuMap === undefined) {
    const why: string[] = [];
    const inferred = inferVcpusFromActivity(host, hostTimelines, guest, why);
    if (inferred !== undefined) {
      vcpuMap.vms.push(inferred);
      vcpuMap.chosen = inferred;
      vcpuMap.reasoning.push(
        'vCPU threads inferred from activity: each guest CPU matched to the host thread whose on-CPU time holds its events',
      );
    }
    vcpuMap.reasoning.push(...why);
  }
  const vm = vcpuMap.chosen;
  if (vm === undefined) {
    reasoning.push('without a vCPU map there is nothing to correlate (see the vCPU map reasoning)');
    return base;
  }
  // From here on the host's thread intervals are read for the vCPU threads and the threads that
  // preempted them only (the timeline's lanes): drop the others' (totals stay for every thread).
  // Before the states, which are views of the vCPU threads' intervals.
  const tids = vm.vcpus.map((v) => v.hostTid);
  retainTaskIntervals(
    hostTimelines.tasks,
    new Set([...tids, ...preemptorsOf(hostTimelines, tids)]),
  );
  let clock: ClockMap | undefined;
  if (opts.offset !== undefined) {
    clock = {
      method: 'user',
      hostRef: guest.tsBase + opts.offset,
      guestRef: guest.tsBase,
      slope: 1,
      bound: 0,
      unit: host.clock.unit,
      agreement: NaN,
      stretches: [],
      reasoning: [`offset host - guest = ${opts.offset} given by the user; no drift assumed`],
    };
  } else {
    // Sources best first: trace-cmd's time sync (TIME_SHIFT in a guest .dat), recorded offsets
    // (KVM's kvm_write_tsc_offset, checked against the events), the user's paired events,
    // estimation from the events.
    const why: string[] = [];
    // The estimate made to choose among VMs, when there was one, is the same estimate.
    const estimate = (): ClockMap | undefined => {
      if (estimated?.clock !== undefined && opts.skipGuestEvent === undefined) {
        why.push(...estimated.why);
        return estimated.clock;
      }
      return estimateClockMap(
        host,
        hostTimelines,
        guest,
        vm.vcpus,
        opts.skipGuestEvent !== undefined ? { skipGuestEvent: opts.skipGuestEvent } : {},
        why,
      );
    };
    clock =
      timeShiftClockMap(host, guest, why) ??
      recordedClockMap(host, hostTimelines, guest, vm.vcpus, why) ??
      (opts.pairing !== undefined ? pairedClockMap(host, guest, opts.pairing, why) : undefined) ??
      estimate();
    reasoning.push(...why);
  }
  if (clock !== undefined && opts.vcpuMap === undefined)
    vcpuMap.reasoning.push(...vmActivityReasoning(host, guest, vcpuMap, clock));
  // With a clock map, totals cover the stretch both traces saw: the guest's span on the host.
  const rel = clock !== undefined ? relativeMap(clock, guest.tsBase, host.tsBase) : undefined;
  const window =
    rel !== undefined
      ? {
          start: Math.max(hostTimelines.start, rel.toHost(guestTimelines.start)),
          end: Math.min(hostTimelines.end, rel.toHost(guestTimelines.end)),
        }
      : undefined;
  const states = vcpuStates(
    host,
    hostTimelines,
    vm.vcpus,
    clock !== undefined ? { trace: guest, timelines: guestTimelines, clock } : undefined,
    window,
  );
  const stalls =
    clock !== undefined
      ? attributeStalls(host, hostTimelines, states, guest, guestTimelines, clock)
      : undefined;
  if (clock === undefined)
    reasoning.push('no clock map: vCPU states only, stalls not attributed to guest threads');
  const withStates: PairAnalysis = { ...base, clock, states, stalls, window };
  const { findings, program } = findFindings(withStates);
  if (program === undefined && clock !== undefined)
    reasoning.push('no multi-threaded program in the guest trace: no DoP advice');
  const found: PairAnalysis = { ...withStates, findings, program };
  return opts.deferAdvice === true ? found : withAdvice(found, opts.advice);
}

/**
 * `a` with its advice: the what-if's simulator runs and the pvsched rule, over what analyzePair
 * found (with deferAdvice, the advice is left for this). A new object; `a` is not changed.
 */
export function withAdvice(a: PairAnalysis, opts?: AdviceOptions): PairAnalysis {
  return { ...a, advice: advise(a, a.program, a.findings, opts) };
}
