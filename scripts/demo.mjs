#!/usr/bin/env node
// `npm run demo`: Baton as a user gets it, in a browser. Installs the VS Code tools on first use
// (Node 24 + code-server into .vscode-tools/), builds, packages the VSIX, installs it into a demo
// profile (.vscode-tools/demo/), copies a sample workspace there, and serves VS Code on
// http://127.0.0.1:$PORT (default 8080) until Ctrl-C. The profile's settings (what you chose in
// Configure Model, say) are kept between runs: only settings it lacks are added.
//
// A model is optional: without one Baton answers with the most relevant code (retrieval only).
// OPENAI_BASE_URL, OPENAI_API_KEY and BATON_MODEL pass through to the extension when set, e.g.
//   OPENAI_BASE_URL=http://127.0.0.1:11434/v1 BATON_MODEL=qwen2.5-coder npm run demo
// `npm run demo -- /path/to/folder` opens that folder instead of the sample workspace.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const demoDir = join(root, '.vscode-tools', 'demo');
const say = (m) => console.log(`demo: ${m}`);

function run(cmd, args, what) {
  say(what);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) { console.error(`demo: ${what} failed (exit ${r.status})`); process.exit(1); }
}

run('bash', [join(root, 'scripts', 'install-vscode-tools.sh')], 'VS Code tools (Node 24 + code-server, once)');
run(process.execPath, [join(root, 'esbuild.mjs')], 'building');

const require = createRequire(import.meta.url);
const { startCodeServer, installExtension, freePort } = require(join(root, 'out', 'test', 'helpers', 'codeServer.js'));
const { packageVsix } = require(join(root, 'out', 'test', 'helpers', 'vsix.js'));

mkdirSync(demoDir, { recursive: true });
say('packaging the VSIX (vsce package)');
const vsix = packageVsix(join(demoDir, 'baton.vsix'));
say(`packaged ${(vsix.bytes / 1024 / 1024).toFixed(1)} MB in ${vsix.seconds.toFixed(0)} s`);
const profileDir = join(demoDir, 'profile');
say('installing it into the demo profile (code-server --install-extension)');
installExtension(profileDir, vsix.path);

const folderArg = process.argv.slice(2).find((a) => !a.startsWith('-'));
let folder = folderArg ? resolve(folderArg) : join(demoDir, 'workspace');
if (!folderArg && !existsSync(folder)) {
  // The sample project: the fixture workspace the tests use (TypeScript, Python, Go, docs).
  cpSync(join(root, 'test', 'fixtures', 'workspace'), folder, { recursive: true });
}
if (!existsSync(folder)) { console.error(`demo: ${folder} does not exist`); process.exit(2); }

const port = process.env.PORT ? Number(process.env.PORT) : 8080;
if (!Number.isInteger(port) || port <= 0 || port > 65535) { console.error(`demo: PORT=${process.env.PORT} is not a port`); process.exit(2); }
const model = process.env.OPENAI_BASE_URL
  ? `model server ${process.env.OPENAI_BASE_URL}${process.env.BATON_MODEL ? ` (${process.env.BATON_MODEL})` : ''}`
  : 'no model configured: answers are retrieval-only until you set OPENAI_BASE_URL or run "Baton: Configure Model"';
let server;
try {
  server = await startCodeServer({ port, profileDir, settings: { 'git.enabled': true }, keepUserSettings: true });
} catch (err) {
  const free = await freePort();
  console.error(`demo: could not start code-server on port ${port} (in use? try PORT=${free} npm run demo)\n${err.message}`);
  process.exit(1);
}
const url = `${server.url}/?folder=${encodeURIComponent(folder)}`;
console.log(`
  Baton demo is running (${model}).
  Open ${url}
  Click the Baton icon in the activity bar to chat; Ctrl-C here to stop.
`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  say('stopping');
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.process.on('exit', (code) => { if (!stopping) { console.error(`demo: code-server exited (${code})`); process.exit(1); } });
