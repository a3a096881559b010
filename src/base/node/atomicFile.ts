// Durable file writes. A reader (or a process restarted after a kill or power loss) sees either
// the old content or the new one, never a torn mix: write a temp file in the same directory,
// fsync it, rename it over the target (atomic on POSIX and NTFS), then fsync the directory so
// the rename itself survives a power loss.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { errorCode } from '../common/errors';

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, tempName(path.basename(file)));
  try {
    await writeFileDurable(tmp, data);
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/** Writes and fsyncs a file in place (no rename): for files nobody references yet, such as the
 * contents of a fresh copy-on-write directory. */
export async function writeFileDurable(file: string, data: string | Uint8Array): Promise<void> {
  const fh = await fsp.open(file, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function fsyncFile(file: string): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Persists directory entries (creations, renames). Windows cannot open directories for
 * fsync and some file systems refuse it; there it is best effort. */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = errorCode(err);
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'ENOTSUP') throw err;
  } finally {
    await fh?.close();
  }
}

/** Name of a temp file for `base`; `isTempFile` recognises it so leftovers of a killed writer
 * can be swept. */
export function tempName(base: string): string {
  return `.${base}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

export function isTempFile(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/** A write that failed because the disk (or the user's quota) is full. Writes are copy-on-write and
 * the manifest swap is atomic, so what was committed before stays readable. */
export class DiskFullError extends Error {
  readonly code = 'ENOSPC';
  constructor(cause?: unknown) {
    super('no space left on device while writing the index; the previous index is intact', { cause });
    this.name = 'DiskFullError';
  }
}

export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return err instanceof DiskFullError || code === 'ENOSPC' || code === 'EDQUOT';
}

/** `err` as a DiskFullError when the disk was full, else unchanged. */
export function diskFullOr(err: unknown): unknown {
  return isDiskFull(err) && !(err instanceof DiskFullError) ? new DiskFullError(err) : err;
}

/** Baton's data folder exists but is a file (or something else that is not a folder). */
export class BatonDirError extends Error {
  constructor(readonly dir: string) {
    super(`${dir} is a file, not a folder: Baton keeps the workspace index in a folder of that name; move or delete the file, then run \`baton index\` again`);
    this.name = 'BatonDirError';
  }
}

/** Throws BatonDirError when `dir` exists and is not a directory; a missing one is fine. */
export function assertNotAFile(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new BatonDirError(dir);
}

/** Creates Baton's per-workspace data directory with a `.gitignore` of `*`, so the index never
 * shows up in the user's git status. */
export async function ensureBatonDir(dir: string): Promise<void> {
  assertNotAFile(dir);
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new BatonDirError(dir);
    throw diskFullOr(err);
  }
  const ignore = path.join(dir, '.gitignore');
  try {
    await fsp.access(ignore);
  } catch {
    await writeFileAtomic(ignore, '*\n').catch((err: unknown) => { throw diskFullOr(err); });
  }
}

