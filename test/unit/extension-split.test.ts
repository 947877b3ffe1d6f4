// bench-extension's split of a .dat pair's first paint: the vCPU Lens log's marks and the page's
// paint times as steps on one clock, and the span the goal measures.
import { describe, expect, it } from 'vitest';
import {
  blankSplit,
  blankTable,
  firstPaintSplit,
  splitTable,
} from '../../scripts/extension-split.mjs';

const CLICK = 1_000_000;
const log = (ms: number, text: string): [number, string] => [CLICK + ms, text];

describe('bench-extension: the first paint split', () => {
  const lines = [
    log(-5_000, 'read host.txt from disk in 900 ms'), // before the click: not this open's
    log(380, 'timeline of host.dat: its document opened, the pair asked for'),
    log(400, 'timeline of host.dat: view opened, its page loading'),
    log(700, 'the language server is starting'),
    log(900, 'the language server is running'),
    log(950, 'activated in 600 ms'),
    log(1_300, 'timeline of host.dat: its page is loaded and asks for its data'),
    log(1_800, 'read host.dat from disk in 800 ms'),
    log(1_900, 'read guest.dat from disk in 850 ms'),
    log(2_400, 'analysed host.dat + guest.dat in 500 ms'),
    log(2_700, 'timeline of host.dat + guest.dat in 300 ms'),
    log(2_720, 'timeline of host.dat: the server answered its data request in 1420 ms'),
    log(2_750, 'timeline of host.dat: its data sent to the page 1450 ms after it asked'),
    log(3_500, 'advice for host.dat + guest.dat in 600 ms'),
    log(3_600, "timeline of host.dat + guest.dat: 47 lanes' level of detail built in 20 ms"),
    log(3_600, 'read host.dat from disk in 10 ms'), // a second read: the first one counts
  ];
  const split = firstPaintSplit(lines, {
    clickAt: CLICK,
    firstFrameAt: CLICK + 2_800,
    tilesAt: CLICK + 2_900,
    webview: {
      outerAt: CLICK + 500,
      innerAt: CLICK + 1_100,
      marks: [
        { name: 'webview/index.html/scriptStart', at: CLICK + 520 },
        { name: 'webview/index.html/content/workerReady', at: CLICK + 1_050 },
        { name: 'webview/index.html/content/workerReady', at: CLICK + 1_090 }, // a second: not this load's
        { name: 'webview/index.html/content/started', at: CLICK + 600 },
        { name: 'someone else', at: CLICK + 700 },
      ],
      resources: [{ name: 'webview.js', at: CLICK + 1_250 }],
    },
  });

  it("puts every mark of this open in time order, activation's start from its span", () => {
    expect(split.steps.map((s) => [s.label, s.at - CLICK])).toEqual([
      ['click on host.dat', 0],
      ['activation starts', 350],
      ['its custom editor document opened: the pair asked for', 380],
      ['timeline view opened: its page loading', 400],
      ['webview frame starts loading (VS Code)', 500],
      ["VS Code's webview host page runs its script", 520],
      ['it receives the page (our HTML)', 600],
      ['language server running (initialized)', 900],
      ['activation ends (extension host `activate` returns)', 950],
      ['its service worker is ready', 1_050],
      ['timeline page document starts loading', 1_100],
      ['webview.js fetched', 1_250],
      ['timeline page loaded: asks for its data', 1_300],
      ['host.dat read', 1_800],
      ['guest.dat read', 1_900],
      ['pair analysed (vCPU map, clock, stalls, findings)', 2_400],
      ['timeline model and index built', 2_700],
      ['the server answered that request (extension host)', 2_720],
      ['timeline data sent to the page', 2_750],
      ['first frame (lanes laid out)', 2_800],
      ['first frame with the lanes drawn from their data', 2_900],
      ['advice (the what-if) computed', 3_500],
      [
        "the lanes' level of detail built (between the page's requests; a lane without is read from its intervals)",
        3_600,
      ],
    ]);
  });

  it("measures the goal from activation's end when the click activated the extension", () => {
    expect(split.from).toBe('activation');
    expect(split.goalMs).toBe(2_900 - 950);
    expect(splitTable(split)).toContain("First paint 1.95 s after activation's end (goal: ≤ 2 s).");
  });

  it('measures it from the click when the extension was active before it', () => {
    const s = firstPaintSplit(lines.slice(6), { clickAt: CLICK, tilesAt: CLICK + 2_900 });
    expect(s.from).toBe('click');
    expect(s.goalMs).toBe(2_900);
    expect(s.steps.some((x) => x.label.startsWith('activation'))).toBe(false);
  });

  it('says how long our own part took: to the model and index built', () => {
    expect(split.oursMs).toBe(2_700 - 950);
    expect(splitTable(split)).toContain(
      "Our part of it: the pair read, analysed and indexed 1.75 s after activation's end.",
    );
  });

  it('for a returning user, our part ends when the model is read from the cache', () => {
    const s = firstPaintSplit(
      [...lines, log(1_500, 'timeline of host.dat + guest.dat from the cache in 40 ms')].sort(
        (x, y) => x[0] - y[0],
      ),
      { clickAt: CLICK, tilesAt: CLICK + 2_900 },
    );
    expect(s.oursMs).toBe(1_500 - 950);
    expect(splitTable(s)).toContain(
      "Our part of it: the timeline read from the cache the last session wrote 0.55 s after activation's end.",
    );
  });

  it("sets a blank webview's load beside the goal, labelled as context", () => {
    const blank = blankSplit(
      {
        createdAt: CLICK + 10_000,
        outerAt: CLICK + 10_200,
        marks: [{ name: 'webview/index.html/content/workerReady', at: CLICK + 10_500 }],
        innerAt: CLICK + 10_600,
        paintedAt: CLICK + 10_700,
      },
      'after host.dat',
    );
    expect(blank.loadMs).toBe(700);
    expect(splitTable(split, blank)).toContain(
      "Context (not the goal's number): first paint after activation's end, less VS Code's own blank webview load measured in the same window (after host.dat: panel made to its first frame, 0.70 s): 1.25 s.",
    );
    expect(splitTable(split)).not.toContain('Context');
  });

  it("says how long our page waited for VS Code's service worker", () => {
    expect(splitTable(split)).toContain(
      "Of the webview's load, VS Code's host page waiting for its service worker before it loads ours: 0.45 s.\n",
    );
    // A long wait (a browser profile's first webview) is explained, and the first paint less it given.
    const long = firstPaintSplit(lines, {
      clickAt: CLICK,
      tilesAt: CLICK + 5_900,
      webview: {
        marks: [
          { name: 'webview/index.html/content/started', at: CLICK + 600 },
          { name: 'webview/index.html/content/workerReady', at: CLICK + 3_600 },
        ],
      },
    });
    const said = splitTable(long);
    expect(said).toContain('before it loads ours: 3.00 s (a browser profile');
    expect(said).toContain('; first paint less that wait: 1.95 s.');
    const noMarks = firstPaintSplit(lines, { clickAt: CLICK, tilesAt: CLICK + 2_900 });
    expect(splitTable(noMarks)).not.toContain('service worker');
  });

  it('lays blank webviews side by side, a step one of them lacks left empty', () => {
    const a = blankSplit({ createdAt: 0, outerAt: 300, innerAt: 900, paintedAt: 1_000 }, 'first');
    const b = blankSplit({ createdAt: 5_000, innerAt: 5_100, paintedAt: 5_200 }, 'second');
    expect(blankTable([a, b]).split('\n')).toEqual([
      '| step (s after the panel was made) | first | second |',
      '|---|--:|--:|',
      '| blank panel made (its HTML set) | 0.00 | 0.00 |',
      '| webview frame starts loading (VS Code) | 0.30 |  |',
      '| blank page document starts loading | 0.90 | 0.10 |',
      '| blank page first frame | 1.00 | 0.20 |',
      '',
    ]);
  });

  it('prints each step after the click and since the step before', () => {
    const t = splitTable(split).split('\n');
    expect(t).toContain('| host.dat read | 1.80 | 0.50 |');
    expect(t).toContain('| click on host.dat | 0.00 |  |');
  });
});
