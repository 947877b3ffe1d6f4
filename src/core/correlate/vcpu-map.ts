// Which host thread runs which vCPU. Evidence, strongest first: the user's explicit map; the GUEST
// option trace-cmd writes into a host .dat (trace-cmd record -A / agent: vCPU -> host task); kvm_entry
// events (the thread that enters guest mode logs its vcpu_id); the thread names VMMs give their
// vCPU threads (QEMU `CPU 3/KVM` or `CPU 3/TCG` with debug-threads=on, Firecracker `fc_vcpu 3`,
// Cloud Hypervisor `vcpu3`, crosvm `crosvm_vcpu3`, kvmtool `kvm-vcpu-3`). Threads are grouped
// into VMs by thread group when the trace has one, else by thread-id proximity.

import { Kind } from '../model/event-kinds';
import { kvmAt } from '../model/payload';
import type { Trace } from '../model/trace';

/** `guest-only`: no host trace; the vCPU is a modelled thread (analyze/guest-only.ts). */
export type VcpuMethod =
  'user' | 'trace-cmd-guest' | 'kvm-vcpu-id' | 'thread-name' | 'activity' | 'guest-only';

/** One vCPU's host thread, with how we know and how sure we are (1 = certain). */
export interface VcpuAssignment {
  vcpu: number;
  hostTid: number;
  hostComm: string;
  method: VcpuMethod;
  confidence: number;
  /** In words, for reports: which events or names said so. */
  evidence: string;
}

/** The vCPU threads of one VM as found in a host trace. */
export interface VmThreads {
  /** `tgid 3310`, or `tids 3315-3318` when grouped by proximity. */
  key: string;
  /** Which VMM the names point to (QEMU, Firecracker, ...), or `KVM` for kvm_entry evidence only. */
  vmm: string;
  vcpus: VcpuAssignment[];
}

export interface VcpuMapResult {
  /** Every VM found, most vCPUs first. */
  vms: VmThreads[];
  /** The VM chosen for the guest trace (undefined when none or when the choice is ambiguous). */
  chosen: VmThreads | undefined;
  /** Why that VM, or why none: for reports. */
  reasoning: string[];
}

interface NamePattern {
  vmm: string;
  re: RegExp;
}

/** Thread names VMMs give vCPU threads; group 1 is the vCPU number. */
export const VCPU_NAME_PATTERNS: readonly NamePattern[] = [
  { vmm: 'QEMU', re: /^CPU (\d+)\/(?:KVM|TCG|HVF|WHPX|NVMM)$/ },
  { vmm: 'Firecracker', re: /^fc_vcpu ?(\d+)$/ },
  { vmm: 'Cloud Hypervisor', re: /^vcpu(\d+)$/ },
  { vmm: 'crosvm', re: /^crosvm_vcpu ?(\d+)$/ },
  { vmm: 'kvmtool', re: /^kvm-vcpu-(\d+)$/ },
];

/** `--vcpu-map 0=3315,1=3316`: vCPU number → host thread id. Throws a message on bad syntax. */
export function parseVcpuMapFlag(text: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0)) {
    const kv = /^(\d+)=(\d+)$/.exec(part);
    if (kv === null) throw new Error(`'${part}' is not VCPU=HOSTTID (e.g. 0=3315)`);
    const vcpu = Number(kv[1]);
    const tid = Number(kv[2]);
    if (m.has(vcpu)) throw new Error(`vCPU ${vcpu} is given twice`);
    if ([...m.values()].includes(tid)) throw new Error(`host thread ${tid} is given for two vCPUs`);
    m.set(vcpu, tid);
  }
  if (m.size === 0) throw new Error('empty vCPU map');
  return m;
}

interface Candidate {
  tid: number;
  comm: string;
  vcpu: number;
  vmm: string;
  method: VcpuMethod;
  evidence: string;
}

/**
 * Finds the vCPU threads in `host`. `guestCpus` (the guest trace's CPU count) picks the VM when
 * several run; `explicit` (from the user) overrides everything for the vCPUs it names.
 */
