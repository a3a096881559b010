// Packages the extension as a VSIX with @vscode/vsce (what a user installs), after a build.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './codeServer';

export function packageVsix(out: string): { path: string; bytes: number; seconds: number } {
  for (const built of ['dist/extension.js', 'dist/server.js', 'dist/webview/chat.js']) {
    if (!existsSync(join(REPO_ROOT, built))) throw new Error(`${built} is missing: run \`npm run build\` first`);
  }
  const started = Date.now();
  const vsce = join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--out', out], {
    cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000,
  });
  if (r.status !== 0 || !existsSync(out)) throw new Error(`vsce package failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { path: out, bytes: statSync(out).size, seconds: (Date.now() - started) / 1000 };
}
