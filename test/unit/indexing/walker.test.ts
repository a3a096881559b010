import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SkipReason } from '../../../src/core/indexing/fileClassifier';
import { walkWorkspace, type WalkedFile, type WalkOptions } from '../../../src/core/indexing/walker';

type Skip = [path: string, reason: SkipReason, detail: string];

const roots: string[] = [];

/** Writes `files` (relative path -> content) under a fresh temp dir. */
function makeTree(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'baton-'));
  roots.push(root);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

async function collect(opts: WalkOptions): Promise<{ files: WalkedFile[]; paths: string[]; skips: Skip[] }> {
  const skips: Skip[] = [];
  const files: WalkedFile[] = [];
  const onSkip = opts.onSkip;
  for await (const f of walkWorkspace({ ...opts, onSkip: (p, r, d) => { skips.push([p, r, d]); onSkip?.(p, r, d); } })) files.push(f);
  return { files, paths: files.map((f) => f.path), skips };
}

const reasonOf = (skips: Skip[], p: string) => skips.find((s) => s[0] === p)?.[1];

function hasGit(): boolean {
  try {
    execFileSync('git', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('walkWorkspace', () => {
  after(function () {
    this.timeout(60_000);
    roots.forEach((r) => rmSync(r, { recursive: true, force: true }));
  });

  it('yields files sorted by relative path, with / separators, sizes and mtimes', async () => {
    const root = makeTree({ 'b.ts': 'bb', 'a/z.ts': 'z', 'a-c.ts': 'ac', 'a/b/c.ts': 'abc', 'A.md': '# A', 'a.b/x.ts': 'x' });
    const { files, paths, skips } = await collect({ root });
    assert.deepEqual(paths, ['A.md', 'a-c.ts', 'a.b/x.ts', 'a/b/c.ts', 'a/z.ts', 'b.ts']);
    assert.deepEqual(paths, [...paths].sort(), 'identical to a plain sort of the paths');
    const abc = files.find((f) => f.path === 'a/b/c.ts')!;
    assert.equal(abc.absPath, join(root, 'a', 'b', 'c.ts'));
    assert.equal(abc.size, 3);
    assert.equal(abc.mtimeMs, statSync(abc.absPath).mtimeMs);
    assert.deepEqual(skips, []);
  });

  it('never enters ignored directories and reports each once', async () => {
    const root = makeTree({
      'src/index.ts': 'x',
      'node_modules/lib/index.js': 'x',
      'node_modules/lib/.gitignore': '!*\n',
      'web/node_modules/pkg/a.js': 'x',
      'build/out.js': 'x',
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.gitignore': 'build/\n',
    });
    const { paths, skips } = await collect({ root });
    assert.deepEqual(paths, ['.gitignore', 'src/index.ts']);
    assert.deepEqual(skips.map((s) => `${s[0]}:${s[1]}`), ['.git:ignored', 'build:ignored', 'node_modules:ignored', 'web/node_modules:ignored']);
    assert.equal(skips.find((s) => s[0] === 'build')![2], '.gitignore:1 "build/"');
  });

  it('applies nested .gitignore negation and anchoring, .batonignore, .git/info/exclude and configured globs', async () => {
    const root = makeTree({
      '.git/info/exclude': 'notes/\n',
      '.gitignore': '*.log\n/gen/\n',
      '.batonignore': 'fixtures/\n',
      'notes/todo.md': 'x',
      'keep.log': 'x',
      'gen/a.ts': 'x',
      'pkg/gen/b.ts': 'anchored /gen/ does not reach here',
      'pkg/.gitignore': '!important.log\n/local/\n',
      'pkg/important.log': 'kept by negation',
      'pkg/debug.log': 'x',
      'pkg/local/x.ts': 'x',
      'pkg/sub/local/y.ts': 'anchored /local/ only in pkg',
      'pkg/sub/.batonignore': '*.snap\n',
      'pkg/sub/a.snap': 'x',
      'other/a.snap': 'only pkg/sub ignores snapshots',
      'test/fixtures/big.json': '{}',
      'data/table.csv': 'a,b',
    });
    const { paths, skips } = await collect({ root, extraIgnores: ['*.csv'] });
    assert.deepEqual(paths, [
      '.batonignore', '.gitignore', 'other/a.snap', 'pkg/.gitignore', 'pkg/gen/b.ts', 'pkg/important.log',
      'pkg/sub/.batonignore', 'pkg/sub/local/y.ts',
    ]);
    for (const p of ['notes', 'keep.log', 'gen', 'pkg/debug.log', 'pkg/local', 'pkg/sub/a.snap', 'test/fixtures', 'data/table.csv']) {
      assert.equal(reasonOf(skips, p), 'ignored', p);
    }
  });

  it('never yields secrets, binaries or lockfiles, and says why', async () => {
    const root = makeTree({
      '.env': 'API_KEY=1', '.env.example': 'API_KEY=', 'certs/server.pem': 'x', 'home/id_rsa': 'x', 'home/id_rsa.pub': 'ssh-rsa AAA',
      'config/secrets.yaml': 'x', 'logo.png': Buffer.from([0x89, 0x50]), 'package-lock.json': '{}', 'main.py': 'print(1)\n',
    });
    const { paths, skips } = await collect({ root });
    assert.deepEqual(paths, ['.env.example', 'home/id_rsa.pub', 'main.py']);
    assert.deepEqual(skips.map((s) => [s[0], s[1]]), [
      ['.env', 'secret'], ['logo.png', 'binary'], ['package-lock.json', 'generated'],
      ['certs/server.pem', 'secret'], ['config/secrets.yaml', 'secret'], ['home/id_rsa', 'secret'],
    ]);
  });

  it('skips files over the size limit (default 1 MiB)', async () => {
    const root = makeTree({ 'big.txt': Buffer.alloc(1.5 * 1024 * 1024, 'a'), 'small.txt': 'a'.repeat(2000) });
    const byDefault = await collect({ root });
    assert.deepEqual(byDefault.paths, ['small.txt']);
    assert.deepEqual(byDefault.skips, [['big.txt', 'too-large', '1.5 MiB (limit 1 MiB)']]);
    const tight = await collect({ root, maxFileBytes: 1000 });
    assert.deepEqual(tight.paths, []);
    assert.deepEqual(tight.skips.map((s) => s[2]), ['1.5 MiB (limit 1000 B)', '2 KiB (limit 1000 B)']);
  });

  it('follows links inside the root and stops at a directory linked to its parent', async () => {
    const root = makeTree({ 'a/file.ts': 'x', 'shared/util.ts': 'u' });
    symlinkSync('..', join(root, 'a', 'up')); // a/up -> root: a loop
    symlinkSync('.', join(root, 'a', 'self'));
    symlinkSync(join(root, 'shared'), join(root, 'linked')); // a second view of shared/
    symlinkSync(join(root, 'a', 'file.ts'), join(root, 'alias.ts'));
    const { paths, skips } = await collect({ root });
    assert.deepEqual(paths, ['a/file.ts', 'alias.ts', 'linked/util.ts', 'shared/util.ts']);
    assert.deepEqual(skips.map((s) => [s[0], s[1]]), [['a/self', 'symlink-loop'], ['a/up', 'symlink-loop']]);
    assert.match(skips[1][2], /links to the workspace root, already walked/);
  });

  it('judges a link by its target too: an innocent name pointing at a secret is skipped', async () => {
    const root = makeTree({ '.env': 'DATABASE_PASSWORD=hunter2', 'keys/deploy.pem': 'k', 'notes.md': 'ok' });
    symlinkSync(join(root, '.env'), join(root, 'notes.txt'));
    symlinkSync(join(root, 'keys', 'deploy.pem'), join(root, 'readme-link.md'));
    const { paths, skips } = await collect({ root });
    assert.deepEqual(paths, ['notes.md']);
    const byPath = Object.fromEntries(skips.map((s) => [s[0], s]));
    assert.equal(byPath['notes.txt'][1], 'secret');
    assert.match(byPath['notes.txt'][2], /links to \.env/);
    assert.equal(byPath['readme-link.md'][1], 'secret');
  });

  it('terminates on mutually linked directories', async () => {
    const root = makeTree({ 'x/one.ts': '1', 'y/two.ts': '2' });
    symlinkSync(join(root, 'y'), join(root, 'x', 'to-y'));
    symlinkSync(join(root, 'x'), join(root, 'y', 'to-x'));
    const { paths, skips } = await collect({ root });
    // x/to-y is walked first (y not seen yet); inside it, to-x leads back to x.
    assert.deepEqual(paths, ['x/one.ts', 'x/to-y/two.ts', 'y/two.ts']);
    assert.deepEqual(skips.map((s) => [s[0], s[1]]), [['x/to-y/to-x', 'symlink-loop'], ['y/to-x', 'symlink-loop']]);
  });

  it('does not follow links that leave the root', async () => {
    const outside = makeTree({ 'private.txt': 'do not index', 'dir/a.txt': 'x' });
    const root = makeTree({ 'in.ts': 'x' });
    symlinkSync(join(outside, 'private.txt'), join(root, 'out-file.txt'));
    symlinkSync(join(outside, 'dir'), join(root, 'out-dir'));
    const { paths, skips } = await collect({ root });
    assert.deepEqual(paths, ['in.ts']);
    assert.deepEqual(skips.map((s) => [s[0], s[1]]), [['out-dir', 'outside-root'], ['out-file.txt', 'outside-root']]);
    assert.match(skips[1][2], new RegExp(`links to ${realpathSync(outside).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('reports a dangling link as unreadable and goes on', async () => {
    const root = makeTree({ 'a.ts': 'x', 'z.ts': 'x' });
    symlinkSync(join(root, 'gone.ts'), join(root, 'm-dangling.ts'));
    const { paths, skips } = await collect({ root });
    assert.deepEqual(paths, ['a.ts', 'z.ts']);
    assert.deepEqual(skips, [['m-dangling.ts', 'unreadable', 'broken symbolic link (ENOENT)']]);
  });

  it('reports files and folders that vanish between listing and reading, and goes on', async () => {
    const root = makeTree({ 'a.png': 'x', 'b.ts': 'b', 'c/d.ts': 'd', 'e.ts': 'e', 'f/deep/g.ts': 'g', 'h.ts': 'h' });
    let yielded = 0;
    const skips: Skip[] = [];
    const paths: string[] = [];
    const onSkip = (p: string, r: SkipReason, d: string) => {
      skips.push([p, r, d]);
      if (p === 'a.png') { // fires after the root was listed, before its files are stat'ed
        unlinkSync(join(root, 'b.ts'));
        rmSync(join(root, 'c'), { recursive: true });
      }
    };
    for await (const f of walkWorkspace({ root, onSkip })) {
      paths.push(f.path);
      if (++yielded === 1) rmSync(join(root, 'f'), { recursive: true }); // f/ is listed but not yet read
    }
    assert.deepEqual(paths, ['e.ts', 'h.ts']);
    assert.deepEqual(skips, [
      ['a.png', 'binary', 'binary file type (.png)'],
      ['b.ts', 'unreadable', 'ENOENT: no longer exists'],
      ['c', 'unreadable', 'ENOENT: no longer exists'],
      ['f', 'unreadable', 'ENOENT: no longer exists'],
    ]);
  });

  it('reports special files instead of yielding them', async function () {
    const root = makeTree({ 'a.ts': 'x' });
    try {
      execFileSync('mkfifo', [join(root, 'pipe')]);
    } catch {
      this.skip(); // no mkfifo here
    }
    const { paths, skips } = await collect({ root });
    assert.deepEqual(paths, ['a.ts']);
    assert.deepEqual(skips.map((s) => [s[0], s[1]]), [['pipe', 'unreadable']]);
  });

  it('stops with the abort reason when the signal fires', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 50; i++) files[`d${i % 5}/f${i}.ts`] = 'x';
    const root = makeTree(files);
    const controller = new AbortController();
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const f of walkWorkspace({ root, signal: controller.signal })) {
        seen.push(f.path);
        if (seen.length === 3) controller.abort();
      }
    }, { name: 'AbortError' });
    assert.equal(seen.length, 3);
    const already = AbortSignal.abort(new Error('cancelled by user'));
    await assert.rejects(collect({ root, signal: already }), /cancelled by user/);
  });

  it('throws a clear one-line error for a missing root or a file as root', async () => {
    const missing = join(tmpdir(), 'baton-does-not-exist-' + process.pid);
    await assert.rejects(collect({ root: missing }), (err: Error) => {
      assert.equal(err.message, `Workspace root does not exist: ${missing}`);
      return true;
    });
    const root = makeTree({ 'file.txt': 'x' });
    await assert.rejects(collect({ root: join(root, 'file.txt') }), /^Error: Workspace root is not a directory: /);
  });

  it('agrees with git on which files are not ignored', async function () {
    if (!hasGit()) this.skip();
    const root = makeTree({
      '.gitignore': '*.tmp\n/out/\ndocs/**/draft-*\n!keep.tmp\nlogs\n',
      'a.ts': 'x', 'b.tmp': 'x', 'keep.tmp': 'x', 'out/x.js': 'x', 'src/out/y.ts': 'x', 'logs': 'file named logs',
      'docs/draft-1.md': 'x', 'docs/x/draft-2.md': 'x', 'docs/final.md': 'x', 'src/logs/z.ts': 'x',
      'pkg/.gitignore': '!*.tmp\n/only-here.txt\n*.gen.ts\n!keep.gen.ts\n',
      'pkg/a.tmp': 'x', 'pkg/only-here.txt': 'x', 'pkg/sub/only-here.txt': 'x', 'pkg/sub/x.gen.ts': 'x', 'pkg/sub/keep.gen.ts': 'x',
      'pkg/sub/.gitignore': '*.tmp\n', 'pkg/sub/c.tmp': 'x',
      'weird/[brackets].ts': 'x', 'weird/space name.ts': 'x', 'weird/.gitignore': '\\#hash.ts\nspace\\ name.ts\n', 'weird/#hash.ts': 'x',
    });
    execFileSync('git', ['init', '-q'], { cwd: root });
    const gitList = execFileSync('git', ['ls-files', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' })
      .split('\0').filter(Boolean).sort();
    const { paths } = await collect({ root });
    assert.deepEqual(paths, gitList);
    assert.ok(paths.includes('pkg/a.tmp') && !paths.includes('pkg/sub/c.tmp') && paths.includes('src/out/y.ts'));
  });

  it('walks ~20k files quickly (figure printed, not asserted)', async function () {
    this.timeout(120_000);
    const root = mkdtempSync(join(tmpdir(), 'baton-'));
    try {
      let made = 0;
      for (let d = 0; d < 40; d++) {
        for (let s = 0; s < 10; s++) {
          const dir = join(root, `pkg${d}`, `mod${s}`);
          mkdirSync(dir, { recursive: true });
          for (let f = 0; f < 50; f++) { writeFileSync(join(dir, `file${f}.ts`), 'export {};\n'); made++; }
        }
      }
      mkdirSync(join(root, 'node_modules', 'dep'), { recursive: true });
      for (let f = 0; f < 2000; f++) writeFileSync(join(root, 'node_modules', 'dep', `m${f}.js`), '');
      writeFileSync(join(root, '.gitignore'), '*.log\n');
      const started = process.hrtime.bigint();
      const cpuBefore = process.cpuUsage();
      let count = 0;
      for await (const _ of walkWorkspace({ root })) count++;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const cpu = process.cpuUsage(cpuBefore);
      const cpuMs = (cpu.user + cpu.system) / 1000; // main-thread CPU: less sensitive to a busy machine
      assert.equal(count, made + 1); // + .gitignore; node_modules never entered
      console.log(`      walked ${count.toLocaleString('en-US')} files in ${ms.toFixed(0)} ms (${Math.round(count / (ms / 1000)).toLocaleString('en-US')} files/s), ${cpuMs.toFixed(0)} ms CPU`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
