// A pair's timeline model kept on disk between sessions (the extension's global storage), so a
// returning user's first paint is the model read back (v8.deserialize, tens of ms) instead of the
// pair read, analysed and laid out again (seconds). Only for a pair of files read from disk (a
// .dat, or a trace not open as a document); an entry is used only when both files' size and
// mtime, the settings and the server's own code are what they were when it was written. The
// analysis still runs behind it: findings, diagnostics and the advice arrive as before.

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { TimelineModel } from '../core/view/model';
import type { ServerSettings } from '../protocol/lsp-ext';

/** Entries kept: the most recently written, at most this many ... */
const MAX_ENTRIES = 8;
/** ... and this many bytes together. */
const MAX_TOTAL_BYTES = 256 << 20;
/** A model bigger than this (serialized) is not kept: reading it back would not be quick. */
const MAX_BYTES = 64 << 20;

/** Where a pair's entry lives and what it must have been written for. */
export interface CacheSlot {
  file: string;
  /** The files (path, size, mtime), the settings and the server's code, as one string. */
  stamp: string;
}

/**
 * An entry's file: its stamp first (its length as 4 bytes, little-endian, then its UTF-8), so a
 * stale entry (a file changed since) is known from its first bytes, not after reading and
 * deserializing a model of megabytes; then the body, v8.serialize of a Body.
 */
interface Body {
  /** The server's index key of the pair (pairing.ts: `host@diskMtime|guest@diskMtime`). */
  key: string;
  model: TimelineModel;
}
/** Longer than any stamp cacheSlot makes (paths and settings): a longer one is not written. */
const MAX_STAMP = 1 << 16;

let codeId: string | undefined;
/** The server's own code: a new build never reads an older build's models. */
function serverCode(): string {
  if (codeId === undefined) {
    try {
      codeId = createHash('sha1').update(readFileSync(__filename)).digest('hex');
    } catch {
      codeId = 'unknown';
    }
  }
  return codeId;
}

/** The slot of the pair of files `a` and `b` (either order), or undefined when one is gone. */
export function cacheSlot(
  dir: string,
  a: string,
  b: string,
  settings: ServerSettings,
): CacheSlot | undefined {
  const files: [string, number, number][] = [];
  for (const f of [a, b].sort()) {
    try {
      const st = statSync(f);
      files.push([f, st.size, st.mtimeMs]);
    } catch {
      return undefined;
    }
  }
  const name = createHash('sha1')
    .update(files.map((f) => f[0]).join('\0'))
    .digest('hex');
  return {
    file: path.join(dir, `${name}.timeline`),
    stamp: JSON.stringify({ files, settings, code: serverCode(), v8: process.versions.v8 }),
  };
}

/** The model and index key written for this slot, or undefined (none, stale, unreadable). */
export async function readCached(
  slot: CacheSlot,
): Promise<{ key: string; model: TimelineModel } | undefined> {
  const want = Buffer.from(slot.stamp);
  let f;
  try {
    f = await open(slot.file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = (await f.stat()).size;
    const head = Buffer.alloc(4 + want.length);
    const { bytesRead } = await f.read(head, 0, head.length, 0);
    if (bytesRead < head.length || head.readUInt32LE(0) !== want.length) return undefined;
    if (!head.subarray(4).equals(want)) return undefined; // stale: another file, settings, build
    const body = Buffer.alloc(size - head.length);
    if ((await f.read(body, 0, body.length, head.length)).bytesRead < body.length) return undefined;
    const e = deserialize(body) as Partial<Body> | undefined;
    if (typeof e?.key !== 'string' || e.model === undefined) return undefined;
    return { key: e.key, model: e.model };
  } catch {
    return undefined; // cut short or not ours: rewritten after this session's build
  } finally {
    await f.close();
  }
}

/**
 * Writes a model for its slot (a temporary file renamed over the entry, so a reader never sees
 * half of one), then drops the oldest entries past MAX_ENTRIES or MAX_TOTAL_BYTES. False when it
 * is too big to keep.
 */
export async function writeCached(
  slot: CacheSlot,
  key: string,
  model: TimelineModel,
): Promise<boolean> {
  const stamp = Buffer.from(slot.stamp);
  if (stamp.length > MAX_STAMP) return false;
  const body = serialize({ key, model } satisfies Body);
  if (body.length > MAX_BYTES) return false;
  const length = Buffer.alloc(4);
  length.writeUInt32LE(stamp.length);
  const bytes = Buffer.concat([length, stamp, body]);
  const dir = path.dirname(slot.file);
  await mkdir(dir, { recursive: true });
  const tmp = `${slot.file}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, slot.file);
  const entries = await Promise.all(
    (await readdir(dir))
      .filter((n) => n.endsWith('.timeline'))
      .map(async (n) => {
        const st = await stat(path.join(dir, n));
        return { f: path.join(dir, n), at: st.mtimeMs, bytes: st.size };
      }),
  );
  entries.sort((x, y) => y.at - x.at);
  let total = 0;
  for (const [i, e] of entries.entries()) {
    total += e.bytes;
    if (i >= MAX_ENTRIES || total > MAX_TOTAL_BYTES) await unlink(e.f).catch(() => {});
  }
  return true;
}
