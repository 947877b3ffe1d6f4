// Pairing and caches: which trace is the other machine's (an explicit pair, or `host.*` beside
// `guest.*`), the pair's analysis cached per pair of versions, and its timeline index.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { analyzeGuestOnly } from '../core/analyze/guest-only';
import { analyzePair, PairOptions, withAdvice } from '../core/analyze/pair';
import { parseVcpuMapFlag } from '../core/correlate/vcpu-map';
import { withOwnTaskIntervals } from '../core/timeline/build';
import { TimelineIndex } from '../core/view/lod';
import { adviceMeta, buildTimelineModel } from '../core/view/model';
import type { TimelineMeta } from '../core/view/wire';
import { filePath, nameOf, PairedAnalysis, PairSide, Server, ServerOps } from './context';
import { CacheSlot, cacheSlot, readCached, writeCached } from './timeline-cache';
import { roleOf, siblingName } from './trace-doc';

/** The longest a pair painted from the cache holds its analysis back for its page to draw. */
const HOLD_MS = 10_000;

/** What a request about an unpaired trace answers. */
export const NO_PAIR =
  'open or pick the other machine’s trace (vCPU Lens: Pair Host and Guest Traces…), or name them host.* and guest.*';

type PairingOps = Pick<
  ServerOps,
  'pairOf' | 'loadFromDisk' | 'pairOptions' | 'analysisFor' | 'timelineFor' | 'saveTimeline'
>;

