// Lint: typescript-eslint's recommended rules plus the import boundaries of ARCHITECTURE.md.
// The boundary rules are what keep one engine usable from the CLI, the server, the webview and tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'zlib', 'stream', 'stream/*', 'worker_threads', 'util', 'crypto', 'http', 'https', 'net', 'readline', 'process', 'buffer', 'events', 'url',
];
const nodePatterns = NODE_BUILTINS.map((n) => ({ group: [n], message: 'src/core is pure: Node APIs only in src/core/io/.' }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'out/**', 'bench-data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['*.mjs', 'scripts/**/*.mjs', 'test/**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', URL: 'readonly', fetch: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly',
      },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The engine: no vscode, no DOM, no Node outside core/io, nothing of ours outside core.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/io/**'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/core must not import vscode.' }],
        patterns: [
          ...nodePatterns,
          { group: ['vscode-languageclient*', 'vscode-languageserver*', 'd3', 'd3-*'], message: 'src/core must not depend on UI or LSP packages.' },
          { group: ['**/cli/**', '**/server/**', '**/extension/**', '**/protocol/**', '**/webview/**'], message: 'src/core imports nothing of ours outside core.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'window', message: 'No DOM in src/core.' },
        { name: 'document', message: 'No DOM in src/core.' },
        { name: 'process', message: 'No Node globals in src/core outside io/.' },
        { name: 'Buffer', message: 'No Node globals in src/core outside io/.' },
        { name: 'require', message: 'No Node globals in src/core outside io/.' },
      ],
      'no-console': 'error',
    },
  },
  {
    files: ['src/core/io/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/core must not import vscode.' }],
        patterns: [{ group: ['**/cli/**', '**/server/**', '**/extension/**', '**/protocol/**', '**/webview/**'], message: 'src/core imports nothing of ours outside core.' }],
      }],
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'The CLI runs without VS Code.' }],
        patterns: [{ group: ['**/extension/**', '**/webview/**', '**/server/**'], message: 'The CLI imports core and protocol only.' }],
      }],
    },
  },
  {
    // The language server: core + protocol, LSP types; never the editor or the UI.
    files: ['src/server/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'The server runs outside the extension host: no vscode.' }],
        patterns: [
          { group: ['vscode-languageclient*', 'd3', 'd3-*'], message: 'The server speaks LSP; the client and the UI live elsewhere.' },
          { group: ['**/extension/**', '**/webview/**', '**/cli/**'], message: 'The server imports core and protocol only.' },
        ],
      }],
      'no-console': 'error',
    },
  },
  {
    // The extension: protocol, vscode and the language client; the engine runs in the server.
    files: ['src/extension/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/core/**'], message: 'The extension host stays light: engine work goes through the language server (protocol types only).', allowTypeImports: true },
          { group: ['**/server/**', '**/cli/**', '**/webview/**', 'vscode-languageserver', 'vscode-languageserver/*', 'd3', 'd3-*'], message: 'The extension imports protocol, vscode and vscode-languageclient.' },
        ],
      }],
      'no-console': 'error',
    },
  },
  {
    // Messages between processes: types and method names only.
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'Protocol types are shared by every side.' }],
        patterns: [
          { group: ['**/core/**'], message: 'Protocol imports core types only.', allowTypeImports: true },
          { group: ['**/server/**', '**/extension/**', '**/cli/**', '**/webview/**', 'vscode-*', 'd3', 'd3-*', 'node:*'], message: 'Protocol is types only.' },
        ],
      }],
    },
  },
);
