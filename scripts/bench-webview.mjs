// Webview benchmark: the timeline in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core) over a generated 5M-interval model, answered from Node exactly as the extension
// host will: the page posts `requestWindow`, the engine's LOD index answers with kilobytes.
// Measures the index build, window reply sizes, time to first paint, and frame times while
// panning and zooming with the wheel, drags and W/A/S/D.
//
//   node scripts/bench-webview.mjs [--intervals N] [--write]   (also run by `npm run bench`)
//
// --write replaces the "Latest webview results" section of BENCHMARKS.md.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleNode, writeBenchSection } from './bench-lib.mjs';

/* global window, requestAnimationFrame -- the page.evaluate callbacks run in the browser. */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATA = path.join(ROOT, 'bench-data');
const ENGINE = path.join(DATA, 'view-engine.cjs');
const CHROMIUM = '/usr/bin/chromium';
const GOAL_FRAME_MS = 16;

function log(s) {
  process.stderr.write(`[bench-webview] ${s}\n`);
}

async function bundleEngine() {
  if (!existsSync(path.join(ROOT, 'dist/webview.js'))) {
    const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
    if (r.status !== 0) throw new Error('node esbuild.mjs failed');
  }
  await bundleNode(
    [
      "export { TimelineIndex } from './src/core/view/lod';",
      "export { answer } from './webview/in-page-provider';",
      "export { initiallyCollapsed, ViewState } from './src/core/view/states';",
      "export { openLanes } from './src/core/view/first-view';",
    ],
    ENGINE,
  );
  return createRequire(import.meta.url)(ENGINE);
}

/**
 * A generated model shaped like a big dual-level trace: 16 host CPUs, 16 vCPU threads, 16 guest
 * CPUs, 64 guest threads and 8 co-runners over 60 s, `total` intervals in all, with stalls.
 */
function generateModel(total, S) {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const spanNs = 60e9;
  const groups = [
    ['host-cpus', 'hcpu', 16, [S.vcpu, S.vcpu, S.other, S.idle]],
    ['vcpus', 'vcpu', 16, [S.running, S.running, S.running, S.preempted, S.waiting, S.idle, S.vmm]],
    ['guest-cpus', 'gcpu', 16, [S.running, S.running, S.other, S.idle]],
    ['guest-threads', 'gthread', 64, [S.running, S.running, S.stalled, S.waiting, S.sleeping]],
    ['co-runners', 'hthread', 8, [S.running, S.waiting, S.sleeping]],
  ];
  const nLanes = groups.reduce((s, g) => s + g[2], 0);
  const perLane = Math.floor(total / nLanes);
  const lanes = [];
  const cols = [];
  for (const [group, prefix, n, states] of groups) {
    for (let k = 0; k < n; k++) {
      const id = prefix === 'gthread' ? 1000 + k : prefix === 'hthread' ? 9000 + k : k;
      lanes.push({
        id: `${prefix}:${id}`,
        group,
        label: `${prefix} ${id}`,
        machine: group === 'guest-cpus' || group === 'guest-threads' ? 'guest' : 'host',
        ...(prefix === 'gthread' || prefix === 'hthread' ? { pid: id } : { cpu: id }),
        ...(prefix === 'vcpu' ? { vcpu: id, pid: 5000 + id } : {}),
      });
      const start = new Float64Array(perLane);
      const end = new Float64Array(perLane);
      const state = new Uint8Array(perLane);
      const who = new Int32Array(perLane).fill(-1);
      const aux = new Int32Array(perLane).fill(-1);
      const mean = spanNs / perLane;
      let t = 0;
      for (let i = 0; i < perLane; i++) {
        // Heavy-tailed lengths: most intervals far below a pixel at full view, a few long ones.
        const len = Math.max(1, Math.round(mean * (rnd() < 0.9 ? rnd() * 0.6 : 1 + rnd() * 4.6)));
        start[i] = t;
        end[i] = Math.min(spanNs, t + len);
        state[i] = states[Math.floor(rnd() * states.length)];
        aux[i] = Math.floor(rnd() * 16);
        t = end[i];
      }
      cols.push({ start, end, state, who, aux });
    }
  }
  const nLinks = 200_000;
  const links = {
    start: new Float64Array(nLinks),
    end: new Float64Array(nLinks),
    vcpu: new Int32Array(nLinks),
    guestPid: new Int32Array(nLinks),
    guestComm: new Int32Array(nLinks),
    pcpu: new Int32Array(nLinks),
    preemptorPid: new Int32Array(nLinks),
    preemptorComm: new Int32Array(nLinks),
    preempted: new Uint8Array(nLinks).fill(1),
  };
  for (let i = 0; i < nLinks; i++) {
    links.start[i] = (i / nLinks) * spanNs;
    links.end[i] = links.start[i] + 20_000 + rnd() * 2e6;
    links.vcpu[i] = i % 16;
    links.guestPid[i] = 1000 + (i % 64);
    links.pcpu[i] = i % 16;
    links.preemptorPid[i] = 9000 + (i % 8);
  }
  const meta = {
    protocol: 1,
    title: `generated: ${total.toLocaleString('en-US')} intervals, ${nLanes} lanes`,
    unit: 'ns',
    spanNs,
    hostOriginAbs: '1000000000000',
    guestClock: { guestOriginAbs: '2000000000', slope: 1 },
    lanes,
    findings: [
      {
        kind: 'oversubscription',
        severity: 'high',
        startNs: 1e9,
        endNs: 5e10,
        message: 'generated',
      },
    ],
    summary: [{ heading: 'Benchmark', lines: ['generated model'] }],
  };
  return { meta, strings: ['co-runner'], lanes: cols, links };
}

