// One writer per workspace index. The lock is a file created with O_EXCL naming its owner: pid,
// host, the process's start identity (processIdentity.ts) and what it is. A lock is taken over
// when its owner is gone: a dead pid, a pid now belonging to another process (a different start
// identity), or, where identity cannot be checked (another host, no start time), a heartbeat the
// holder stopped refreshing. A lock file without a readable owner is either being written (wait a
// moment) or was left half-written (ENOSPC, a kill): once it is a little old it is stale.
// Readers never need this lock; tryAcquireLock never waits.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { BatonDirError, DiskFullError, isDiskFull } from './atomicFile';
import { ownStartTime, processStartTime } from './processIdentity';
import { errorCode } from '../common/errors';

export const LOCK_FILE = 'index.lock';
/** A lock file with no readable owner younger than this may still be being written. */
export const UNFINISHED_LOCK_MS = 2000;
/** How often a holder touches its lock file, and when an unchecked owner's lock counts as stale. */
export const HEARTBEAT_MS = 10_000;
export const HEARTBEAT_STALE_MS = 60_000;

/** Releases the lock; calling it again is harmless. */
export type ReleaseLock = () => Promise<void>;

export interface LockOwner {
  pid: number;
  hostname: string;
  /** processStartTime(pid) when the lock was taken; null where it cannot be known. */
  start?: string | null;
  /** What holds it, e.g. "baton index". */
  command?: string;
  /** When it was taken (ms since the epoch). */
  since?: number;
}

export class LockHeldError extends Error {
  constructor(readonly owner: LockOwner, readonly lockPath: string) {
    super(
      owner.pid === process.pid && owner.hostname === os.hostname()
        ? `this process already holds the index lock ${lockPath}`
        : `another baton process is indexing this workspace (${describeOwner(owner)}); wait for it to finish or stop it; lock file: ${lockPath}`,
    );
    this.name = 'LockHeldError';
  }

  get pid(): number {
    return this.owner.pid;
  }
}

/** Lock files held by this process, removed on exit so a normal exit never leaves a stale lock. */
const held = new Map<string, NodeJS.Timeout>();
let exitHookInstalled = false;

/** Takes the writer lock of `batonDir` (which must exist). Throws LockHeldError naming the holder
 * when a live process holds it, DiskFullError when the lock cannot be written. */
export async function acquireLock(batonDir: string): Promise<ReleaseLock> {
  const release = await takeLock(batonDir, true);
  if (!release) throw new Error('unreachable: takeLock(strict) returned null');
  return release;
}

/** Like acquireLock, but resolves to null at once, never waiting, when another process holds the
 * lock or may be writing it. */
export function tryAcquireLock(batonDir: string): Promise<ReleaseLock | null> {
  return takeLock(batonDir, false);
}

/** The owner of a live lock on `batonDir`, or null when it is free or stale. For notices only. */
export async function liveLockOwner(batonDir: string): Promise<LockOwner | null> {
  const file = path.join(path.resolve(batonDir), LOCK_FILE);
  const owner = await readOwner(file).catch(() => 'unreadable' as const);
  if (typeof owner !== 'object') return null;
  return (await verdict(file, owner)) === 'live' ? owner : null;
}

async function takeLock(batonDir: string, strict: boolean): Promise<ReleaseLock | null> {
  const file = path.join(path.resolve(batonDir), LOCK_FILE);
  const self = ownerOfThisProcess();
  if (held.has(file)) {
    if (strict) throw new LockHeldError(self, file);
    return null;
  }
  // Bounded: a young unreadable lock is waited for until it is old enough to be stale.
  const deadline = Date.now() + UNFINISHED_LOCK_MS + 3000;
  while (Date.now() < deadline) {
    if (await createLockFile(file, self)) return releaser(file);
    const owner = await readOwner(file);
    if (owner === 'missing') continue; // released between our create and read: try again
    if (owner === 'unreadable') {
      if ((await ageMs(file)) < UNFINISHED_LOCK_MS) {
        // Its creator may be between creating the file and writing its owner.
        if (!strict) return null;
        await sleep(50);
        continue;
      }
    } else if ((await verdict(file, owner)) === 'live') {
      if (strict) throw new LockHeldError(owner, file);
      return null;
    }
    await removeStale(file, owner);
  }
  if (!strict) return null;
  throw new Error(`could not take the index lock ${file}; delete it if no baton process is running`);
}

function ownerOfThisProcess(): LockOwner {
  return { pid: process.pid, hostname: os.hostname(), start: ownStartTime(), command: commandOfThisProcess(), since: Date.now() };
}

