// Lint: typescript-eslint's recommended rules plus the import boundaries of ARCHITECTURE.md.
// The boundary rules are what keep one engine usable from the CLI, the server, the webview and tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'child_process',
  'zlib',
  'stream',
  'stream/*',
  'worker_threads',
  'util',
  'crypto',
  'http',
  'https',
  'net',
  'readline',
  'process',
  'buffer',
  'events',
  'url',
];
const nodePatterns = NODE_BUILTINS.map((n) => ({
  group: [n],
  message: 'src/core is pure: Node APIs only in src/core/io/.',
}));

// Both src/core and src/core/io: no vscode, and nothing of ours from outside core.
const noVscode = { name: 'vscode', message: 'src/core must not import vscode.' };
const outsideCore = {
  group: ['**/cli/**', '**/server/**', '**/extension/**', '**/protocol/**', '**/webview/**'],
  message: 'src/core imports nothing of ours outside core.',
};

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', '.cache/**', 'out/**', 'bench-data/**', 'coverage/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['*.mjs', 'scripts/**/*.mjs', 'test/**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // The engine: no vscode, no DOM, no Node outside core/io, nothing of ours outside core.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/io/**'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode],
          patterns: [
            ...nodePatterns,
            {
              group: ['vscode-languageclient*', 'vscode-languageserver*', 'd3', 'd3-*'],
              message: 'src/core must not depend on UI or LSP packages.',
            },
            outsideCore,
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
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
    // Reports draw their charts as SVG text: d3's pure scales and path generators, no DOM.
    files: ['src/core/report/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode],
          patterns: [
            ...nodePatterns,
            {
              group: [
                'vscode-languageclient*',
                'vscode-languageserver*',
                'd3',
                'd3-*',
                '!d3-scale',
                '!d3-shape',
              ],
              message:
                'src/core/report may use d3-scale and d3-shape (no DOM), nothing else of d3.',
            },
            outsideCore,
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/io/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode],
          patterns: [outsideCore],
        },
      ],
    },
  },
  {
    // The webview protocol: types only (the state values live in src/core/view/states.ts), so the
    // webview and the extension share it without shipping code. (lsp-ext.ts holds the LSP methods.)
    files: ['src/protocol/webview.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'VariableDeclaration', message: 'src/protocol holds types only.' },
        { selector: 'FunctionDeclaration', message: 'src/protocol holds types only.' },
        { selector: 'ClassDeclaration', message: 'src/protocol holds types only.' },
        {
          selector: 'ImportDeclaration[importKind="value"]',
          message: 'src/protocol imports types only (import type).',
        },
      ],
    },
  },
  {
    // All of src/protocol: shared by the extension, the server, the CLI and the webview.
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'vscode', message: 'The protocol is shared with the webview and the CLI.' },
          ],
          patterns: [
            ...NODE_BUILTINS.map((n) => ({ group: [n], message: 'The protocol is types only.' })),
            {
              group: ['**/cli/**', '**/server/**', '**/extension/**', '**/webview/**'],
              message: 'The protocol imports core types only.',
            },
          ],
        },
      ],
    },
  },
  {
    // The webview: browser code; protocol types, d3, and the pure engine (never core I/O).
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'vscode', message: 'The webview talks to VS Code only through postMessage.' },
          ],
          patterns: [
            ...NODE_BUILTINS.map((n) => ({
              group: [n],
              message: 'The webview runs in a browser: no Node APIs.',
            })),
            {
              group: ['**/core/io/**', '**/core/ingest/**'],
              message: 'The webview reads no files: core I/O stays out.',
            },
            {
              group: ['**/cli/**', '**/server/**', '**/extension/**'],
              message: 'The webview imports protocol, d3 and pure core only.',
            },
            {
              group: ['vscode-languageclient*', 'vscode-languageserver*', '**/protocol/lsp-ext*'],
              message: 'No LSP in the webview.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { property: 'innerHTML', message: 'Trace-derived text goes in as text: use textContent.' },
        { property: 'outerHTML', message: 'Trace-derived text goes in as text: use textContent.' },
        { property: 'insertAdjacentHTML', message: 'Trace-derived text goes in as text.' },
        { property: 'html', message: 'd3 .html() sets innerHTML: use .text().' },
        { object: 'document', property: 'write', message: 'No document.write.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'eval', message: 'No eval: the CSP forbids unsafe-eval.' },
        { name: 'Function', message: 'No Function constructor: the CSP forbids unsafe-eval.' },
        { name: 'process', message: 'No Node globals in the webview.' },
        { name: 'require', message: 'No Node globals in the webview.' },
      ],
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'The CLI runs without VS Code.' }],
          patterns: [
            {
              group: ['**/extension/**', '**/webview/**', '**/server/**'],
              message: 'The CLI imports core and protocol only.',
            },
          ],
        },
      ],
    },
  },
  {
    // The language server: core + protocol, LSP types; never the editor or the UI.
    files: ['src/server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'vscode', message: 'The server runs outside the extension host: no vscode.' },
          ],
          patterns: [
            {
              group: ['vscode-languageclient*', 'd3', 'd3-*'],
              message: 'The server speaks LSP; the client and the UI live elsewhere.',
            },
            {
              group: ['**/extension/**', '**/webview/**', '**/cli/**'],
              message: 'The server imports core and protocol only.',
            },
          ],
        },
      ],
      'no-console': 'error',
    },
  },
  {
    // The extension: protocol, vscode and the language client; the engine runs in the server.
    files: ['src/extension/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/core/**'],
              message:
                'The extension host stays light: engine work goes through the language server (protocol types only).',
              allowTypeImports: true,
            },
            {
              group: [
                '**/server/**',
                '**/cli/**',
                '**/webview/**',
                'vscode-languageserver',
                'vscode-languageserver/*',
                'd3',
                'd3-*',
              ],
              message: 'The extension imports protocol, vscode and vscode-languageclient.',
            },
          ],
        },
      ],
      'no-console': 'error',
    },
  },
  {
    // Messages between processes: types, and each LSP method once as a RequestType /
    // NotificationType of vscode-languageserver-protocol (lsp-ext.ts, which the webview never imports).
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'Protocol types are shared by every side.' }],
          patterns: [
            {
              group: ['**/core/**'],
              message: 'Protocol imports core types only.',
              allowTypeImports: true,
            },
            {
              group: [
                '**/server/**',
                '**/extension/**',
                '**/cli/**',
                '**/webview/**',
                'vscode-*',
                '!vscode-languageserver-protocol',
                'd3',
                'd3-*',
                'node:*',
              ],
              message: 'Protocol is types only (and the LSP message types).',
            },
          ],
        },
      ],
    },
  },
);
