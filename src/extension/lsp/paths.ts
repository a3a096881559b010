// Workspace-relative paths as the protocol carries them ('/'-separated, relative to the first
// workspace folder), and the containment check for paths the server sends back. Pure Node.
import * as path from 'node:path';

/** `file` relative to `root` with '/' separators, or undefined when it lies outside the root. */
export function toRelative(root: string, file: string): string | undefined {
  // The same test as core/util/paths.ts relativeInside (the extension does not load the core).
  const rel = path.relative(root, file);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

/** The absolute path of a server-given relative path, or undefined when it escapes the root. */
export function resolveInside(root: string, rel: string): string | undefined {
  const abs = path.resolve(root, rel);
  return abs === path.resolve(root) || toRelative(root, abs) !== undefined ? abs : undefined;
}
