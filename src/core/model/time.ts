// Timestamps and clocks. A trace's timestamps are exact integers in the trace clock's own unit
// (ns for clocks printed as seconds, raw counts for `x86-tsc` / `counter`), stored relative to a
// per-trace base so that they stay exact in a float64 even for hosts with months of uptime.

/** A timestamp relative to the trace's base, in the trace clock's unit (an exact integer). */
export type Ts = number & { readonly __brand: 'Ts' };
/** A duration in nanoseconds (an integer). */
export type Ns = number & { readonly __brand: 'Ns' };

/** What a timestamp counts. `ns`: nanoseconds (local, global, mono, boot, perf...); `count`: raw ticks. */
export type ClockUnit = 'ns' | 'count';

export interface ClockInfo {
  /** The trace clock's name (`local`, `x86-tsc`, ...) or `unknown` when the format does not say. */
  name: string;
  unit: ClockUnit;
  /** Where the name came from: the file itself, the user, or inferred from how timestamps look. */
  source: 'file' | 'user' | 'inferred';
  /** The finest step the text printed, in `unit` (1000 for a `%.6f` seconds clock, 1 for counts). */
  resolution: number;
  /**
   * The counter rate (Hz) a counting clock's ticks were converted to ns with when the trace was
   * loaded (ImportOptions.tscHz; `unit` is then `ns`); absent when the timestamps are as recorded.
   */
  tscHz?: number;
}

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/**
 * A timestamp split into two exact integers: `hi * 1e9 + lo` in the clock's unit. For seconds-style
 * clocks `hi` is whole seconds and `lo` nanoseconds; for counts it is the count split at 1e9.
 */
export interface SplitTs {
  hi: number;
  lo: number;
}

/**
 * Parses the digits of `s` in [start, end): `123`, `123.456789` (seconds, up to 9 fraction digits).
 * Never goes through `parseFloat` (Perfetto's time.ts documents why). Returns fraction digits count
 * in `fracDigits` (-1 when there is no decimal point), or false when the text is not a timestamp.
 */
export function parseSplitTs(
  s: string,
  start: number,
  end: number,
  out: SplitTs & { fracDigits: number },
): boolean {
  // One pass: the digits are summed while they are checked (this runs once per event line).
  let i = start;
  let hi = 0;
  while (i < end) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    hi = hi * 10 + c;
    i++;
  }
  const intEnd = i;
  const intLen = intEnd - start;
  if (intLen === 0) return false;
  if (i === end) {
    // An integer clock: split the count at 1e9 so both halves stay exact.
    if (intLen <= 9) {
      out.hi = 0;
      out.lo = hi;
    } else {
      if (intLen - 9 > 15) return false; // more than 10^24 ticks is not a timestamp
      out.hi = digitsToInt(s, start, intEnd - 9);
      out.lo = digitsToInt(s, intEnd - 9, intEnd);
    }
    out.fracDigits = -1;
    return true;
  }
  if (s.charCodeAt(i) !== 46 /* . */) return false;
  i++;
  const fracStart = i;
  let lo = 0;
  while (i < end) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return false;
    lo = lo * 10 + c;
    i++;
  }
  const fd = end - fracStart;
  if (fd === 0 || fd > 9 || intLen > 15) return false;
  out.hi = hi;
  out.lo = lo * POW10[9 - fd]!;
  out.fracDigits = fd;
  return true;
}

/**
 * Reads `seconds.fraction` (1-15 digits, then 1-9) from u[q] up to the `:` right after it, into
 * `out` as parseSplitTs would: the `:`'s index, or -1 (out untouched) for any other text, which
 * the caller then reads the general way (parseSplitTs, once the `:` is found). One pass over the
 * digits, where finding the `:` and then parsing read them twice. `u` holds the line's UTF-16
 * code units (ingest/lines.ts LineHandler).
 */
export function readSecondsTs(
  u: Uint16Array,
  q: number,
  n: number,
  out: SplitTs & { fracDigits: number },
): number {
  let i = q;
  let hi = 0;
  for (; i < n; i++) {
    const c = u[i]! - 48;
    if (c < 0 || c > 9) break;
    hi = hi * 10 + c;
  }
  const intLen = i - q;
  if (intLen === 0 || intLen > 15 || i >= n || u[i]! !== 46 /* . */) return -1;
  const f0 = ++i;
  let lo = 0;
  for (; i < n; i++) {
    const c = u[i]! - 48;
    if (c < 0 || c > 9) break;
    lo = lo * 10 + c;
  }
  const fd = i - f0;
  if (fd === 0 || fd > 9 || i >= n || u[i]! !== 58 /* : */) return -1;
  out.hi = hi;
  out.lo = lo * POW10[9 - fd]!;
  out.fracDigits = fd;
  return i;
}

