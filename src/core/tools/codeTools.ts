// Read-only tools over the workspace: search_code (the hybrid index), grep, find_files, read_file
// and list_symbols. File listing goes through the indexer's own walker and content classifier, so
// a tool never shows what the index would not (ignored, secret, binary files).
import { readFile, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { resolveConfig } from '../config/config';
import { chunkFile } from '../indexing/chunker';
import { classifyContent, isSecretPath } from '../indexing/fileClassifier';
import { walkWorkspace, type WalkedFile } from '../indexing/walker';
import type { ReadOnlyTool, ToolContext } from './types';
import { relativeInside } from '../../base/node/paths';
import { errorMessage, errorCode } from '../../base/common/errors';

/** Lines one read_file call returns at most. */
export const READ_MAX_LINES = 500;
const GREP_LINE_CHARS = 240;
const SEARCH_RESULT_LINES = 80;

// ---- paths -------------------------------------------------------------------------------------

export interface ResolvedPath {
  /** Relative to the root, '/' separators. */
  rel: string;
  abs: string;
  exists: boolean;
}

export class PathError extends Error {}

/**
 * Resolves a model-supplied path inside the workspace. Refuses `..` escapes, absolute paths
 * elsewhere, symbolic links (of the file or any parent) that lead outside, and secret-looking
 * files, judged by both the given name and the name the link resolves to.
 */
export async function resolveWorkspacePath(root: string, input: string, opts: { allowMissing?: boolean } = {}): Promise<ResolvedPath> {
  if (!input || input.includes('\0')) throw new PathError('a file path is required');
  const rootAbs = path.resolve(root);
  const abs = path.resolve(rootAbs, input.replace(/\\/g, '/'));
  const rel = relativeInside(rootAbs, abs);
  if (rel === null) {
    throw new PathError(`${input} is outside the workspace; use a path relative to the workspace root`);
  }
  const relPosix = rel.split(path.sep).join('/');
  const realRoot = await realpath(rootAbs);
  // The nearest existing ancestor decides where the path really leads.
  let existing = abs;
  let real: string | null = null;
  for (;;) {
    try {
      real = await realpath(existing);
      break;
    } catch (err) {
      const code = errorCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new PathError(`cannot access ${relPosix}: ${code ?? errorMessage(err)}`);
      const parent = path.dirname(existing);
      if (parent === existing) break;
      existing = parent;
    }
  }
  if (real === null || (real !== realRoot && !real.startsWith(realRoot + path.sep))) {
    throw new PathError(`${relPosix} leads outside the workspace (through a symbolic link); refusing`);
  }
  const exists = existing === abs;
  if (isSecretPath(relPosix) || (exists && isSecretPath(path.basename(real)))) {
    throw new PathError(`${relPosix} looks like a secrets file (credentials, keys, .env); refusing to touch it`);
  }
  if (!exists && !opts.allowMissing) throw new PathError(`${relPosix} does not exist`);
  return { rel: relPosix, abs, exists };
}

// ---- workspace files ---------------------------------------------------------------------------

function walkSettings(ctx: ToolContext): { extraIgnores?: string[]; maxFileBytes?: number } {
  if (ctx.walk) return ctx.walk;
  try {
    // Only the narrowing part of an untrusted workspace's config: the tools never widen the walk.
    const config = resolveConfig(ctx.host.root, { trusted: false });
    return { extraIgnores: config.ignore, maxFileBytes: config.maxFileBytes };
  } catch {
    return {}; // a broken config file is reported by `baton index`; the tools still work
  }
}

function workspaceFiles(ctx: ToolContext): AsyncGenerator<WalkedFile> {
  return walkWorkspace({ root: ctx.host.root, ...walkSettings(ctx), signal: ctx.signal });
}

/**
 * Glob to RegExp over '/'-separated relative paths: `*`, `?`, `**`, `[...]`, `{a,b}`. A pattern
 * without '/' matches the file name at any depth (as in .gitignore and ripgrep); a pattern that
 * names a directory matches everything under it.
 */
export function globToRegExp(glob: string): RegExp {
  let g = glob.trim().replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '');
  const anchored = g.includes('/');
  g = g.replace(/^\/+/, '');
  let out = '';
  let braces = 0;
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === '*') {
      if (g[i + 1] === '*') {
        const atStart = i === 0 || g[i - 1] === '/';
        const slashAfter = g[i + 2] === '/';
        if (atStart && slashAfter) { out += '(?:.*/)?'; i += 2; }
        else if (atStart && i + 2 === g.length) { out += '.*'; i += 1; }
        else { out += '.*'; i += 1; }
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = g.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        let body = g.slice(i + 1, close);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        out += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else if (c === '{') { out += '(?:'; braces++; }
    else if (c === '}' && braces > 0) { out += ')'; braces--; }
    else if (c === ',' && braces > 0) out += '|';
    else out += c.replace(/[.+^$|()\\{}]/g, '\\$&');
  }
  out += ')'.repeat(braces);
  return new RegExp(`^${anchored ? '' : '(?:.*/)?'}${out}(?:/.*)?$`);
}

