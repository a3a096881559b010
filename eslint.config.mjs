// ESLint flat config: type-aware TypeScript rules, and the layering (which folder may import which)
// as lint errors, so a wrong import fails `npm run lint` in the editor and in CI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const root = import.meta.dirname;

// The core folders below orchestration: orchestration composes them, never the other way round.
const lowerCore = [
  'indexing',
  'store',
  'search',
  'embed',
  'llm',
  'prompt',
  'memory',
  'tools',
  'agent',
  'workflow',
  'security',
  'host',
  'trace',
  'config',
];

/** no-restricted-imports options: module specifiers (not paths) a folder must not name. */
const vscode = { name: 'vscode', message: 'Only src/extension talks to VS Code.' };
const nodeBuiltins = { regex: '^node:', message: 'Browser-safe code: no Node built-ins.' };
const restrictImports = (paths, patterns = []) => ['error', { paths, patterns }];

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'dist/**',
      'node_modules/**',
      '.vscode-tools/**',
      '.cache/**',
      '.baton/**',
      'test/fixtures/**',
      'bench/data/**',
      'bench/results/**',
      'train/data/**',
    ],
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
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: ['src/tsconfig.json', 'src/webview/tsconfig.json', 'test/tsconfig.json', 'bench/tsconfig.json', 'train/tsconfig.json'],
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      // `_`-prefixed parameters and destructured leftovers are the house way to say "unused on purpose".
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // async functions without an await keep a Promise-returning signature (interfaces, LSP handlers,
      // test doubles) and turn a synchronous throw into a rejection, which callers rely on.
      '@typescript-eslint/require-await': 'off',
      // `String(x ?? '')` is the house idiom for coercing a validated `unknown` (workflow arguments, zod
      // issues, JSON replies); the rule reads `unknown ?? ''` as `{}` and flags every one.
      '@typescript-eslint/no-base-to-string': 'off',
      // Passing a caught error or an AbortSignal's reason on unchanged is the point of those rejections.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // `cond ? fire(e) : skip(e)` as a statement picks which side effect runs (workflow engine).
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true, allowShortCircuit: true }],
      // Arrays read fine in assertion messages (`${names}` joins with commas).
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowArray: true }],
      // Lazy require() keeps big optional modules (tokenizer encodings) off the startup path; package.json
      // is read for the version.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['package\\.json$', '^gpt-tokenizer/encoding/'] }],
      // Patterns matching CLI output keep its spaces as printed (two before a source, say).
      'no-regex-spaces': 'off',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: layering() }],
    },
  },
  {
    // Tests, benches and training scripts read JSON replies and fixtures through JSON.parse and assert on
    // them; typing every reply would only add casts. `any` stays banned there too (no-explicit-any).
    files: ['test/**/*.ts', 'bench/**/*.ts', 'train/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // Assertion messages and trace keys interpolate whatever a reply or an event holds.
      '@typescript-eslint/restrict-template-expressions': 'off',
      // Some tests require a module only after installing a stand-in `vscode` module.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // The LLM client throws typed Failure records ({ kind, message }) and a CallerError wrapper, caught and
    // classified inside the client; the JSON scanner throws the error offset to its own catch.
    files: ['src/core/llm/client.ts', 'src/core/workflow/loader.ts'],
    rules: { '@typescript-eslint/only-throw-error': 'off' },
  },
  {
    // The class lists invisible code points (joiners, combining marks) to match each one alone ('u' flag).
    files: ['src/base/common/inert.ts'],
    rules: { 'no-misleading-character-class': 'off' },
  },
  // Specifiers (vscode, node:*, packages) are not paths, so no-restricted-paths cannot see them:
  // one no-restricted-imports block per folder (the folders are disjoint, so none overrides another).
  {
    files: ['src/base/common/**/*.ts'],
    rules: {
      'no-restricted-imports': restrictImports(
        [],
        [{ regex: '^(?!\\.\\.?/)', message: 'src/base/common is pure TypeScript: no packages, no Node, no vscode.' }],
      ),
    },
  },
  {
    files: ['src/base/node/**/*.ts', 'src/core/**/*.ts', 'src/server/**/*.ts', 'src/cli/**/*.ts'],
    rules: { 'no-restricted-imports': restrictImports([vscode]) },
  },
  {
    files: ['src/protocol.ts', 'src/protocol/**/*.ts', 'src/webview/**/*.ts'],
    rules: { 'no-restricted-imports': restrictImports([vscode], [nodeBuiltins]) },
  },
  {
    // The npm bin shim is CommonJS.
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', __dirname: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Scripts outside any tsconfig: plain JavaScript rules, Node globals.
    files: ['**/*.mjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
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
    ...lowerCore.map((dir) => ({
      target: `./src/core/${dir}`,
      from: './src/core/orchestration',
      message: 'Orchestration composes the lower core folders, never the reverse.',
    })),
    {
      target: ['./src/protocol.ts', './src/protocol'],
      from: ['./src/core', './src/base/node', ...surfaces],
      message: 'The protocol is shared by the server, the extension and the webview: only src/base/common and packages.',
    },
    { target: './src/server', from: ['./src/extension', './src/webview'], message: 'The server never needs the VS Code side.' },
    {
      target: './src/extension',
      from: ['./src/core', './src/server', './src/cli'],
      message: 'The extension reaches the core only through the language server.',
    },
    {
      target: './src/webview',
      from: './src',
      except: ['./webview', './protocol.ts', './protocol', './base/common'],
      message: 'The webview imports only itself, the protocol and src/base/common.',
    },
  ];
}
