// Lane ids: the one place that spells them. A lane id is stable across requests and names what
// the lane shows: a host CPU, a guest CPU, a vCPU thread (by guest CPU number), a guest task or a
// host task. The server (Show in Timeline), the view model, the webview and the Chrome-trace
// export all build and read ids through these functions.

export type LaneKind = 'hcpu' | 'gcpu' | 'vcpu' | 'gthread' | 'hthread';

export const laneId = {
  hostCpu: (cpu: number): string => `hcpu:${cpu}`,
  guestCpu: (cpu: number): string => `gcpu:${cpu}`,
  vcpu: (vcpu: number): string => `vcpu:${vcpu}`,
  guestThread: (pid: number): string => `gthread:${pid}`,
  hostThread: (pid: number): string => `hthread:${pid}`,
  cpu: (machine: 'host' | 'guest', cpu: number): string =>
    machine === 'host' ? `hcpu:${cpu}` : `gcpu:${cpu}`,
} as const;

const KINDS: ReadonlySet<string> = new Set<LaneKind>(['hcpu', 'gcpu', 'vcpu', 'gthread', 'hthread']);

/** The kind and number of a lane id, or undefined when `id` is not one. */
export function parseLaneId(id: string): { kind: LaneKind; n: number } | undefined {
  const colon = id.indexOf(':');
  if (colon < 0) return undefined;
  const kind = id.slice(0, colon);
  const rest = id.slice(colon + 1);
  if (!KINDS.has(kind) || !/^\d+$/.test(rest)) return undefined;
  return { kind: kind as LaneKind, n: Number(rest) };
}