// ---- tools -------------------------------------------------------------------------------------

const searchArgs = z.object({
  query: z.string().min(1).describe('What to look for: a natural-language description or an identifier.'),
  k: z.number().int().min(1).max(30).default(8).describe('How many results.'),
});

export const searchCodeTool: ReadOnlyTool<z.infer<typeof searchArgs>> = {
  name: 'search_code',
  description: 'Searches the indexed workspace for code relevant to a query (hybrid lexical + semantic + symbol search). Returns the best matching chunks with their path and line range.',
  parameters: searchArgs,
  sideEffects: false,
  async run(args, ctx) {
    if (!ctx.retriever) throw new Error('the workspace has no search index; run `baton index` first, or use grep');
    const response = await ctx.retriever.search(args.query, { k: args.k, signal: ctx.signal });
    ctx.trace?.add('retrieve', 'search_code', { query: args.query, mode: response.mode, results: response.results.length });
    const out: string[] = response.notices.map((n) => `Note: ${n}`);
    // An index built before a secret file was linked in under an innocent name may hold it: re-check.
    const results = [];
    for (const r of response.results) if (!(await leadsToSecret(path.join(ctx.host.root, r.path)))) results.push(r);
    if (results.length === 0) out.push(`No results for ${JSON.stringify(args.query)}.`);
    results.forEach((r, i) => {
      const lines = r.text.split('\n');
      const shown = lines.slice(0, SEARCH_RESULT_LINES).join('\n');
      const more = lines.length > SEARCH_RESULT_LINES ? `\n… ${lines.length - SEARCH_RESULT_LINES} more lines (read_file ${r.path} ${r.startLine + SEARCH_RESULT_LINES}-${r.endLine})` : '';
      out.push(`## ${i + 1}. ${r.path}:${r.startLine}-${r.endLine}${r.symbol ? ` ${r.symbol}` : ''} (score ${r.score.toFixed(3)})\n${shown}${more}`);
    });
    return out.join('\n\n');
  },
};

const grepArgs = z.object({
  pattern: z.string().min(1).max(1000).describe('Text to find; a JavaScript regular expression when regex is true.'),
  regex: z.boolean().default(false).describe('Treat pattern as a regular expression (default: literal text).'),
  ignoreCase: z.boolean().default(false),
  glob: z.string().optional().describe('Only search files matching this glob, e.g. "src/**/*.ts" or "*.py".'),
  maxResults: z.number().int().min(1).max(1000).default(100),
});

export const grepTool: ReadOnlyTool<z.infer<typeof grepArgs>> = {
  name: 'grep',
  description: 'Finds lines matching a literal string or regular expression in the workspace files (ignored, secret and binary files are skipped). Returns path:line: text.',
  parameters: grepArgs,
  sideEffects: false,
  async run(args, ctx) {
    let re: RegExp;
    try {
      re = new RegExp(args.regex ? args.pattern : args.pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), args.ignoreCase ? 'i' : '');
    } catch (err) {
      throw new Error(`invalid regular expression: ${errorMessage(err)}`);
    }
    const only = args.glob ? globToRegExp(args.glob) : null;
    const hits: string[] = [];
    let files = 0;
    let capped = false;
    outer: for await (const file of workspaceFiles(ctx)) {
      if (only && !only.test(file.path)) continue;
      const text = await readText(file);
      if (text === null) continue;
      files++;
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        if (!re.test(lines[i])) continue;
        if (hits.length === args.maxResults) { capped = true; break outer; }
        const line = lines[i].replace(/\r$/, '');
        hits.push(`${file.path}:${i + 1}: ${line.length > GREP_LINE_CHARS ? line.slice(0, GREP_LINE_CHARS) + '…' : line}`);
      }
    }
    if (hits.length === 0) return `No matches in ${files} file${files === 1 ? '' : 's'}.`;
    const tail = capped
      ? `\n[stopped after ${args.maxResults} matches; narrow the pattern or pass a glob]`
      : `\n${hits.length} match${hits.length === 1 ? '' : 'es'} in ${files} files searched.`;
    return hits.join('\n') + tail;
  },
};

/** Whether a file is, or links to, a secret-looking file (a vanished file counts as one: skip it). */
async function leadsToSecret(abs: string): Promise<boolean> {
  try {
    return isSecretPath(path.basename(await realpath(abs)));
  } catch {
    return true;
  }
}

