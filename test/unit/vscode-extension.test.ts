// The extension's mocha suite (test/electron) inside a real VS Code workbench (code-server +
// Chromium, test/e2e/extension-tests.mjs). CI installs both (scripts/ensure-code-server.sh);
// elsewhere the test is skipped with the reason when they are missing.
import { describe, expect, it } from 'vitest';

// @ts-expect-error: plain ESM helper without types
const cs = (await import('../e2e/code-server.mjs')) as { missing: () => string | undefined };
// @ts-expect-error: plain ESM helper without types
const et = (await import('../e2e/extension-tests.mjs')) as {
  runExtensionTests: (o: {
    log: (s: string) => void;
  }) => Promise<{ code: number; lines: string[] }>;
};
const why = cs.missing();

describe.skipIf(why !== undefined)(
  `the extension in real VS Code${why !== undefined ? ` (skipped: missing ${why})` : ''}`,
  () => {
    it('runs the mocha suite in code-server and every test passes', async () => {
      const { code, lines } = await et.runExtensionTests({ log: () => {} });
      const text = lines.join('\n');
      expect(text, text).toMatch(/(\d+) passing/);
      expect(text).not.toMatch(/\d+ failing/);
      expect(code, text).toBe(0);
    }, 400_000);
  },
);