export function pairingOps(s: Server): PairingOps {
  const { states, analyses, indexes, log } = s;
  /** The meta of each index built here as it was built (the cache keeps it before any advice). */
  const builtMeta = new WeakMap<TimelineIndex, TimelineMeta>();
  /** Cache slots (file and stamp) read in this process: their index key when one was there. */
  const readSlots = new Map<string, Promise<string | undefined>>();
  /**
   * Pairs painted from the cache whose page has not drawn yet (by cache file): their analysis
   * (asked by the status bar, a hover...) waits until the page asks for the advice, which it does
   * once its lanes are drawn, or HOLD_MS, so the page's requests never queue behind it.
   */
  const holds = new Map<string, { until: Promise<void>; release: () => void }>();

  /** The other machine's trace for `uri`: explicit pair, else the sibling file. */
  const pairOf = async (uri: string): Promise<PairSide | undefined> => {
    const other = partnerUri(s, uri);
    if (other === undefined) return undefined;
    const open = states.get(other);
    if (open?.parsed !== undefined)
      return {
        key: open.key,
        uri: other,
        trace: open.parsed.trace,
        role: open.parsed.role,
        timelines: open.parsed.timelines,
      };
    if (open !== undefined) return undefined; // open, not parsed yet
    return loadFromDisk(other);
  };

  /** A trace that is not an open document (a pair, a .dat): read from its file, cached by mtime. */
  const loadFromDisk = async (uri: string): Promise<PairSide | undefined> => {
    const file = filePath(uri);
    if (file === undefined || !existsSync(file)) return undefined;
    const t0 = Date.now();
    const fresh = !s.diskCache.has(file);
    const read = await s.readFromDisk(file);
    if ('cancelled' in read) return undefined;
    const trace = read.result.traces[0];
    if (trace === undefined) return undefined;
    if (fresh) log(`read ${path.basename(file)} from disk in ${Date.now() - t0} ms`);
    return {
      key: `${uri}@disk${read.mtimeMs}`,
      uri,
      trace,
      role: roleOf(trace, path.basename(file)),
    };
  };

  const pairOptions = (): PairOptions | string => {
    const o: PairOptions = {};
    const { vcpuMap, clockOffset } = s.settings;
    if (vcpuMap.trim() !== '') {
      const m = parseVcpuMapFlag(vcpuMap);
      if (typeof m === 'string') return `vcpuLens.vcpuMap: ${m}`;
      o.vcpuMap = m;
    }
    if (clockOffset.trim() !== '') {
      if (!/^-?\d+$/.test(clockOffset.trim()))
        return `vcpuLens.clockOffset: a whole number in the traces' unit, not '${clockOffset}'`;
      o.offset = BigInt(clockOffset.trim());
    }
    return o;
  };

  /**
   * The analysis of `uri` with its pair, cached per pair of versions. Its advice (the what-if: the
   * simulator run many times) is computed when first asked for and kept with it.
   */
  const analysisFor = async (
    uri: string,
    advice?: 'advice',
  ): Promise<PairedAnalysis | undefined> => {
    await held(uri, advice);
    // An open document, or a file on disk (a .dat in the custom editor, a pair not open). Both
    // files are read at once (each on its own worker thread), not one after the other.
    const st = states.get(uri);
    const [me, other]: [PairSide | undefined, PairSide | undefined] = await Promise.all([
      st?.parsed !== undefined
        ? {
            key: st.key,
            uri,
            trace: st.parsed.trace,
            role: st.parsed.role,
            timelines: st.parsed.timelines,
          }
        : st === undefined
          ? loadFromDisk(uri)
          : undefined,
      pairOf(uri),
    ]);
    if (me === undefined) return undefined;
    if (other === undefined)
      // A guest trace with no host trace to pair (none named, none beside it): guest-only. One
      // whose pair is not read yet (or unreadable) waits for it, as before.
      return me.role === 'guest' && partnerUri(s, uri) === undefined ? guestOnlyFor(me) : undefined;
    // Roles: from content and names; when both or neither claim host, the file names decide.
    // Read meanwhile (asked before the cache was): the analysis itself waits all the same.
    await held(uri, advice);
    let [host, guest] = me.role === 'guest' || other.role === 'host' ? [other, me] : [me, other];
    if (host.role === 'guest' && guest.role === 'host') [host, guest] = [guest, host];
    const key = `${host.key}|${guest.key}`;
    if (!analyses.has(key)) {
      const opts = pairOptions();
      if (typeof opts === 'string') {
        log(opts);
        analyses.set(key, undefined);
      } else {
        const t0 = Date.now();
        // The open documents' timelines, not built again; the host's thread intervals copied, as
        // the analysis keeps only its vCPU threads' (and the document's hovers read them all).
        const a = analyzePair(host.trace, guest.trace, {
          ...opts,
          deferAdvice: true,
          timelines: {
            host: host.timelines !== undefined ? withOwnTaskIntervals(host.timelines) : undefined,
            guest: guest.timelines,
          },
        });
        log(`analysed ${nameOf(host.uri)} + ${nameOf(guest.uri)} in ${Date.now() - t0} ms`);
        analyses.set(key, { analysis: a, advised: false });
      }
    }
    const entry = analyses.get(key);
    if (entry === undefined) return undefined;
    if (advice === 'advice' && !entry.advised) {
      const t0 = Date.now();
      const opts = pairOptions();
      entry.analysis = withAdvice(entry.analysis, typeof opts === 'string' ? {} : opts.advice);
      entry.advised = true;
      log(`advice for ${nameOf(host.uri)} + ${nameOf(guest.uri)} in ${Date.now() - t0} ms`);
    }
    return {
      analysis: entry.analysis,
      key,
      advised: entry.advised,
      host: host.trace,
      hostUri: host.uri,
      guestUri: guest.uri,
    };
  };

  /**
   * A guest trace alone: vCPU absence inferred from its own events (core/analyze/guest-only.ts),
   * the host a model of it. Cached per version like a pair; `hostUri` is the guest's own (the
   * modelled host has no file), `guestOnly` says so to every presenter.
   */
  const guestOnlyFor = (me: PairSide): PairedAnalysis | undefined => {
    const key = `guest-only|${me.key}`;
    if (!analyses.has(key)) {
      const t0 = Date.now();
      const opts = pairOptions();
      // The advice is computed with the analysis: the guest-only what-if weighs it against a
      // host CPU more or fewer, which the pair mode's deferred advice does not.
      const a = analyzeGuestOnly(me.trace, {
        ...(me.timelines !== undefined ? { timelines: me.timelines } : {}),
        ...(typeof opts !== 'string' && opts.advice !== undefined ? { advice: opts.advice } : {}),
      });
      log(`analysed ${nameOf(me.uri)} alone (guest-only, inferred) in ${Date.now() - t0} ms`);
      analyses.set(key, { analysis: a, advised: true });
    }
    const entry = analyses.get(key);
    if (entry === undefined) return undefined;
    return {
      analysis: entry.analysis,
      key,
      advised: true,
      host: entry.analysis.host,
      hostUri: me.uri,
      guestUri: me.uri,
      guestOnly: true,
    };
  };

  /**
   * The timeline of a trace and its pair: the engine's model and level-of-detail index. Its first
   * paint needs no advice (the what-if): without `advice` a model built before the advice says
   * `advicePending`, and the page asks for it once it has drawn; with `advice` it is added.
   */
  const timelineFor = async (uri: string, advice?: 'advice'): Promise<TimelineIndex | string> => {
    // A returning user's pair: its model as the last session built it, before the analysis.
    if (advice === undefined) {
      const cached = await fromCache(uri);
      if (cached !== undefined) return cached;
    }
    const a = await analysisFor(uri, advice);
    if (a === undefined) return `no pair for this trace: ${NO_PAIR}`;
    let index = indexes.get(a.key);
    if (index === undefined) {
      const t0 = Date.now();
      const title =
        a.guestOnly === true
          ? `${nameOf(a.guestUri)} (guest only, inferred)`
          : `${nameOf(a.hostUri)} + ${nameOf(a.guestUri)}`;
      const model = buildTimelineModel(a.analysis, { title });
      if (!a.advised) model.meta.advicePending = true;
      index = new TimelineIndex(model);
      builtMeta.set(index, structuredClone(model.meta));
      // One index per pair of versions: drop the ones of older versions.
      indexes.clear();
      indexes.set(a.key, index);
      log(`timeline of ${title} in ${Date.now() - t0} ms`);
    }
    const meta = index.model.meta;
    if (a.advised && meta.advicePending === true) {
      delete meta.dop;
      delete meta.whatIf;
      Object.assign(meta, adviceMeta(a.analysis, index.model));
      delete meta.advicePending;
    }
    return index;
  };

  /** The cache slot of `uri`'s pair: both files read from disk (neither open as a document). */
  const slotOf = (uri: string): CacheSlot | undefined => {
    const dir = s.timelineCacheDir;
    if (dir === undefined || states.has(uri)) return undefined;
    const other = partnerUri(s, uri);
    if (other === undefined || states.has(other)) return undefined;
    const [a, b] = [filePath(uri), filePath(other)];
    return a === undefined || b === undefined ? undefined : cacheSlot(dir, a, b, s.settings);
  };

  /**
   * The index of `uri`'s pair from the timeline cache (read once per slot and process), also
   * put where the analysis looks for its index (its key), so the model is not built again;
   * undefined when there is none (or it was dropped since: a file changed).
   */
  const fromCache = async (uri: string): Promise<TimelineIndex | undefined> => {
    const slot = slotOf(uri);
    if (slot === undefined) return undefined;
    const id = `${slot.file}\n${slot.stamp}`;
    let read = readSlots.get(id);
    if (read === undefined) {
      // Held from the start of the read: a status asked meanwhile does not start the analysis.
      const hold = holdFor(slot.file, nameOf(uri));
      readSlots.set(id, (read = loadCached(slot)));
      void read.then((key) => (key === undefined ? hold.end() : hold.arm()));
    }
    const key = await read;
    return key === undefined ? undefined : indexes.get(key);
  };

  /** Reads a slot (once: callers share it) into `indexes`; its index key, or undefined. */
  const loadCached = async (slot: CacheSlot): Promise<string | undefined> => {
    const t0 = Date.now();
    const hit = await readCached(slot).catch(() => undefined);
    if (hit === undefined) return undefined;
    if (!indexes.has(hit.key)) {
      indexes.clear();
      indexes.set(hit.key, new TimelineIndex(hit.model));
      log(`timeline of ${hit.model.meta.title} from the cache in ${Date.now() - t0} ms`);
    }
    return hit.key;
  };

  /**
   * A hold on `file`'s pair: `end` lets its analysis go (no cache entry, or its page drew);
   * `arm` (an entry read) lets it go after HOLD_MS at the latest.
   */
  const holdFor = (
    file: string,
    name: string,
  ): { end: (why?: string) => void; arm: () => void } => {
    let release!: () => void;
    const until = new Promise<void>((r) => (release = r));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const end = (why?: string): void => {
      if (holds.get(file)?.until !== until) return;
      holds.delete(file);
      if (timer !== undefined) clearTimeout(timer);
      if (why !== undefined) log(`timeline of ${name}: ${why}, its analysis may start`);
      release();
    };
    holds.set(file, { until, release: () => end('drawn from the cache') });
    const arm = (): void => {
      timer = setTimeout(() => end(`not drawn in ${HOLD_MS} ms`), HOLD_MS);
      timer.unref();
    };
    return { end, arm };
  };

  /**
   * Waits while `uri`'s pair is held for its page (its cache entry looked at first, as the status
   * bar may ask before the view does); the advice (the page drew) releases it.
   */
  const held = async (uri: string, advice?: 'advice'): Promise<void> => {
    if (s.timelineCacheDir === undefined) return;
    // The cache first (read once, shared): an entry there holds the pair, asked before or not.
    if (advice === undefined) await fromCache(uri);
    if (holds.size === 0) return;
    const slot = slotOf(uri);
    const hold = slot === undefined ? undefined : holds.get(slot.file);
    if (hold === undefined) return;
    if (advice === 'advice') hold.release();
    else await hold.until;
  };

  const saveTimeline = async (uri: string, index: TimelineIndex): Promise<void> => {
    const meta = builtMeta.get(index);
    const slot = slotOf(uri);
    const key = [...indexes].find(([, i]) => i === index)?.[0];
    if (meta === undefined || slot === undefined || key === undefined) return;
    builtMeta.delete(index);
    const t0 = Date.now();
    try {
      const kept = await writeCached(slot, key, { ...index.model, meta });
      if (kept) log(`timeline of ${meta.title} kept for the next session in ${Date.now() - t0} ms`);
    } catch (e) {
      log(`timeline of ${meta.title} not kept: ${(e as Error).message}`);
    }
  };

  return { pairOf, loadFromDisk, pairOptions, analysisFor, timelineFor, saveTimeline };
}

/** The uri of the other machine's trace `uri` is paired with (explicit, else an existing sibling). */
function partnerUri(s: Server, uri: string): string | undefined {
  const named = s.pairs.get(uri);
  if (named !== undefined) return named;
  let file: string;
  try {
    file = fileURLToPath(uri);
  } catch {
    return undefined;
  }
  const sib = siblingName(path.basename(file));
  if (sib === undefined) return undefined;
  const sibPath = path.join(path.dirname(file), sib);
  return existsSync(sibPath) ? pathToFileURL(sibPath).toString() : undefined;
}