/** A walked file's text, or null when the indexer would skip it for its content. */
async function readText(file: WalkedFile): Promise<string | null> {
  let bytes: Buffer;
  try {
    // The walker follows links inside the root but judges secrets by the link's own name: an
    // innocently named link to .env must not be searched.
    if (await leadsToSecret(file.absPath)) return null;
    bytes = await readFile(file.absPath);
  } catch {
    return null; // vanished since the walk
  }
  const cls = classifyContent(file.path, bytes);
  return cls.ok ? cls.text : null;
}

const findArgs = z.object({
  pattern: z.string().min(1).describe('Glob over workspace-relative paths, e.g. "**/*.test.ts", "src/auth/*", "*.md".'),
  maxResults: z.number().int().min(1).max(2000).default(200),
});

export const findFilesTool: ReadOnlyTool<z.infer<typeof findArgs>> = {
  name: 'find_files',
  description: 'Lists workspace files whose path matches a glob (ignored, secret and binary files are not listed).',
  parameters: findArgs,
  sideEffects: false,
  async run(args, ctx) {
    const re = globToRegExp(args.pattern);
    const found: string[] = [];
    let total = 0;
    for await (const file of workspaceFiles(ctx)) {
      if (!re.test(file.path)) continue;
      total++;
      if (found.length < args.maxResults) found.push(file.path);
    }
    if (total === 0) return `No files match ${JSON.stringify(args.pattern)}.`;
    return found.join('\n') + (total > found.length ? `\n[${total - found.length} more files not shown; narrow the pattern]` : '');
  },
};

const readArgs = z.object({
  path: z.string().min(1).describe('Path relative to the workspace root.'),
  startLine: z.number().int().min(1).optional().describe('First line, 1-based (default 1).'),
  endLine: z.number().int().min(1).optional().describe(`Last line, inclusive (default: start + ${READ_MAX_LINES - 1}).`),
});

export const readFileTool: ReadOnlyTool<z.infer<typeof readArgs>> = {
  name: 'read_file',
  description: `Reads a workspace file, or a range of its lines (at most ${READ_MAX_LINES} lines per call). The first line of the output names the range shown.`,
  parameters: readArgs,
  sideEffects: false,
  async run(args, ctx) {
    const { rel, text } = await readWorkspaceText(args.path, ctx);
    const lines = text.split(/\r?\n/);
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    const total = lines.length;
    const start = args.startLine ?? 1;
    if (start > total) throw new Error(`${rel} has ${total} line${total === 1 ? '' : 's'}; startLine ${start} is past the end`);
    const end = Math.min(total, args.endLine ?? start + READ_MAX_LINES - 1, start + READ_MAX_LINES - 1);
    if (end < start) throw new Error(`endLine ${args.endLine} is before startLine ${start}`);
    const more = end < total ? ` (file has ${total} lines; read on from line ${end + 1})` : ` (of ${total})`;
    return `${rel}:${start}-${end}${more}\n${lines.slice(start - 1, end).join('\n')}`;
  },
};

/** A workspace file's text through the host (unsaved editor changes included, line endings as
 * they are), after the path, secret and content checks. Generated and minified files may be
 * read; binaries may not. */
export async function readWorkspaceText(input: string, ctx: ToolContext): Promise<{ rel: string; abs: string; text: string }> {
  const { rel, abs } = await resolveWorkspacePath(ctx.host.root, input);
  const cls = classifyContent(rel, await readFile(abs));
  if (!cls.ok && (cls.reason === 'secret' || cls.reason === 'binary' || cls.reason === 'non-utf8')) {
    throw new Error(`cannot read ${rel}: ${cls.reason} (${cls.detail})`);
  }
  return { rel, abs, text: await ctx.host.readFile(rel) };
}

const symbolArgs = z.object({ path: z.string().min(1).describe('Path relative to the workspace root.') });

export const listSymbolsTool: ReadOnlyTool<z.infer<typeof symbolArgs>> = {
  name: 'list_symbols',
  description: 'Lists the functions, classes, methods and sections declared in a file, with their line ranges.',
  parameters: symbolArgs,
  sideEffects: false,
  async run(args, ctx) {
    const { rel, text } = await readWorkspaceText(args.path, ctx);
    const chunks = await chunkFile(rel, text);
    const symbols = chunks.filter((c) => c.symbol !== null);
    if (symbols.length === 0) return `No symbols found in ${rel} (${chunks[0]?.language ?? 'empty file'}).`;
    return [`${rel} (${symbols[0].language})`, ...symbols.map((c) => `${c.startLine}-${c.endLine} ${c.kind} ${c.symbol}`)].join('\n');
  },
};

export const CODE_TOOLS = [searchCodeTool, grepTool, findFilesTool, readFileTool, listSymbolsTool] as const;
