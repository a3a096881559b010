// `baton` command line: index a workspace and search it. Scripts depend on the output formats
// and exit codes documented in the README: keep them stable. Human output carrying untrusted text
// goes through ./output (rendered inert); --json goes through terminalJson (exact values).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { IndexSummary } from '../core/indexing/indexer';
import { openIndexForSearch, buildWorkspaceIndex, type OpenedIndex } from '../core/indexing/workspaceIndex';
import type { SearchMode } from '../core/search/retriever';
import type { SearchResult } from '../core/indexing/types';
import { embedderSpecFromFlag } from '../core/config/config';
import { describeEmbedder } from '../core/embed/createEmbedder';
import { ProgressLine, WaitLine, formatSeconds } from './progress';
import { inertBlock, inertLine, inertWriter, notice, terminalJson, toolCallLines } from './output';
import { ask } from '../core/orchestration/orchestrator';
import { NodeHost } from '../core/host/nodeHost';
import { runNamedWorkflow, UnknownWorkflowError } from '../core/orchestration/workflowRunner';
import { launchServer } from '../server/launch';
import { cliWorkspace } from './trust';
import { redactTraceEvents } from '../core/security/outbound';

const VERSION = (require('../../package.json') as { version: string }).version;

const USAGE = `Usage:
  baton index [DIR] [--rebuild] [--embedder SPEC] [--verbose] [--trust]
  baton search [--dir DIR] [-k N] [--json] [--mode hybrid|lexical|dense] [--embedder SPEC] [--trust] QUERY
  baton search [--dir DIR] [-k N] --json --stdin      (one query per line, one JSON line per query)
  baton ask [--dir DIR] [--model M] [--json] [--yes] [--trust] [--conversation ID] QUESTION
  baton run WORKFLOW [--dir DIR] [--input JSON] [--json] [--yes] [--trust]   (ask, explain, generate, fix, tests, document, or .baton/workflows)
  baton lsp --stdio | --node-ipc | --socket=PORT | --pipe=NAME [--trust]   (the language server editors talk to)

Trust: a workspace's own baton.config.json and .baton/workflows apply only once you trust them:
       --trust (recorded for this workspace and these files), or "y" when asked on a terminal.
       A changed file needs trust again. Your own settings go in ~/.config/baton/config.json.

Models: OPENAI_BASE_URL, OPENAI_API_KEY and BATON_MODEL, or "llm" in baton.config.json; without them
        Baton looks for Ollama (127.0.0.1:11434) or LM Studio (127.0.0.1:1234), else answers from retrieval.
Embedder SPEC: baton (default, the packaged offline model) | none | transformers:<model id or folder>
               | openai:<model>[@<baseURL>]   (key from OPENAI_API_KEY)`;