/** "baton index" for the CLI, else the script's name ("server.js"). */
function commandOfThisProcess(): string {
  const script = process.argv[1] ? path.basename(process.argv[1]) : 'node';
  if (/^(baton|cli)(\.js)?$/.test(script) && process.argv[2] && /^[a-z]+$/.test(process.argv[2])) return `baton ${process.argv[2]}`;
  return script;
}

function describeOwner(owner: LockOwner): string {
  const parts = [`pid ${owner.pid}`];
  if (owner.command) parts.push(owner.command);
  if (owner.hostname !== os.hostname()) parts.push(`on ${owner.hostname}`);
  if (owner.since) parts.push(`since ${new Date(owner.since).toLocaleTimeString('en-GB')}`);
  return parts.join(', ');
}

/** Creates the lock file naming `owner`. A file it could not finish writing is removed again, so
 * a full disk never leaves an empty lock behind. */
async function createLockFile(file: string, owner: LockOwner): Promise<boolean> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'wx');
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EEXIST') return false;
    if (code === 'ENOTDIR') throw new BatonDirError(path.dirname(file));
    if (isDiskFull(err)) throw new DiskFullError(err);
    throw err;
  }
  try {
    await fh.writeFile(JSON.stringify(owner));
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(file, { force: true }).catch(() => undefined);
    throw isDiskFull(err) ? new DiskFullError(err) : err;
  }
  await fh.close();
  return true;
}

function releaser(file: string): ReleaseLock {
  // The heartbeat: where the owner's identity cannot be checked, a fresh mtime says it lives.
  const beat = setInterval(() => {
    const now = new Date();
    fs.utimes(file, now, now, () => undefined);
  }, HEARTBEAT_MS);
  beat.unref();
  held.set(file, beat);
  installExitHook();
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    clearInterval(beat);
    held.delete(file);
    const owner = await readOwner(file).catch(() => 'unreadable' as const);
    if (typeof owner === 'object' && isThisProcess(owner)) await fsp.rm(file, { force: true });
  };
}

function isThisProcess(owner: LockOwner): boolean {
  return owner.pid === process.pid && owner.hostname === os.hostname() && (owner.start ?? null) === ownStartTime();
}

/** The lock's owner; 'unreadable' for an empty, half-written, foreign or permission-denied file. */
async function readOwner(file: string): Promise<LockOwner | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return 'missing';
    return 'unreadable';
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner> | null;
    if (typeof parsed?.pid === 'number' && typeof parsed.hostname === 'string') return parsed as LockOwner;
  } catch {
    // fall through: half-written or foreign content
  }
  return 'unreadable';
}

/** Whether the process a lock names still holds it. */
async function verdict(file: string, owner: LockOwner): Promise<'live' | 'stale'> {
  const heartbeat = async () => ((await ageMs(file)) > HEARTBEAT_STALE_MS ? 'stale' : 'live');
  // A pid from another machine (shared network folder) cannot be checked: only its heartbeat.
  if (owner.hostname !== os.hostname()) return heartbeat();
  if (owner.pid === process.pid) {
    // Not in `held` (checked before): another copy of this module in this process, or an earlier
    // process that had our pid.
    return (owner.start ?? null) === ownStartTime() ? 'live' : 'stale';
  }
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if (errorCode(err) !== 'EPERM') return 'stale'; // no such process
  }
  const now = processStartTime(owner.pid);
  if (owner.start && now) return owner.start === now ? 'live' : 'stale'; // else a recycled pid
  return heartbeat();
}

/** Deletes a stale lock. Two processes may find the same stale lock at once; a short-lived guard
 * file serialises the removal, and the lock is re-read under it so a fresh lock that a third
 * process just created is never deleted. */
async function removeStale(file: string, seen: LockOwner | 'unreadable'): Promise<void> {
  const guard = `${file}.takeover`;
  if (!(await createLockFile(guard, ownerOfThisProcess()))) {
    if ((await ageMs(guard)) > 10_000) await fsp.rm(guard, { force: true }); // its owner died mid-takeover
    await sleep(20);
    return;
  }
  try {
    const now = await readOwner(file);
    const same =
      (now === 'unreadable' && seen === 'unreadable') ||
      (typeof now === 'object' && typeof seen === 'object' && now.pid === seen.pid && now.hostname === seen.hostname && now.start === seen.start);
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
    for (const file of held.keys()) {
      try {
        const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
        if (isThisProcess(owner)) fs.rmSync(file, { force: true });
      } catch {
        // nothing left to clean
      }
    }
  });
}
