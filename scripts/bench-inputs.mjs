// Deterministic large inputs for the benchmarks, made from real fixtures: a fixture's event lines
// repeated with shifted timestamps (printed exactly as the original), for one file or for a host +
// guest pair shifted together so their clock map (offset and drift) stays the recorded one.

import {
  createWriteStream,
  existsSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

// An event line: everything up to the CPU field and the optional latency column, then the
// timestamp right-aligned in its field (`%12s`-style), then `: name: fields`.
const EVENT_LINE = /^(.*?\[\d+\] (?:\S+ )?)( *(\d+)\.(\d{6}))(: .*)$/;

export function fmtTs(us, width) {
  const sec = Math.floor(us / 1e6);
  const frac = String(us - sec * 1e6).padStart(6, '0');
  return `${sec}.${frac}`.padStart(width);
}

/** The fixture split into a header (written once) and per-line templates (replicated). */
export function parseFixture(file) {
  const text = gunzipSync(readFileSync(file)).toString('utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const header = [];
  const body = []; // { pre, width, us, post } for events, { raw } for other lines
  let events = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const line of lines) {
    const m = EVENT_LINE.exec(line);
    if (m === null) {
      if (events === 0) header.push(line);
      else body.push({ raw: line });
      continue;
    }
    const us = Number(m[3]) * 1e6 + Number(m[4]);
    const width = m[2].length;
    if (fmtTs(us, width) !== m[2]) throw new Error(`timestamp does not round-trip: ${line}`);
    body.push({ pre: m[1], width, us, post: m[5] });
    events++;
    if (us < first) first = us;
    if (us > last) last = us;
  }
  if (events === 0) throw new Error(`${file}: no event lines`);
  // One clock tick past the last event: copies never overlap and never tie at the seam.
  const spanUs = last - first + 1;
  return { header, body, events, spanUs, firstUs: first, lastUs: last };
}

/**
 * Writes `fx` repeated: copy k shifted by k x `shiftUs`, until `nEvents` events (the last copy
 * cut there; Infinity: `copies` whole copies). Returns the events written.
 */
export async function writeCopies(fx, out, { nEvents = Infinity, copies = Infinity, shiftUs }) {
  const shiftOf = typeof shiftUs === 'function' ? shiftUs : (k) => k * shiftUs;
  const ws = createWriteStream(out, { highWaterMark: 4 << 20 });
  const write = async (s) => {
    if (!ws.write(s)) await once(ws, 'drain');
  };
  await write(fx.header.map((l) => l + '\n').join(''));
  let written = 0;
  const batch = [];
  for (let copy = 0; written < nEvents && copy < copies; copy++) {
    const shift = shiftOf(copy);
    for (const l of fx.body) {
      if (l.raw !== undefined) {
        batch.push(l.raw);
      } else {
        if (written === nEvents) break;
        batch.push(l.pre + fmtTs(l.us + shift, l.width) + l.post);
        written++;
      }
      if (batch.length === 8192) {
        batch.push('');
        await write(batch.join('\n'));
        batch.length = 0;
      }
    }
  }
  if (batch.length > 0) {
    batch.push('');
    await write(batch.join('\n'));
  }
  ws.end();
  await once(ws, 'finish');
  return written;
}

/** Reuses `out` when its meta file says it was made from `want`; else undefined. */
export function cached(out, want) {
  const metaFile = out + '.meta.json';
  if (!existsSync(out) || !existsSync(metaFile)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    const same = Object.entries(want).every(([k, v]) => meta[k] === v);
    if (same && statSync(out).size === meta.bytes) return { file: out, ...meta, cached: true };
  } catch {
    // unreadable meta: regenerate
  }
  return undefined;
}

export function saveMeta(out, meta) {
  writeFileSync(out + '.meta.json', JSON.stringify(meta, null, 2) + '\n');
}

/**
 * A host + guest pair from a real pair's report text, each side repeated `copies` times and
 * shifted by the same amount per copy (the longer of the two spans plus a pause of 0-1 s that
 * varies from copy to copy), so guest event k of copy c keeps its recorded distance to the host
 * events of copy c: the clock map's offset is the recorded one. The pauses are uneven so that no
 * other offset (one copy's period) fits the events as well: evenly spaced copies would make the
 * clock estimate ambiguous, as a truly periodic workload would.
 */
export async function generatePair(
  dir,
  hostSource,
  guestSource,
  minHostEvents,
  log,
  { minGuestEvents } = {},
) {
  const host = parseFixture(hostSource);
  const guest = parseFixture(guestSource);
  const copies = Math.ceil(minHostEvents / host.events);
  // A shorter guest: the first copies only (a guest traced for part of the host's span).
  const guestCopies =
    minGuestEvents === undefined
      ? copies
      : Math.min(copies, Math.ceil(minGuestEvents / guest.events));
  const shiftUs = Math.max(host.spanUs, guest.spanUs);
  // The measured drift of host - guest (meta.json beside the fixture): the host side of copy k
  // moves k x shift x (1 + drift), so the offset keeps growing at the recorded rate.
  const meta = JSON.parse(readFileSync(`${hostSource.replace(/\/[^/]*$/, '')}/meta.json`, 'utf8'));
  const driftPpm = meta.alignment?.D_drift_ppm ?? 0;
  const guestShift = [0];
  for (let k = 1; k < copies; k++) {
    // A fixed pseudo-random pause per seam (Knuth's multiplicative hash), 0-1 s.
    const pauseUs = (Math.imul(k, 2654435761) >>> 0) % 1_000_000;
    guestShift.push(guestShift[k - 1] + shiftUs + pauseUs);
  }
  const hostShift = guestShift.map((s) => Math.round(s * (1 + driftPpm * 1e-6)));
  const want = {
    genVersion: 'bench-pair/3',
    hostSource,
    guestSource,
    hostSourceBytes: statSync(hostSource).size,
    guestSourceBytes: statSync(guestSource).size,
    copies,
    driftPpm,
  };
  const hostOut = `${dir}/pair-${copies}x-host.txt`;
  const short = guestCopies < copies;
  const guestOut = `${dir}/pair-${copies}x-guest${short ? `-first${guestCopies}` : ''}.txt`;
  const guestWant = { ...want, side: 'guest', ...(short ? { guestCopies } : {}) };
  const sides = {
    host: cached(hostOut, { ...want, side: 'host' }),
    guest: cached(guestOut, guestWant),
  };
  for (const [side, fx, out, n, shift, w] of [
    ['host', host, hostOut, copies, (k) => hostShift[k], { ...want, side: 'host' }],
    ['guest', guest, guestOut, guestCopies, (k) => guestShift[k], guestWant],
  ]) {
    if (sides[side] !== undefined) continue;
    log(`generating ${path.basename(out)}: ${n} copies`);
    const tmp = out + '.tmp';
    const events = await writeCopies(fx, tmp, { copies: n, shiftUs: shift });
    renameSync(tmp, out);
    const meta = { ...w, bytes: statSync(out).size, events };
    saveMeta(out, meta);
    sides[side] = { file: out, ...meta, cached: false };
  }
  return {
    host: sides.host,
    guest: sides.guest,
    copies,
    guestCopies,
    cached: sides.host.cached !== false && sides.guest.cached !== false,
  };
}