export function identifyVcpus(
  host: Trace,
  opts: { guestCpus?: number; explicit?: Map<number, number>; guestTraceId?: string } = {},
): VcpuMapResult {
  const reasoning: string[] = [];
  const lastComm = lastCommByTid(host);

  if (opts.explicit !== undefined) {
    const vcpus = [...opts.explicit]
      .sort((a, b) => a[0] - b[0])
      .map(([vcpu, tid]): VcpuAssignment => {
        const comm = lastComm.get(tid);
        return {
          vcpu,
          hostTid: tid,
          hostComm: comm ?? '?',
          method: 'user',
          confidence: 1,
          evidence:
            comm === undefined
              ? `given by the user; thread ${tid} never appears in the host trace`
              : 'given by the user',
        };
      });
    const missing = vcpus.filter((v) => v.hostComm === '?');
    if (missing.length > 0)
      reasoning.push(
        `host thread(s) ${missing.map((v) => v.hostTid).join(', ')} from the map never appear in the host trace`,
      );
    const vm: VmThreads = { key: 'user map', vmm: 'given', vcpus };
    reasoning.push(`vCPU map given by the user (${vcpus.length} vCPUs)`);
    return { vms: [vm], chosen: vm, reasoning };
  }

  // 1. trace-cmd recorded it: a host .dat's GUEST option maps each vCPU to its host task
  // (whatever the threads are called). Other VMs in the trace are still found, to say why not.
  const recorded = guestOptionVm(host, lastComm, opts, reasoning);

  // 2. kvm_entry: the thread that enters guest mode for vcpu N is vCPU N's thread.
  const byKvm = new Map<number, Map<number, number>>(); // tid -> vcpu -> count
  // Which event types are kvm_entry / kvm_exit, by type id: a typed load per host event, not a
  // property chain, and no pass at all over a host without them (a TCG or unrecorded-KVM host).
  const isKvm = Uint8Array.from(host.eventTypes, (t) =>
    t.kind === Kind.kvmEntry || t.kind === Kind.kvmExit ? 1 : 0,
  );
  const ev = host.events;
  for (let i = 0, n = isKvm.includes(1) ? ev.length : 0; i < n; i++) {
    if (isKvm[ev.type(i)] !== 1) continue;
    const vcpu = kvmAt(host, i).vcpu;
    if (vcpu < 0) continue;
    const tid = host.tasks.pid(ev.task(i));
    let per = byKvm.get(tid);
    if (per === undefined) byKvm.set(tid, (per = new Map()));
    per.set(vcpu, (per.get(vcpu) ?? 0) + 1);
  }
  const cands: Candidate[] = [];
  for (const [tid, per] of byKvm) {
    const [vcpu, n] = [...per].sort((a, b) => b[1] - a[1])[0]!;
    const others = [...per].filter(([v]) => v !== vcpu);
    cands.push({
      tid,
      comm: lastComm.get(tid) ?? '?',
      vcpu,
      vmm: 'KVM',
      method: 'kvm-vcpu-id',
      evidence: `${n} kvm_entry/kvm_exit events with vcpu_id ${vcpu}${others.length > 0 ? ` (and ${others.map(([v, c]) => `${c} with ${v}`).join(', ')})` : ''}`,
    });
  }

  // 3. Thread names, for threads kvm events said nothing about.
  for (const [tid, comm] of lastComm) {
    if (byKvm.has(tid)) continue;
    for (const p of VCPU_NAME_PATTERNS) {
      const m = p.re.exec(comm);
      if (m !== null) {
        cands.push({
          tid,
          comm,
          vcpu: Number(m[1]),
          vmm: p.vmm,
          method: 'thread-name',
          evidence: `thread named '${comm}' (${p.vmm})`,
        });
        break;
      }
    }
  }
  // A named thread's VMM also names the kvm-identified ones (QEMU's `CPU 0/KVM`).
  for (const c of cands) {
    if (c.method !== 'kvm-vcpu-id') continue;
    const p = VCPU_NAME_PATTERNS.find((q) => q.re.test(c.comm));
    if (p !== undefined) c.vmm = p.vmm;
  }

  if (recorded !== undefined) return withRecorded(host, recorded, cands, byKvm, opts, reasoning);

  const vms = groupIntoVms(host, cands, reasoning);
  // Code-point order: localeCompare would load ICU's collation (~40 ms) for keys that are ASCII.
  vms.sort(
    (a, b) => b.vcpus.length - a.vcpus.length || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  if (vms.length === 0) {
    reasoning.push(
      'no vCPU threads found: no kvm_entry events and no thread named like a vCPU (QEMU needs -name ...,debug-threads=on); give --vcpu-map',
    );
    return { vms, chosen: undefined, reasoning };
  }
  let chosen: VmThreads | undefined;
  if (vms.length === 1) {
    chosen = vms[0];
    reasoning.push(`one VM: ${describe(vms[0]!)}`);
  } else {
    const fit =
      opts.guestCpus !== undefined ? vms.filter((v) => v.vcpus.length === opts.guestCpus) : [];
    if (fit.length === 1) {
      chosen = fit[0];
      reasoning.push(
        `${vms.length} VMs; the only one with ${opts.guestCpus} vCPUs, as the guest trace has CPUs: ${describe(chosen!)}`,
      );
    } else {
      reasoning.push(
        `${vms.length} VMs (${vms.map(describe).join('; ')}); ${opts.guestCpus === undefined ? 'no guest CPU count to choose by' : `${fit.length} with ${opts.guestCpus} vCPUs`}: give --vcpu-map`,
      );
    }
  }
  if (chosen !== undefined && opts.guestCpus !== undefined) {
    const have = new Set(chosen.vcpus.map((v) => v.vcpu));
    const lacking = [...Array(opts.guestCpus).keys()].filter((c) => !have.has(c));
    if (lacking.length > 0)
      reasoning.push(`guest CPU(s) ${lacking.join(', ')} have no host thread in this trace`);
  }
  return { vms, chosen, reasoning };
}

/**
 * The GUEST option's VM, checked against what its threads' kvm_entry events say, and the other
 * VMs the host trace holds, each with why it is not the guest's.
 */
function withRecorded(
  host: Trace,
  recorded: VmThreads,
  cands: Candidate[],
  byKvm: Map<number, Map<number, number>>,
  opts: { guestCpus?: number },
  reasoning: string[],
): VcpuMapResult {
  for (const v of recorded.vcpus) {
    const per = byKvm.get(v.hostTid);
    if (per === undefined) continue;
    const n = per.get(v.vcpu) ?? 0;
    const other = [...per].filter(([c]) => c !== v.vcpu);
    reasoning.push(
      other.length === 0
        ? `thread ${v.hostTid} enters the guest as vcpu ${v.vcpu} (${n} kvm_entry/kvm_exit events), as recorded`
        : `thread ${v.hostTid} is recorded as vCPU ${v.vcpu} but its kvm events also name vcpu ${other.map(([c, k]) => `${c} (${k})`).join(', ')}`,
    );
  }
  const mine = new Set(recorded.vcpus.map((v) => v.hostTid));
  const others = groupIntoVms(
    host,
    cands.filter((c) => !mine.has(c.tid)),
    [],
  );
  for (const vm of others) {
    const why = [
      `the GUEST option names thread${mine.size > 1 ? 's' : ''} ${[...mine].join(', ')}`,
    ];
    if (opts.guestCpus !== undefined && vm.vcpus.length !== opts.guestCpus)
      why.push(
        `it has ${vm.vcpus.length} vCPUs, the guest trace ${opts.guestCpus} CPU${opts.guestCpus === 1 ? '' : 's'}`,
      );
    reasoning.push(
      `the host trace also holds ${describe(vm)} (${vm.vcpus.map((v) => `'${v.hostComm}'`).join(', ')}): not the guest's, as ${why.join(' and ')}`,
    );
  }
  return { vms: [recorded, ...others], chosen: recorded, reasoning };
}

function describe(vm: VmThreads): string {
  return `${vm.vmm} ${vm.key}, vCPUs ${vm.vcpus.map((v) => `${v.vcpu}=${v.hostTid}`).join(' ')}`;
}

/** Each thread's last comm in the trace (threads rename themselves; the last name is the kept one). */
function lastCommByTid(t: Trace): Map<number, string> {
  const m = new Map<number, string>();
  for (let id = 0; id < t.tasks.size; id++) {
    const pid = t.tasks.pid(id);
    const comm = t.tasks.comm(id);
    if (comm !== '<...>' && comm !== '<idle>') m.set(pid, comm);
  }
  return m;
}

/**
 * Splits candidates into VMs: by thread group when the trace knows it, else in runs of nearby
 * thread ids where no vCPU number repeats (a VMM creates its vCPU threads together).
 */
function groupIntoVms(host: Trace, cands: Candidate[], reasoning: string[]): VmThreads[] {
  const out: VmThreads[] = [];
  const withTgid = cands.filter((c) => host.tasks.tgid(c.tid) !== undefined);
  const groups = new Map<string, Candidate[]>();
  for (const c of withTgid) {
    const key = `tgid ${host.tasks.tgid(c.tid)}`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [c]);
    else g.push(c);
  }
  const rest = cands
    .filter((c) => host.tasks.tgid(c.tid) === undefined)
    .sort((a, b) => a.tid - b.tid);
  let run: Candidate[] = [];
  const flush = (): void => {
    if (run.length > 0) groups.set(`tids ${run[0]!.tid}-${run[run.length - 1]!.tid}`, run);
    run = [];
  };
  for (const c of rest) {
    const prev = run[run.length - 1];
    const clash =
      run.some((r) => r.vcpu === c.vcpu) ||
      (prev !== undefined && (c.tid - prev.tid > 64 || c.vmm !== prev.vmm));
    if (clash) flush();
    run.push(c);
  }
  flush();
  if (groups.size > 1 && rest.length > 0)
    reasoning.push(
      'threads grouped into VMs by thread-id proximity (the trace has no thread-group ids)',
    );
  for (const [key, list] of groups) {
    // Within a VM, one thread per vCPU: the best-evidenced wins, the rest are reported.
    const byVcpu = new Map<number, Candidate>();
    for (const c of list.sort((a, b) => rank(a) - rank(b) || a.tid - b.tid)) {
      const have = byVcpu.get(c.vcpu);
      if (have === undefined) byVcpu.set(c.vcpu, c);
      else
        reasoning.push(
          `${key}: threads ${have.tid} and ${c.tid} both claim vCPU ${c.vcpu}; kept ${have.tid} (${have.method})`,
        );
    }
    const vcpus = [...byVcpu.values()]
      .sort((a, b) => a.vcpu - b.vcpu)
      .map((c): VcpuAssignment => ({
        vcpu: c.vcpu,
        hostTid: c.tid,
        hostComm: c.comm,
        method: c.method,
        confidence: c.method === 'kvm-vcpu-id' ? 1 : key.startsWith('tgid') ? 0.95 : 0.9,
        evidence: c.evidence,
      }));
    out.push({ key, vmm: list[0]!.vmm, vcpus });
  }
  return out;
}

