// Whether the user trusts a workspace's own Baton files. A cloned repository is not the user: its
// baton.config.json can name a model server, an embedder and the variable holding a key, and its
// .baton/workflows can run tools. Those files apply only once the user has trusted this workspace
// with exactly their current content: the editor's workspace trust, the CLI's --trust, or a
// decision recorded in the user's config folder (trusted-workspaces.json) by path and fingerprint.
// A changed file changes the fingerprint, so it needs trust again. Every consumer asks this module.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, realpathSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_FILES, userConfigDir } from '../config/config';
import { writeFileAtomic } from '../../base/node/atomicFile';
import { WORKFLOWS_DIR as WORKSPACE_WORKFLOWS_DIR } from '../workflow/loader';

type Env = Record<string, string | undefined>;

const WORKFLOW_EXTENSIONS = /\.(json|ya?ml)$/i;
export const TRUST_FILE = 'trusted-workspaces.json';
/** More files than this in .baton/workflows is not a workflow folder; the fingerprint covers the first ones. */
const MAX_SOURCES = 500;

/** The workspace-authored files that decide where data goes or what runs. */
export interface WorkspaceSources {
  /** Workspace-relative, `/`-separated, sorted. */
  files: string[];
  /** sha256 over the files' names and contents; null when there are none. */
  fingerprint: string | null;
}

export function workspaceSources(root: string): WorkspaceSources {
  const files: string[] = [];
  for (const rel of CONFIG_FILES) if (isRegularFile(join(root, rel))) files.push(rel.split('\\').join('/'));
  const dir = join(root, ...WORKSPACE_WORKFLOWS_DIR.split('/'));
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => WORKFLOW_EXTENSIONS.test(n)).sort();
  } catch {
    // no workflows folder
  }
  for (const name of names.slice(0, MAX_SOURCES)) if (isRegularFile(join(dir, name))) files.push(`${WORKSPACE_WORKFLOWS_DIR}/${name}`);
  files.sort();
  if (!files.length) return { files, fingerprint: null };
  const hash = createHash('sha256');
  for (const rel of files) {
    hash.update(rel).update('\0');
    hash.update(createHash('sha256').update(readFileSync(join(root, rel))).digest()).update('\0');
  }
  return { files, fingerprint: hash.digest('hex') };
}

/** Only plain files count (and are read): a link to a device or a folder is not a config file. */
function isRegularFile(file: string): boolean {
  try {
    return lstatSync(file).isFile();
  } catch {
    return false;
  }
}

interface TrustRecord {
  fingerprint: string;
  trustedAt: string;
}

/** The user's recorded decisions, keyed by the workspace's real path. */
export class TrustStore {
  readonly file: string;

  constructor(env: Env = process.env) {
    this.file = join(userConfigDir(env), TRUST_FILE);
  }

  get(root: string): TrustRecord | undefined {
    return this.read()[keyOf(root)];
  }

  async grant(root: string, fingerprint: string): Promise<void> {
    const all = this.read();
    all[keyOf(root)] = { fingerprint, trustedAt: new Date().toISOString() };
    mkdirSync(join(this.file, '..'), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify({ version: 1, workspaces: all }, null, 2) + '\n');
  }

  private read(): Record<string, TrustRecord> {
    if (!existsSync(this.file)) return {};
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as { workspaces?: Record<string, TrustRecord> };
      const out: Record<string, TrustRecord> = {};
      for (const [k, v] of Object.entries(parsed.workspaces ?? {})) {
        if (v && typeof v.fingerprint === 'string') out[k] = { fingerprint: v.fingerprint, trustedAt: String(v.trustedAt ?? '') };
      }
      return out;
    } catch {
      return {}; // an unreadable record trusts nothing; the next grant rewrites it
    }
  }
}

function keyOf(root: string): string {
  try {
    return realpathSync(root);
  } catch {
    return resolve(root);
  }
}

export type TrustHow =
  /** Nothing to trust: the workspace has no Baton files of its own. */
  | 'nothing-to-trust'
  /** The editor vouched for it (VS Code's workspace trust): trusted, nothing recorded. */
  | 'editor'
  /** The CLI's --trust: recorded, then trusted. */
  | 'granted'
  | 'recorded'
  | 'asked'
  | 'declined'
  /** Not trusted and no terminal to ask on. */
  | 'not-asked';

export interface TrustDecision {
  trusted: boolean;
  how: TrustHow;
  sources: WorkspaceSources;
  /** The files changed since the user trusted them (so the record no longer applies). */
  changed: boolean;
}

