// The HTML report in real Chromium (playwright-core driving Debian's /usr/bin/chromium, no
// download): for the real fixture pair, a simulated run and a trace with a hostile task name,
// the lanes exist, preempted intervals are painted in the preempted colour where the engine says
// (canvas pixels), a click shows details, keys zoom and pan, the view survives a reload, the hostile
// name stays text, and the page makes no network request. One browser per file.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { analyzePair } from '../../src/core/analyze/pair';
import { readTraceFile } from '../../src/core/io/read-trace-file';
import { TimelineIndex } from '../../src/core/view/lod';
import { buildTimelineModel } from '../../src/core/view/model';
import { ViewState } from '../../src/core/view/states';
import type { FromWebview, TimelineMeta, ToWebview } from '../../src/core/view/wire';
import { formatDuration } from '../../src/core/model/time';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(ROOT, '.cache', 'e2e');
const PAIR = path.join(ROOT, 'test/fixtures/real/quiet-passive-local');
const EVIL = '<img src=x onerror=alert(1)>';
const haveChromium = existsSync(CHROMIUM);

if (!haveChromium)
  it.skip(`Chromium tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`, () => {});

function cli(...args: string[]): void {
  execFileSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** Everything one page did that it should not: requests off the file, dialogs, errors. */
interface Watch {
  requests: string[];
  dialogs: string[];
  errors: string[];
}

async function open(browser: Browser, file: string): Promise<{ page: Page; watch: Watch }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const url = `file://${file}`;
  const watch: Watch = { requests: [], dialogs: [], errors: [] };
  page.on('request', (r) => {
    if (r.url() !== url) watch.requests.push(r.url());
  });
  page.on('dialog', (d) => {
    watch.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => watch.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') watch.errors.push(m.text());
  });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]');
  await settle(page);
  return { page, watch };
}

/** Waits until no window is being fetched and two frames have been drawn since. */
async function settle(page: Page): Promise<void> {
  await page.waitForFunction(() => window.vcpuLens!.pendingRequests() === 0);
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
  );
  await page.waitForFunction(() => window.vcpuLens!.pendingRequests() === 0);
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
  );
}

async function pixel(page: Page, x: number, y: number): Promise<[number, number, number, number]> {
  return page.evaluate(
    ([px, py]) => {
      const c = window.vcpuLens!.canvas();
      const dpr = window.devicePixelRatio || 1;
      const d = c
        .getContext('2d')!
        .getImageData(Math.round(px! * dpr), Math.round(py! * dpr), 1, 1).data;
      return [d[0]!, d[1]!, d[2]!, d[3]!] as [number, number, number, number];
    },
    [x, y],
  );
}

function hex(c: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c.trim())!;
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}

async function indexOf(host: string, guest: string): Promise<TimelineIndex> {
  const [h, g] = await Promise.all([readTraceFile(host, {}), readTraceFile(guest, {})]);
  return new TimelineIndex(buildTimelineModel(analyzePair(h.traces[0]!, g.traces[0]!)));
}

/**
 * Zooms the page around the engine's longest preempted interval of a lane and checks the canvas
 * paints its middle in the preempted colour, and a running interval in view in the running one.
 */
async function checkPreemptedPixels(page: Page, index: TimelineIndex, lane: string): Promise<void> {
  const li = index.model.meta.lanes.findIndex((l) => l.id === lane);
  const c = index.model.lanes[li]!;
  let best = -1;
  for (let j = 0; j < c.state.length; j++)
    if (
      c.state[j] === ViewState.preempted &&
      (best < 0 || c.end[j]! - c.start[j]! > c.end[best]! - c.start[best]!)
    )
      best = j;
  expect(best).toBeGreaterThanOrEqual(0);
  const s = c.start[best]!;
  const e = c.end[best]!;
  const d = e - s;
  await page.evaluate(([a, b]) => window.vcpuLens!.zoomTo(a!, b!), [s - 3 * d, e + 3 * d]);
  await settle(page);
  const view = await page.evaluate(() => window.vcpuLens!.view());
  const row = (await page.evaluate((id) => window.vcpuLens!.laneY(id), lane))!;
  const scrollTop = await page.evaluate(() => document.querySelector('.vl-scroll')!.scrollTop);
  const y = row.y - scrollTop + row.h / 2;
  const toX = (t: number): number =>
    ((t - view.startNs) / (view.endNs - view.startNs)) * view.widthPx;
  // What the engine answers for this view: paint must follow it.
  const w0 = index.window({
    startNs: view.startNs,
    endNs: view.endNs,
    resolutionNs: view.resolutionNs,
    lanes: [lane],
  });
  const w = w0.lanes[0]!;
  const colors = {
    preempted: hex(
      await page.evaluate((st) => window.vcpuLens!.stateColor(st), ViewState.preempted),
    ),
    running: hex(await page.evaluate((st) => window.vcpuLens!.stateColor(st), ViewState.running)),
  };
  let checked = 0;
  let t = w0.startNs;
  for (let i = 0; i < w.runs.length; i++) {
    const s0 = t;
    t += w.runs[i]! * w0.resolutionNs;
    const x0 = Math.max(0, toX(s0));
    const x1 = Math.min(view.widthPx, toX(t));
    const st = w.states[i];
    if (x1 - x0 < 6 || (st !== ViewState.preempted && st !== ViewState.running)) continue;
    const px = await pixel(page, (x0 + x1) / 2, y);
    const want = st === ViewState.preempted ? colors.preempted : colors.running;
    expect(px.slice(0, 3), `${lane} ${VIEW(st)} at x=${((x0 + x1) / 2).toFixed(0)}`).toEqual(want);
    checked++;
  }
  expect(checked).toBeGreaterThanOrEqual(2);
}

