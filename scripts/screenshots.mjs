// The README's screenshots of the HTML report: the real fixture pair and a simulated npb-ua-b
// run, each zoomed around its longest vCPU stall with that interval clicked, so the connectors and
// the details panel show. Regenerate with `node scripts/screenshots.mjs` (needs /usr/bin/chromium).

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/* global window, document, requestAnimationFrame -- page.evaluate callbacks run in the browser. */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, '.cache', 'screens');
const CLI = path.join(ROOT, 'dist/cli.js');
const PAIR = path.join(ROOT, 'test/fixtures/real/quiet-passive-local');

function cli(...args) {
  return execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
}

/** Model time of an absolute `seconds.fraction` host timestamp (ns traces). */
function modelNs(abs, originAbs) {
  const [s, f = ''] = abs.split('.');
  const ns = BigInt(s) * 1_000_000_000n + BigInt(f.padEnd(9, '0').slice(0, 9));
  return Number(ns - BigInt(originAbs));
}

async function shoot(browser, html, json, out, spanNs) {
  const report = JSON.parse(json);
  const model = JSON.parse(
    /<script type="application\/json" id="vcpu-lens-model">([\s\S]*?)<\/script>/.exec(
      readFileSync(html, 'utf8'),
    )[1],
  );
  // The longest stall of a program thread (report.stalls is sorted longest first).
  const prog = new Set(report.program?.pids ?? []);
  const stall =
    report.stalls.find((s) => s.kind === 'preempted' && prog.has(s.guestPid)) ?? report.stalls[0];
  const s = modelNs(stall.start, model.meta.hostOriginAbs);
  const e = modelNs(stall.end, model.meta.hostOriginAbs);
  const mid = (s + e) / 2;
  const half = Math.max(spanNs / 2, (e - s) * 2);
  const page = await browser.newPage({ viewport: { width: 1500, height: 940 } });
  await page.goto(`file://${html}`);
  await page.waitForSelector('body[data-ready="1"]');
  await page.evaluate(([a, b]) => window.vcpuLens.zoomTo(a, b), [mid - half, mid + half]);
  const settle = async () => {
    await page.waitForFunction(() => window.vcpuLens.pendingRequests() === 0);
    await page.evaluate(
      () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
    );
  };
  await settle();
  // Click the stalled vCPU at the stall: the details list the guest thread and the preemptor.
  const row = await page.evaluate((id) => window.vcpuLens.laneY(id), `vcpu:${stall.vcpu}`);
  const view = await page.evaluate(() => window.vcpuLens.view());
  const x = ((mid - view.startNs) / (view.endNs - view.startNs)) * view.widthPx;
  await page.evaluate((y) => {
    document.querySelector('.vl-scroll').scrollTop = Math.max(0, y - 120);
  }, row.y);
  await settle();
  // The overlay scrolls with the lanes: its box already includes the scroll offset.
  const box = await page.locator('.vl-overlay').boundingBox();
  await page.mouse.click(box.x + x, box.y + row.y + row.h / 2);
  await page.waitForFunction(() => document.querySelector('.vl-detail-state') !== null);
  await page.mouse.move(box.x + x + 40, box.y + row.y + row.h / 2 + 2);
  await settle();
  await page.screenshot({ path: out });
  await page.close();
  console.log(`wrote ${path.relative(ROOT, out)}`);
}

mkdirSync(OUT, { recursive: true });
execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
const real = path.join(OUT, 'real.html');
const realJson = cli(
  'analyze',
  '--host',
  path.join(PAIR, 'host.txt.gz'),
  '--guest',
  path.join(PAIR, 'guest.txt.gz'),
  '--json',
  '--out',
  real,
);
const npbDir = path.join(OUT, 'npb-ua-b');
cli('simulate', '--preset', 'npb-ua-b', '--policy', 'spin', '--out', npbDir, '--force');
const npbJson = cli(
  'analyze',
  '--host',
  path.join(npbDir, 'host.txt'),
  '--guest',
  path.join(npbDir, 'guest.txt'),
  '--json',
);
const { chromium } = await import('playwright-core');
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
await shoot(browser, real, realJson, path.join(ROOT, 'docs/timeline-real.png'), 60e6);
await shoot(
  browser,
  path.join(npbDir, 'report.html'),
  npbJson,
  path.join(ROOT, 'docs/timeline-npb-ua-b.png'),
  400e6,
);
await browser.close();
