// A .dat pair's timeline over the language server (in-memory streams), as the custom editor opens
// it: the view's `prepareTimeline` starts the work while its page loads, the page's `ready` finds
// it (nothing read or analysed twice), the lanes the page opens with are indexed before it asks,
// the first answer does not wait for the what-if, and the
// advice asked for after the first paint is the one a model built with it shows. No lane's level
// of detail is built before the page's ready is answered, whether it came while the pair was
// analysed or once it was indexed.

import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { advise } from '../../src/core/analyze/dop';
import { analyzePair } from '../../src/core/analyze/pair';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { TimelineIndex } from '../../src/core/view/lod';
import { buildTimelineModel } from '../../src/core/view/model';
import { initiallyCollapsed, PROTOCOL_VERSION } from '../../src/core/view/states';
import type { FromWebview, TimelineMeta, ToWebview } from '../../src/core/view/wire';
import { PREPARE_TIMELINE, TIMELINE } from '../../src/protocol/lsp-ext';
import type { ServerHandle } from '../../src/server/server';
import { REAL } from './support/fixtures';
import { connectServer } from './support/lsp';

// The what-if, counted: the first paint must not run it.
vi.mock('../../src/core/analyze/dop', async (actual) => {
  const m = await actual<typeof import('../../src/core/analyze/dop')>();
  return { ...m, advise: vi.fn(m.advise) };
});

const FIX = path.join(REAL, 'quiet-passive-local');
const WORKER = path.resolve(__dirname, '../../dist/parse-worker.js');

