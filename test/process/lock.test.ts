// The writer lock under faults, with real files and real processes: a lock naming a live process
// that is not its owner, empty and unreadable lock files, a holder killed mid-index, `.baton` as a
// plain file, a full disk (a size-limited tmpfs in a user+mount namespace). Search never waits.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IndexStore } from '../../src/core/store/store';
import { acquireLock, LOCK_FILE, tryAcquireLock, UNFINISHED_LOCK_MS } from '../../src/base/node/lock';
import { processStartTime } from '../../src/base/node/processIdentity';
import { makeWorkspace, type TempWorkspace } from '../helpers/workspace';
import { runCli, startCli, type CliResult } from '../helpers/runCli';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const BATON = path.join(REPO_ROOT, 'bin', 'baton.js');
const LOCK_JS = path.join(__dirname, '..', '..', 'src', 'base', 'node', 'lock.js');

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

async function waitFor(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 3000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), `timed out waiting for ${what}`);
}

/** A workspace big enough that indexing it with the packaged model takes a few seconds. */
function bigWorkspace(): TempWorkspace {
  const ws = makeWorkspace();
  for (let i = 0; i < 800; i++) {
    ws.write(`gen/file${i}.ts`, `export function normaliseRecord${i}(input: string): string {\n  // trims record ${i} and lowers its case\n  return input.trim().toLowerCase() + "-${i}";\n}\n\nexport function describeRecord${i}(input: string): string {\n  return "record ${i}: " + input;\n}\n`);
  }
  return ws;
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Starts `baton index` and sends `signal` once its first commit is published (mid-index). */
async function interruptIndex(ws: TempWorkspace, signal: NodeJS.Signals): Promise<{ result: CliResult; pid: number }> {
  const run = startCli(['index', ws.root]);
  const baton = path.join(ws.root, '.baton');
  await waitFor('the first commit', () => {
    const m = readJson(path.join(baton, 'manifest.json')) as { shards?: { gen: number }[] } | null;
    return !!m?.shards?.some((s) => s.gen > 0);
  });
  assert.equal(readJson(path.join(baton, 'build.json'))?.finished, false, 'the run finished before it could be interrupted');
  run.child.kill(signal);
  return { result: await run.done, pid: run.child.pid! };
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
    await new Promise<void>((resolve) => holder.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
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

  describe('through the CLI', () => {
    let ws: TempWorkspace;
    afterEach(() => ws?.remove());

    it('`.baton` as a plain file: index and search say so, and what to do', async () => {
      ws = makeWorkspace();
      ws.write('.baton', 'not a folder\n');
      const index = await runCli(['index', ws.root, '--embedder', 'none']);
      assert.equal(index.code, 1);
      const expected = /^baton: .*\.baton is a file, not a folder: Baton keeps the workspace index in a folder of that name; move or delete the file, then run `baton index` again\n$/;
      assert.match(index.stderr, expected);
      const search = await runCli(['search', '--dir', ws.root, 'session']);
      assert.equal(search.code, 2);
      assert.match(search.stderr, expected);
    });

    it('search answers while another process holds the lock; index names that process', async () => {
      ws = makeWorkspace();
      assert.equal((await runCli(['index', ws.root, '--embedder', 'none'])).code, 0);
      const baton = path.join(ws.root, '.baton');
      const holder = spawn(process.execPath, ['-e', `require(${JSON.stringify(LOCK_JS)}).acquireLock(${JSON.stringify(baton)}).then(() => { console.log('held'); setInterval(() => {}, 1000); })`]);
      children.push(holder);
      await new Promise<void>((resolve) => holder.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
      const search = await runCli(['search', '--dir', ws.root, '--json', 'verify session token']);
      assert.equal(search.code, 0, search.stderr);
      assert.equal(JSON.parse(search.stdout).results[0].symbol, 'verifySessionToken');
      const index = await runCli(['index', ws.root, '--embedder', 'none']);
      assert.equal(index.code, 1);
      assert.match(index.stderr, new RegExp(`^baton: another baton process is indexing this workspace \\(pid ${holder.pid}, .*\\); wait for it to finish or stop it`));
      assert.equal(readJson(path.join(baton, LOCK_FILE))?.pid, holder.pid);
    });

    it('a holder SIGKILLed mid-index: search says the first index did not finish; the next index takes over', async () => {
      ws = bigWorkspace();
      const baton = path.join(ws.root, '.baton');
      const { result, pid } = await interruptIndex(ws, 'SIGKILL');
      assert.equal(result.signal, 'SIGKILL');
      assert.equal(readJson(path.join(baton, LOCK_FILE))?.pid, pid, 'the killed holder left its lock');

      const search = await runCli(['search', '--dir', ws.root, '--json', 'verify session token']);
      assert.equal(search.code, 0, search.stderr);
      assert.match(search.stderr, /the first `baton index` did not finish; run `baton index` to complete the index/);
      assert.doesNotMatch(search.stderr, /no embedder configured/);
      assert.equal(JSON.parse(search.stdout).results[0].symbol, 'verifySessionToken', 'lexical search works meanwhile');

      const index = await runCli(['index', ws.root]);
      assert.equal(index.code, 0, index.stderr);
      assert.equal(fs.existsSync(path.join(baton, LOCK_FILE)), false);
      assert.equal(readJson(path.join(baton, 'build.json'))?.finished, true);
      const after = await runCli(['search', '--dir', ws.root, '-k', '1', 'verify session token']);
      assert.equal(after.code, 0, after.stderr);
      assert.doesNotMatch(after.stderr, /did not finish/);
      assert.match(after.stdout, /verifySessionToken.*(dense\+lexical|lexical\+dense)/);
    });

    it('an index run interrupted with Ctrl-C releases its lock; search says the run did not finish', async () => {
      ws = bigWorkspace();
      const { result } = await interruptIndex(ws, 'SIGINT');
      assert.equal(result.code, 130, result.stderr);
      assert.match(result.stderr, /^baton: interrupted$/m);
      assert.equal(fs.existsSync(path.join(ws.root, '.baton', LOCK_FILE)), false);
      const search = await runCli(['search', '--dir', ws.root, 'verify session token']);
      assert.equal(search.code, 0, search.stderr);
      assert.match(search.stderr, /did not finish/);
    });

    it('a full disk: one clear message, the previous index intact and searchable, no lock left', async function () {
      // A real ENOSPC: a 1 MB tmpfs over .baton, in a user+mount namespace of the child alone.
      ws = makeWorkspace();
      const baton = path.join(ws.root, '.baton');
      fs.mkdirSync(baton);
      const probe = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$1" && echo mounted', 'sh', baton], { encoding: 'utf8' });
      if (probe.stdout.trim() !== 'mounted') this.skip(); // no unprivileged user namespaces here
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-enospc-'));
      const script = [
        'set -u',
        'run() { step=$1; shift; "$@" >"$OUT/$step.out" 2>"$OUT/$step.err"; echo $? >"$OUT/$step.rc"; }',
        'mount -t tmpfs -o size=1m tmpfs "$BATON_DIR"',
        'run first "$NODE" "$CLI" index "$WS" --embedder none',
        'ls -A "$BATON_DIR" "$BATON_DIR/shards" >"$OUT/before.ls"',
        // Nearly full: the lock and build.json still fit, a new generation does not.
        'dd if=/dev/zero of="$BATON_DIR/filler" bs=4k 2>/dev/null; truncate -s -32K "$BATON_DIR/filler"',
        '"$NODE" -e \'let s = ""; for (let i = 0; i < 4000; i++) s += `export const value${i} = "a line of text that takes some room, number ${i}";\\n`; require("fs").writeFileSync(process.argv[1], s)\' "$WS/src/big.ts"',
        'run nearly "$NODE" "$CLI" index "$WS" --embedder none',
        'ls -A "$BATON_DIR" "$BATON_DIR/shards" >"$OUT/after.ls"',
        'run search "$NODE" "$CLI" search --dir "$WS" --json "verify session token"',
        // Completely full: even the lock file cannot be written.
        'dd if=/dev/zero of="$BATON_DIR/filler2" bs=4k 2>/dev/null',
        'run full "$NODE" "$CLI" index "$WS" --embedder none',
        'ls -A "$BATON_DIR" >"$OUT/full.ls"',
        'run search2 "$NODE" "$CLI" search --dir "$WS" --json "verify session token"',
      ].join('\n');
      const env = { ...process.env, OUT: out, WS: ws.root, BATON_DIR: baton, NODE: process.execPath, CLI: BATON };
      const ran = spawnSync('unshare', ['-rm', 'sh', '-c', script], { env, encoding: 'utf8', timeout: 90_000 });
      assert.equal(ran.status, 0, ran.stderr);
      const read = (name: string) => fs.readFileSync(path.join(out, name), 'utf8');
      try {
        assert.equal(read('first.rc').trim(), '0', read('first.err'));
        const message = /^baton: no space left on device while writing the index; the previous index is intact\n$/;
        assert.equal(read('nearly.rc').trim(), '1');
        assert.match(read('nearly.err'), message);
        assert.equal(read('after.ls').replace(/\nfiller\n/, '\n'), read('before.ls'), 'nothing left behind: no lock, temp file or generation');
        assert.equal(read('search.rc').trim(), '0', read('search.err'));
        assert.equal(JSON.parse(read('search.out')).results[0].symbol, 'verifySessionToken');
        assert.equal(read('full.rc').trim(), '1');
        assert.match(read('full.err'), message);
        assert.doesNotMatch(read('full.ls'), new RegExp(`^${LOCK_FILE}$`, 'm'), 'the lock its creator could not write is gone');
        assert.equal(read('search2.rc').trim(), '0', read('search2.err'));
      } finally {
        fs.rmSync(out, { recursive: true, force: true });
      }
    });
  });
});
