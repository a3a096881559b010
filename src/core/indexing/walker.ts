// Lists the files of a workspace worth indexing, without reading them (apart from ignore files).
//
// Order: paths come out sorted by plain string comparison of the relative path (a directory is
// ordered as `name/`), so a caller can merge the stream against a sorted list of known files.
// Ignored directories are never entered. Nothing about a single entry (vanished, unreadable,
// broken link) stops the walk: it is reported through onSkip and the walk goes on.
import { stat as statCallback, type Dirent, type Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { skipByName, type SkipReason } from './fileClassifier';
import { IgnoreRules } from './ignoreRules';
import { errorMessage, errorCode } from '../../base/common/errors';

export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
/** Files stat'ed concurrently: the thread pool hides syscall latency, more buys nothing. */
const STAT_CONCURRENCY = 32;

export interface WalkOptions {
  root: string;
  /** Gitignore-style globs relative to the root, from configuration. */
  extraIgnores?: string[];
  /** Larger files are skipped as 'too-large'. Default 1 MiB. */
  maxFileBytes?: number;
  signal?: AbortSignal;
  onSkip?: (relPath: string, reason: SkipReason, detail: string) => void;
}

export interface WalkedFile {
  /** Relative to the root, '/' separators. */
  path: string;
  absPath: string;
  size: number;
  mtimeMs: number;
}

interface DirItem { kind: 'dir'; rel: string; abs: string; real: string; viaLink: boolean; key: string }
interface FileItem { kind: 'file'; file: WalkedFile; key: string }
type Item = DirItem | FileItem;

/** A file entry that passed the name checks and still needs a stat. */
interface Candidate { rel: string; abs: string; key: string }

/**
 * Yields the indexable files under `opts.root`, sorted by relative path. Throws if the root is
 * missing or not a directory, and throws the signal's reason when aborted.
 */
export async function* walkWorkspace(opts: WalkOptions): AsyncGenerator<WalkedFile> {
  const root = path.resolve(opts.root);
  const realRoot = await resolveRoot(root);
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const signal = opts.signal;
  const skip = (rel: string, reason: SkipReason, detail: string) => opts.onSkip?.(rel, reason, detail);

  signal?.throwIfAborted();
  const rules = await IgnoreRules.forWorkspace(root, { extraIgnores: opts.extraIgnores });
  const visited = new Set<string>();
  const stack: Item[] = [{ kind: 'dir', rel: '', abs: root, real: realRoot, viaLink: false, key: '' }];

  while (stack.length > 0) {
    signal?.throwIfAborted();
    const item = stack.pop()!;
    if (item.kind === 'file') {
      yield item.file;
      continue;
    }
    // Real directories form a tree, so only a followed link can lead back to one already seen.
    if (item.viaLink && visited.has(item.real)) {
      skip(item.rel, 'symlink-loop', `links to ${describeReal(realRoot, item.real)}, already walked`);
      continue;
    }
    visited.add(item.real);

    let entries: Dirent[];
    try {
      entries = await readdir(item.abs, { withFileTypes: true });
    } catch (err) {
      if (item.rel === '') throw new Error(`Cannot read workspace root ${root}: ${errorText(err)}`);
      skip(item.rel, 'unreadable', errorText(err));
      continue;
    }
    entries.sort((a, b) => compare(a.name, b.name));
    const names = new Set(entries.map((e) => e.name));
    if (item.rel !== '') {
      for (const bad of await rules.loadDirectory(root, item.rel, names)) skip(bad, 'unreadable', 'ignore file could not be read');
    }

    const dirs: DirItem[] = [];
    const candidates: Candidate[] = [];
    // Plain concatenation: path.join per entry is measurable on big trees and the parts are clean.
    const absBase = withSep(item.abs);
    const realBase = withSep(item.real);
    for (const entry of entries) {
      const rel = item.rel ? `${item.rel}/${entry.name}` : entry.name;
      const abs = absBase + entry.name;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      let real = realBase + entry.name;
      const viaLink = entry.isSymbolicLink();
      if (viaLink) {
        const target = await resolveLink(abs, realRoot);
        if ('reason' in target) {
          skip(rel, target.reason, target.detail);
          continue;
        }
        ({ real, isDir, isFile } = target);
      }
      const decision = rules.check(rel, isDir);
      if (decision.ignored) {
        skip(rel, 'ignored', decision.detail ?? 'ignore rule');
      } else if (isDir) {
        dirs.push({ kind: 'dir', rel, abs, real, viaLink, key: `${entry.name}/` });
      } else if (!isFile) {
        skip(rel, 'unreadable', 'not a regular file (socket, pipe or device)');
      } else {
        // A link is judged by its target's name too: `notes.txt -> .env` is still a secret.
        const byName = skipByName(rel) ?? (viaLink ? linkTargetSkip(real, realRoot) : null);
        if (byName) skip(rel, byName.reason, byName.detail);
        else candidates.push({ rel, abs, key: entry.name });
      }
    }

    const files = await statAll(candidates, maxBytes, skip, signal);
    const children: Item[] = [...dirs, ...files].sort((a, b) => compare(a.key, b.key));
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
}

async function resolveRoot(root: string): Promise<string> {
  let info: Stats;
  try {
    info = await stat(root);
  } catch (err) {
    const code = errorCode(err);
    throw new Error(code === 'ENOENT' ? `Workspace root does not exist: ${root}` : `Cannot access workspace root ${root}: ${errorText(err)}`);
  }
  if (!info.isDirectory()) throw new Error(`Workspace root is not a directory: ${root}`);
  return realpath(root);
}

type LinkTarget = { real: string; isDir: boolean; isFile: boolean } | { reason: SkipReason; detail: string };

/** Follows a symbolic link; only targets inside the root are walked. */
async function resolveLink(abs: string, realRoot: string): Promise<LinkTarget> {
  let real: string;
  try {
    real = await realpath(abs);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ELOOP') return { reason: 'symlink-loop', detail: 'symbolic link cycle' };
    return { reason: 'unreadable', detail: `broken symbolic link (${code ?? errorText(err)})` };
  }
  if (real !== realRoot && !real.startsWith(realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep)) {
    return { reason: 'outside-root', detail: `links to ${real}, outside the workspace` };
  }
  try {
    const info = await stat(real);
    return { real, isDir: info.isDirectory(), isFile: info.isFile() };
  } catch (err) {
    return { reason: 'unreadable', detail: errorText(err) };
  }
}

function linkTargetSkip(real: string, realRoot: string): { reason: SkipReason; detail: string } | null {
  const target = path.relative(realRoot, real).split(path.sep).join('/');
  const byName = skipByName(target);
  return byName && { reason: byName.reason, detail: `links to ${target}: ${byName.detail}` };
}

/** Stats the surviving files of one directory, a few at a time, keeping their order. */
async function statAll(
  candidates: Candidate[],
  maxBytes: number,
  skip: (rel: string, reason: SkipReason, detail: string) => void,
  signal: AbortSignal | undefined,
): Promise<FileItem[]> {
  const out: FileItem[] = [];
  for (let start = 0; start < candidates.length; start += STAT_CONCURRENCY) {
    signal?.throwIfAborted();
    const batch = candidates.slice(start, start + STAT_CONCURRENCY);
    const results = await Promise.allSettled(batch.map((c) => quickStat(c.abs)));
    results.forEach((result, i) => {
      const c = batch[i];
      if (result.status === 'rejected') return skip(c.rel, 'unreadable', errorText(result.reason));
      const info = result.value;
      if (!info.isFile()) return skip(c.rel, 'unreadable', 'no longer a regular file');
      if (info.size > maxBytes) return skip(c.rel, 'too-large', `${formatBytes(info.size)} (limit ${formatBytes(maxBytes)})`);
      out.push({ kind: 'file', key: c.key, file: { path: c.rel, absPath: c.abs, size: info.size, mtimeMs: info.mtimeMs } });
    });
  }
  return out;
}

/** fs.stat through its callback: markedly cheaper per call than fs/promises, which matters per file. */
function quickStat(file: string): Promise<Stats> {
  return new Promise((resolve, reject) => statCallback(file, (err, info) => (err ? reject(err) : resolve(info))));
}

function withSep(dir: string): string {
  return dir.endsWith(path.sep) ? dir : dir + path.sep;
}

/** Code-unit order: locale-free, so the same tree always walks the same way. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function describeReal(realRoot: string, real: string): string {
  const rel = path.relative(realRoot, real).split(path.sep).join('/');
  return rel === '' ? 'the workspace root' : rel;
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') return e.code === 'ENOENT' ? 'ENOENT: no longer exists' : `${e.code}: ${e.syscall ?? 'access'} failed`;
  return errorMessage(err);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${trim(n / 1024)} KiB`;
  return `${trim(n / (1024 * 1024))} MiB`;
}

function trim(x: number): string {
  return x.toFixed(1).replace(/\.0$/, '');
}