/** A failure the user can fix; printed as one line, no stack. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'index':
      return runIndex(rest);
    case 'search':
      return runSearch(rest);
    case 'ask':
      return runAsk(rest);
    case 'run':
      return runRun(rest);
    case 'lsp':
      return runLsp(rest);
    case '--version':
    case '-v':
      console.log(VERSION);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  }
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true as const, strict: true as const });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function workspaceDir(dir: string | undefined): string {
  const root = resolve(dir ?? '.');
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    throw new UsageError(`no such directory: ${root}`);
  }
  if (!isDir) throw new UsageError(`not a directory: ${root}`);
  return root;
}

async function runIndex(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    rebuild: { type: 'boolean' },
    embedder: { type: 'string' },
    verbose: { type: 'boolean' },
    trust: { type: 'boolean' },
  });
  if (positionals.length > 1) throw new UsageError('index takes one directory');
  const root = workspaceDir(positionals[0]);
  const { config } = await cliWorkspace(root, Boolean(values.trust), notice);
  const spec = values.embedder ? embedderSpecFromFlag(values.embedder) : config.embedder;
  const progress = new ProgressLine();
  let summary: IndexSummary;
  try {
    summary = await interruptible((signal) => buildWorkspaceIndex(root, config, {
      spec,
      rebuild: Boolean(values.rebuild),
      signal,
      onProgress: (p) => progress.update(p),
      onSkip: values.verbose
        ? (path, reason, detail) => {
            progress.clear();
            console.error(inertLine(`skipped ${path}: ${reason}${detail ? ` (${detail})` : ''}`));
          }
        : undefined,
    }));
  } finally {
    progress.clear();
  }
  if (summary.notice) notice(summary.notice);
  console.log(inertLine(summaryLine(summary, describeEmbedder(spec))));
  return 0;
}

function summaryLine(s: IndexSummary, embedderName: string): string {
  const n = (x: number) => x.toLocaleString('en');
  const skipped = Object.values(s.skipped).reduce((a, b) => a + (b ?? 0), 0);
  const parts = [
    `Indexed ${n(s.files)} files, ${n(s.chunks)} chunks in ${formatSeconds(s.seconds)}`,
    `${n(s.changedFiles)} changed, ${n(s.deletedFiles)} removed`,
    `${n(s.embedded)} embedded, ${n(s.fromCache)} from cache (${embedderName})`,
  ];
  if (skipped) parts.push(`${n(skipped)} skipped${process.argv.includes('--verbose') ? '' : ' (--verbose says why)'}`);
  if (s.secretsRedacted) parts.push(`${n(s.secretsRedacted)} secret${s.secretsRedacted === 1 ? '' : 's'} redacted`);
  if (s.repairedShards) parts.push(`repaired ${n(s.repairedShards)} damaged shard${s.repairedShards === 1 ? '' : 's'}`);
  return parts.join('; ');
}

async function runSearch(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    dir: { type: 'string' },
    k: { type: 'string', short: 'k' },
    json: { type: 'boolean' },
    mode: { type: 'string' },
    stdin: { type: 'boolean' },
    embedder: { type: 'string' },
    trust: { type: 'boolean' },
  });
  const root = workspaceDir(values.dir);
  const k = values.k === undefined ? 10 : Number(values.k);
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`-k must be a positive integer, got "${values.k}"`);
  const mode = (values.mode ?? 'hybrid') as SearchMode;
  if (!['hybrid', 'lexical', 'dense'].includes(mode)) throw new UsageError(`--mode must be hybrid, lexical or dense, got "${values.mode}"`);
  if (values.stdin && positionals.length) throw new UsageError('give either QUERY or --stdin, not both');
  if (!values.stdin && !positionals.length) throw new UsageError('search needs a QUERY (or --stdin)');

  const workspace = await cliWorkspace(root, Boolean(values.trust), notice);
  let index: OpenedIndex;
  try {
    index = await openIndexForSearch(root, {
      embedder: values.embedder ? embedderSpecFromFlag(values.embedder) : undefined,
      trusted: workspace.trusted,
      configured: workspace.config.embedder,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const reported = new Set<string>(await index.notices());
  for (const line of reported) notice(line);
  const searchOne = async (query: string) => {
    const response = await index.retriever.search(query, { k, mode });
    for (const message of response.notices) {
      if (!reported.has(message)) notice(message);
      reported.add(message);
    }
    return response.results;
  };
  try {
    if (values.stdin) {
      const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
      for await (const line of lines) {
        const query = line.trim();
        if (!query) continue;
        process.stdout.write(terminalJson({ query, results: (await searchOne(query)).map(jsonResult) }) + '\n');
      }
    } else {
      const query = positionals.join(' ');
      const results = await searchOne(query);
      if (values.json) process.stdout.write(terminalJson({ query, results: results.map(jsonResult) }) + '\n');
      else printResults(results);
    }
  } finally {
    await index.close();
  }
  return 0;
}

async function runAsk(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    dir: { type: 'string' },
    model: { type: 'string' },
    json: { type: 'boolean' },
    yes: { type: 'boolean' },
    conversation: { type: 'string' },
    trust: { type: 'boolean' },
  });
  if (!positionals.length) throw new UsageError('ask needs a QUESTION');
  const root = workspaceDir(values.dir);
  const workspace = await cliWorkspace(root, Boolean(values.trust), notice);
  // Side-effecting tools ask on a TTY; without one they are refused unless --yes.
  const host = new NodeHost({ root, autoApprove: Boolean(values.yes) });
  const stream = !values.json;
  let streamed = false;
  const answer = inertWriter(process.stdout);
  let lineOpen = false;
  const waiting = new WaitLine(process.stderr, () => lineOpen);
  const result = await interruptible((signal) => ask({
    host,
    question: positionals.join(' '),
    model: values.model,
    conversationId: values.conversation,
    trusted: workspace.trusted,
    config: workspace.config,
    signal,
    onToken: stream ? (delta) => { streamed = true; lineOpen = !delta.endsWith('\n'); answer.write(delta); } : undefined,
    onEvent: stream
      ? (e) => {
          if (e.type === 'reset') { answer.end(); process.stdout.write('\n[the model connection broke; retrying]\n'); }
          if (e.type === 'tool-call') { answer.end(); for (const line of toolCallLines(e.name, e.arguments)) console.error(line); }
        }
      : undefined,
    onNotice: notice,
    onWait: (w) => waiting.update(w),
  }));
  answer.end();
  const sources = result.sources.map((c) => `${c.path}:${c.startLine}-${c.endLine}`);
  if (values.json) {
    process.stdout.write(terminalJson({ answer: result.answer, sources, mode: result.mode, note: result.note ?? null, conversationId: result.conversationId, trace: await redactTraceEvents(result.trace) }) + '\n');
  } else {
    if (!streamed) process.stdout.write(inertBlock(result.answer));
    process.stdout.write(`\n\nSources:\n${sources.map((s) => `  ${inertLine(s)}`).join('\n') || '  (none)'}\n`);
    if (result.note) notice(result.note);
  }
  return 0;
}

async function runRun(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    dir: { type: 'string' },
    input: { type: 'string' },
    json: { type: 'boolean' },
    yes: { type: 'boolean' },
    trust: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('run takes one WORKFLOW id');
  const root = workspaceDir(values.dir);
  const workspace = await cliWorkspace(root, Boolean(values.trust), notice);
  let input: Record<string, unknown> = {};
  if (values.input !== undefined) {
    try {
      input = JSON.parse(values.input) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`--input is not valid JSON: ${(err as Error).message}`);
    }
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw new UsageError('--input must be a JSON object');
  }
  const tokens = inertWriter(process.stdout);
  const waiting = new WaitLine();
  const result = await interruptible((signal) => runNamedWorkflow({
    host: new NodeHost({ root, autoApprove: Boolean(values.yes) }),
    workflow: positionals[0],
    input,
    trusted: workspace.trusted,
    config: workspace.config,
    signal,
    onToken: values.json ? undefined : (delta) => tokens.write(delta),
    onNotice: notice,
    onWait: (w) => waiting.update(w),
  })).catch((err) => {
    throw err instanceof UnknownWorkflowError ? new UsageError(err.message) : err;
  }).finally(() => tokens.end());
  for (const message of result.notices) notice(message);
  if (values.json) process.stdout.write(terminalJson({ outputs: result.outputs, trace: await redactTraceEvents(result.trace) }) + '\n');
  else process.stdout.write(`\n\n${terminalJson(result.outputs, 2)}\n`);
  return 0;
}

/** Serves LSP until the editor disconnects; the connection reads the transport flag itself. */
function runLsp(args: string[]): number {
  if (!args.some((a) => /^--(stdio|node-ipc|socket=\d+|pipe=.+)$/.test(a))) {
    throw new UsageError('lsp needs a transport: --stdio, --node-ipc, --socket=PORT or --pipe=NAME');
  }
  launchServer({ trustWorkspace: args.includes('--trust') });
  return 0;
}

