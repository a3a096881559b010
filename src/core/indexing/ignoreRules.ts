// Decides which workspace paths are ignored, with git's semantics for .gitignore files.
//
// Every ignore file's rules are rewritten to be relative to the workspace root and kept per
// directory. A path is tested against one `ignore` instance holding the rules of every ignore file
// on its ancestor chain, shallowest first: `ignore` lets the last matching rule win, which is
// exactly git's precedence (deeper files override shallower ones, and within one directory
// .git/info/exclude < .gitignore < .batonignore). Its parent-directory check then gives git's
// "a file inside an excluded directory cannot be re-included".
//
// Built-in defaults and configured globs live in a separate instance that is OR-ed in, so that a
// .gitignore re-including everything (`!*/`) cannot pull node_modules back in; a configured
// `!node_modules/` can, on purpose.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import ignore from 'ignore';

type Ignore = ignore.Ignore;
type Rule = ignore.PatternParams;

/** Ignore files read in every directory, lowest precedence first. */
export const IGNORE_FILE_NAMES: readonly string[] = ['.gitignore', '.batonignore'];

/** Always ignored unless a configured glob re-includes them. VCS metadata may be a file (worktrees). */
export const DEFAULT_IGNORES: readonly string[] = [
  '.git', '.hg', '.svn', '.baton',
  'node_modules/', '__pycache__/', '.venv/', 'venv/', '.tox/', '.mypy_cache/', '.pytest_cache/', '.next/', '.nuxt/',
];

export interface IgnoreRulesOptions {
  /** Extra gitignore-style globs relative to the root (configuration); `!glob` re-includes a default. */
  extraIgnores?: readonly string[];
  /** Case-insensitive matching. Defaults to the platform's usual file system behaviour. */
  ignoreCase?: boolean;
}

export interface IgnoreDecision {
  ignored: boolean;
  /** Which rule decided, e.g. `src/.gitignore:3 "*.log"` (only when ignored). */
  detail?: string;
}

export class IgnoreRules {
  private readonly ignoreCase: boolean;
  private readonly always: Ignore;
  /** Directory ('' = root) -> its rules, root-relative, in precedence order. */
  private readonly layers = new Map<string, Rule[]>();
  /** Directory with a layer -> compiled instance for its whole ancestor chain. */
  private readonly compiled = new Map<string, Ignore>();
  private lastChain: { dir: string; ig: Ignore } | null = null;

  constructor(opts: IgnoreRulesOptions = {}) {
    this.ignoreCase = opts.ignoreCase ?? (process.platform === 'darwin' || process.platform === 'win32');
    this.always = ignore({ ignorecase: this.ignoreCase });
    addSafely(this.always, DEFAULT_IGNORES.map((pattern) => ({ pattern, mark: `built-in default "${pattern}"` })));
    const extras = (opts.extraIgnores ?? []).filter((p) => p.trim() !== '' && !p.startsWith('#'));
    addSafely(this.always, extras.map((pattern) => ({ pattern, mark: `configured ignore "${pattern}"` })));
  }

  /** Rules for `root`: defaults, configuration, .git/info/exclude and the root's own ignore files. */
  static async forWorkspace(root: string, opts: IgnoreRulesOptions = {}): Promise<IgnoreRules> {
    const rules = new IgnoreRules(opts);
    const exclude = await gitExcludePath(root);
    if (exclude) {
      const text = await readText(exclude);
      if (text !== null) rules.addRules('', text, '.git/info/exclude');
    }
    await rules.loadDirectory(root, '');
    return rules;
  }

  /**
   * Reads the ignore files of directory `dirRel` (relative to `root`, '' for the root itself).
   * Pass `names` (the directory's listing) to avoid probing for files that are not there.
   * Returns the ignore files that exist but could not be read.
   */
  async loadDirectory(root: string, dirRel: string, names?: ReadonlySet<string>): Promise<string[]> {
    const failed: string[] = [];
    for (const name of IGNORE_FILE_NAMES) {
      if (names && !names.has(name)) continue;
      const rel = dirRel ? `${dirRel}/${name}` : name;
      const text = await readText(path.join(root, rel));
      if (text === null) {
        if (names) failed.push(rel);
        continue;
      }
      this.addRules(dirRel, text, rel);
    }
    return failed;
  }

