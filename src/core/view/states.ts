// The timeline's state vocabulary: one set of states for every lane, the lane groups, and which
// states each group shows. Shared by the engine (src/core/view), the protocol and the webview.

/** The webview protocol version (src/protocol/webview.ts). */
export const PROTOCOL_VERSION = 1;

/** One state vocabulary for all lanes; each lane kind uses some of them (see LANE_KIND_STATES). */
export const ViewState = {
  running: 0,
  preempted: 1,
  waiting: 2,
  idle: 3,
  vmm: 4,
  sleeping: 5,
  unknown: 6,
  /** A guest thread "running" on a vCPU the host had preempted (or not yet run): time lost. */
  stalled: 7,
  /** A host CPU running a vCPU thread. */
  vcpu: 8,
  /** A CPU running some other task (a co-runner on the host, another command in the guest). */
  other: 9,
  /** Uninterruptible sleep, or a vCPU asleep for a reason the traces do not tell. */
  blocked: 10,
  exited: 11,
  /** A task switched out while runnable by its own kernel (not its vCPU: that is `stalled`). */
  descheduled: 12,
  /**
   * Guest-only (no host trace): the vCPU inferred absent (the host not running it while the
   * guest had work), drawn hatched: inferred, not seen.
   */
  absent: 13,
} as const;
export type ViewState = (typeof ViewState)[keyof typeof ViewState];
export const VIEW_STATE_COUNT = 14;
export const VIEW_STATE_NAMES = [
  'running',
  'preempted',
  'waiting',
  'idle',
  'vmm',
  'sleeping',
  'unknown',
  'stalled',
  'vcpu',
  'other',
  'blocked',
  'exited',
  'descheduled',
  'absent',
] as const;
/** Marks "no data" in a level-of-detail bucket. */
export const NO_STATE = 255;

export type LaneGroup = 'host-cpus' | 'vcpus' | 'guest-cpus' | 'guest-threads' | 'co-runners';
export const LANE_GROUPS: readonly { id: LaneGroup; label: string }[] = [
  { id: 'host-cpus', label: 'Host CPUs (who ran)' },
  { id: 'vcpus', label: 'vCPU threads (on the host)' },
  { id: 'guest-cpus', label: 'Guest CPUs (who ran)' },
  { id: 'guest-threads', label: 'Guest threads' },
  { id: 'co-runners', label: 'Co-runners (host tasks that preempted vCPUs)' },
];
/** CPU lane groups of more lanes than this open collapsed (one CPU each says little). */
export const COLLAPSED_OVER_LANES = 8;

/**
 * The lane groups a timeline opens with collapsed when no saved view says otherwise: host or
 * guest CPUs when there are more than COLLAPSED_OVER_LANES of them. The page applies it; the
 * server reads it to prepare, before the page asks, the lanes its first window will ask for.
 */
export function initiallyCollapsed(lanes: readonly { group: LaneGroup }[]): Set<LaneGroup> {
  const out = new Set<LaneGroup>();
  for (const g of ['host-cpus', 'guest-cpus'] as const)
    if (lanes.filter((l) => l.group === g).length > COLLAPSED_OVER_LANES) out.add(g);
  return out;
}

/** The states a lane of each group shows, in legend order. */
export const LANE_KIND_STATES: Record<LaneGroup, readonly ViewState[]> = {
  'host-cpus': [ViewState.vcpu, ViewState.other, ViewState.idle, ViewState.unknown],
  vcpus: [
    ViewState.running,
    ViewState.preempted,
    ViewState.waiting,
    ViewState.idle,
    ViewState.vmm,
    ViewState.blocked,
    ViewState.unknown,
    ViewState.absent,
  ],
  'guest-cpus': [
    ViewState.running,
    ViewState.other,
    ViewState.idle,
    ViewState.unknown,
    ViewState.absent,
  ],
  'guest-threads': [
    ViewState.running,
    ViewState.stalled,
    ViewState.waiting,
    ViewState.descheduled,
    ViewState.sleeping,
    ViewState.blocked,
    ViewState.exited,
    ViewState.unknown,
  ],
  'co-runners': [
    ViewState.running,
    ViewState.waiting,
    ViewState.descheduled,
    ViewState.sleeping,
    ViewState.blocked,
    ViewState.exited,
    ViewState.unknown,
  ],
};
