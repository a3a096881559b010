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