  /**
   * Adds the rules of one ignore file found in `dirRel` ('' = root). Patterns are relative to
   * that directory, as git reads them. Files of the same directory added later take precedence.
   */
  addRules(dirRel: string, content: string, source: string): void {
    const dir = trimSlashes(dirRel);
    const rules: Rule[] = [];
    content.split(/\r?\n/).forEach((line, i) => {
      const pattern = scopePattern(line, dir);
      if (pattern !== null) rules.push({ pattern, mark: `${source}:${i + 1} "${line.trim()}"` });
    });
    if (rules.length === 0) return;
    this.layers.set(dir, [...(this.layers.get(dir) ?? []), ...rules]);
    this.lastChain = null;
    // Chains through this directory are stale now.
    for (const key of [...this.compiled.keys()]) {
      if (dir === '' || key === dir || key.startsWith(`${dir}/`)) this.compiled.delete(key);
    }
  }

  /** Whether a path relative to the root ('/' or platform separators) is ignored. */
  ignores(relPath: string, isDir = false): boolean {
    return this.check(relPath, isDir).ignored;
  }

  check(relPath: string, isDir = false): IgnoreDecision {
    const rel = normalizeRel(relPath);
    if (rel === '' || rel === '.') return { ignored: false };
    const probe = isDir ? `${rel}/` : rel;
    let result = this.always.test(probe);
    if (!result.ignored) result = this.chainFor(parentOf(rel)).test(probe);
    return result.ignored ? { ignored: true, detail: result.rule?.mark ?? result.rule?.pattern } : NOT_IGNORED;
  }

  /** The compiled rules that apply inside directory `dir`. */
  private chainFor(dir: string): Ignore {
    // The walker asks about every entry of one directory in a row.
    if (this.lastChain && this.lastChain.dir === dir) return this.lastChain.ig;
    let owner = dir;
    while (owner !== '' && !this.layers.has(owner)) owner = parentOf(owner);
    let ig = this.compiled.get(owner);
    if (!ig) {
      ig = ignore({ ignorecase: this.ignoreCase });
      addSafely(ig, this.chainRules(owner));
      this.compiled.set(owner, ig);
    }
    this.lastChain = { dir, ig };
    return ig;
  }

  private chainRules(dir: string): Rule[] {
    const own = this.layers.get(dir) ?? [];
    return dir === '' ? own : [...this.chainRules(parentOf(dir)), ...own];
  }
}

/**
 * Rewrites one line of an ignore file in `dir` into a root-relative pattern, or null for blanks
 * and comments. Git anchors a pattern to its file's directory when it has a slash other than a
 * trailing one; otherwise it matches at any depth below that directory.
 */
export function scopePattern(line: string, dir: string): string | null {
  if (line.trim() === '' || line.startsWith('#')) return null;
  if (dir === '') return line; // already relative to the root: `ignore` reads it as git does
  let body = line;
  const negated = body.startsWith('!');
  if (negated) body = body.slice(1);
  // A leading `\!` or `\#` only matters at the start of a line; after the prefix it is literal.
  if (body.startsWith('\\!') || body.startsWith('\\#')) body = body.slice(1);
  const core = body.replace(/\s+$/, '').replace(/\/+$/, '');
  if (core.replace(/\//g, '') === '') return null;
  const anchored = core.includes('/');
  const scoped = anchored ? `${dir}/${body.replace(/^\/+/, '')}` : `${dir}/**/${body}`;
  return negated ? `!${scoped}` : scoped;
}

/** The exclude file of the repository at `root`, following a `.git` file (worktrees, submodules). */
async function gitExcludePath(root: string): Promise<string | null> {
  const dotGit = path.join(root, '.git');
  const pointer = await readText(dotGit);
  if (pointer === null) return path.join(dotGit, 'info', 'exclude'); // a directory, or absent
  const match = /^gitdir:\s*(.+)$/m.exec(pointer);
  return match ? path.join(path.resolve(root, match[1].trim()), 'info', 'exclude') : null;
}

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return null; // absent, a directory, or unreadable: no rules from it
  }
}

/** `ignore` rejects very few patterns, but one bad line must not discard a whole file. */
function addSafely(ig: Ignore, rules: readonly Rule[]): void {
  try {
    ig.add(rules);
  } catch {
    for (const rule of rules) {
      try {
        ig.add(rule);
      } catch {
        // unusable pattern: git would ignore it too
      }
    }
  }
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

const NOT_IGNORED: IgnoreDecision = Object.freeze({ ignored: false });

/** To '/' separators without leading './' or surrounding slashes; cheap for already-clean paths. */
function normalizeRel(rel: string): string {
  let out = path.sep !== '/' && rel.includes(path.sep) ? rel.split(path.sep).join('/') : rel;
  if (out.startsWith('./') || out.startsWith('/') || out.endsWith('/')) out = trimSlashes(out);
  return out;
}

function trimSlashes(rel: string): string {
  return rel.replace(/^\.\/+/, '').replace(/^\/+|\/+$/g, '');
}
