// Whether a path lies inside a root, for every place that must not reach outside the workspace
// (model-supplied paths, editor edits, file-change events).
import * as path from 'node:path';

/** `file` relative to `root` (platform separators), or null when it is the root itself or lies
 * outside it. A name that merely starts with two dots (`..cache`) is inside. */
export function relativeInside(root: string, file: string): string | null {
  const rel = path.relative(root, file);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return null;
  return rel;
}

/** `file` relative to `root` with '/' separators (as the protocol carries paths), or undefined
 * when it is the root itself or lies outside it. */
export function toRelative(root: string, file: string): string | undefined {
  return relativeInside(root, file)?.split(path.sep).join('/');
}

/** The absolute path of a relative path, or undefined when it escapes the root. */
export function resolveInside(root: string, rel: string): string | undefined {
  const abs = path.resolve(root, rel);
  return abs === path.resolve(root) || toRelative(root, abs) !== undefined ? abs : undefined;
}