function rank(c: Candidate): number {
  return c.method === 'kvm-vcpu-id' ? 0 : 1;
}

/**
 * The VM a host .dat's GUEST option describes (trace-cmd writes one per traced guest): the one
 * whose trace id is the guest trace's, else the only one, else the only one with the guest's CPU
 * count. Undefined when the host trace has none or none can be chosen (`reasoning` says why).
 */
function guestOptionVm(
  host: Trace,
  lastComm: Map<number, string>,
  opts: { guestCpus?: number; guestTraceId?: string },
  reasoning: string[],
): VmThreads | undefined {
  const guests = host.dat?.guests ?? [];
  if (guests.length === 0) return undefined;
  let g =
    opts.guestTraceId !== undefined
      ? guests.find((x) => x.traceId === opts.guestTraceId)
      : undefined;
  let how = g !== undefined ? `its trace id ${g.traceId} is the guest trace's` : '';
  if (g === undefined && guests.length === 1) {
    g = guests[0];
    how = 'the only guest recorded';
  }
  if (g === undefined && opts.guestCpus !== undefined) {
    const fit = guests.filter((x) => x.vcpus.length === opts.guestCpus);
    if (fit.length === 1) {
      g = fit[0];
      how = `the only recorded guest with ${opts.guestCpus} vCPUs`;
    }
  }
  if (g === undefined) {
    reasoning.push(
      `the host .dat records ${guests.length} guests (${guests.map((x) => x.name).join(', ')}) but none matches the guest trace: not used`,
    );
    return undefined;
  }
  const vcpus = [...g.vcpus]
    .sort((a, b) => a.vcpu - b.vcpu)
    .map((v): VcpuAssignment => ({
      vcpu: v.vcpu,
      hostTid: v.hostPid,
      hostComm: lastComm.get(v.hostPid) ?? '?',
      method: 'trace-cmd-guest',
      confidence: 1,
      evidence: `recorded by trace-cmd in the host .dat (GUEST option, guest '${g.name}')`,
    }));
  reasoning.push(
    `vCPU map recorded by trace-cmd for guest '${g.name}' (${how}; ${vcpus.length} vCPUs)`,
  );
  return { key: `guest ${g.name}`, vmm: 'trace-cmd GUEST option', vcpus };
}
