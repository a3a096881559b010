// ESLint flat config: type-aware TypeScript rules, and the layering (which folder may import which)
// as lint errors, so a wrong import fails `npm run lint` in the editor and in CI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const root = import.meta.dirname;

// The core folders below orchestration: orchestration composes them, never the other way round.
const lowerCore = [
  'indexing', 'store', 'search', 'embed', 'llm', 'prompt', 'memory', 'tools', 'agent', 'workflow', 'security', 'host', 'trace', 'config',
];

/** no-restricted-imports options: module specifiers (not paths) a folder must not name. */
const vscode = { name: 'vscode', message: 'Only src/extension talks to VS Code.' };
const nodeBuiltins = { regex: '^node:', message: 'Browser-safe code: no Node built-ins.' };
const restrictImports = (paths, patterns = []) => ['error', { paths, patterns }];

export default tseslint.config(
  {
    ignores: ['out/**', 'dist/**', 'node_modules/**', '.vscode-tools/**', '.cache/**', '.baton/**', 'test/fixtures/**', 'bench/data/**', 'bench/results/**', 'train/data/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      // Each file is checked with the nearest tsconfig.json (src/webview has its own, with DOM types).
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    plugins: { 'import-x': importX },
    settings: {
      // Which files import-x parses to follow imports (no-cycle reads the files an import leads to).
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['tsconfig.json', 'src/webview/tsconfig.json'] })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      // `_`-prefixed parameters and destructured leftovers are the house way to say "unused on purpose".
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: layering() }],
    },
  },
  // Specifiers (vscode, node:*, packages) are not paths, so no-restricted-paths cannot see them:
  // one no-restricted-imports block per folder (the folders are disjoint, so none overrides another).
  {
    files: ['src/base/common/**/*.ts'],
    rules: { 'no-restricted-imports': restrictImports([], [{ regex: '^(?!\\.\\.?/)', message: 'src/base/common is pure TypeScript: no packages, no Node, no vscode.' }]) },
  },
  { files: ['src/base/node/**/*.ts', 'src/core/**/*.ts', 'src/server/**/*.ts', 'src/cli/**/*.ts'], rules: { 'no-restricted-imports': restrictImports([vscode]) } },
  { files: ['src/protocol.ts', 'src/protocol/**/*.ts', 'src/webview/**/*.ts'], rules: { 'no-restricted-imports': restrictImports([vscode], [nodeBuiltins]) } },
  {
    // Scripts outside any tsconfig: plain JavaScript rules, Node globals.
    files: ['**/*.mjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
  },
);

/** The import-x/no-restricted-paths zones: `target` may not import from `from` (minus `except`). */
function layering() {
  const surfaces = ['./src/cli', './src/server', './src/extension', './src/webview'];
  return [
    { target: './src', from: './test', message: 'Sources never import tests.' },
    { target: './src/base/common', from: './src', except: ['./base/common'], message: 'src/base/common imports nothing outside itself.' },
    { target: './src/base/node', from: './src', except: ['./base'], message: 'src/base/node imports only src/base.' },
    { target: './src/core', from: surfaces, message: 'The core is hosted by the surfaces, never the reverse.' },
    ...lowerCore.map((dir) => ({ target: `./src/core/${dir}`, from: './src/core/orchestration', message: 'Orchestration composes the lower core folders, never the reverse.' })),
    {
      target: ['./src/protocol.ts', './src/protocol'],
      from: ['./src/core', './src/base/node', ...surfaces],
      message: 'The protocol is shared by the server, the extension and the webview: only src/base/common and packages.',
    },
    { target: './src/server', from: ['./src/extension', './src/webview'], message: 'The server never needs the VS Code side.' },
    { target: './src/extension', from: ['./src/core', './src/server', './src/cli'], message: 'The extension reaches the core only through the language server.' },
    {
      target: './src/webview',
      from: './src',
      except: ['./webview', './protocol.ts', './protocol', './base/common'],
      message: 'The webview imports only itself, the protocol and src/base/common.',
    },
  ];
}
