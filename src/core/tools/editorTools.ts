// Tools that go through the editor host: get_diagnostics (read-only), propose_edit and
// run_command (side effects: the registry asks the user to approve the exact diff or command line
// before run() is called).
import * as path from 'node:path';
import { z } from 'zod';
import { unifiedDiff } from './diff';
import { readWorkspaceText, resolveWorkspacePath } from './codeTools';
import { restoreSecrets } from '../security/secrets';
import type { ReadOnlyTool, SideEffectTool } from './types';

// ---- get_diagnostics ---------------------------------------------------------------------------

const diagArgs = z.object({
  path: z.string().min(1).optional().describe('A workspace-relative file; omit for the whole workspace.'),
});

export const getDiagnosticsTool: ReadOnlyTool<z.infer<typeof diagArgs>> = {
  name: 'get_diagnostics',
  description: 'Lists the errors and warnings the editor reports (compiler, linter), for one file or the whole workspace.',
  parameters: diagArgs,
  sideEffects: false,
  async run(args, ctx) {
    const rel = args.path ? (await resolveWorkspacePath(ctx.host.root, args.path, { allowMissing: true })).rel : undefined;
    const diagnostics = await ctx.host.getDiagnostics(rel);
    if (diagnostics.length === 0) return rel ? `No diagnostics for ${rel}.` : 'No diagnostics.';
    return diagnostics
      .map((d) => `${d.path}:${d.line}:${d.column}: ${d.severity}: ${d.message}${d.source ? ` (${d.source})` : ''}`)
      .join('\n');
  },
};

// ---- propose_edit ------------------------------------------------------------------------------

const editArgs = z
  .object({
    path: z.string().min(1).describe('Workspace-relative path of the file to change or create.'),
    description: z.string().min(1).max(300).describe('One line saying what the edit does, shown to the user.'),
    content: z.string().optional().describe('The whole new content of the file. Use this to create a file or rewrite a small one.'),
    search: z.string().optional().describe('Exact lines to replace, copied from the file with enough context to be unique.'),
    replace: z.string().optional().describe('The lines that replace `search` (empty to delete them).'),
  })
  .refine((a) => (a.content !== undefined) !== (a.search !== undefined), { message: 'pass either content, or search and replace' })
  .refine((a) => a.search === undefined || a.replace !== undefined, { message: 'search needs a replace (use "" to delete)', path: ['replace'] });

type EditArgs = z.infer<typeof editArgs>;
interface EditPlan { rel: string; before: string | null; after: string }

export const proposeEditTool: SideEffectTool<EditArgs, EditPlan> = {
  name: 'propose_edit',
  description:
    'Proposes a change to one file: either the whole new content, or a search/replace block (search must match the ' +
    'current text once; small indentation differences are tolerated). The user sees a diff and must approve it.',
  parameters: editArgs,
  sideEffects: true,
  async prepare(args, ctx) {
    const target = await resolveWorkspacePath(ctx.host.root, args.path, { allowMissing: true });
    if (target.rel.split('/').some((part) => part === '.git' || part === '.baton')) {
      return { error: `${target.rel} is inside ${target.rel.startsWith('.git') ? '.git' : '.baton'}; Baton does not edit it` };
    }
    const before = target.exists ? (await readWorkspaceText(target.rel, ctx)).text : null;
    // The model saw this file with its secrets redacted: placeholders it copied back stand for the
    // real values, which the edit keeps (it never writes `[secret:…]` over a key).
    const real = async (text: string | undefined) => (text === undefined || before === null ? text : restoreSecrets(text, before, { path: target.rel }));
    const [content, search, replace] = [await real(args.content), await real(args.search), await real(args.replace)];
    let after: string;
    if (content !== undefined) {
      after = content;
    } else if (before === null) {
      return { error: `${target.rel} does not exist; to create it, pass its whole content` };
    } else {
      const applied = applySearchReplace(before, search!, replace!);
      if (!applied.ok) return { error: `${target.rel}: ${applied.error}` };
      after = applied.text;
    }
    if (after === before) return { error: `the edit leaves ${target.rel} unchanged` };
    const diff = unifiedDiff(before ?? '', after, { path: target.rel });
    return {
      approval: { kind: 'edit', title: `${before === null ? 'Create' : 'Edit'} ${target.rel}: ${args.description}`, detail: diff, path: target.rel, newText: after },
      state: { rel: target.rel, before, after },
    };
  },
  async run(args, ctx, plan) {
    // The user approved a diff against `before`: refuse if the file moved on since.
    const target = await resolveWorkspacePath(ctx.host.root, plan.rel, { allowMissing: true });
    const now = target.exists ? await ctx.host.readFile(plan.rel) : null;
    if (now !== plan.before) throw new Error(`${plan.rel} changed after the edit was proposed; read it again and propose a new edit`);
    await ctx.host.applyEdit({ path: plan.rel, newText: plan.after, description: args.description });
    const stats = diffStats(plan.before ?? '', plan.after);
    return `${plan.before === null ? 'Created' : 'Edited'} ${plan.rel} (${stats}).`;
  },
};

