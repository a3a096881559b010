// The workspace containment test shared by the tools, the Node host and the language server.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { relativeInside, toRelative } from '../../../src/base/node/paths';
import { resolveWorkspacePath } from '../../../src/core/tools/codeTools';
import { makeWorkspace } from '../../helpers/workspace';

describe('workspace containment', () => {
  const root = '/work/ws';

  it('accepts paths inside, including names that start with two dots', () => {
    assert.equal(relativeInside(root, '/work/ws/src/a.ts'), join('src', 'a.ts'));
    assert.equal(relativeInside(root, '/work/ws/..cache/x'), join('..cache', 'x'));
    assert.equal(relativeInside(root, '/work/ws/...'), '...');
  });

  it('refuses the root itself, parents, siblings and other absolute paths', () => {
    for (const file of ['/work/ws', '/work', '/work/ws-other/a.ts', '/work/other/a.ts', '/etc/passwd', '/work/ws/../x']) {
      assert.equal(relativeInside(root, file), null, file);
    }
  });

  it('the extension\'s copy (it does not load the core) agrees on every case', () => {
    for (const file of ['/work/ws/src/a.ts', '/work/ws/..cache/x', '/work/ws', '/work', '/work/ws-other/a.ts', '/etc/passwd']) {
      const core = relativeInside(root, file);
      assert.equal(toRelative(root, file), core === null ? undefined : core.split('\\').join('/'), file);
    }
  });

  it('a tool may read a file whose name starts with two dots', async () => {
    const ws = makeWorkspace();
    try {
      mkdirSync(join(ws.root, '..notes'), { recursive: true });
      writeFileSync(join(ws.root, '..notes', 'todo.md'), '# todo\n');
      const resolved = await resolveWorkspacePath(ws.root, '..notes/todo.md');
      assert.equal(resolved.rel, '..notes/todo.md');
      await assert.rejects(resolveWorkspacePath(ws.root, '../outside.md'), /outside the workspace/);
    } finally {
      ws.remove();
    }
  });
});