function pct(xs, p) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export async function webviewBench(opts = {}) {
  const total = opts.intervals ?? 5_000_000;
  if (!existsSync(CHROMIUM))
    return `\nWebview: skipped, ${CHROMIUM} is missing (apt-get install -y chromium).\n`;
  const engine = await bundleEngine();
  log(`generating a ${total.toLocaleString('en-US')}-interval model`);
  const model = generateModel(total, engine.ViewState);
  const intervals = model.lanes.reduce((s, c) => s + c.start.length, 0);
  let t0 = performance.now();
  const index = new engine.TimelineIndex(model);
  // As the language server does while the page loads: the pyramids of the lanes the page opens
  // with (server/handlers.ts prepareLanes; the collapsed groups' lanes are built on no request).
  const { lanes } = model.meta;
  for (const l of engine.openLanes(lanes, engine.initiallyCollapsed(lanes)))
    index.prepareLane(l.id);
  const buildMs = performance.now() - t0;
  log(`LOD index built in ${buildMs.toFixed(0)} ms`);

  // The page: the bundle with a stand-in for acquireVsCodeApi whose postMessage goes to Node.
  const html = path.join(DATA, 'bench-webview.html');
  writeFileSync(
    html,
    `<!DOCTYPE html><html><head><meta charset="utf-8"><style>${readFileSync(path.join(ROOT, 'dist/webview.css'), 'utf8')}</style></head>
<body><div id="vl-root"></div>
<script>
window.acquireVsCodeApi = () => ({
  postMessage: (m) => window.__vlPost(JSON.stringify(m)).then((r) =>
    window.dispatchEvent(new MessageEvent('message', { data: JSON.parse(r) }))),
  getState: () => undefined,
  setState: () => {},
});
</script>
<script>${readFileSync(path.join(ROOT, 'dist/webview.js'), 'utf8')}</script></body></html>`,
  );
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const replies = [];
  let answerMs = 0;
  await page.exposeFunction('__vlPost', (json) => {
    const m = JSON.parse(json);
    const a0 = performance.now();
    const body = engine.answer(index, m.body);
    const out = JSON.stringify({ id: m.id + 1e9, inReplyTo: m.id, body });
    answerMs += performance.now() - a0;
    if (body.kind === 'window') replies.push(out.length);
    return out;
  });
  t0 = performance.now();
  await page.goto(`file://${html}`);
  // First paint: the first frame drawn once the first windows have arrived.
  const firstPaintMs = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const tick = () => {
          const d = window.vcpuLens;
          if (d !== undefined && d.pendingRequests() === 0 && d.frames.length > 1)
            resolve(performance.now());
          else requestAnimationFrame(tick);
        };
        tick();
      }),
  );
  const wallFirstPaint = performance.now() - t0;

  // Interaction: wheel zoom at the pointer, drags, keys; frame times recorded by the page.
  await page.evaluate(() => {
    window.vcpuLens.frames.length = 0;
    window.__intervals = [];
    let last = performance.now();
    const tick = (t) => {
      window.__intervals.push(t - last);
      last = t;
      if (!window.__stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const box = await page.locator('.vl-overlay').boundingBox();
  const cx = box.x + 600;
  const cy = box.y + 200;
  await page.mouse.move(cx, cy);
  for (let i = 0; i < 60; i++) {
    await page.mouse.wheel(0, -120);
    await page.waitForTimeout(16);
  }
  for (let r = 0; r < 3; r++) {
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    for (let i = 0; i < 40; i++) {
      await page.mouse.move(cx - i * 12, cy, { steps: 1 });
      await page.waitForTimeout(16);
    }
    await page.mouse.up();
  }
  for (let i = 0; i < 40; i++) {
    await page.mouse.wheel(0, 120);
    await page.waitForTimeout(16);
  }
  await page.mouse.move(5, 5);
  for (const k of [
    'w',
    'w',
    'w',
    'a',
    'a',
    'd',
    'w',
    'w',
    's',
    'd',
    'd',
    'a',
    's',
    's',
    's',
    'w',
  ]) {
    await page.keyboard.press(k);
    await page.waitForTimeout(20);
  }
  await page.waitForFunction(() => window.vcpuLens.pendingRequests() === 0);
  const { frames, intervals: rafIntervals } = await page.evaluate(() => {
    window.__stop = true;
    return { frames: [...window.vcpuLens.frames], intervals: window.__intervals.slice(1) };
  });
  // The standalone report of the real pair: the model embedded, decoded and indexed in the page.
  const report = path.join(DATA, 'bench-report-real.html');
  const pair = path.join(ROOT, 'test/fixtures/real/quiet-passive-local');
  spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'dist/cli.js'),
      'analyze',
      '--host',
      path.join(pair, 'host.txt.gz'),
      '--guest',
      path.join(pair, 'guest.txt.gz'),
      '--out',
      report,
    ],
    { stdio: 'ignore' },
  );
  const reportPaint = [];
  for (let r = 0; r < 3; r++) {
    const rp = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await rp.goto(`file://${report}`);
    reportPaint.push(
      await rp.evaluate(
        () =>
          new Promise((resolve) => {
            const tick = () => {
              const d = window.vcpuLens;
              if (d !== undefined && d.pendingRequests() === 0 && d.frames.length > 1)
                resolve(performance.now());
              else requestAnimationFrame(tick);
            };
            tick();
          }),
      ),
    );
    await rp.close();
  }
  const reportMB = statSync(report).size / 1e6;
  await browser.close();
  const replyKB = replies.map((b) => b / 1024);
  const lines = [
    '',
    `### Webview: the timeline in headless ${chromiumVersion()}`,
    '',
    `Generated model: ${intervals.toLocaleString('en-US')} intervals in ${model.meta.lanes.length} lanes over 60 s, 200,000 stalls ` +
      `(the lanes a 5M-event dual-level trace yields); the page pulls windows from Node through a postMessage stand-in, as in VS Code.`,
    '',
    '| measure | value |',
    '|---|---|',
    `| LOD index build (Node: the pyramids of the lanes the page opens with, as the server builds them while it loads) | ${buildMs.toFixed(0)} ms |`,
    `| window replies | ${replies.length}, median ${pct(replyKB, 50).toFixed(1)} KB, p95 ${pct(replyKB, 95).toFixed(1)} KB, max ${Math.max(...replyKB).toFixed(1)} KB (${model.meta.lanes.length} lanes x 1,024 px each) |`,
    `| engine time answering | ${answerMs.toFixed(0)} ms for ${replies.length} windows (${(answerMs / Math.max(1, replies.length)).toFixed(2)} ms each) |`,
    `| time to first paint | ${firstPaintMs.toFixed(0)} ms after navigation (${wallFirstPaint.toFixed(0)} ms wall incl. page load) |`,
    `| draw time per frame while panning/zooming | median ${pct(frames, 50).toFixed(2)} ms, p95 ${pct(frames, 95).toFixed(2)} ms, max ${Math.max(...frames).toFixed(2)} ms over ${frames.length} frames: goal p95 <= ${GOAL_FRAME_MS} ms **${pct(frames, 95) <= GOAL_FRAME_MS ? 'PASS' : 'MISS'}** |`,
    `| HTML report of the real pair (${reportMB.toFixed(2)} MB, the model decoded and indexed in the page): first paint | median of 3: ${pct(reportPaint, 50).toFixed(0)} ms |`,
    `| frame interval (rAF to rAF) during the interaction | median ${pct(rafIntervals, 50).toFixed(1)} ms, p95 ${pct(rafIntervals, 95).toFixed(1)} ms over ${rafIntervals.length} frames |`,
    '',
  ];
  return lines.join('\n');
}

function chromiumVersion() {
  const r = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'Chromium';
}

const HEADING = '## Latest webview results';

/** Replaces (or appends) the "Latest webview results" section of BENCHMARKS.md. */
export function writeWebviewLatest(section) {
  writeBenchSection(
    HEADING,
    `Written by \`node scripts/bench-webview.mjs --write\` on ${new Date().toISOString().slice(0, 10)}.`,
    section,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { intervals: { type: 'string' }, write: { type: 'boolean', default: false } },
  });
  const intervals = values.intervals !== undefined ? Number(values.intervals) : undefined;
  if (intervals !== undefined && (!Number.isInteger(intervals) || intervals < 1000)) {
    console.error('usage: node scripts/bench-webview.mjs [--intervals N (>= 1000)] [--write]');
    process.exit(2);
  }
  const section = await webviewBench(intervals !== undefined ? { intervals } : {});
  process.stdout.write(section);
  if (values.write) writeWebviewLatest(section);
}
