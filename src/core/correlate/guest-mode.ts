// Which VM in a KVM host trace is the guest's, by activity: a guest CPU only runs (and logs an
// event) between its vCPU thread's kvm_entry and the next kvm_exit, so with the clock map the
// right VM's guest-mode time holds (nearly) all of the guest's events and another VM's does not.

import { Kind } from '../model/event-kinds';
import type { Trace } from '../model/trace';
import { type ClockMap, relativeMap } from './clock-map';
import { upperBound } from '../model/search';
import type { VcpuMapResult, VmThreads } from './vcpu-map';

/** Each thread's guest-mode intervals, [start[k], end[k]), host-relative. */
function guestModeIntervals(host: Trace, tids: ReadonlySet<number>): Map<number, Float64Array[]> {
  const open = new Map<number, number>();
  const out = new Map<number, { s: number[]; e: number[] }>();
  const ev = host.events;
  for (let i = 0; i < ev.length; i++) {
    const k = host.eventTypes[ev.type(i)]!.kind;
    if (k !== Kind.kvmEntry && k !== Kind.kvmExit) continue;
    const tid = host.tasks.pid(ev.task(i));
    if (!tids.has(tid)) continue;
    if (k === Kind.kvmEntry) {
      if (!open.has(tid)) open.set(tid, ev.ts(i));
      continue;
    }
    const s = open.get(tid);
    if (s === undefined) continue; // an exit with no entry seen: nothing known before it
    open.delete(tid);
    let l = out.get(tid);
    if (l === undefined) out.set(tid, (l = { s: [], e: [] }));
    l.s.push(s);
    l.e.push(ev.ts(i));
  }
  const res = new Map<number, Float64Array[]>();
  for (const [tid, l] of out) res.set(tid, [Float64Array.from(l.s), Float64Array.from(l.e)]);
  return res;
}

/**
 * The share of the guest's events (on guest CPUs the VM has a vCPU thread for) that the clock map
 * puts inside that thread's guest-mode time, `slack` host units either side; undefined when the
 * VM's threads have no kvm_entry / kvm_exit pairs.
 */
export function guestModeShare(
  host: Trace,
  vm: VmThreads,
  guest: Trace,
  clock: ClockMap,
  slack: number,
): { share: number; events: number } | undefined {
  const byVcpu = new Map(vm.vcpus.map((v) => [v.vcpu, v.hostTid]));
  const iv = guestModeIntervals(host, new Set(byVcpu.values()));
  if (iv.size === 0) return undefined;
  const toHost = relativeMap(clock, guest.tsBase, host.tsBase).toHost;
  const ev = guest.events;
  let n = 0;
  let inside = 0;
  for (let i = 0; i < ev.length; i++) {
    const tid = byVcpu.get(ev.cpu(i));
    if (tid === undefined) continue;
    n++;
    const l = iv.get(tid);
    if (l === undefined) continue;
    const [s, e] = l as [Float64Array, Float64Array];
    const h = toHost(ev.ts(i));
    // The last interval starting at or before h + slack; inside when it ends at or after h - slack.
    const q = upperBound(s, h + slack) - 1;
    if (q >= 0 && e[q]! >= h - slack) inside++;
  }
  return n === 0 ? undefined : { share: inside / n, events: n };
}

/**
 * In words, for the vCPU map's reasoning: how much of the guest's activity each VM of a host
 * trace with several holds in its guest-mode time, at the clock map (nothing when fewer than two
 * VMs have kvm_entry / kvm_exit pairs), and a warning when another VM holds clearly more than
 * the chosen one.
 */
export function vmActivityReasoning(
  host: Trace,
  guest: Trace,
  map: VcpuMapResult,
  clock: ClockMap,
): string[] {
  const chosen = map.chosen;
  if (chosen === undefined || map.vms.length < 2) return [];
  const slack = clock.bound + (clock.unit === 'ns' ? 1000 : 3000);
  const fits = map.vms.map((vm) => ({ vm, fit: guestModeShare(host, vm, guest, clock, slack) }));
  const known = fits.filter((f) => f.fit !== undefined);
  if (known.length < 2) return [];
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const mine = fits.find((f) => f.vm === chosen)?.fit;
  const out = [
    `at the clock map, the guest's events fall in guest-mode time (kvm_entry to kvm_exit) of ${known
      .map(
        (f) =>
          `${f.vm === chosen ? 'the chosen ' : ''}${f.vm.vmm} ${f.vm.key}: ${pct(f.fit!.share)}`,
      )
      .join(', ')}`,
  ];
  const better = known.filter((f) => f.vm !== chosen && f.fit!.share > (mine?.share ?? 0) + 0.1);
  if (better.length > 0)
    out.push(
      `${better.map((f) => `${f.vm.vmm} ${f.vm.key}`).join(', ')} fits the guest's activity better than the chosen VM: check the vCPU map (--vcpu-map)`,
    );
  return out;
}
