// `simulate --preset small --compare --out DIR` writes the simulator dashboard as DIR/report.html:
// opened offline in real Chromium (playwright-core driving Debian's /usr/bin/chromium) it shows an
// SVG bar chart naming the five runs, bars as tall as compare.json's times, the talk's marks, and
// loads nothing (no request, no CSP or script error).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(ROOT, '.cache', 'e2e', 'sim-compare');
const RUNS = ['spin-ideal', 'block-ideal', 'spin-preempted', 'block-preempted', 'spin-pvdop'];
const why = existsSync(CHROMIUM) ? undefined : ` (skipped: ${CHROMIUM} is missing)`;

describe.skipIf(why !== undefined)(`the simulate --compare report${why ?? ''}`, () => {
  let browser: Browser;

  beforeAll(async () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'dist/cli.js'), 'simulate', '--preset', 'small', '--compare', '--out', OUT],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('report.html opens offline with an SVG bar chart naming the five runs', async () => {
    const file = path.join(OUT, 'report.html');
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const url = `file://${file}`;
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(url);
    const chart = page.locator('svg.vl-bar-chart');
    expect(await chart.count()).toBe(1);
    // The runs' names are the chart's own text (not only the table's).
    const names = await chart.locator('text.vl-run-name').allTextContents();
    expect(names).toEqual(RUNS);
    // Each bar is drawn, as tall as its run's time in compare.json (the same scale for all).
    const compare = JSON.parse(readFileSync(path.join(OUT, 'compare.json'), 'utf8')) as {
      runs: { name: string; wallS: number }[];
    };
    const heights: number[] = [];
    for (const run of RUNS) {
      const box = await chart.locator(`g[data-run="${run}"] rect.vl-bar`).boundingBox();
      expect(box, run).not.toBeNull();
      heights.push(box!.height);
    }
    const walls = RUNS.map((r) => compare.runs.find((x) => x.name === r)!.wallS);
    for (let i = 0; i < RUNS.length; i++) {
      expect(heights[i], RUNS[i]).toBeGreaterThan(20);
      expect(heights[i]! / heights[0]!).toBeCloseTo(walls[i]! / walls[0]!, 1);
    }
    // The bars are painted in their colours (the pixels, not only the DOM).
    const shot = await chart.screenshot({ path: path.join(OUT, 'report-chart.png') });
    expect(shot.length).toBeGreaterThan(2000);
    const spinBlue = await page.evaluate(() => {
      const r = document.querySelector('g[data-run="spin-ideal"] rect.vl-bar')!;
      return getComputedStyle(r).fill;
    });
    expect(spinBlue).toBe('rgb(0, 114, 178)');
    // The talk's ratios are marked on each bar, and the ratio table quotes them.
    expect(await chart.locator('.vl-talk-mark').count()).toBe(5);
    expect(await page.locator('table.vl-ratios tbody tr').count()).toBe(4);
    expect(await page.locator('#vl-advice li').count()).toBeGreaterThan(1);
    await page.screenshot({ path: path.join(OUT, 'report.png'), fullPage: true });
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