function diffStats(before: string, after: string): string {
  const diff = unifiedDiff(before, after).split('\n');
  const added = diff.filter((l) => l.startsWith('+') && !l.startsWith('+++')).length;
  const removed = diff.filter((l) => l.startsWith('-') && !l.startsWith('---')).length;
  return `+${added} -${removed} lines`;
}

export type SearchReplaceResult = { ok: true; text: string; line: number; tolerant: boolean } | { ok: false; error: string };

/**
 * Replaces the one place `search` occurs in `text`. An exact match wins; otherwise lines are
 * compared with whitespace normalised (indentation, trailing spaces, runs of spaces, CRLF), and the
 * replacement is re-indented by the drift between the search text and the file. Zero or several
 * matches are errors that say what to do.
 */
export function applySearchReplace(text: string, search: string, replace: string): SearchReplaceResult {
  if (search.trim() === '') return { ok: false, error: 'the search text is empty; copy the lines to change from the file' };
  const exact = occurrences(text, search);
  if (exact.length === 1) {
    const at = exact[0];
    return { ok: true, text: text.slice(0, at) + replace + text.slice(at + search.length), line: lineAt(text, at), tolerant: false };
  }
  if (exact.length > 1) return ambiguous(exact.map((at) => lineAt(text, at)));

  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const wanted = trimBlankEnds(search.split(/\r?\n/));
  const norm = (s: string) => s.trim().replace(/\s+/g, ' ');
  const wantedNorm = wanted.map(norm);
  const normLines = lines.map(norm);
  const starts: number[] = [];
  for (let i = 0; i + wanted.length <= lines.length; i++) {
    let j = 0;
    while (j < wanted.length && normLines[i + j] === wantedNorm[j]) j++;
    if (j === wanted.length) starts.push(i);
  }
  if (starts.length > 1) return ambiguous(starts.map((i) => i + 1));
  if (starts.length === 0) {
    const firstHits = normLines.map((l, i) => (l === wantedNorm[0] ? i + 1 : 0)).filter(Boolean).slice(0, 5);
    const hint = firstHits.length
      ? `its first line appears at line ${firstHits.join(', ')}, but the lines after it differ`
      : 'not even its first line appears in the file';
    return { ok: false, error: `the search text was not found (${hint}); read the file again and copy the exact lines` };
  }
  const start = starts[0];
  const firstSearch = wanted.findIndex((l) => l.trim() !== '');
  const fileIndent = leadingSpace(lines[start + firstSearch]);
  const searchIndent = leadingSpace(wanted[firstSearch]);
  let replacement = replace.split(/\r?\n/);
  if (replace === '') replacement = [];
  else if (replacement[replacement.length - 1] === '') replacement.pop();
  const reindented = replacement.map((l) => (l.trim() === '' ? '' : l.startsWith(searchIndent) ? fileIndent + l.slice(searchIndent.length) : l));
  const out = [...lines.slice(0, start), ...reindented, ...lines.slice(start + wanted.length)];
  return { ok: true, text: out.join(eol), line: start + 1, tolerant: true };
}

