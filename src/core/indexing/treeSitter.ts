// Lazy, cached access to tree-sitter parsers.
//
// We use @vscode/tree-sitter-wasm for both the runtime and the grammars: its runtime matches its
// grammars' ABI, it is maintained with VS Code, and one package covers every language we parse.
// (web-tree-sitter 0.27 refuses the older-ABI grammars of tree-sitter-wasms.) It ships no C
// grammar; C is parsed with the C++ grammar, which accepts practically all C.
import * as path from 'node:path';
import { Language, Parser } from '@vscode/tree-sitter-wasm';
import type { Node, Tree } from '@vscode/tree-sitter-wasm';

export type { Node, Tree };

/** Language id -> grammar file inside @vscode/tree-sitter-wasm/wasm/. */
const GRAMMAR_FILES: Record<string, string> = {
  typescript: 'tree-sitter-typescript.wasm',
  tsx: 'tree-sitter-tsx.wasm',
  javascript: 'tree-sitter-javascript.wasm', // includes JSX
  python: 'tree-sitter-python.wasm',
  go: 'tree-sitter-go.wasm',
  java: 'tree-sitter-java.wasm',
  rust: 'tree-sitter-rust.wasm',
  c: 'tree-sitter-cpp.wasm',
  cpp: 'tree-sitter-cpp.wasm',
  csharp: 'tree-sitter-c-sharp.wasm',
  ruby: 'tree-sitter-ruby.wasm',
  php: 'tree-sitter-php.wasm',
  shellscript: 'tree-sitter-bash.wasm',
};

export function hasGrammar(language: string): boolean {
  return language in GRAMMAR_FILES;
}

let runtime: Promise<boolean> | undefined;
/** One parser per grammar file; null when the grammar failed to load (remembered, not retried). */
const parsers = new Map<string, Promise<Parser | null>>();

function grammarDir(): string {
  // Resolved through the package, never relative to this file: the CLI is bundled into dist/.
  return path.dirname(require.resolve('@vscode/tree-sitter-wasm'));
}

function initRuntime(): Promise<boolean> {
  runtime ??= Parser.init().then(
    () => true,
    () => false,
  );
  return runtime;
}

async function loadParser(file: string): Promise<Parser | null> {
  if (!(await initRuntime())) return null;
  try {
    const language = await Language.load(path.join(grammarDir(), file));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  } catch {
    return null;
  }
}

/** The cached parser for a language id, or null if it has no grammar or the grammar will not load. */
export function getParser(language: string): Promise<Parser | null> {
  const file = GRAMMAR_FILES[language];
  if (!file) return Promise.resolve(null);
  let parser = parsers.get(file);
  if (!parser) {
    parser = loadParser(file);
    parsers.set(file, parser);
  }
  return parser;
}

/**
 * Parses `text`, giving up (null) after `timeoutMs`. The caller owns the tree and must `delete()`
 * it: trees live in wasm memory, not on the JS heap.
 */
export async function parse(language: string, text: string, timeoutMs = 10_000): Promise<Tree | null> {
  const parser = await getParser(language);
  if (!parser) return null;
  const deadline = Date.now() + timeoutMs;
  try {
    // Returning true from the progress callback cancels the parse (typed as void in the .d.ts).
    const tree = parser.parse(text, null, { progressCallback: () => Date.now() > deadline });
    if (!tree) parser.reset();
    return tree;
  } catch {
    parser.reset();
    return null;
  }
}
