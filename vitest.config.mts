import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/webview/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