function VIEW(st: number | undefined): string {
  return st === ViewState.preempted ? 'preempted' : 'running';
}

describe.skipIf(!haveChromium)('the HTML report in Chromium', () => {
  let browser: Browser;
  const files = {
    real: path.join(OUT, 'real.html'),
    sim: path.join(OUT, 'sim', 'report.html'),
    evil: path.join(OUT, 'evil.html'),
  };

  beforeAll(async () => {
    // The CLI never overwrites: start from an empty folder, so a second run can write again.
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    if (
      !existsSync(path.join(ROOT, 'dist/webview.js')) ||
      !existsSync(path.join(ROOT, 'dist/cli.js'))
    )
      execFileSync(process.execPath, [path.join(ROOT, 'esbuild.mjs')], { cwd: ROOT });
    cli(
      'analyze',
      '--host',
      path.join(PAIR, 'host.txt.gz'),
      '--guest',
      path.join(PAIR, 'guest.txt.gz'),
      '--out',
      files.real,
    );
    cli(
      'simulate',
      '--preset',
      'small',
      '--policy',
      'spin',
      '--out',
      path.dirname(files.sim),
      '--force',
    );
    // A guest thread named like markup, as an untrusted trace could name one.
    const guest = readFileSync(path.join(OUT, 'sim', 'guest.txt'), 'utf8')
      .replace(/omp-603/g, `${EVIL}-603`)
      .replace(/omp:603/g, `${EVIL}:603`)
      .replace(/comm=omp pid=603/g, `comm=${EVIL} pid=603`);
    writeFileSync(path.join(OUT, 'evil-guest.txt'), guest);
    cli(
      'analyze',
      '--host',
      path.join(OUT, 'sim', 'host.txt'),
      '--guest',
      path.join(OUT, 'evil-guest.txt'),
      '--out',
      files.evil,
    );
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('real pair: lanes, pixels, click details, keys, state across reload, no network', async () => {
    const { page, watch } = await open(browser, files.real);
    await page.screenshot({ path: path.join(OUT, 'real-initial.png') });
    for (const id of [
      'hcpu:0',
      'hcpu:1',
      'vcpu:0',
      'vcpu:3',
      'gcpu:0',
      'gthread:562',
      'gthread:565',
    ])
      expect(await page.locator(`[data-lane="${id}"]`).count(), id).toBe(1);
    expect(await page.locator('[data-lane^="hthread:"]').count()).toBeGreaterThan(0);
    expect(await page.locator('button.vl-group').count()).toBe(5);
    expect(await page.locator('canvas.vl-dop').count()).toBe(1);

    const index = await indexOf(path.join(PAIR, 'host.txt.gz'), path.join(PAIR, 'guest.txt.gz'));
    await checkPreemptedPixels(page, index, 'vcpu:1');
    await page.screenshot({ path: path.join(OUT, 'real-preempted.png') });

    // Click the middle of the view on vCPU 1 (the preempted interval): its details appear.
    const view = await page.evaluate(() => window.vcpuLens!.view());
    const row = (await page.evaluate(() => window.vcpuLens!.laneY('vcpu:1')))!;
    const box = (await page.locator('.vl-overlay').boundingBox())!;
    await page.mouse.click(box.x + view.widthPx / 2, box.y + row.y + row.h / 2);
    await page.waitForFunction(() => document.querySelector('.vl-detail-state') !== null);
    expect(await page.locator('.vl-detail-lane').textContent()).toMatch(/^vCPU 1 · CPU 1\/TCG/);
    expect(await page.locator('.vl-detail-state').textContent()).toBe('state: preempted');
    expect(await page.locator('.vl-links li').first().textContent()).toMatch(
      /preempted on host CPU \d by /,
    );

    // Keys: W zooms in at the centre, S out, D pans right; Reset shows everything.
    await page.mouse.move(5, 5);
    const span = async (): Promise<{ startNs: number; endNs: number }> =>
      page.evaluate(() => window.vcpuLens!.view());
    const before = await span();
    await page.keyboard.press('w');
    const zoomed = await span();
    expect((before.endNs - before.startNs) / (zoomed.endNs - zoomed.startNs)).toBeCloseTo(1.5, 2);
    await page.keyboard.press('s');
    const back = await span();
    expect(back.endNs - back.startNs).toBeCloseTo(before.endNs - before.startNs, -1);
    await page.keyboard.press('d');
    const panned = await span();
    expect(panned.startNs - back.startNs).toBeCloseTo(0.2 * (back.endNs - back.startNs), -1);
    // The view survives a reload (the report's setState: sessionStorage).
    // setState is debounced: wait until the stored view is the panned one, then reload.
    await page.waitForFunction(
      ([a, b]) => {
        const saved = sessionStorage.getItem('vcpu-lens.view');
        if (saved === null) return false;
        const v = JSON.parse(saved) as { startNs: number; endNs: number };
        return Math.abs(v.startNs - a!) < 10 && Math.abs(v.endNs - b!) < 10;
      },
      [panned.startNs, panned.endNs],
    );
    await page.reload();
    await page.waitForSelector('body[data-ready="1"]');
    const restored = await span();
    expect(restored.startNs).toBeCloseTo(panned.startNs, -1);
    expect(restored.endNs).toBeCloseTo(panned.endNs, -1);
    await page.click('button[data-action="reset"]');
    const all = await span();
    expect(all.endNs - all.startNs).toBe(index.model.meta.spanNs);

    // The cursor shows the time on both machines; Shift+drag measures, Z zooms to the span.
    const ov = (await page.locator('.vl-overlay').boundingBox())!;
    await page.mouse.move(ov.x + 300, ov.y + 100);
    expect(await page.locator('.vl-status').textContent()).toMatch(
      /host \d+\.\d{9} {2}guest \d+\.\d{9}/,
    );
    const wide = await span();
    await page.keyboard.down('Shift');
    await page.mouse.down();
    await page.mouse.move(ov.x + 500, ov.y + 100, { steps: 5 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    const px = (wide.endNs - wide.startNs) / view.widthPx;
    expect(await page.locator('.vl-ruler-text').textContent()).toMatch(/^Δ \d/);
    await page.keyboard.press('z');
    const sel = await span();
    expect(sel.startNs).toBeCloseTo(wide.startNs + 300 * px, -Math.log10(px * 2));
    expect((sel.endNs - sel.startNs) / px).toBeCloseTo(200, -0.5);

    // Search highlights the task's lane.
    await page.fill('input[type="search"]', '563');
    await page.press('input[type="search"]', 'Enter');
    expect(await page.locator('[data-lane="gthread:563"].vl-hl').count()).toBe(1);

    expect(watch.requests).toEqual([]);
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it('simulated run: lanes, preempted pixels, the co-runner, PNG/SVG/Perfetto exports, no network', async () => {
    const { page, watch } = await open(browser, files.sim);
    await page.screenshot({ path: path.join(OUT, 'sim-initial.png') });
    for (const id of ['hcpu:0', 'vcpu:0', 'vcpu:3', 'gcpu:3', 'gthread:600', 'hthread:7000'])
      expect(await page.locator(`[data-lane="${id}"]`).count(), id).toBe(1);
    const index = await indexOf(
      path.join(OUT, 'sim', 'host.txt'),
      path.join(OUT, 'sim', 'guest.txt'),
    );
    await checkPreemptedPixels(page, index, 'vcpu:0');

    // Groups collapse and open again; the vCPU lanes move up and are still painted right.
    await page.click('button.vl-group[data-group="host-cpus"]');
    expect(await page.locator('[data-lane="hcpu:0"]').count()).toBe(0);
    expect(
      await page.locator('button.vl-group[data-group="host-cpus"]').getAttribute('aria-expanded'),
    ).toBe('false');
    await settle(page);
    await checkPreemptedPixels(page, index, 'vcpu:0');
    await page.click('button.vl-group[data-group="host-cpus"]');
    expect(await page.locator('[data-lane="hcpu:0"]').count()).toBe(1);
    await settle(page);

    // Exports: PNG and SVG of the view, and the Perfetto JSON, each a download from the page.
    const download = async (action: string): Promise<Buffer> => {
      const [d] = await Promise.all([
        page.waitForEvent('download'),
        page.click(`button[data-action="${action}"]`),
      ]);
      const file = path.join(OUT, `sim-${d.suggestedFilename()}`);
      await d.saveAs(file);
      return readFileSync(file);
    };
    const png = await download('png');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBeGreaterThan(800); // IHDR width: labels + lanes
    const svg = (await download('svg')).toString('utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const preemptedColor = await page.evaluate(
      (st) => window.vcpuLens!.stateColor(st),
      ViewState.preempted,
    );
    expect(svg).toContain(`fill="${preemptedColor}"`);
    expect(svg).toContain('>vCPU 0 · CPU 0/KVM (5000)</text>');
    const trace = JSON.parse((await download('chrome-trace')).toString('utf8')) as {
      traceEvents: { ph: string; name: string }[];
    };
    const tracks = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name');
    expect(tracks).toHaveLength(index.model.meta.lanes.length);
    expect(trace.traceEvents.some((e) => e.ph === 'X' && e.name === 'preempted')).toBe(true);
    expect(trace.traceEvents.some((e) => e.ph === 's')).toBe(true);
    expect(watch.requests.filter((u) => !u.startsWith('blob:'))).toEqual([]);
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it('a task named like markup stays text and runs nothing', async () => {
    const { page, watch } = await open(browser, files.evil);
    const label = page.locator('[data-lane="gthread:603"]');
    expect(await label.textContent()).toBe(`${EVIL} (603)`);
    expect(await page.locator('img').count()).toBe(0);
    // Its name in the summary is text too.
    expect(await page.locator('.vl-side li', { hasText: EVIL }).count()).toBeGreaterThan(0);
    // Click its lane: the details show the name as text.
    const row = (await page.evaluate(() => window.vcpuLens!.laneY('gthread:603')))!;
    await page.evaluate(() => {
      const el = document.querySelector('[data-lane="gthread:603"]')!;
      el.scrollIntoView();
    });
    const scrollTop = await page.evaluate(() => document.querySelector('.vl-scroll')!.scrollTop);
    const box = (await page.locator('.vl-scroll').boundingBox())!;
    const view = await page.evaluate(() => window.vcpuLens!.view());
    await page.mouse.click(box.x + 220 + view.widthPx / 2, box.y + row.y - scrollTop + row.h / 2);
    await page.waitForFunction(() => document.querySelector('.vl-detail-lane') !== null);
    expect(await page.locator('.vl-detail-lane').textContent()).toBe(`${EVIL} (603)`);
    expect(await page.locator('img').count()).toBe(0);
    expect(watch.dialogs).toEqual([]);
    expect(watch.requests).toEqual([]);
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  /**
   * The same bundle with a stand-in for acquireVsCodeApi whose messages a Node-side engine answers,
   * as the extension host does (issue #8); `push` sends a message unasked, as the editor does.
   */
  async function inVsCode(
    index: TimelineIndex,
    /** Answers instead of the engine's (undefined: the engine's answer). */
    instead: (body: FromWebview) => ToWebview | undefined = () => undefined,
  ): Promise<{
    page: Page;
    sent: { kind: string }[];
    states: unknown[];
    push: (body: ToWebview) => Promise<void>;
  }> {
    const { answer } = await import('../../webview/in-page-provider');
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const sent: { kind: string }[] = [];
    const states: unknown[] = [];
    await page.exposeFunction('__post', (json: string) => {
      const m = JSON.parse(json) as { id: number; body: Parameters<typeof answer>[1] };
      sent.push(m.body);
      const body = instead(m.body) ?? answer(index, m.body);
      return JSON.stringify({ id: 1e9 + m.id, inReplyTo: m.id, body });
    });
    await page.exposeFunction('__setState', (json: string) => void states.push(JSON.parse(json)));
    const html = path.join(OUT, 'vscode.html');
    writeFileSync(
      html,
      `<!DOCTYPE html><html><head><meta charset="utf-8"><style>${readFileSync(path.join(ROOT, 'dist/webview.css'), 'utf8')}</style></head>
<body class="vscode-light"><div id="vl-root"></div><script>
window.acquireVsCodeApi = () => ({
  postMessage: (m) => window.__post(JSON.stringify(m)).then((r) =>
    window.dispatchEvent(new MessageEvent('message', { data: JSON.parse(r) }))),
  getState: () => undefined,
  setState: (s) => window.__setState(JSON.stringify(s)),
});
</script><script>${readFileSync(path.join(ROOT, 'dist/webview.js'), 'utf8')}</script></body></html>`,
    );
    await page.goto(`file://${html}`);
    await page.waitForSelector('body[data-ready="1"]');
    await settle(page);
    let pushed = 0;
    const push = (body: ToWebview): Promise<void> =>
      page.evaluate(
        (m) => void window.dispatchEvent(new MessageEvent('message', { data: JSON.parse(m) })),
        JSON.stringify({ id: 2e9 + pushed++, body }),
      );
    return { page, sent, states, push };
  }

  it('inside VS Code: requests go through postMessage, view state through setState; themes switch', async () => {
    const index = await indexOf(
      path.join(OUT, 'sim', 'host.txt'),
      path.join(OUT, 'sim', 'guest.txt'),
    );
    const { page, sent, states } = await inVsCode(index);
    expect(sent[0]!.kind).toBe('ready');
    // Its first windows came with its data (its ready said how it opens: its canvas width as laid
    // out here): drawn without asking for one.
    expect(sent.map((b) => b.kind)).not.toContain('requestWindow');
    expect(await page.locator('[data-lane="vcpu:0"]').count()).toBe(1);
    await checkPreemptedPixels(page, index, 'vcpu:0');
    await page.mouse.move(5, 5);
    await page.keyboard.press('w');
    // setState is debounced: wait for the save that follows the zoom.
    const v = await page.evaluate(() => window.vcpuLens!.view());
    await expect
      .poll(
        () => {
          const last = states[states.length - 1] as { startNs: number; endNs: number } | undefined;
          return last === undefined
            ? Infinity
            : Math.abs(last.startNs - v.startNs) + Math.abs(last.endNs - v.endNs);
        },
        { timeout: 5000 },
      )
      .toBeLessThan(10);

    // A high-contrast theme: VS Code changes the body class; the lanes repaint in its colours.
    await page.evaluate(() => {
      document.body.className = 'vscode-high-contrast';
    });
    await settle(page);
    const hc = hex(await page.evaluate((st) => window.vcpuLens!.stateColor(st), ViewState.running));
    expect(hc).toEqual([0x00, 0xc8, 0x53]);
    await checkPreemptedPixels(page, index, 'vcpu:0');
    // Zoomed in further (a finer resolution): the page asks for those windows.
    for (let i = 0; i < 3; i++) await page.keyboard.press('w');
    await settle(page);
    expect(sent.map((b) => b.kind)).toContain('requestWindow');
    await checkPreemptedPixels(page, index, 'vcpu:0');
    await page.close();
  });

  it('inside VS Code, the advice after the first paint: lanes drawn first, then the DoP lane, the advice and its what-if chart', async () => {
    const index = await indexOf(path.join(PAIR, 'host.txt.gz'), path.join(PAIR, 'guest.txt.gz'));
    const whole = index.model.meta;
    expect(whole.dop).toBeDefined();
    expect(whole.whatIf).toBeDefined();
    // As the language server answers before the what-if has run: no DoP, chart or advice yet.
    const { dop: _d, whatIf: _w, ...rest } = whole;
    const first: TimelineMeta = {
      ...rest,
      summary: whole.summary.filter((x) => x.heading !== 'Advice'),
      advicePending: true,
    };
    const { page, sent } = await inVsCode(index, (b) =>
      b.kind === 'ready' ? { kind: 'init', meta: first } : undefined,
    );
    await page.waitForFunction(() => document.querySelector('canvas.vl-dop') !== null);
    await settle(page);
    const kinds = sent.map((b) => b.kind);
    // Asked for once, after the lanes' first windows.
    expect(kinds.filter((k) => k === 'requestAdvice')).toHaveLength(1);
    expect(kinds.indexOf('requestAdvice')).toBeGreaterThan(kinds.indexOf('requestWindow'));
    expect(kinds.indexOf('requestWindow')).toBeGreaterThan(0);
    const dop = await page.evaluate(() => {
      const c = document.querySelector('canvas.vl-dop') as HTMLCanvasElement;
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) inked++;
      return { height: c.getBoundingClientRect().height, inked };
    });
    expect(dop.height).toBeGreaterThan(20);
    expect(dop.inked).toBeGreaterThan(100);
    const headings = await page.locator('.vl-side h2').allTextContents();
    expect(headings.indexOf('Advice')).toBeGreaterThanOrEqual(0);
    expect(headings.indexOf('What-if: threads × wait policy')).toBe(headings.indexOf('Advice') + 1);
    expect(await page.locator('.vl-side .vl-whatif-panel').count()).toBe(1);
    await page.close();
  });

  it('reveal zooms to the interval, selects it on its lane and emphasises its stalls; Reveal in Trace posts it back', async () => {
    const index = await indexOf(
      path.join(OUT, 'sim', 'host.txt'),
      path.join(OUT, 'sim', 'guest.txt'),
    );
    // The engine's longest preempted interval of vCPU 0, as a diagnostic would name it.
    const lane = 'vcpu:0';
    const c = index.model.lanes[index.model.meta.lanes.findIndex((l) => l.id === lane)]!;
    let best = -1;
    for (let j = 0; j < c.state.length; j++)
      if (
        c.state[j] === ViewState.preempted &&
        (best < 0 || c.end[j]! - c.start[j]! > c.end[best]! - c.start[best]!)
      )
        best = j;
    const s = c.start[best]!;
    const e = c.end[best]!;
    const { page, sent, push } = await inVsCode(index);
    // Its group collapsed first: the reveal opens it.
    await page.click('button.vl-group[data-group="vcpus"]');
    expect(await page.locator(`[data-lane="${lane}"]`).count()).toBe(0);
    await push({ kind: 'reveal', startNs: s, endNs: e, lane });
    await page.waitForFunction(
      (id) =>
        document.body.dataset['selectedLane'] === id &&
        document.querySelector('.vl-detail-state') !== null,
      lane,
    );
    await settle(page);
    const body = await page.evaluate(() => ({ ...document.body.dataset }));
    const v0 = Number(body['viewStartNs']);
    const v1 = Number(body['viewEndNs']);
    expect(v0).toBeLessThanOrEqual(s);
    expect(v1).toBeGreaterThanOrEqual(e);
    expect(v1 - v0).toBeLessThan(index.model.meta.spanNs / 10);
    expect(v1 - v0).toBeLessThan(4 * (e - s));
    expect(await page.locator(`[data-lane="${lane}"]`).count()).toBe(1);
    expect(await page.locator('.vl-detail-state').textContent()).toBe('state: preempted');
    // The stalls of that interval are the ones drawn emphasised, and only those.
    const links = index.window({
      startNs: v0,
      endNs: v1,
      resolutionNs: 1,
      lanes: [lane],
    }).links;
    const want = links
      .filter((k) => k.vcpu === 0 && k.startNs < e && k.endNs > s)
      .map((k) => `${k.vcpu}:${k.startNs}`);
    expect(want.length).toBeGreaterThan(0);
    expect((await page.evaluate(() => window.vcpuLens!.emphasisedLinks())).sort()).toEqual(
      [...new Set(want)].sort(),
    );
    // A lane the filter hides: the reveal widens the filter (and says so in the select).
    await page.selectOption('select.vl-filter', 'vcpus');
    const g = index.model.meta.lanes.find((l) => l.group === 'guest-threads')!;
    await push({ kind: 'reveal', startNs: s, endNs: e, lane: g.id });
    await page.waitForFunction((id) => document.body.dataset['selectedLane'] === id, g.id);
    expect(await page.locator(`[data-lane="${g.id}"]`).count()).toBe(1);
    expect(await page.locator('select.vl-filter').inputValue()).toBe('all');
    await push({ kind: 'reveal', startNs: s, endNs: e, lane });
    await page.waitForFunction(
      (id) =>
        document.body.dataset['selectedLane'] === id &&
        /^vCPU 0/.test(document.querySelector('.vl-detail-lane')?.textContent ?? ''),
      lane,
    );

    // Details' Reveal in Trace sends the lane and the interval back to the editor.
    await page.click('button[data-action="reveal-in-trace"]');
    await expect
      .poll(() => sent.filter((b) => b.kind === 'revealInTrace'))
      .toEqual([{ kind: 'revealInTrace', lane, startNs: s, endNs: e }]);
    await page.close();
  });

  it('readability: quiet states thin, lane filter, selection totals per state, keys in reach, tooltip = Details', async () => {
    const { page, watch } = await open(browser, files.real);
    const index = await indexOf(path.join(PAIR, 'host.txt.gz'), path.join(PAIR, 'guest.txt.gz'));
    await page.click('button[data-action="reset"]');
    await settle(page);
    // The keys help is on screen without scrolling the side panel.
    const keys = (await page.locator('.vl-keys').boundingBox())!;
    expect(keys.y + keys.height).toBeLessThan(900);

    // At full span a sleeping or exited guest thread is a thin band, not a bar: its colour in the
    // lane's middle, nothing near its top edge.
    const view = await page.evaluate(() => window.vcpuLens!.view());
    const quiet = new Set<number>([ViewState.sleeping, ViewState.exited]);
    let found: { lane: string; x: number; state: number } | undefined;
    for (const l of index.model.meta.lanes.filter((q) => q.group === 'guest-threads')) {
      const w0 = index.window({ ...view, lanes: [l.id] });
      const w = w0.lanes[0]!;
      let t = w0.startNs;
      for (let i = 0; i < w.runs.length && found === undefined; i++) {
        const s0 = t;
        t += w.runs[i]! * w0.resolutionNs;
        const x0 = Math.max(0, ((s0 - view.startNs) / (view.endNs - view.startNs)) * view.widthPx);
        const x1 = Math.min(
          view.widthPx,
          ((t - view.startNs) / (view.endNs - view.startNs)) * view.widthPx,
        );
        if (x1 - x0 >= 20 && quiet.has(w.states[i]!))
          found = { lane: l.id, x: (x0 + x1) / 2, state: w.states[i]! };
      }
      if (found !== undefined) break;
    }
    expect(found).toBeDefined();
    await page.evaluate(
      (id) => document.querySelector(`[data-lane="${id}"]`)!.scrollIntoView(),
      found!.lane,
    );
    await settle(page);
    const row = (await page.evaluate((id) => window.vcpuLens!.laneY(id), found!.lane))!;
    const top = await page.evaluate(() => document.querySelector('.vl-scroll')!.scrollTop);
    const want = hex(await page.evaluate((st) => window.vcpuLens!.stateColor(st), found!.state));
    expect((await pixel(page, found!.x, row.y - top + row.h / 2)).slice(0, 3)).toEqual(want);
    expect((await pixel(page, found!.x, row.y - top + 4))[3]).toBe(0);

    // The lane filter: the program's threads and the vCPUs; the vCPUs and co-runners; everything.
    const count = (sel: string): Promise<number> => page.locator(sel).count();
    const program = index.model.meta.lanes.filter((l) => l.program === true).length;
    expect(program).toBeGreaterThan(0);
    await page.selectOption('select.vl-filter', 'program');
    expect(await count('[data-lane^="gthread:"]')).toBe(program);
    expect(await count('[data-lane^="vcpu:"]')).toBe(4);
    expect((await count('[data-lane^="hcpu:"]')) + (await count('[data-lane^="hthread:"]'))).toBe(
      0,
    );
    await page.selectOption('select.vl-filter', 'vcpus');
    expect(await count('[data-lane^="gthread:"]')).toBe(0);
    expect(await count('[data-lane^="hthread:"]')).toBeGreaterThan(0);
    await page.selectOption('select.vl-filter', 'all');
    expect(await count('[data-lane^="gthread:"]')).toBeGreaterThan(program);
    await page.evaluate(() => (document.querySelector('.vl-scroll')!.scrollTop = 0));
    await settle(page);

    // Shift+drag: the selection's time per state per group; the four vCPU lanes' add up to 4 × Δ.
    const ov = (await page.locator('.vl-overlay').boundingBox())!;
    await page.keyboard.down('Shift');
    await page.mouse.move(ov.x + 300, ov.y + 100);
    await page.mouse.down();
    await page.mouse.move(ov.x + 500, ov.y + 100, { steps: 5 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    await settle(page);
    const ns = (text: string): number => {
      const m = /^(-?[\d.]+) (s|ms|µs|ns)$/.exec(text.trim())!;
      return Number(m[1]) * { s: 1e9, ms: 1e6, µs: 1e3, ns: 1 }[m[2] as 's'];
    };
    const delta = ns((await page.locator('.vl-ruler-text').textContent())!.replace('Δ ', ''));
    const line = (await page.locator('.vl-selection-totals p[data-group="vcpus"]').textContent())!;
    expect(line).toMatch(/running \d/);
    const parts = line.slice(line.indexOf(': ') + 2).split(' · ');
    const sum = parts.reduce((acc, p) => acc + ns(p.slice(p.indexOf(' ') + 1)), 0);
    expect(sum / (4 * delta)).toBeGreaterThan(0.98);
    expect(sum / (4 * delta)).toBeLessThan(1.02);
    await page.keyboard.press('Escape');

    // Hover and click the same interval: the tooltip and Details give the same duration.
    const r1 = (await page.evaluate(() => window.vcpuLens!.laneY('vcpu:1')))!;
    const ov2 = (await page.locator('.vl-overlay').boundingBox())!;
    await page.mouse.move(ov2.x + 411, ov2.y + r1.y + r1.h / 2);
    await page.waitForFunction(() =>
      /, \d/.test(document.querySelector('.vl-tooltip')!.textContent ?? ''),
    );
    const tip = (await page.locator('.vl-tooltip').textContent())!;
    await page.mouse.click(ov2.x + 411, ov2.y + r1.y + r1.h / 2);
    await page.waitForFunction(() => document.querySelector('.vl-detail-duration') !== null);
    const dur = (await page.locator('.vl-detail-duration').textContent())!.replace('duration ', '');
    expect(tip.endsWith(`, ${dur}`), `${tip} vs ${dur}`).toBe(true);
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it('PNG export right after a zoom: waits for the tiles, has the state colours, the findings lane and the whole axis', async () => {
    const { page, watch } = await open(browser, files.sim);
    const index = await indexOf(
      path.join(OUT, 'sim', 'host.txt'),
      path.join(OUT, 'sim', 'guest.txt'),
    );
    const span = index.model.meta.spanNs;
    // Around the start of vCPU 0's longest preemption (running before, preempted after), a view
    // 1/2000 of the trace: 11 resolutions finer than the page's, deeper than the coarser tiles the
    // screen falls back on, so nothing is there to draw until the new tiles arrive. Exported at
    // once, no settle: the export came out blank once.
    const c = index.model.lanes[index.model.meta.lanes.findIndex((l) => l.id === 'vcpu:0')]!;
    let best = -1;
    for (let j = 0; j < c.state.length; j++)
      if (
        c.state[j] === ViewState.preempted &&
        (best < 0 || c.end[j]! - c.start[j]! > c.end[best]! - c.start[best]!)
      )
        best = j;
    const at = c.start[best]!;
    const w = span / 2000;
    const [d] = await Promise.all([
      page.waitForEvent('download'),
      page.evaluate(
        ([a, b]) => {
          window.vcpuLens!.zoomTo(a!, b!);
          document.querySelector<HTMLButtonElement>('button[data-action="png"]')!.click();
        },
        [at - w / 2, at + w / 2],
      ),
    ]);
    const file = path.join(OUT, 'sim-after-zoom.png');
    await d.saveAs(file);
    const png = readFileSync(file);
    // Decode it in the page and count the pixels of each colour, row by row.
    const colours = {
      running: await page.evaluate((st) => window.vcpuLens!.stateColor(st), ViewState.running),
      preempted: await page.evaluate((st) => window.vcpuLens!.stateColor(st), ViewState.preempted),
    };
    const got = await page.evaluate(
      async ([b64, cs]) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const c = document.createElement('canvas');
        c.width = img.width;
        c.height = img.height;
        const ctx = c.getContext('2d')!;
        ctx.drawImage(img, 0, 0);
        const data = ctx.getImageData(0, 0, c.width, c.height).data;
        const want = Object.entries(cs as Record<string, string>).map(([k, h]) => [
          k,
          [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)),
        ]) as [string, number[]][];
        const count: Record<string, number> = {};
        const firstRow: Record<string, number> = {};
        for (let y = 0; y < c.height; y++)
          for (let x = 0; x < c.width; x++) {
            const i = (y * c.width + x) * 4;
            for (const [k, rgb] of want)
              if (data[i] === rgb[0] && data[i + 1] === rgb[1] && data[i + 2] === rgb[2]) {
                count[k] = (count[k] ?? 0) + 1;
                firstRow[k] = Math.min(firstRow[k] ?? Infinity, y);
              }
          }
        return {
          width: c.width,
          height: c.height,
          count,
          firstRow,
        };
      },
      [png.toString('base64'), colours] as const,
    );
    const dpr = await page.evaluate(() => window.devicePixelRatio || 1);
    const laneRows = await page.evaluate(() => {
      const rows = [...document.querySelectorAll<HTMLElement>('.vl-labels .vl-row')];
      return Math.max(...rows.map((r) => r.offsetTop + r.offsetHeight));
    });
    // Axis (26) + findings and every lane (the labels' stack) + the DoP chart (110).
    expect(got.height).toBe(Math.round((26 + laneRows + 110) * dpr));
    expect(got.count['running'] ?? 0).toBeGreaterThan(2000);
    expect(got.count['preempted'] ?? 0).toBeGreaterThan(200);
    // The findings lane (just under the axis) is drawn: the high finding in the preempted colour.
    expect(got.firstRow['preempted']).toBeLessThan((26 + 20) * dpr);
    expect(got.firstRow['preempted']).toBeGreaterThanOrEqual(26 * dpr);
    expect(watch.errors).toEqual([]);
    await page.close();
  });
  it('the what-if chart in the side panel: a line per wait policy, the marks where the engine puts them, theme colours', async () => {
    const { page, watch } = await open(browser, files.real);
    const index = await indexOf(path.join(PAIR, 'host.txt.gz'), path.join(PAIR, 'guest.txt.gz'));
    const wi = index.model.meta.whatIf!;
    expect(wi).toBeDefined();
    const panel = page.locator('.vl-side .vl-whatif-panel');
    expect(await panel.count()).toBe(1);
    // It follows the advice in the panel.
    const headings = await page.locator('.vl-side h2').allTextContents();
    expect(headings.indexOf('Advice')).toBeGreaterThanOrEqual(0);
    expect(headings.indexOf('What-if: threads × wait policy')).toBe(headings.indexOf('Advice') + 1);
    const drawn = await page.evaluate(() => {
      const svg = document.querySelector('.vl-whatif-panel svg.vl-whatif-svg')!;
      const box = svg.getBoundingClientRect();
      const xy = (p: string): number[][] =>
        p
          .trim()
          .split(' ')
          .map((q) => q.split(',').map(Number));
      return {
        width: box.width,
        height: box.height,
        series: [...svg.querySelectorAll('.vl-whatif-series')].map((g) => ({
          policy: (g as SVGElement).dataset['policy']!,
          points: xy(g.querySelector('polyline')!.getAttribute('points')!),
          stroke: getComputedStyle(g.querySelector('polyline')!).stroke,
        })),
        marks: [...svg.querySelectorAll('.vl-whatif-mark')].map((m) => ({
          mark: (m as SVGElement).dataset['mark']!,
          threads: Number((m as SVGElement).dataset['threads']),
          policy: (m as SVGElement).dataset['policy']!,
        })),
        tickFill: getComputedStyle(svg.querySelector('.vl-whatif-tick')!).fill,
        words: [...document.querySelectorAll('.vl-whatif-marks li')].map((li) => ({
          mark: (li as HTMLElement).dataset['mark']!,
          text: li.textContent!,
          children: li.children.length,
        })),
      };
    });
    expect(drawn.width).toBeGreaterThan(200);
    expect(drawn.height).toBeGreaterThan(100);
    expect(drawn.series.map((s) => s.policy)).toEqual(wi.series.map((s) => s.policy));
    expect(new Set(drawn.series.map((s) => s.stroke)).size).toBe(3);
    for (const s of drawn.series) {
      const want = wi.series.find((x) => x.policy === s.policy)!;
      expect(s.points).toHaveLength(wi.threads.length);
      // x grows with the thread count; y falls as the predicted wall grows (log scale).
      for (let k = 1; k < s.points.length; k++) {
        expect(s.points[k]![0]!).toBeGreaterThan(s.points[k - 1]![0]!);
        const dw = want.wallNs[k]! - want.wallNs[k - 1]!;
        const dy = s.points[k]![1]! - s.points[k - 1]![1]!;
        if (Math.abs(dw) > 0.01 * want.wallNs[k]!) expect(Math.sign(dy)).toBe(-Math.sign(dw));
      }
    }
    const at = (m: string): { threads: number; policy: string } => {
      const x = drawn.marks.find((d) => d.mark === m)!;
      return { threads: x.threads, policy: x.policy };
    };
    expect(at('chosen')).toEqual(wi.chosen);
    expect(at('pvsched')).toEqual(wi.pvsched);
    expect(at('traced')).toEqual({ threads: wi.measured.threads, policy: wi.measured.policy });
    // The marks in words, as text only, durations in formatDuration's words.
    expect(drawn.words.map((w) => w.mark)).toEqual(['chosen', 'traced', 'pvsched']);
    for (const w of drawn.words) expect(w.children).toBe(0);
    expect(drawn.words[1]!.text).toContain(`measured ${formatDuration(wi.measured.wallNs)}`);
    expect(drawn.words[0]!.text).toContain(`${wi.chosen.threads} thread`);
    // Themes: the lines and labels take each theme's colours, never the background's.
    const colours = async (): Promise<{ strokes: string[]; tick: string; bg: string }> =>
      page.evaluate(() => ({
        strokes: [...document.querySelectorAll('.vl-whatif-line')].map(
          (l) => getComputedStyle(l).stroke,
        ),
        tick: getComputedStyle(document.querySelector('.vl-whatif-tick')!).fill,
        bg: getComputedStyle(document.querySelector('.vl-side')!).backgroundColor,
      }));
    const light = await colours();
    expect(light.tick).toBe(drawn.tickFill);
    for (const [cls, theme] of [
      ['vl-standalone vscode-dark', 'dark'],
      ['vl-standalone vscode-high-contrast', 'high contrast'],
    ] as const) {
      await page.evaluate(
        ([c, t]) => {
          document.body.className = c!;
          document.body.dataset['vlTheme'] = t === 'dark' ? 'dark' : '';
        },
        [cls, theme],
      );
      const c = await colours();
      expect(c.tick, theme).not.toBe(c.bg);
      expect(new Set(c.strokes).size, theme).toBe(3);
      for (const s of c.strokes) expect(s, theme).not.toBe(c.bg);
      if (theme === 'high contrast') expect(c.strokes).not.toEqual(light.strokes);
    }
    expect(watch.errors).toEqual([]);
    await page.close();
  });
});
