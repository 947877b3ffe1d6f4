// The timestamps `trace-cmd report` prints for a .dat, which are not always the recorded ones: a
// guest file with TIME_SHIFT (trace-cmd's host-guest time sync) is printed in host time, and a
// file with TSC2NSEC in nanoseconds (trace-cmd's trace-input.c: timestamp_host_sync,
// timestamp_correction_calc, then the tsc2nsec multiply-shift). The model keeps the recorded
// clock (the analysis maps guest to host itself), TSC counts converted to ns unless loaded with
// `recordedTicks`; `vcpu-lens dump` loads them so and uses this to print what trace-cmd prints.

import type { ClockUnit } from '../../model/time';
import type { Trace } from '../../model/trace';

interface Sample {
  time: bigint;
  offset: bigint;
  scaling: bigint;
  fraction: bigint;
}

/** TRACECMD_TSYNC_FLAG_INTERPOLATE: offsets between samples are interpolated. */
const INTERPOLATE = 1;

export interface ReportClock {
  unit: ClockUnit;
  /** The printed timestamp of an event recorded at `abs` on `cpu`. */
  at(abs: bigint, cpu: number): bigint;
}

/** How trace-cmd report prints this trace's timestamps, or undefined when it prints them as recorded. */
export function reportClock(t: Trace): ReportClock | undefined {
  const d = t.dat;
  if (d === undefined || (d.timeShift === undefined && d.tsc2nsec === undefined)) return undefined;
  const cpus: Sample[][] = (d.timeShift?.cpus ?? []).map((c) =>
    c.times.map((time, k) => ({
      time: BigInt(time),
      offset: BigInt.asIntN(64, BigInt(c.offsets[k]!)),
      scaling: BigInt(c.scalings[k]!),
      fraction: BigInt(c.fractions[k] ?? 0),
    })),
  );
  const flags = d.timeShift?.flags ?? 0;
  const tsc = d.tsc2nsec;
  const mult = tsc !== undefined ? BigInt(tsc.mult) : 0n;
  const shift = tsc !== undefined ? BigInt(tsc.shift) : 0n;
  if (tsc?.applied === true && cpus.length === 0) return undefined; // already what report prints
  return {
    unit: tsc !== undefined ? 'ns' : t.clock.unit,
    at(abs, cpu) {
      let ts = abs;
      // Converted at load: back to the first tick of that ns (exact for the conversion itself;
      // the time shift of a guest may then land 1 ns off, which is why dump keeps the ticks).
      if (tsc?.applied === true) ts = ((ts << shift) + mult - 1n) / mult;
      const s = cpus[cpu];
      if (s !== undefined && s.length > 0) ts = hostSync(ts, s, flags);
      // mul_u64_u32_shr: a 96-bit product, no wrap; report does not add the option's offset.
      if (tsc !== undefined) ts = (ts * mult) >> shift;
      return ts;
    },
  };
}

function correction(ts: bigint, flags: number, min: Sample, max: Sample): bigint {
  let cor = min.offset;
  if ((flags & INTERPOLATE) !== 0) {
    const delta = max.time - min.time;
    if (delta !== 0n) {
      const off = (ts - min.time) * (max.offset - min.offset);
      cor = min.offset + cdiv(off + cdiv(delta, 2n), delta);
    }
  }
  const scaling = min.scaling === 0n ? 1n : min.scaling;
  // As in C: unsigned 64-bit arithmetic, wrapping.
  return BigInt.asUintN(64, (BigInt.asUintN(64, ts * scaling) >> min.fraction) + cor);
}

/** C's truncating division (BigInt division truncates too; named for the reader). */
function cdiv(a: bigint, b: bigint): bigint {
  return a / b;
}

/**
 * timestamp_host_sync's search, step for step (bigint times, so not model/search.ts): a sample
 * at exactly `ts` stops it there, where a bound would take the last of equal samples.
 */
function hostSync(ts: bigint, s: Sample[], flags: number): bigint {
  if (s.length === 1) return BigInt.asUintN(64, ts + s[0]!.offset);
  if (s.length === 2) return correction(ts, flags, s[0]!, s[1]!);
  if (ts <= s[0]!.time) return correction(ts, flags, s[0]!, s[1]!);
  if (ts >= s[s.length - 1]!.time) return correction(ts, flags, s[s.length - 2]!, s[s.length - 1]!);
  let min = 0;
  let max = s.length - 1;
  let mid = (min + max) >> 1;
  while (min <= max) {
    if (ts < s[mid]!.time) max = mid - 1;
    else if (ts > s[mid]!.time) min = mid + 1;
    else break;
    mid = (min + max) >> 1;
  }
  return correction(ts, flags, s[mid]!, s[mid + 1]!);
}
