// One writer per workspace index. The lock is a file created with O_EXCL holding the owner's pid;
// a lock left behind by a dead process (killed indexer) is taken over, a live one is an error.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

export const LOCK_FILE = 'index.lock';

/** Releases the lock; calling it again is harmless. */
export type ReleaseLock = () => Promise<void>;

export class LockHeldError extends Error {
  constructor(readonly pid: number, readonly lockPath: string) {
    super(
      pid === process.pid
        ? `this process already holds the index lock ${lockPath}`
        : `another baton process is indexing this workspace (pid ${pid}); lock file: ${lockPath}`,
    );
    this.name = 'LockHeldError';
  }
}

interface LockOwner {
  pid: number;
  hostname: string;
}

/** Lock files held by this process, removed on exit so a normal exit never leaves a stale lock. */
const held = new Set<string>();
let exitHookInstalled = false;

/** Takes the writer lock of `batonDir` (which must exist). Throws LockHeldError when a live
 * process holds it. */
export async function acquireLock(batonDir: string): Promise<ReleaseLock> {
  const release = await tryAcquireLock(batonDir, true);
  if (!release) throw new Error('unreachable: tryAcquireLock(strict) returned null');
  return release;
}

/** Like acquireLock, but resolves to null instead of throwing when a live process holds it. */
export async function tryAcquireLock(batonDir: string, strict = false): Promise<ReleaseLock | null> {
  const file = path.join(path.resolve(batonDir), LOCK_FILE);
  if (held.has(file)) {
    if (strict) throw new LockHeldError(process.pid, file);
    return null;
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await createLockFile(file)) return releaser(file);
    const owner = await readOwner(file);
    if (owner === 'missing') continue; // released between our create and read: try again
    if (owner !== 'unreadable' && isAlive(owner)) {
      if (strict) throw new LockHeldError(owner.pid, file);
      return null;
    }
    if (owner === 'unreadable' && (await ageMs(file)) < 2000) {
      // The owner may be between creating the file and writing its pid.
      await sleep(20);
      continue;
    }
    await removeStale(file, owner);
  }
  throw new Error(`could not acquire the index lock ${file}; delete it if no baton process is running`);
}

async function createLockFile(file: string): Promise<boolean> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    const owner: LockOwner = { pid: process.pid, hostname: os.hostname() };
    await fh.writeFile(JSON.stringify(owner));
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

function releaser(file: string): ReleaseLock {
  held.add(file);
  installExitHook();
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    held.delete(file);
    const owner = await readOwner(file);
    if (typeof owner === 'object' && owner.pid === process.pid) await fsp.rm(file, { force: true });
  };
}

async function readOwner(file: string): Promise<LockOwner | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.hostname === 'string') return parsed as LockOwner;
  } catch {
    // fall through: half-written or foreign content
  }
  return 'unreadable';
}

function isAlive(owner: LockOwner): boolean {
  // A pid from another machine (shared network folder) cannot be checked: assume it lives.
  if (owner.hostname !== os.hostname()) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes a stale lock. Two processes may find the same stale lock at once; a short-lived guard
 * file serialises the removal, and the lock is re-read under it so a fresh lock that a third
 * process just created is never deleted. */
async function removeStale(file: string, seen: LockOwner | 'unreadable'): Promise<void> {
  const guard = `${file}.takeover`;
  if (!(await createLockFile(guard))) {
    if ((await ageMs(guard)) > 10_000) await fsp.rm(guard, { force: true }); // its owner died mid-takeover
    await sleep(20);
    return;
  }
  try {
    const now = await readOwner(file);
    const same =
      (now === 'unreadable' && seen === 'unreadable') ||
      (typeof now === 'object' && typeof seen === 'object' && now.pid === seen.pid && now.hostname === seen.hostname);
    if (same) await fsp.rm(file, { force: true });
  } finally {
    await fsp.rm(guard, { force: true });
  }
}

async function ageMs(file: string): Promise<number> {
  try {
    return Date.now() - (await fsp.stat(file)).mtimeMs;
  } catch {
    return 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const file of held) {
      try {
        const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockOwner>;
        if (owner.pid === process.pid) fs.rmSync(file, { force: true });
      } catch {
        // nothing left to clean
      }
    }
  });
}
