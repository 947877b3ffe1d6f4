// The extension test entry in the @vscode/test-electron shape: VS Code loads this file as
// `extensionTestsPath` and calls `run()`. The same bundle runs under @vscode/test-electron where
// VS Code can be downloaded, and here inside code-server's workbench (test/e2e/extension-tests.mjs).
import Mocha from 'mocha';

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  // The suites are bundled into this file: give them mocha's globals, then load them.
  mocha.suite.emit('pre-require', globalThis, 'extension.test.js', mocha);
  await import('./extension.test');
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} extension test(s) failed`);
}
