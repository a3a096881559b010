// The writer lock under faults, with real files and real processes: a lock naming a live process
// that is not its owner, empty and unreadable lock files. Readers never wait.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IndexStore } from '../../src/core/index/store';
import { acquireLock, LOCK_FILE, tryAcquireLock, UNFINISHED_LOCK_MS } from '../../src/core/util/lock';
import { processStartTime } from '../../src/core/util/processIdentity';

const LOCK_JS = path.join(__dirname, '..', '..', 'src', 'core', 'util', 'lock.js');

function sleeper(): Promise<ChildProcess> {
  const child = spawn('sleep', ['120'], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child));
    child.once('error', reject);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

describe('index lock faults', function () {
  this.timeout(120_000);
  let root: string;
  let dir: string;
  let lockFile: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-lock-'));
    dir = path.join(root, '.baton');
    fs.mkdirSync(dir);
    lockFile = path.join(dir, LOCK_FILE);
  });
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  });

  function writeLock(content: string | object, ageMs = 0): void {
    fs.writeFileSync(lockFile, typeof content === 'string' ? content : JSON.stringify(content));
    if (ageMs) {
      const then = new Date(Date.now() - ageMs);
      fs.utimesSync(lockFile, then, then);
    }
  }

  it('a lock naming a live process that is not its owner (a recycled pid) is taken over', async function () {
    const other = await sleeper();
    children.push(other);
    const start = processStartTime(other.pid!);
    if (!start) this.skip(); // no way to learn start times here
    writeLock({ pid: other.pid, hostname: os.hostname(), start: `${start}-not-this-one`, command: 'baton index', since: Date.now() });
    const release = await acquireLock(dir);
    assert.equal(readJson(lockFile)?.pid, process.pid);
    await release();
    assert.equal(fs.existsSync(lockFile), false);
    assert.ok(alive(other.pid!), 'the unrelated process is left alone');
  });

  it('a live holder is named; a writer is refused, a reader is not held up', async function () {
    const holder = await sleeper();
    children.push(holder);
    const start = processStartTime(holder.pid!);
    if (!start) this.skip();
    writeLock({ pid: holder.pid, hostname: os.hostname(), start, command: 'baton index', since: Date.now() });
    await assert.rejects(
      acquireLock(dir),
      new RegExp(`^LockHeldError: another baton process is indexing this workspace \\(pid ${holder.pid}, baton index, since \\d\\d:\\d\\d:\\d\\d\\); wait for it to finish or stop it; lock file: `),
    );
    assert.equal(await tryAcquireLock(dir), null);
    assert.equal(readJson(lockFile)?.pid, holder.pid, 'the lock is untouched');
  });

  it('an old lock of an owner that never recorded its start time is taken over once its heartbeat is stale', async () => {
    const holder = await sleeper();
    children.push(holder);
    writeLock({ pid: holder.pid, hostname: os.hostname() });
    assert.equal(await tryAcquireLock(dir), null, 'a fresh one is trusted');
    writeLock({ pid: holder.pid, hostname: os.hostname() }, 10 * 60_000);
    const release = await tryAcquireLock(dir);
    assert.ok(release);
    await release();
  });

  it('a 0-byte lock (its creator could not write it) stops no reader; a writer takes it over once it is a moment old', async () => {
    writeLock('');
    assert.equal(await tryAcquireLock(dir), null, 'a reader does not wait for it');
    const release = await acquireLock(dir);
    assert.equal(readJson(lockFile)?.pid, process.pid);
    await release();
  });

  for (const [name, content] of [['an empty', ''], ['a half-written', '{"pid": 12'], ['an unreadable (binary)', '\u0000\u00ff\u0001garbage']] as const) {
    it(`${name} lock older than ${UNFINISHED_LOCK_MS} ms is stale at once`, async () => {
      writeLock(content, UNFINISHED_LOCK_MS + 60_000);
      const release = await tryAcquireLock(dir);
      assert.ok(release, 'taken without waiting');
      assert.equal(readJson(lockFile)?.pid, process.pid);
      await release();
    });
  }

  it('opening the store for search never waits for the lock, even with leftovers to sweep', async () => {
    const store = await IndexStore.open(dir, { shardCount: 2 });
    await store.close();
    const leftover = path.join(dir, 'shards', '001.99');
    fs.mkdirSync(leftover, { recursive: true });
    const holder = spawn(process.execPath, ['-e', `require(${JSON.stringify(LOCK_JS)}).acquireLock(${JSON.stringify(dir)}).then(() => { console.log('held'); setInterval(() => {}, 1000); })`]);
    children.push(holder);
    await new Promise<void>((resolve) => holder.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
    const reader = await IndexStore.open(dir, { create: false });
    await reader.close();
    assert.ok(fs.existsSync(leftover), 'no sweep without the lock');
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    writeLock(''); // a young 0-byte lock: maybe being written, so a reader leaves it alone
    const again = await IndexStore.open(dir, { create: false });
    await again.close();
    assert.equal(fs.statSync(lockFile).size, 0);
    assert.ok(fs.existsSync(leftover));
  });
});
