// How long an OpenMP runtime spins at a barrier before it blocks, from its own settings.
//
// libgomp (GCC): a waiting thread polls the barrier word GOMP_SPINCOUNT times (one load and a
// `pause` each), then sleeps on a futex. The count is 300,000 when OMP_WAIT_POLICY is unset,
// 30 billion for ACTIVE, 0 for PASSIVE; when the program has more threads than CPUs available to
// it, libgomp spins at most 1,000 times (ACTIVE) or 100 times (unset) instead. Inside a VM
// "CPUs available" means vCPUs: the runtime cannot see that the host gives those vCPUs less
// than a pCPU each, so a host-oversubscribed VM keeps the full count.
//
// libomp (LLVM, Intel): a waiting thread spins for KMP_BLOCKTIME (200 ms by default; 0 blocks at
// once, `infinite` never blocks), then sleeps.

export type OmpRuntime = 'libgomp' | 'libomp';
export type OmpWaitPolicy = 'unset' | 'active' | 'passive';

export interface RuntimeSettings {
  runtime: OmpRuntime;
  waitPolicy?: OmpWaitPolicy;
  /** libgomp: GOMP_SPINCOUNT (overrides what OMP_WAIT_POLICY implies). */
  spinCount?: number;
  /** libomp: KMP_BLOCKTIME in ms (Infinity: never block). */
  blocktimeMs?: number;
  /** One libgomp spin iteration (a load and a pause), ns. */
  spinIterNs?: number;
}

export const GOMP_DEFAULT_SPINCOUNT = 300_000;
export const GOMP_ACTIVE_SPINCOUNT = 30_000_000_000;
/** The throttled counts when threads outnumber CPUs: OMP_WAIT_POLICY=active, unset. */
export const GOMP_THROTTLED_ACTIVE = 1_000;
export const GOMP_THROTTLED_DEFAULT = 100;
export const KMP_DEFAULT_BLOCKTIME_MS = 200;
/**
 * One spin iteration: `pause` costs ~10 cycles before Skylake and ~140 after; 1 ns is the
 * pre-Skylake end at ~3 GHz with the load and branch (300,000 spins = 0.3 ms). An assumption of
 * ours, not a documented figure: change it with `spinIterNs`.
 */
export const DEFAULT_SPIN_ITER_NS = 1;

/**
 * The spin before blocking, ns (Infinity: spin forever, 0: block at once), for `threads` threads
 * on `cpus` CPUs as the runtime sees them (a guest's vCPUs).
 */
export function spinBeforeBlockNs(s: RuntimeSettings, threads: number, cpus: number): number {
  if (s.runtime === 'libomp') {
    if (s.waitPolicy === 'passive') return 0;
    if (s.waitPolicy === 'active') return Infinity;
    const ms = s.blocktimeMs ?? KMP_DEFAULT_BLOCKTIME_MS;
    return ms === Infinity ? Infinity : ms * 1e6;
  }
  let count =
    s.spinCount ??
    (s.waitPolicy === 'active'
      ? GOMP_ACTIVE_SPINCOUNT
      : s.waitPolicy === 'passive'
        ? 0
        : GOMP_DEFAULT_SPINCOUNT);
  if (threads > cpus)
    count = Math.min(
      count,
      s.waitPolicy === 'active' ? GOMP_THROTTLED_ACTIVE : GOMP_THROTTLED_DEFAULT,
    );
  return count * (s.spinIterNs ?? DEFAULT_SPIN_ITER_NS);
}