function digitsToInt(s: string, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) v = v * 10 + (s.charCodeAt(i) - 48);
  return v;
}

/** Exact absolute value of a split timestamp. */
export function splitToBigInt(t: SplitTs): bigint {
  return BigInt(t.hi) * 1_000_000_000n + BigInt(t.lo);
}

/** Formats an absolute timestamp the way trace-cmd prints it: `330.426272` (ns clocks) or `12014651026378`. */
export function formatAbsTs(abs: bigint, unit: ClockUnit, fracDigits = 6): string {
  if (unit === 'count') return abs.toString();
  const neg = abs < 0n;
  const a = neg ? -abs : abs;
  const sec = a / 1_000_000_000n;
  const ns = a % 1_000_000_000n;
  const frac = ns.toString().padStart(9, '0').slice(0, fracDigits);
  return `${neg ? '-' : ''}${sec}${fracDigits > 0 ? '.' + frac : ''}`;
}

/** Seconds as a decimal string with `digits` fraction digits, from an integer number of ns. */
export function formatNsAsSeconds(ns: number, digits = 6): string {
  return formatAbsTs(BigInt(Math.round(ns)), 'ns', digits);
}

/**
 * A TSC count as ns by trace-cmd's TSC2NSEC option: (ticks * mult) >> shift, exactly (the kernel's
 * mul_u64_u32_shr, as trace-cmd's trace-input.c timestamp_calc applies it). `ticks` is an exact
 * integer below 2^53, `mult` a u32; the 85-bit product is summed in 16-bit pieces so that no step
 * rounds. trace-cmd adds neither the option's offset (trace-cmd record writes 0) nor anything else.
 */
export function tscToNs(ticks: number, mult: number, shift: number): number {
  const a = Math.floor(ticks / 4294967296); // ticks = a * 2^32 + b1 * 2^16 + b0
  const b = ticks - a * 4294967296;
  const b1 = Math.floor(b / 65536);
  const b0 = b - b1 * 65536;
  // ticks * mult = q2 * 2^32 + d1 * 2^16 + d0, carried in base 2^16 (each partial < 2^53).
  const p0 = b0 * mult;
  const c0 = Math.floor(p0 / 65536);
  const d0 = p0 - c0 * 65536;
  const q1 = b1 * mult + c0;
  const c1 = Math.floor(q1 / 65536);
  const d1 = q1 - c1 * 65536;
  const q2 = a * mult + c1;
  if (shift >= 32) return Math.floor(q2 / 2 ** (shift - 32));
  return q2 * 2 ** (32 - shift) + Math.floor((d1 * 65536 + d0) / 2 ** shift);
}

/** A counter rate as trace-cmd's TSC2NSEC keeps it: ns = (ticks * mult) >> shift, mult a u32. */
export interface TickRate {
  mult: number;
  shift: number;
}

/**
 * The multiply-shift pair for a counter running at `hz` (as the kernel's clocks_calc_mult_shift
 * makes one): the largest shift whose mult still fits 32 bits, so the rate is kept to 1 part in
 * 2^32 or better (2.4454 GHz: mult 3,512,691,008, shift 33, 0.12 ppb off: 0.4 µs an hour).
 */
export function tickRate(hz: number): TickRate {
  if (!(hz > 0) || !Number.isFinite(hz)) throw new RangeError(`not a counter rate: ${hz}`);
  let shift = 0;
  let mult = Math.round(1e9 / hz);
  for (let s = 0; s <= 62; s++) {
    const m = Math.round((1e9 * 2 ** s) / hz);
    if (m >= 4294967296) break;
    shift = s;
    mult = m;
  }
  if (mult < 1) throw new RangeError(`counter rate ${hz} Hz is above what ns can resolve`);
  return { mult, shift };
}

/**
 * Ticks to ns relative to a base, exactly as tscToNs of the absolute count: a trace's first
 * timestamp `baseTicks` (any size, a bigint once) fixes `baseNs` = (baseTicks * mult) >> shift and
 * the remainder of that shift; each later timestamp, `d` ticks after the base (|d| < 2^53), is then
 * converted with numbers only: ((baseTicks + d) * mult >> shift) - baseNs. Hosts with months of
 * uptime count past 2^53 ticks; their traces' spans do not.
 */
export class TicksToNs {
  /** The base's ns: (baseTicks * mult) >> shift. */
  readonly baseNs: bigint;
  /** The base's remainder (baseTicks * mult) mod 2^shift, split at 2^32. */
  private readonly remHi: number;
  private readonly remLo: number;

