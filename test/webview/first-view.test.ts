// Page code under test (typechecked with webview/tsconfig.json: the DOM's types, no Node's).
// The windows a timeline page draws first, answered with its `init` (core/view/first-view.ts): they
// are exactly the tiles the page's TileCache asks for on its first frame, so the page draws them
// without asking; a window the page would not ask for (other lanes, another highlight) is not kept.

import { beforeAll, describe, expect, it } from 'vitest';
import { analyzePair } from '../../src/core/analyze/pair';
import { PRESETS } from '../../src/core/sim/presets';
import { simulateTraces } from '../../src/core/sim/record';
import { answerView } from '../../src/core/view/answer';
import { firstWindowRequests, openLanes } from '../../src/core/view/first-view';
import { TimelineIndex } from '../../src/core/view/lod';
import { buildTimelineModel, type TimelineModel } from '../../src/core/view/model';
import { initiallyCollapsed, type LaneGroup, PROTOCOL_VERSION } from '../../src/core/view/states';
import type { FirstView, FromWebview, WindowReply } from '../../src/core/view/wire';
import { TileCache, type TileScope } from '../../webview/tiles';
import { StateLanesTrack } from '../../webview/tracks/state-lanes';
import type { Transport } from '../../webview/transport';

/** A page's tile cache whose requests are recorded, never answered. */
function pageTiles(m: TimelineModel, scope: TileScope): { tiles: TileCache; asked: FromWebview[] } {
  const asked: FromWebview[] = [];
  const transport = {
    request: (b: FromWebview) => {
      asked.push(b);
      return new Promise(() => {});
    },
  } as unknown as Transport;
  return {
    tiles: new TileCache(
      transport,
      m.meta.spanNs,
      () => scope,
      () => {},
    ),
    asked,
  };
}

/** The lanes the page shows (its own layout) with these groups collapsed. */
function shown(m: TimelineModel, collapsed: Set<LaneGroup>): TileScope['lanes'] {
  const track = new StateLanesTrack(m.meta, {} as Document);
  track.layout(collapsed, 'all');
  return track.shown();
}

describe('the windows a page draws first, answered with its init', () => {
  let m: TimelineModel;
  beforeAll(() => {
    // Simulated (this test is typechecked as page code: no files), with more than 8 CPUs a side
    // (their groups open collapsed) and a co-runner.
    const p = PRESETS['small']!;
    const t = simulateTraces({ ...p.config, ...p.coRunner, pcpus: 12, vcpus: 10 });
    m = buildTimelineModel(analyzePair(t.host, t.guest));
  });

  const views = (): [string, FirstView, Set<LaneGroup>, number, number][] => {
    const f = m.meta.focus ?? { startNs: 0, endNs: m.meta.spanNs };
    const thread = m.meta.lanes.find((l) => l.group === 'guest-threads')!;
    return [
      [
        'a new page (the focus, default groups)',
        { widthPx: 1234 },
        initiallyCollapsed(m.meta.lanes),
        f.startNs,
        f.endNs,
      ],
      ['a narrow one', { widthPx: 300 }, initiallyCollapsed(m.meta.lanes), f.startNs, f.endNs],
      [
        'a saved view: its span, its open groups, a highlighted thread',
        {
          widthPx: 1900,
          startNs: m.meta.spanNs * 0.3,
          endNs: m.meta.spanNs * 0.31,
          collapsed: ['co-runners'],
          highlight: { machine: 'guest', pid: thread.pid! },
        },
        new Set<LaneGroup>(['co-runners']),
        m.meta.spanNs * 0.3,
        m.meta.spanNs * 0.31,
      ],
    ];
  };

  it('the server’s lanes are the page’s, in its row order', () => {
    for (const c of [
      new Set<LaneGroup>(),
      initiallyCollapsed(m.meta.lanes),
      new Set<LaneGroup>(['vcpus', 'co-runners']),
    ])
      expect(openLanes(m.meta.lanes, c)).toEqual(shown(m, c));
  });

  it('are exactly the tiles the page asks for on its first frame', () => {
    for (const [, view, collapsed, a, b] of views()) {
      const { tiles, asked } = pageTiles(m, {
        lanes: shown(m, collapsed),
        highlight: view.highlight,
      });
      tiles.visible(a, b, view.widthPx);
      const want = firstWindowRequests(m.meta, view);
      expect(want.length).toBeGreaterThan(0);
      expect(asked).toEqual(want.map((r) => ({ kind: 'requestWindow', ...r })));
    }
  });

  it('answered with ready, the page draws them without asking', () => {
    const index = new TimelineIndex(m);
    for (const [, view, collapsed, a, b] of views()) {
      const init = answerView(index, {
        kind: 'ready',
        protocol: PROTOCOL_VERSION,
        firstView: view,
      });
      if (init.kind !== 'init' || init.windows === undefined) throw new Error(init.kind);
      const { tiles, asked } = pageTiles(m, {
        lanes: shown(m, collapsed),
        highlight: view.highlight,
      });
      expect(tiles.seed(init.windows, view.highlight)).toBe(init.windows.length);
      const drawn = tiles.visible(a, b, view.widthPx);
      expect(asked).toEqual([]);
      expect(drawn.length).toBeGreaterThan(0);
      for (const t of drawn) expect(init.windows).toContainEqual(t.reply);
    }
  });

  it('a window the page would not ask for is not kept: other lanes, another highlight, off the tile grid', () => {
    const index = new TimelineIndex(m);
    const [, view, collapsed] = views()[0]!;
    const windows = firstWindowRequests(m.meta, view).map((r) => index.window(r));
    const lanes = shown(m, collapsed);
    expect(
      pageTiles(m, { lanes: lanes.slice(1), highlight: undefined }).tiles.seed(windows, undefined),
    ).toBe(0);
    const hl = { machine: 'guest' as const, pid: 1 };
    expect(pageTiles(m, { lanes, highlight: hl }).tiles.seed(windows, undefined)).toBe(0);
    expect(pageTiles(m, { lanes, highlight: undefined }).tiles.seed(windows, hl)).toBe(0);
    const off: WindowReply = { ...windows[0]!, startNs: windows[0]!.startNs + 1 };
    expect(pageTiles(m, { lanes, highlight: undefined }).tiles.seed([off], undefined)).toBe(0);
  });

  it('ready without a first view answers the meta alone (a page of an older build)', () => {
    const init = answerView(new TimelineIndex(m), { kind: 'ready', protocol: PROTOCOL_VERSION });
    expect(init).toEqual({ kind: 'init', meta: m.meta });
  });
});