export interface TrustStateOptions {
  env?: Env;
  /** The editor trusts the folder (VS Code's workspace trust covers its files, changes included). */
  editorTrusted?: boolean;
}

/** The trust in force now, without asking or recording anything. */
export function trustState(root: string, opts: TrustStateOptions = {}): TrustDecision {
  const sources = workspaceSources(root);
  if (!sources.fingerprint) return { trusted: false, how: 'nothing-to-trust', sources, changed: false };
  if (opts.editorTrusted) return { trusted: true, how: 'editor', sources, changed: false };
  const record = new TrustStore(opts.env).get(root);
  const changed = !!record && record.fingerprint !== sources.fingerprint;
  if (record && !changed) return { trusted: true, how: 'recorded', sources, changed };
  return { trusted: false, how: 'not-asked', sources, changed };
}

export interface DecideOptions extends TrustStateOptions {
  /** The user vouched for this workspace (the CLI's --trust): recorded, then trusted. */
  grant?: boolean;
  /** Asks the user (a terminal prompt); absent: nobody can be asked, so the answer is no. */
  ask?: (question: string) => Promise<boolean>;
}

/** trustState, then the user's --trust or their answer on a terminal, recorded for next time. */
export async function decideTrust(root: string, opts: DecideOptions = {}): Promise<TrustDecision> {
  const state = trustState(root, opts);
  if (state.trusted || state.how === 'nothing-to-trust') return state;
  const { sources, changed } = state;
  const store = new TrustStore(opts.env);
  if (opts.grant) {
    await store.grant(root, sources.fingerprint!);
    return { trusted: true, how: 'granted', sources, changed };
  }
  if (!opts.ask) return state;
  const yes = await opts.ask(trustQuestion(root, sources, changed));
  if (!yes) return { trusted: false, how: 'declined', sources, changed };
  await store.grant(root, sources.fingerprint!);
  return { trusted: true, how: 'asked', sources, changed };
}

/** What the prompt shows: which files, and what in them decides where data goes or what runs. */
export function trustQuestion(root: string, sources: WorkspaceSources, changed: boolean): string {
  const lines = [
    changed
      ? `Baton files in ${root} changed since you trusted this workspace:`
      : `${root} has Baton files of its own:`,
    ...sources.files.map((f) => `  ${f}${describeFile(root, f)}`),
    'Trusted, they decide which model and embedding servers receive your code, which environment',
    'variable is sent as the key, and which workflows run. Untrusted, Baton ignores them.',
  ];
  return lines.join('\n');
}

function describeFile(root: string, rel: string): string {
  if (rel.startsWith(WORKSPACE_WORKFLOWS_DIR)) return ' (a workflow: it can call tools and run commands after approval)';
  try {
    const raw = JSON.parse(readFileSync(join(root, rel), 'utf8')) as Record<string, unknown>;
    const found = [...new Set(endpointsIn(raw))];
    return found.length ? ` (${found.join(', ')})` : '';
  } catch {
    return ' (not valid JSON)';
  }
}

/** baseURL and apiKeyEnv values anywhere in the config, the parts that send data or keys. */
function endpointsIn(value: unknown, depth = 0): string[] {
  if (!value || typeof value !== 'object' || depth > 6) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (k === 'baseURL' && typeof v === 'string') out.push(`sends data to ${v}`);
    else if (k === 'apiKeyEnv' && typeof v === 'string') out.push(`sends $${v} as the key`);
    else out.push(...endpointsIn(v, depth + 1));
  }
  return out.slice(0, 8);
}

/** The one line that says what an untrusted workspace's files did not do, or undefined. */
export function untrustedNotice(decision: TrustDecision, remedy: string): string | undefined {
  if (decision.trusted || decision.how === 'nothing-to-trust') return undefined;
  const why = decision.how === 'declined'
    ? 'you did not trust this workspace'
    : decision.changed ? 'they changed since you trusted this workspace' : 'this workspace is not trusted';
  return `ignoring this workspace's own ${listFiles(decision.sources.files)} because ${why} (only its ignore globs and a lower size limit apply); ${remedy}`;
}

function listFiles(files: string[]): string {
  const workflows = files.filter((f) => f.startsWith(WORKSPACE_WORKFLOWS_DIR));
  const parts = files.filter((f) => !f.startsWith(WORKSPACE_WORKFLOWS_DIR));
  if (workflows.length) parts.push(`${workflows.length} workflow file${workflows.length === 1 ? '' : 's'} in ${WORKSPACE_WORKFLOWS_DIR}`);
  return parts.join(' and ');
}
