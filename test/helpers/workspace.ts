// Builds a throw-away workspace from test/fixtures/workspace plus the files that a repository
// cannot carry as fixtures (ignored, secret, binary, minified), so every run starts from real disk.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const FIXTURE_WORKSPACE = join(REPO_ROOT, 'test', 'fixtures', 'workspace');

export interface TempWorkspace {
  root: string;
  write(rel: string, content: string | Buffer): void;
  remove(): void;
}

export function makeWorkspace(): TempWorkspace {
  const base = mkdtempSync(join(tmpdir(), 'baton-ws-'));
  const root = join(base, 'workspace');
  cpSync(FIXTURE_WORKSPACE, root, { recursive: true });
  const write = (rel: string, content: string | Buffer) => {
    const file = join(root, rel);
    mkdirSync(resolve(file, '..'), { recursive: true });
    writeFileSync(file, content);
  };
  write('.env', 'DATABASE_PASSWORD=hunter2-do-not-index\n');
  write('build/output.js', 'export const builtArtifact = "gitignored build output";\n');
  write('app.log', 'debug output\n');
  write('vendor/thirdParty.js', 'export function vendoredHelper() { return "batonignored"; }\n');
  write('logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 0, 0]));
  let minified = 'var a=1;';
  for (let i = 0; i < 3000; i++) minified += `function f${i}(x){return x+${i}}`;
  write('src/util/bundle.js', minified);
  return { root, write, remove: () => rmSync(base, { recursive: true, force: true }) };
}