  constructor(
    baseTicks: bigint,
    readonly rate: TickRate,
  ) {
    const p = baseTicks * BigInt(rate.mult);
    this.baseNs = p >> BigInt(rate.shift);
    const rem = p - (this.baseNs << BigInt(rate.shift));
    this.remHi = Number(rem >> 32n);
    this.remLo = Number(rem & 0xffffffffn);
  }

  /** ns after baseNs of the timestamp `d` ticks after the base (d may be negative). */
  rel(d: number): number {
    const { mult, shift } = this.rate;
    // d * mult = q * 2^32 + (d1 * 2^16 + d0), in 16-bit pieces as tscToNs does (none rounds).
    const a = Math.floor(d / 4294967296);
    const b = d - a * 4294967296;
    const b1 = Math.floor(b / 65536);
    const b0 = b - b1 * 65536;
    const p0 = b0 * mult;
    const c0 = Math.floor(p0 / 65536);
    const q1 = b1 * mult + c0;
    const c1 = Math.floor(q1 / 65536);
    // Plus the base's remainder: low 32 bits with their carry, high part.
    let lo = (q1 - c1 * 65536) * 65536 + (p0 - c0 * 65536) + this.remLo;
    let q = a * mult + c1 + this.remHi;
    if (lo >= 4294967296) {
      lo -= 4294967296;
      q += 1;
    }
    if (shift >= 32) return Math.floor(q / 2 ** (shift - 32));
    return q * 2 ** (32 - shift) + Math.floor(lo / 2 ** shift);
  }
}

/** tscToNs on a bigint (any size): the reference the split arithmetic is checked against. */
export function tscToNsBig(ticks: bigint, mult: number, shift: number): bigint {
  return (ticks * BigInt(mult)) >> BigInt(shift);
}

const DURATION_UNITS: readonly [number, string][] = [
  [1e9, 's'],
  [1e6, 'ms'],
  [1e3, 'µs'],
];

/**
 * A duration in ns the way people read it: the largest unit that keeps the value at least 1, four
 * significant digits, trailing zeros dropped: `31.4 s`, `6.245 ms`, `820 µs`, `412 ns`.
 */
export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  const a = Math.abs(ns);
  for (const [scale, name] of DURATION_UNITS) {
    if (a >= scale) return `${trimSignificant(ns / scale)} ${name}`;
  }
  return `${Math.round(ns)} ns`;
}

/** Four significant digits, no exponent, trailing fraction zeros dropped (999.96 → "1000"). */
function trimSignificant(v: number): string {
  const a = Math.abs(v);
  const decimals = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3;
  const s = v.toFixed(decimals);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** A raw count with thousands separators: `13,997,267 ticks`. */
export function formatTicks(n: number): string {
  return `${formatCount(n)} ticks`;
}

/**
 * A whole number with thousands separators, `13,997,267` (rounded), as en-US Intl prints it but
 * without loading ICU's number formatting: that alone costs a short command ~25 ms at start-up.
 */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const r = Math.round(n);
  // Shortest round-trip digits as Intl prints them; past 1e21 String() turns to an exponent.
  return groupDigits(Math.abs(r) < 1e21 ? String(r) : BigInt(r).toString());
}

/** An integer's decimal digits in groups of three, as en-US prints them: `-1,234,567`. */
function groupDigits(digits: string): string {
  const neg = digits.startsWith('-');
  const d = neg ? digits.slice(1) : digits;
  let out = d.slice(0, ((d.length - 1) % 3) + 1);
  for (let i = out.length; i < d.length; i += 3) out += ',' + d.slice(i, i + 3);
  return neg ? '-' + out : out;
}

/** A duration in the trace clock's unit: seconds-style for ns clocks, separated ticks for counts. */
export function formatClockDuration(v: number, unit: ClockUnit): string {
  return unit === 'ns' ? formatDuration(v) : formatTicks(v);
}

/**
 * An exact amount between two clocks (a clock map's host - guest offset): seconds to the ns
 * (`4702.085152726 s`) for ns clocks, separated ticks for counts. Not rounded as durations are:
 * the digits are the map.
 */
export function formatClockOffset(v: bigint, unit: ClockUnit): string {
  return unit === 'ns' ? `${formatAbsTs(v, 'ns', 9)} s` : `${groupDigits(v.toString())} ticks`;
}

/** What a report says once when its times are counts: how to read them in seconds instead. */
export const TSC_RATE_HINT =
  'times are in clock ticks: give the counter rate (--tsc-hz HZ on the command line, the ' +
  'vcpuLens.tscHz setting in VS Code) to read them in seconds';
