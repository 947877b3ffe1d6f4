// A compact, JSON-safe encoding of a timeline model, for embedding in the standalone HTML report:
// each integer column is delta- and zigzag-encoded as LEB128 varints, then base64. Intervals cost
// about 6-8 bytes; the reader checks the version and every column's length.

import { newLinkColumns } from './link-columns';
import type { LaneColumns, TimelineModel } from './model';
import type { TimelineMeta } from './wire';

export const MODEL_CODEC = 'vcpu-lens.timeline-model/1';

export interface EncodedModel {
  codec: typeof MODEL_CODEC;
  meta: TimelineMeta;
  strings: string[];
  /** Per lane: interval count and the columns gap (start - previous end), duration, state, who+1, aux+1. */
  lanes: { n: number; cols: string }[];
  links: { n: number; cols: string };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INV = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INV[B64.charCodeAt(i)] = i;

/** Grows a byte buffer of varints. */
class VarintWriter {
  buf = new Uint8Array(1024);
  n = 0;
  /** A signed integer (|v| < 2^52), zigzag-encoded. */
  int(v: number): void {
    let z = v < 0 ? -2 * v - 1 : 2 * v;
    if (this.n + 8 > this.buf.length) {
      const b = new Uint8Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    while (z >= 128) {
      this.buf[this.n++] = (z % 128) | 128;
      z = Math.floor(z / 128);
    }
    this.buf[this.n++] = z;
  }
  base64(): string {
    const b = this.buf;
    let s = '';
    const parts: string[] = [];
    for (let i = 0; i < this.n; i += 3) {
      const x =
        (b[i]! << 16) | ((i + 1 < this.n ? b[i + 1]! : 0) << 8) | (i + 2 < this.n ? b[i + 2]! : 0);
      s += B64[(x >> 18) & 63]! + B64[(x >> 12) & 63]!;
      s += i + 1 < this.n ? B64[(x >> 6) & 63]! : '=';
      s += i + 2 < this.n ? B64[x & 63]! : '=';
      if (s.length > 8192) {
        parts.push(s);
        s = '';
      }
    }
    parts.push(s);
    return parts.join('');
  }
}

class VarintReader {
  private bytes: Uint8Array;
  private p = 0;
  constructor(b64: string) {
    const clean = b64.replace(/=+$/, '');
    const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
    let o = 0;
    for (let i = 0; i < clean.length; i += 4) {
      let x = 0;
      for (let k = 0; k < 4; k++) {
        const c = i + k < clean.length ? clean.charCodeAt(i + k) : 65;
        const v = c < 128 ? B64_INV[c]! : -1;
        if (v < 0) throw new Error(`timeline model: bad base64 at ${i + k}`);
        x = (x << 6) | v;
      }
      if (o < out.length) out[o++] = (x >> 16) & 255;
      if (o < out.length) out[o++] = (x >> 8) & 255;
      if (o < out.length) out[o++] = x & 255;
    }
    this.bytes = out;
  }
  int(): number {
    let z = 0;
    let mul = 1;
    for (;;) {
      if (this.p >= this.bytes.length) throw new Error('timeline model: column ends early');
      const b = this.bytes[this.p++]!;
      z += (b & 127) * mul;
      if (b < 128) break;
      mul *= 128;
    }
    return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
  }
}

export function encodeModel(m: TimelineModel): EncodedModel {
  const lanes = m.lanes.map((c) => {
    const w = new VarintWriter();
    // Starts as the gap after the previous interval's end: 0 (one byte) for contiguous lanes.
    let prev = 0;
    for (let i = 0; i < c.start.length; i++) {
      w.int(c.start[i]! - prev);
      prev = c.end[i]!;
    }
    for (let i = 0; i < c.start.length; i++) w.int(c.end[i]! - c.start[i]!);
    for (let i = 0; i < c.start.length; i++) w.int(c.state[i]!);
    for (let i = 0; i < c.start.length; i++) w.int(c.who[i]! + 1);
    for (let i = 0; i < c.start.length; i++) w.int(c.aux[i]! + 1);
    return { n: c.start.length, cols: w.base64() };
  });
  const L = m.links;
  const w = new VarintWriter();
  let prev = 0;
  for (let i = 0; i < L.start.length; i++) {
    w.int(L.start[i]! - prev);
    prev = L.start[i]!;
  }
  for (let i = 0; i < L.start.length; i++) w.int(L.end[i]! - L.start[i]!);
  for (const col of [L.vcpu, L.guestPid, L.guestComm, L.pcpu, L.preemptorPid, L.preemptorComm])
    for (let i = 0; i < L.start.length; i++) w.int(col[i]!);
  for (let i = 0; i < L.start.length; i++) w.int(L.preempted[i]!);
  return {
    codec: MODEL_CODEC,
    meta: m.meta,
    strings: m.strings,
    lanes,
    links: { n: L.start.length, cols: w.base64() },
  };
}

export function decodeModel(e: EncodedModel): TimelineModel {
  if (e.codec !== MODEL_CODEC)
    throw new Error(`timeline model: expected ${MODEL_CODEC}, got ${String(e.codec)}`);
  if (e.lanes.length !== e.meta.lanes.length)
    throw new Error('timeline model: lane count does not match its metadata');
  const lanes: LaneColumns[] = e.lanes.map(({ n, cols }) => {
    const r = new VarintReader(cols);
    const c: LaneColumns = {
      start: new Float64Array(n),
      end: new Float64Array(n),
      state: new Uint8Array(n),
      who: new Int32Array(n),
      aux: new Int32Array(n),
    };
    const gap = new Float64Array(n);
    for (let i = 0; i < n; i++) gap[i] = r.int();
    for (let i = 0; i < n; i++) c.end[i] = r.int(); // durations, for now
    let prev = 0;
    for (let i = 0; i < n; i++) {
      c.start[i] = prev + gap[i]!;
      c.end[i] = c.start[i]! + c.end[i]!;
      prev = c.end[i]!;
    }
    for (let i = 0; i < n; i++) c.state[i] = r.int();
    for (let i = 0; i < n; i++) c.who[i] = r.int() - 1;
    for (let i = 0; i < n; i++) c.aux[i] = r.int() - 1;
    return c;
  });
  const n = e.links.n;
  const r = new VarintReader(e.links.cols);
  const links = newLinkColumns(n);
  let prev = 0;
  for (let i = 0; i < n; i++) links.start[i] = prev += r.int();
  for (let i = 0; i < n; i++) links.end[i] = links.start[i]! + r.int();
  for (const col of [
    links.vcpu,
    links.guestPid,
    links.guestComm,
    links.pcpu,
    links.preemptorPid,
    links.preemptorComm,
  ])
    for (let i = 0; i < n; i++) col[i] = r.int();
  for (let i = 0; i < n; i++) links.preempted[i] = r.int();
  return { meta: e.meta, strings: e.strings, lanes, links };
}
