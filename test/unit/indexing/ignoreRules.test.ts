import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { IgnoreRules, scopePattern } from '../../../src/core/indexing/ignoreRules';

/** Writes `files` (relative path -> content) under a fresh temp dir. */
function makeTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'baton-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

describe('IgnoreRules', () => {
  const roots: string[] = [];
  const tree = (files: Record<string, string>) => {
    const root = makeTree(files);
    roots.push(root);
    return root;
  };
  after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  it('applies root .gitignore patterns: unanchored, anchored and directory-only', async () => {
    const root = tree({ '.gitignore': '# comment\n\n*.log\n/build\ndist/\ndocs/*.tmp\n' });
    const rules = await IgnoreRules.forWorkspace(root, { ignoreCase: false });
    assert.equal(rules.ignores('app.log'), true);
    assert.equal(rules.ignores('deep/in/app.log'), true);
    assert.equal(rules.ignores('build', true), true);
    assert.equal(rules.ignores('build/out.js'), true, 'inside an ignored directory');
    assert.equal(rules.ignores('src/build', true), false, '/build is anchored to the root');
    assert.equal(rules.ignores('dist', true), true);
    assert.equal(rules.ignores('dist'), false, 'dist/ only matches directories');
    assert.equal(rules.ignores('docs/a.tmp'), true);
    assert.equal(rules.ignores('other/docs/a.tmp'), false, 'a middle slash anchors the pattern');
    assert.equal(rules.ignores('# comment'), false);
    assert.equal(rules.ignores('src/main.ts'), false);
  });

  it('reads nested .gitignore rules relative to their own folder', async () => {
    const root = tree({
      '.gitignore': 'root-only.txt\n',
      'pkg/.gitignore': '/local.txt\ntmp\nsub/gen/\n',
    });
    const rules = await IgnoreRules.forWorkspace(root, { ignoreCase: false });
    await rules.loadDirectory(root, 'pkg');
    assert.equal(rules.ignores('pkg/local.txt'), true);
    assert.equal(rules.ignores('pkg/deeper/local.txt'), false, '/local.txt is anchored to pkg/');
    assert.equal(rules.ignores('local.txt'), false, 'pkg rules do not reach the root');
    assert.equal(rules.ignores('pkg/tmp'), true);
    assert.equal(rules.ignores('pkg/a/b/tmp', true), true, 'unanchored: any depth below pkg/');
    assert.equal(rules.ignores('tmp'), false);
    assert.equal(rules.ignores('other/tmp'), false);
    assert.equal(rules.ignores('pkg/sub/gen', true), true);
    assert.equal(rules.ignores('pkg/x/sub/gen', true), false);
    assert.equal(rules.ignores('pkg/root-only.txt'), true, 'root rules still apply below');
  });

  it('lets a deeper negation re-include, but never inside an excluded directory', async () => {
    const root = tree({
      '.gitignore': '*.log\nlogs/\n!logs/keep.log\ncache/\n',
      'a/.gitignore': '!keep.log\n!cache/\n',
      'a/b/.gitignore': 'keep.log\n',
    });
    const rules = await IgnoreRules.forWorkspace(root, { ignoreCase: false });
    await rules.loadDirectory(root, 'a');
    await rules.loadDirectory(root, 'a/b');
    assert.equal(rules.ignores('keep.log'), true);
    assert.equal(rules.ignores('a/keep.log'), false, 'a/.gitignore re-includes it');
    assert.equal(rules.ignores('a/other.log'), true);
    assert.equal(rules.ignores('a/c/keep.log'), false);
    assert.equal(rules.ignores('a/b/keep.log'), true, 'the deeper file ignores it again');
    assert.equal(rules.ignores('logs/keep.log'), true, 'a parent directory excluded: cannot re-include');
    assert.equal(rules.ignores('cache/x.txt'), true);
    assert.equal(rules.ignores('a/cache', true), false, 'a/.gitignore re-includes its own cache/');
    assert.equal(rules.ignores('a/cache/x.txt'), false);
  });

  it('reads .git/info/exclude with lower precedence than .gitignore', async () => {
    const root = tree({
      '.git/info/exclude': '*.secret-notes\nscratch/\nwanted.txt\n',
      '.gitignore': '!wanted.txt\n',
    });
    const rules = await IgnoreRules.forWorkspace(root, { ignoreCase: false });
    assert.equal(rules.ignores('todo.secret-notes'), true);
    assert.equal(rules.ignores('x/scratch', true), true);
    assert.equal(rules.ignores('wanted.txt'), false, '.gitignore negation wins over exclude');
  });

  it('follows a .git file to the git dir of a worktree for its exclude file', async () => {
    const root = tree({ 'real-gitdir/info/exclude': 'from-worktree.txt\n', '.git': 'gitdir: real-gitdir\n' });
    const rules = await IgnoreRules.forWorkspace(root, { ignoreCase: false });
    assert.equal(rules.ignores('from-worktree.txt'), true);
    assert.equal(rules.ignores('.git'), true, 'a .git file is ignored like the directory');
  });

  it('reads .batonignore at any level, overriding .gitignore of the same folder', async () => {
    const root = tree({
      '.gitignore': 'generated/\n',
      '.batonignore': '*.snap\n!generated/\n',
      'sub/.gitignore': '!fixtures.json\n',
      'sub/.batonignore': 'fixtures.json\n/big/\n',
    });
    const rules = await IgnoreRules.forWorkspace(root, { ignoreCase: false });
    await rules.loadDirectory(root, 'sub');
    assert.equal(rules.ignores('a/b.snap'), true);
    assert.equal(rules.ignores('generated', true), false, '.batonignore re-includes what git ignores');
    assert.equal(rules.ignores('sub/fixtures.json'), true, '.batonignore wins in the same folder');
    assert.equal(rules.ignores('sub/big', true), true);
    assert.equal(rules.ignores('big', true), false);
  });

  it('ignores built-in defaults at any depth, which a .gitignore cannot re-include', async () => {
    const root = tree({ '.gitignore': '*\n!*/\n!*.ts\n!*.py\n' });
    const rules = await IgnoreRules.forWorkspace(root, { ignoreCase: false });
    for (const dir of ['.git', 'node_modules', 'web/node_modules', '__pycache__', 'py/.venv', 'venv', '.tox', '.mypy_cache', '.pytest_cache', '.next', '.nuxt', '.baton', '.hg', '.svn']) {
      assert.equal(rules.ignores(dir, true), true, dir);
    }
    assert.equal(rules.ignores('node_modules/lodash/index.ts'), true);
    assert.equal(rules.ignores('src/index.ts'), false, 'the .gitignore re-includes .ts files');
    assert.equal(rules.ignores('src/readme.md'), true);
    assert.equal(rules.ignores('venv.ts'), false, 'venv/ is directory-only');
  });

  it('adds configured globs, which may re-include a default', async () => {
    const root = tree({});
    const rules = await IgnoreRules.forWorkspace(root, { ignoreCase: false, extraIgnores: ['*.csv', 'fixtures/big/', '!node_modules/', '', '# note'] });
    assert.equal(rules.ignores('data/x.csv'), true);
    assert.equal(rules.ignores('test/fixtures/big', true), false, 'a middle slash anchors it to the root');
    assert.equal(rules.ignores('fixtures/big', true), true);
    assert.equal(rules.ignores('node_modules', true), false);
    assert.equal(rules.ignores('.git', true), true);
  });

  it('says which file and line decided', async () => {
    const root = tree({ 'pkg/.gitignore': '# header\n*.out\n' });
    const rules = await IgnoreRules.forWorkspace(root, { ignoreCase: false });
    await rules.loadDirectory(root, 'pkg');
    assert.deepEqual(rules.check('pkg/x/a.out'), { ignored: true, detail: 'pkg/.gitignore:2 "*.out"' });
    assert.match(rules.check('node_modules', true).detail ?? '', /built-in default "node_modules\/"/);
    assert.deepEqual(rules.check('a.out'), { ignored: false });
  });

  it('matches case-insensitively only when asked', () => {
    const sensitive = new IgnoreRules({ ignoreCase: false });
    sensitive.addRules('', 'Build/\n', '.gitignore');
    const insensitive = new IgnoreRules({ ignoreCase: true });
    insensitive.addRules('', 'Build/\n', '.gitignore');
    assert.equal(sensitive.ignores('build', true), false);
    assert.equal(insensitive.ignores('build', true), true);
  });

  it('rewrites nested patterns the way git scopes them', () => {
    assert.equal(scopePattern('*.log', 'a'), 'a/**/*.log');
    assert.equal(scopePattern('/x', 'a/b'), 'a/b/x');
    assert.equal(scopePattern('x/y/', 'a'), 'a/x/y/');
    assert.equal(scopePattern('x/', 'a'), 'a/**/x/');
    assert.equal(scopePattern('!keep', 'a'), '!a/**/keep');
    assert.equal(scopePattern('\\#hash', 'a'), 'a/**/#hash');
    assert.equal(scopePattern('**/deep', 'a'), 'a/**/deep');
    assert.equal(scopePattern('# comment', 'a'), null);
    assert.equal(scopePattern('   ', 'a'), null);
    assert.equal(scopePattern('*.log', ''), '*.log', 'root patterns are kept as written');
  });
});
