// A returning user's .dat pair over the language server (in-memory streams): the timeline the last
// session built is kept in the timeline cache once its page asked for the advice, and a new server
// (a new session) answers the page's first `ready` and windows from it before reading or analysing
// the pair; the analysis still runs behind it (the advice arrives as before). A file changed since
// is never answered from the cache.

import { cpSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { laneId } from '../../src/core/view/lane-id';
import { PROTOCOL_VERSION } from '../../src/core/view/states';
import type { FromWebview, ToWebview } from '../../src/core/view/wire';
import { DOC_STATUS, DocStatus, PREPARE_TIMELINE, TIMELINE } from '../../src/protocol/lsp-ext';
import { readCached, writeCached } from '../../src/server/timeline-cache';
import { REAL } from './support/fixtures';
import { connectServer, LspSession } from './support/lsp';

const FIX = path.join(REAL, 'quiet-passive-local');

/** A server over in-memory streams with its log, as one session of the extension. */
async function session(
  cacheDir: string,
): Promise<LspSession & { timeline: (uri: string, body: FromWebview) => Promise<ToWebview> }> {
  const s = connectServer();
  await s.start({}, { timelineCacheDir: cacheDir });
  return { ...s, timeline: (uri, body) => s.client.sendRequest(TIMELINE, { uri, body }) };
}

describe('language server: the timeline cache between sessions', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vl-timeline-cache-'));
  const cacheDir = path.join(dir, 'cache');
  const host = pathToFileURL(path.join(dir, 'host.dat')).toString();
  const ready: FromWebview = { kind: 'ready', protocol: PROTOCOL_VERSION };
  const window: FromWebview = {
    kind: 'requestWindow',
    startNs: 0,
    endNs: 2 ** 23 * 1024,
    resolutionNs: 2 ** 23,
    lanes: [laneId.vcpu(0), laneId.vcpu(1), laneId.guestCpu(0)],
  };
  const sessions: Awaited<ReturnType<typeof session>>[] = [];
  const open = async (): Promise<Awaited<ReturnType<typeof session>>> => {
    const s = await session(cacheDir);
    sessions.push(s);
    return s;
  };
  let first: { init: ToWebview; win: ToWebview; advice: ToWebview };

  beforeAll(() => {
    for (const side of ['host', 'guest'])
      cpSync(path.join(FIX, `${side}.dat`), path.join(dir, `${side}.dat`));
  });
  afterAll(() => {
    for (const s of sessions) s.client.dispose();
  });

  it('keeps the timeline a session built once its page asked for the advice', async () => {
    const s = await open();
    await s.client.sendNotification(PREPARE_TIMELINE, { uri: host });
    const init = await s.timeline(host, ready);
    const win = await s.timeline(host, window);
    const advice = await s.timeline(host, { kind: 'requestAdvice' });
    first = { init, win, advice };
    await s.server.idle();
    await s.timeline(host, ready); // a round trip: every line logged before it has arrived
    expect(s.logs.filter((l) => / kept for the next session /.test(l))).toHaveLength(1);
    expect(readdirSync(cacheDir).filter((n) => n.endsWith('.timeline'))).toHaveLength(1);
  }, 120_000);

  it('a new session answers the first ready and windows from it; the pair is read once the page drew', async () => {
    const s = await open();
    // The status bar asks as the server starts, before the view's prepareTimeline (as in VS
    // Code): its analysis waits for the page to draw.
    const status = s.client.sendRequest(DOC_STATUS, { uri: host }) as Promise<DocStatus>;
    await s.client.sendNotification(PREPARE_TIMELINE, { uri: host });
    const init = await s.timeline(host, ready);
    const beforeInit = [...s.logs];
    expect(init).toEqual(first.init);
    expect(
      beforeInit.some((l) => /^timeline of host\.dat \+ guest\.dat from the cache/.test(l)),
    ).toBe(true);
    expect(beforeInit.filter((l) => /^analysed /.test(l))).toEqual([]);
    expect(await s.timeline(host, window)).toEqual(first.win);
    // The analysis runs behind it: the advice is the one the first session computed, and the
    // model is not built again.
    expect(await s.timeline(host, { kind: 'requestAdvice' })).toEqual(first.advice);
    expect((await status).preemptions).toBeGreaterThan(0);
    await s.server.idle();
    await s.timeline(host, ready);
    // Nothing was read before the page drew (it asked for the advice).
    const drawn = s.logs.findIndex((l) =>
      /: drawn from the cache, its analysis may start$/.test(l),
    );
    const read = s.logs.findIndex((l) => /^read host\.dat from disk/.test(l));
    expect(drawn).toBeGreaterThan(-1);
    expect(read).toBeGreaterThan(drawn);
    expect(s.logs.filter((l) => /^analysed host\.dat \+ guest\.dat/.test(l))).toHaveLength(1);
    expect(s.logs.filter((l) => /^timeline of host\.dat \+ guest\.dat in /.test(l))).toEqual([]);
  }, 120_000);

  it('a file changed since is read and analysed again, never answered from the cache', async () => {
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(dir, 'guest.dat'), later, later);
    const s = await open();
    const init = await s.timeline(host, ready);
    expect(init).toEqual(first.init);
    expect(s.logs.filter((l) => / from the cache /.test(l))).toEqual([]);
    expect(s.logs.filter((l) => /^timeline of host\.dat \+ guest\.dat in /.test(l))).toHaveLength(
      1,
    );
  }, 120_000);
});

describe('the timeline cache folder', () => {
  const model = { meta: { title: 't' }, strings: [], lanes: [], links: {} } as never;
  it('keeps the 8 most recently written entries', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vl-timeline-cache-'));
    for (let i = 0; i < 10; i++) {
      await writeCached({ file: path.join(dir, `${i}.timeline`), stamp: 's' }, 'k', model);
      // Distinct write times, oldest first (a coarse file system clock would tie them).
      utimesSync(path.join(dir, `${i}.timeline`), 1_000 + i, 1_000 + i);
    }
    await writeCached({ file: path.join(dir, '10.timeline'), stamp: 's' }, 'k', model);
    expect(readdirSync(dir).sort()).toEqual(
      ['10', '3', '4', '5', '6', '7', '8', '9'].map((n) => `${n}.timeline`).sort(),
    );
  });

  it('reads an entry only for its own stamp, and a damaged one as none', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vl-timeline-cache-'));
    const file = path.join(dir, 'a.timeline');
    await writeCached({ file, stamp: 'one' }, 'k', model);
    expect(await readCached({ file, stamp: 'one' })).toEqual({ key: 'k', model });
    expect(await readCached({ file, stamp: 'two' })).toBeUndefined();
    writeFileSync(file, 'not a model');
    expect(await readCached({ file, stamp: 'one' })).toBeUndefined();
    // Its stamp first: right, then its body cut short.
    await writeCached({ file, stamp: 'one' }, 'k', model);
    const whole = readFileSync(file);
    expect(whole.subarray(0, 7)).toEqual(Buffer.from([3, 0, 0, 0, ...Buffer.from('one')]));
    writeFileSync(file, whole.subarray(0, whole.length - 5));
    expect(await readCached({ file, stamp: 'one' })).toBeUndefined();
    writeFileSync(file, whole.subarray(0, 5));
    expect(await readCached({ file, stamp: 'one' })).toBeUndefined();
  });
});
