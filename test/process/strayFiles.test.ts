// Baton writes only into the workspace's .baton/ and its own cache folder. With the packaged model
// (ONNX Runtime, in the indexing worker and in-thread for queries), HOME, TMPDIR and the XDG
// folders point at fresh empty folders, which are listed afterwards.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { makeWorkspace, type TempWorkspace } from '../helpers/workspace';
import { runCli } from '../helpers/runCli';

function listTree(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? [full, ...listTree(full)] : [full];
  });
}

describe('files written outside the workspace', function () {
  this.timeout(120_000);
  let ws: TempWorkspace;
  let base: string;
  before(() => {
    ws = makeWorkspace();
    base = mkdtempSync(join(tmpdir(), 'baton-env-'));
  });
  after(() => {
    ws.remove();
    rmSync(base, { recursive: true, force: true });
  });

  it("indexing and searching with the packaged model leave nothing there but Baton's own cache folder", async () => {
    const names = ['HOME', 'TMPDIR', 'XDG_CACHE_HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_RUNTIME_DIR'];
    const env: NodeJS.ProcessEnv = {};
    for (const name of names) mkdirSync((env[name] = join(base, name.toLowerCase())));
    env.TMP = env.TEMP = env.TMPDIR;

    const indexed = await runCli(['index', ws.root], { env });
    assert.equal(indexed.code, 0, indexed.stderr);
    assert.match(indexed.stdout, /[1-9]\d* embedded, \d+ from cache \(Baton's packaged code-search model/);
    const searched = await runCli(['search', '--dir', ws.root, '-k', '3', 'verify session token'], { env });
    assert.equal(searched.code, 0, searched.stderr);
    assert.match(searched.stdout, /verifySessionToken.*dense/, 'the query was embedded by the model');

    const ownCache = join(env.XDG_CACHE_HOME!, 'baton');
    const written = names.flatMap((name) => listTree(env[name]!));
    const stray = written.filter((p) => p !== ownCache && !p.startsWith(ownCache + '/')).map((p) => relative(base, p));
    assert.deepEqual(stray, []);
  });
});