function occurrences(text: string, search: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(search); at >= 0; at = text.indexOf(search, at + 1)) found.push(at);
  return found;
}

function ambiguous(lines: number[]): SearchReplaceResult {
  const shown = lines.slice(0, 10).join(', ') + (lines.length > 10 ? ', …' : '');
  return {
    ok: false,
    error: `the search text matches ${lines.length} places (lines ${shown}); include more surrounding lines so it matches exactly one`,
  };
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function trimBlankEnds(lines: string[]): string[] {
  let s = 0;
  let e = lines.length;
  while (s < e && lines[s].trim() === '') s++;
  while (e > s && lines[e - 1].trim() === '') e--;
  return lines.slice(s, e);
}

function leadingSpace(line: string): string {
  return /^[ \t]*/.exec(line)![0];
}

// ---- run_command -------------------------------------------------------------------------------

const commandArgs = z.object({
  command: z.string().min(1).max(4000).describe('A shell command line, run in the workspace.'),
  cwd: z.string().optional().describe('Working directory relative to the workspace root (default: the root).'),
  timeoutSeconds: z.number().int().min(1).max(600).default(120),
});

type CommandArgs = z.infer<typeof commandArgs>;
interface CommandPlan { cwd: string; shownCwd: string; withhold: string[] }

/** Without a configuration, the default key variable is still withheld. */
const DEFAULT_WITHHELD = ['OPENAI_API_KEY'];

/** What the approval says about the environment the command gets. */
function withheldNote(withhold: string[]): string {
  return withhold.length ? `runs without ${withhold.join(', ')}: Baton's keys are not passed to commands` : 'inherits the full environment';
}

export const runCommandTool: SideEffectTool<CommandArgs, CommandPlan> = {
  name: 'run_command',
  description: 'Runs a shell command in the workspace (tests, builds, linters) and returns its exit code and output. The user must approve the exact command line.',
  parameters: commandArgs,
  sideEffects: true,
  async prepare(args, ctx) {
    const withhold = ctx.withholdEnv ?? DEFAULT_WITHHELD;
    let cwd = path.resolve(ctx.host.root);
    let shownCwd = '.';
    if (args.cwd !== undefined && args.cwd.trim() !== '' && path.resolve(cwd, args.cwd) !== cwd) {
      const dir = await resolveWorkspacePath(ctx.host.root, args.cwd);
      cwd = dir.abs;
      shownCwd = dir.rel;
    }
    return {
      approval: {
        kind: 'command',
        title: `Run ${args.command.length > 80 ? args.command.slice(0, 77) + '...' : args.command}`,
        detail: `$ ${args.command}\n(in ${shownCwd}, time limit ${args.timeoutSeconds} s; ${withheldNote(withhold)})`,
        command: args.command,
      },
      state: { cwd, shownCwd, withhold },
    };
  },
  async run(args, ctx, plan) {
    const result = await ctx.host.runCommand(args.command, { cwd: plan.cwd, timeoutMs: args.timeoutSeconds * 1000, signal: ctx.signal, withholdEnv: plan.withhold });
    const status = result.exitCode === null ? 'the command was stopped (time limit or cancelled)' : `exit code ${result.exitCode}`;
    const parts = [status];
    if (result.stdout) parts.push(`stdout:\n${result.stdout}`);
    if (result.stderr) parts.push(`stderr:\n${result.stderr}`);
    return parts.join('\n');
  },
};

export const EDITOR_TOOLS = [getDiagnosticsTool, proposeEditTool, runCommandTool] as const;
