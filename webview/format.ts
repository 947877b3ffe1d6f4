// How the timeline prints times: durations through the engine's formatDuration / formatTicks (one
// way for every view), axis ticks relative to the model's start, absolute stamps as the trace does.

import { formatClockDuration, formatDuration } from '../src/core/model/time';
import type { TimelineMeta } from '../src/protocol/webview';

export class Format {
  constructor(private readonly meta: TimelineMeta) {}

  /** A duration people read: 31.4 s, 6.245 ms, 820 µs; ticks with separators on counter clocks. */
  dur(v: number): string {
    return formatClockDuration(v, this.meta.unit);
  }

  /**
   * An axis tick (model-relative). Ticks are round numbers, so the shortest form says it: "4 s",
   * "250 ms"; counter clocks print ticks with separators.
   */
  tick(v: number): string {
    if (this.meta.unit !== 'ns') return Math.round(v).toLocaleString('en-US');
    return v === 0 ? '0' : formatDuration(v);
  }

  /** Said once beside the axis: what its numbers are. */
  axisUnit(): string {
    return this.meta.unit === 'ns' ? 'time from start' : 'TSC ticks from start';
  }

  /** Without a TSC rate, how to get seconds; nothing when the trace has them. */
  unitHint(): string | undefined {
    return this.meta.unit === 'ns'
      ? undefined
      : "Times are TSC ticks: set vcpuLens.tscHz (or the CLI's --tsc-hz HZ) to read seconds.";
  }

  /** An absolute timestamp: origin (exact decimal string) + offset, as the trace prints it. */
  abs(origin: string, offset: number): string {
    let v: bigint;
    try {
      v = BigInt(origin) + BigInt(Math.round(offset));
    } catch {
      return '?';
    }
    if (this.meta.unit !== 'ns') return v.toString();
    const neg = v < 0n;
    const a = neg ? -v : v;
    const s = a / 1_000_000_000n;
    const f = (a % 1_000_000_000n).toString().padStart(9, '0');
    return `${neg ? '-' : ''}${s}.${f}`;
  }

  /** A model time with the host's absolute stamp. */
  time(v: number): string {
    return `${this.meta.unit === 'ns' ? formatDuration(v) : this.tick(v)} (host ${this.abs(this.meta.hostOriginAbs, v)})`;
  }
}
