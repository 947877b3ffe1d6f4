// Runs the extension's mocha suite (test/electron, the @vscode/test-electron shape) inside
// code-server's real workbench, per ../shared/e2e/RECIPE.md section 4: the smoke-test driver
// loads the extension from this checkout as a development extension and the suite as
// `extensionTestsPath`; its log comes back through codeAutomationLog, its result through
// codeAutomationExit. Exit code 0 when the suite passed. Screenshots go to test-results/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import {
  launchChromium,
  missing,
  prepareWorkspace,
  ROOT,
  startCodeServer,
} from './code-server.mjs';

export async function runExtensionTests({ log = (s) => process.stdout.write(s + '\n') } = {}) {
  const why = missing();
  if (why !== undefined) throw new Error(`cannot run the extension tests: missing ${why}`);
  const ws = prepareWorkspace();
  const out = path.join(ROOT, 'test-results/extension-tests');
  mkdirSync(out, { recursive: true });
  const server = await startCodeServer(ws, { vscodeOptions: ['enable-smoke-test-driver'] });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const lines = [];
    let settle;
    const exited = new Promise((r) => (settle = r));
    // The driver calls it with (type, args): console-like level, then the logged values.
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const s = format(...(Array.isArray(args) ? args : [args]));
      lines.push(s);
      log(type === 'error' ? `[error] ${s}` : s);
    });
    await page.exposeFunction('codeAutomationExit', (code) => settle(Number(code)));
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', `vscode-remote://remote${ROOT}`],
      [
        'extensionTestsPath',
        `vscode-remote://remote${path.join(ROOT, 'out/test/electron/index.js')}`,
      ],
    ]);
    await page.goto(
      `${server.url}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(payload)}`,
    );
    const timeout = new Promise((r) => setTimeout(() => r('timeout'), 300_000));
    const code = await Promise.race([exited, timeout]);
    await page.screenshot({ path: path.join(out, 'final.png') }).catch(() => {});
    if (code === 'timeout')
      throw new Error(`the extension tests did not finish in 300 s:\n${lines.join('\n')}`);
    return { code, lines };
  } finally {
    await browser.close();
    server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { code } = await runExtensionTests();
  process.exitCode = code;
}