/** Set by Ctrl-C: the command then exits 130 (128 + SIGINT), as shells expect of an interrupted one. */
let interrupted = false;

/** Runs `work` with a signal that Ctrl-C aborts, so a long index or answer stops cleanly (at once,
 * even while waiting for a model); a second Ctrl-C kills the process. */
async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const onSignal = () => {
    interrupted = true;
    abort.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onSignal);
  try {
    return await work(abort.signal);
  } finally {
    process.off('SIGINT', onSignal);
  }
}

function jsonResult(r: SearchResult) {
  return { path: r.path, startLine: r.startLine, endLine: r.endLine, score: Number(r.score.toFixed(4)), symbol: r.symbol };
}

function printResults(results: SearchResult[]): void {
  if (!results.length) {
    console.log('No results.');
    return;
  }
  results.forEach((r, i) => {
    const where = `${r.path}:${r.startLine}-${r.endLine}`;
    console.log(inertLine(`${String(i + 1).padStart(2)}. ${where}${r.symbol ? `  ${r.symbol}` : ''}  (${r.score.toFixed(3)}, ${r.sources.join('+')})`));
    // A CR ending a line is its line ending (CRLF files), not content.
    const preview = r.text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim()).slice(0, 3);
    for (const line of preview) {
      const chars = Array.from(line);
      console.log(`      ${inertLine(chars.length > 110 ? chars.slice(0, 107).join('') + '...' : line)}`);
    }
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = interrupted ? 130 : code;
  },
  (err: unknown) => {
    if (interrupted) {
      notice('interrupted');
      process.exitCode = 130;
      return;
    }
    notice(err instanceof Error ? err.message : String(err));
    if (process.env.BATON_DEBUG && err instanceof Error) console.error(inertBlock(err.stack ?? ''));
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