describe('language server: a .dat pair’s first paint', () => {
  let client: MessageConnection;
  let server: ServerHandle;
  let logs: string[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'vl-first-paint-'));
  const host = pathToFileURL(path.join(dir, 'host.dat')).toString();
  const advised = (): number => vi.mocked(advise).mock.calls.length;
  const timeline = (body: FromWebview): Promise<ToWebview> =>
    client.sendRequest(TIMELINE, { uri: host, body });

  beforeAll(async () => {
    for (const side of ['host', 'guest'])
      cpSync(path.join(FIX, `${side}.dat`), path.join(dir, `${side}.dat`));
    const session = connectServer();
    ({ client, server, logs } = session);
    await session.start();
  }, 60_000);

  afterAll(() => client?.dispose());

  let first: TimelineMeta;
  /** The server's log lines that came before the page's first answer. */
  let beforeInit: string[] = [];
  /** Lanes whose level of detail was built before the page's first answer. */
  let lanesBeforeInit = -1;
  it('prepareTimeline reads both files, analyses and indexes once; the page’s ready shares it', async () => {
    // As a custom editor tells it: when its document opens, then when its view does.
    const built = vi.spyOn(TimelineIndex.prototype, 'prepareLane');
    await client.sendNotification(PREPARE_TIMELINE, { uri: host });
    await client.sendNotification(PREPARE_TIMELINE, { uri: host });
    const init = await timeline({ kind: 'ready', protocol: PROTOCOL_VERSION });
    lanesBeforeInit = built.mock.calls.length;
    if (init.kind !== 'init') throw new Error(JSON.stringify(init));
    first = init.meta;
    beforeInit = [...logs];
    await server.idle();
    const count = (re: RegExp): number => logs.filter((l) => re.test(l)).length;
    expect(count(/^read host\.dat from disk/)).toBe(1);
    expect(count(/^read guest\.dat from disk/)).toBe(1);
    expect(count(/^analysed host\.dat \+ guest\.dat/)).toBe(1);
    expect(count(/^timeline of host\.dat \+ guest\.dat in/)).toBe(1);
  }, 120_000);

  /** The lane counts of the server's "lanes' level of detail built" lines. */
  const built = (): number[] =>
    logs
      .map((l) =>
        /^timeline of host\.dat \+ guest\.dat: (\d+) lanes' level of detail built/.exec(l),
      )
      .filter((m) => m !== null)
      .map((m) => Number(m[1]));
  /** Idle, then a round trip: its answer comes after every line the server logged before it. */
  const settled = async (): Promise<void> => {
    await server.idle();
    await timeline({ kind: 'ready', protocol: PROTOCOL_VERSION });
  };
  /** The first window the page asks for: its shown lanes over the analysis window. */
  const firstWindow = (): FromWebview => {
    const shown = first.lanes.filter((l) => !initiallyCollapsed(first.lanes).has(l.group));
    const focus = first.focus ?? { startNs: 0, endNs: first.spanNs };
    return {
      kind: 'requestWindow',
      startNs: focus.startNs,
      endNs: focus.endNs,
      resolutionNs: 2 ** Math.ceil(Math.log2((focus.endNs - focus.startNs) / 1024)),
      lanes: shown.map((l) => l.id),
    };
  };
  let firstAnswer: ToWebview;

  it('prepareTimeline then builds the level of detail of the lanes the page opens with, once (asked twice); a window builds none', async () => {
    await settled();
    const shown = first.lanes.filter((l) => !initiallyCollapsed(first.lanes).has(l.group));
    expect(built()).toEqual([shown.length]);
    firstAnswer = await timeline(firstWindow());
    expect(firstAnswer.kind).toBe('window');
    await settled();
    expect(built()).toEqual([shown.length]);
  });

  it('the page’s ready, asked while the index is built, is answered before any lane is prepared', () => {
    expect(beforeInit.some((l) => l.startsWith('timeline of host.dat + guest.dat in'))).toBe(true);
    expect(beforeInit.filter((l) => / level of detail built /.test(l))).toEqual([]);
    expect(lanesBeforeInit).toBe(0);
  });

  it('the first answer does not wait for the what-if: lanes and findings, the advice pending', () => {
    expect(advised()).toBe(0);
    expect(first.advicePending).toBe(true);
    expect(first.lanes.length).toBeGreaterThan(4);
    expect(first.findings.length).toBeGreaterThan(0);
    expect(first.dop).toBeUndefined();
    expect(first.whatIf).toBeUndefined();
    expect(first.summary.map((s) => s.heading)).not.toContain('Advice');
  });

  it('requestAdvice answers what a model built with the advice shows; ready has it from then on', async () => {
    const r = await timeline({ kind: 'requestAdvice' });
    if (r.kind !== 'advice') throw new Error(JSON.stringify(r));
    expect(advised()).toBe(1);
    // The same pair through the CLI's path: the advice computed before the model is built.
    const opts = { workerScript: WORKER };
    const [h, g] = await Promise.all(
      ['host', 'guest'].map((s) => readTraceFile(path.join(dir, `${s}.dat`), opts)),
    );
    const whole = buildTimelineModel(analyzePair(h!.traces[0]!, g!.traces[0]!), {
      title: 'host.dat + guest.dat',
    }).meta;
    expect(whole.dop).toBeDefined();
    expect(r.advice).toEqual({
      dop: whole.dop,
      ...(whole.whatIf !== undefined ? { whatIf: whole.whatIf } : {}),
      summary: whole.summary,
    });
    const again = await timeline({ kind: 'ready', protocol: PROTOCOL_VERSION });
    if (again.kind !== 'init') throw new Error(JSON.stringify(again));
    expect(again.meta.advicePending).toBeUndefined();
    expect(again.meta).toEqual(whole);
    expect(advised()).toBe(2); // the test's own model; the server's once
  }, 120_000);

  it('the page’s advice request (it has drawn) builds no level of detail again; the windows stay the same', async () => {
    const shown = first.lanes.filter((l) => !initiallyCollapsed(first.lanes).has(l.group));
    expect(await timeline(firstWindow())).toEqual(firstAnswer);
    await timeline({ kind: 'requestAdvice' });
    await settled();
    expect(built()).toEqual([shown.length]);
  });
});

describe('language server: a page that loads slower than the pair is analysed', () => {
  it('its ready, sent once the index is built, is answered before any lane is prepared', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vl-first-paint-late-'));
    for (const side of ['host', 'guest'])
      cpSync(path.join(FIX, `${side}.dat`), path.join(dir, `${side}.dat`));
    const host = pathToFileURL(path.join(dir, 'host.dat')).toString();
    const { client, logs, start } = connectServer();
    try {
      await start();
      const built = vi.spyOn(TimelineIndex.prototype, 'prepareLane');
      await client.sendNotification(PREPARE_TIMELINE, { uri: host });
      // The index is built (the model's log line comes after it): the lanes' builder waits a
      // quiet period, so that a request that came meanwhile (unread in a busy event loop) or
      // right after is answered first.
      await vi.waitFor(
        () => {
          if (!logs.some((l) => l.startsWith('timeline of host.dat + guest.dat in')))
            throw new Error('not indexed yet');
        },
        { timeout: 60_000, interval: 5 },
      );
      built.mockClear();
      const init = (await client.sendRequest(TIMELINE, {
        uri: host,
        body: { kind: 'ready', protocol: PROTOCOL_VERSION },
      })) as ToWebview;
      expect(init.kind).toBe('init');
      expect(built.mock.calls.length).toBe(0);
    } finally {
      client.dispose();
    }
  }, 120_000);
});
