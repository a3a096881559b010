// `ask`: runs the workspace's `ask` workflow (built-in: retrieve -> agent; a user's
// .baton/workflows/ask.json replaces it), then cites sources and saves the conversation. With no
// model reachable it still answers, from retrieval alone, and says in one line how to connect one.
//
// What ask() needs from the workflow: a `question` input (`history` too, when declared), an
// `answer` string in the state. Retrieval results are read from its retrieve nodes' outputs (for
// sources and the retrieval-only answer); the agent's stop reason and note from its agent node.
//
// A model that fails leaves one line in the note saying what happened; the advice to connect a
// model is only for when none is configured, or none of the configured ones could be reached.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, type BatonConfig } from '../config/config';
import { openIndexForSearch, batonDirOf, buildWorkspaceIndex, type OpenedIndex } from '../indexing/workspaceIndex';
import type { SearchResult } from '../indexing/types';
import { LlmClient, LlmError } from '../llm/client';
import type { WaitListener } from '../llm/waiting';
import type { LlmConfig } from '../llm/models';
import { createTokenCounter } from '../llm/tokens';
import type { AgentEvent, AgentResult, StopReason } from '../agent/loop';
import { createCoreToolRegistry } from '../tools/allTools';
import { ConversationStore } from '../memory/conversationStore';
import { createLlmSummarizer } from '../memory/conversation';
import { findCitations, type Citation } from '../../base/common/citations';
import { Trace, type TraceEvent } from '../trace/trace';
import type { EditorHost } from '../host/editorHost';
import { runWorkflow, WorkflowCancelledError, WorkflowRunError } from '../workflow/engine';
import { loadBuiltinWorkflows, loadWorkflows, type LoadedWorkflow } from '../workflow/loader';
import type { WorkflowState } from '../workflow/nodes';
import type { WorkflowDefinition } from '../workflow/schema';
import { route, type Route } from './router';
import { LongTermMemory } from '../memory/longTerm';
import type { ContextItem } from '../prompt/builder';
import { excerpt } from './excerpts';
import { workspaceServices } from './workflowRunner';

export interface AskOptions {
  host: EditorHost;
  question: string;
  /** Overrides the chat model (keeps the configured server). */
  model?: string;
  /** What the user has selected in the editor: routed as editor context and put first in the prompt. */
  selection?: { path: string; text: string; startLine: number; endLine: number; language?: string };
  /** How answers made without a model (retrieval-only, lookups) show code: indented plain text for a
   * terminal (default), fenced blocks for a surface that renders markdown. */
  format?: 'text' | 'markdown';
  /** The selection has problems (diagnostics) attached: steers routing towards a fix. */
  selectionHasDiagnostics?: boolean;
  /** Continue this conversation (its history is sent, summarised when long). */
  conversationId?: string;
  /** Retrieved chunks put in front of the model (sets `k` of the workflow's retrieve nodes). */
  k?: number;
  signal?: AbortSignal;
  onToken?: (delta: string) => void;
  onEvent?: (event: AgentEvent) => void;
  /** Progress of an automatic first index, workflow files overriding or failing to load. */
  onNotice?: (message: string) => void;
  /** Every few seconds while a model call is silent (no reply yet, or a pause before a retry). */
  onWait?: WaitListener;
  env?: Record<string, string | undefined>;
  /** The user trusts this workspace's own files (security/workspaceTrust.ts): its config file,
   * workflows and recorded embedder apply. Default false. */
  trusted?: boolean;
  /** The configuration to use instead of resolving it (a server merges its settings in). */
  config?: BatonConfig;
  /** An index the caller keeps open (a server's warm index): used as is and not closed here. */
  index?: OpenedIndex;
  /** Where the run's trace events go; a caller that passes its own keeps them when ask throws. */
  trace?: Trace;
}

export interface AskResult {
  answer: string;
  sources: Citation[];
  /** lookup: a "where is X defined / used" request answered from the index, no model. */
  mode: 'agent' | 'retrieval-only' | 'lookup';
  /** Why the answer is limited (no model, step limit, ...). */
  note?: string;
  stopReason?: StopReason;
  conversationId: string;
  trace: TraceEvent[];
}

const ASK_WORKFLOW = 'ask';

const NO_MODEL_HINT =
  'connect a model: set OPENAI_BASE_URL (and OPENAI_API_KEY) and BATON_MODEL, or run Ollama on 127.0.0.1:11434 or LM Studio on 127.0.0.1:1234';

export async function ask(opts: AskOptions): Promise<AskResult> {
  const root = opts.host.root;
  const config = opts.config ?? resolveConfig(root, { trusted: opts.trusted ?? false, env: opts.env });
  const trace = opts.trace ?? new Trace();
  const tools = createCoreToolRegistry();
  const workflows = await workspaceWorkflows(root, tools.specs().map((s) => s.name), opts);
  const index = opts.index ?? await openOrBuildIndex(root, config, opts);
  const store = new ConversationStore(root);
  try {
    const conversation = opts.conversationId ? await store.open(opts.conversationId) : store.create();
    const routed = await route(
      { text: opts.question, hasSelection: !!opts.selection?.text.trim(), hasDiagnostics: opts.selectionHasDiagnostics },
      { embedder: index.embedder, lexical: index.retriever.lexicalIndex },
    );
    trace.add('note', 'route', { workflow: routed.workflow, via: routed.via, confidence: routed.confidence, reason: routed.reason });
    /** Answers made without a model (lookups, retrieval-only) are saved too, so a follow-up can continue them. */
    const saved = async (result: AskResult): Promise<AskResult> => {
      conversation.addUser(opts.question);
      conversation.addAssistant(result.answer, { sources: result.sources });
      await store.save(conversation);
      return result;
    };
    if (routed.workflow === 'search' && routed.symbol) return saved(lookup(routed, index, conversation.id, trace, opts.format));
    const llm = await connect(config.llm, opts);
    if ('problem' in llm) trace.add('note', 'retrieval-only', { reason: llm.problem });
    let history: unknown[] = [];
    if ('client' in llm) {
      conversation.summarize = createLlmSummarizer(llm.client, { trace });
      const chat = llm.client.chain('chat')[0];
      history = await conversation.historyFor(Math.floor(chat.contextWindow / 4), createTokenCounter(chat.model), { trace, signal: opts.signal });
    }

    const { workflow, input } = commandWorkflow(routed, opts.question, workflows) ?? { workflow: workflows.ask, input: { question: opts.question } };
    trace.add('note', 'workflow', { id: workflow.definition.id, source: workflow.source });
    const def = withRoute(withK(workflow.definition, opts.k), routed);
    if (def.state.history) input.history = history;
    const memory = new LongTermMemory(root, { embedder: index.embedder, trace });
    if (def.state.memory) input.memory = await recallMemory(memory, opts.question, trace);
    if (def.state.editor && opts.selection?.text.trim()) input.editor = [selectionContext(opts.selection)];
    // The last agent result, kept even when its node then fails or the run is cancelled.
    let agent: AgentResult | undefined;
    let step = 1;
    let state: WorkflowState;
    try {
      const run = await runWorkflow(def, {
        input,
        services: workspaceServices(opts.host, config, { llm: 'client' in llm ? llm.client : undefined, retriever: index.retriever, tools, trace }),
        signal: opts.signal,
        onToken: opts.onToken && ((delta) => opts.onToken!(delta)),
        // One reset event per discarded answer, whether the agent's model call or the node was retried.
        onReset: (info) => opts.onEvent?.({ type: 'reset', step, reason: info.reason }),
        onAgentEvent: (e) => {
          if (e.type === 'step') step = e.step;
          if (e.type !== 'reset') opts.onEvent?.(e);
        },
        onAgentResult: (result) => { agent = result; },
      });
      // Retrieval notices (dense search degraded to lexical, ...) are for the trace, as before.
      if (run.notices.length) trace.add('note', ASK_WORKFLOW, { notices: run.notices });
      state = run.state;
    } catch (err) {
      if (agent?.stopReason === 'cancelled') {
        // Like any other stop short of an answer: what the model said so far, with the note.
        return await finish(agent.answer, agent, err instanceof WorkflowRunError ? err.state : undefined);
      }
      if (err instanceof WorkflowCancelledError || !(err instanceof WorkflowRunError)) throw err;
      const failed = err.node ? def.nodes.find((n) => n.id === err.node) : undefined;
      // No model, or the model never answered: answer from retrieval. Any other failure is the workflow's.
      if ('problem' in llm) return saved(retrievalOnly(await retrieved(def, err.state, opts, index), noModel(llm.problem), conversation.id, trace, opts.format, opts.question));
      if (failed && (failed.kind === 'agent' || failed.kind === 'llm')) {
        const cause = failed.kind === 'agent' && agent?.error ? agent.cause : err.cause;
        const problem = failed.kind === 'agent' && agent?.error ? agent.error : causeMessage(err);
        return saved(retrievalOnly(await retrieved(def, err.state, opts, index), modelFailed(problem, cause), conversation.id, trace, opts.format, opts.question));
      }
      throw err;
    }
    if (typeof state.answer !== 'string') {
      if ('problem' in llm) return saved(retrievalOnly(await retrieved(def, state, opts, index), noModel(llm.problem), conversation.id, trace, opts.format, opts.question));
      throw new Error(`the "${ASK_WORKFLOW}" workflow (${workflow.source}) finished without a string "answer" in its state`);
    }
    return await finish(state.answer, agent, state);

    async function finish(answer: string, result: AgentResult | undefined, final: WorkflowState | undefined): Promise<AskResult> {
      const sources = citedSources(answer, await retrieved(def, final, opts, index), index);
      conversation.addUser(opts.question);
      conversation.addAssistant(answer, { sources });
      await store.save(conversation);
      if (result?.stopReason === 'answer') await rememberAnswer(memory, opts.question, answer, trace);
      return {
        answer,
        sources,
        mode: 'agent',
        note: result && result.stopReason !== 'answer' ? result.note ?? result.error : undefined,
        stopReason: result?.stopReason,
        conversationId: conversation.id,
        trace: trace.events,
      };
    }
  } finally {
    if (!opts.index) await index.close();
  }
}

/** The workspace's workflows, and the one `ask` runs: the built-in when a user file cannot serve as it. */
async function workspaceWorkflows(root: string, tools: string[], opts: AskOptions): Promise<{ ask: LoadedWorkflow; all: Map<string, LoadedWorkflow> }> {
  const set = await loadWorkflows(root, { tools, trusted: opts.trusted ?? false });
  for (const notice of set.notices) opts.onNotice?.(notice);
  for (const error of set.errors) opts.onNotice?.(`workflow not loaded: ${error.message}`);
  const found = set.workflows.get(ASK_WORKFLOW)!;
  if (found.source !== 'builtin' && found.definition.state.question?.type !== 'string' && found.definition.state.question?.type !== 'any') {
    opts.onNotice?.(`${found.source} is not used for ask: it declares no "question" input of type string`);
    return { ask: loadBuiltinWorkflows({ tools }).get(ASK_WORKFLOW)!, all: set.workflows };
  }
  return { ask: found, all: set.workflows };
}

/** An explicit command (`/generate ...`) runs its own workflow when the request alone can feed it.
 * Similarity routing never switches workflows — `ask` with tools handles a misrouted question
 * gracefully, a code generator does not — and explain/fix/tests need an editor selection
 * (`baton run explain --input '{"selection": ...}'`, or the extension). */
function commandWorkflow(routed: Route, question: string, workflows: { all: Map<string, LoadedWorkflow> }): { workflow: LoadedWorkflow; input: Record<string, unknown> } | undefined {
  if (routed.via !== 'rule' || routed.workflow !== 'generate') return undefined;
  const workflow = workflows.all.get('generate');
  if (!workflow || workflow.definition.state.request?.type !== 'string') return undefined;
  const request = question.replace(/^\s*\/\w+\s*/, '').trim();
  return request ? { workflow, input: { request } } : undefined;
}

/** The definition with every retrieve node fetching `k` results, when the caller asks for a number. */
function withK(def: WorkflowDefinition, k: number | undefined): WorkflowDefinition {
  if (k === undefined) return def;
  return { ...def, nodes: def.nodes.map((n) => (n.kind === 'retrieve' ? { ...n, k } : n)) };
}

/** The route picks the model role and task (temperature) of the workflow's agent and llm nodes:
 * "fix the off-by-one in parseRange" runs as a low-temperature edit. The default route changes nothing. */
function withRoute(def: WorkflowDefinition, routed: Route): WorkflowDefinition {
  if (routed.via === 'default') return def;
  return {
    ...def,
    nodes: def.nodes.map((n) => (n.kind === 'agent' || n.kind === 'llm' ? { ...n, task: routed.task, role: routed.role } : n)),
  };
}

/** What the workflow's retrieve nodes found; a search of its own when none of them ran. */
async function retrieved(def: WorkflowDefinition, state: WorkflowState | undefined, opts: AskOptions, index: OpenedIndex): Promise<SearchResult[]> {
  const outputs = def.nodes.flatMap((n) => (n.kind === 'retrieve' && state && Array.isArray(state[n.output]) ? [state[n.output] as SearchResult[]] : []));
  if (!outputs.length) {
    // After a cancellation a search of our own would be cancelled too.
    return opts.signal?.aborted ? [] : (await index.retriever.search(opts.question, { k: opts.k ?? 8, signal: opts.signal })).results;
  }
  const seen = new Set<string>();
  return outputs.flat().filter((r) => {
    const key = `${r.path}:${r.startLine}-${r.endLine}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The node's own message, without the workflow's "node ... failed:" wrapping. */
function causeMessage(err: WorkflowRunError): string {
  return err.cause instanceof Error ? err.cause.message : err.message;
}

/** The index, built first when the workspace has none yet (lexical search works right after). */
async function openOrBuildIndex(root: string, config: BatonConfig, opts: AskOptions): Promise<OpenedIndex> {
  const batonDir = batonDirOf(root);
  if (!existsSync(join(batonDir, 'manifest.json'))) {
    opts.onNotice?.('no index yet: indexing the workspace first');
    const summary = await buildWorkspaceIndex(root, config, { signal: opts.signal });
    if (summary.notice) opts.onNotice?.(summary.notice);
  }
  const index = await openIndexForSearch(root, { trusted: opts.trusted, configured: config.embedder });
  for (const notice of await index.notices()) opts.onNotice?.(notice); // a damaged index answers, with less
  return index;
}

async function connect(config: LlmConfig, opts: AskOptions): Promise<{ client: LlmClient } | { problem: string }> {
  const llmConfig: LlmConfig = opts.model ? { ...config, models: { ...config.models, chat: opts.model } } : config;
  try {
    return { client: await LlmClient.fromConfig(llmConfig, opts.env ?? process.env, { onWait: opts.onWait }) };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

/** The note when no model is configured; the model layer's message may already say how to connect one. */
function noModel(problem: string): string {
  return /Ollama|LM Studio/.test(problem) ? `no language model answered: ${firstLine(problem)}` : `no language model answered (${firstLine(problem)}); ${NO_MODEL_HINT}`;
}

/** The note when the configured model failed: what happened, plus how to connect one only when no
 * configured server could be reached at all. */
function modelFailed(problem: string, cause: unknown): string {
  if (cause instanceof LlmError && cause.unreachable) return `no language model answered (${firstLine(problem)}); ${NO_MODEL_HINT}`;
  return `${firstLine(problem)}; answered from retrieval alone`;
}

/** Hits quoted in a retrieval-only answer; the next ones are listed by location only. */
const QUOTED_HITS = 3;
const LISTED_HITS = 5;

function retrievalOnly(results: SearchResult[], note: string, conversationId: string, trace: Trace, format: AskOptions['format'], question: string): AskResult {
  const top = results.slice(0, LISTED_HITS);
  const alsoRelevant = top.slice(QUOTED_HITS).map((r) => `${r.path}:${r.startLine}-${r.endLine}${r.symbol ? ` (${r.symbol})` : ''}`);
  const lines = top.length
    ? [
      'The most relevant code for your question:',
      ...top.slice(0, QUOTED_HITS).flatMap((r) => excerpt(r, question, format)),
      ...(alsoRelevant.length ? ['', `Also relevant: ${alsoRelevant.join(', ')}`] : []),
    ]
    : ['Nothing in the index matches your question.'];
  return {
    answer: lines.join('\n'),
    sources: top.map(citation),
    mode: 'retrieval-only',
    note,
    conversationId,
    trace: trace.events,
  };
}

/** The locations the answer cites that exist in the index, else the retrieved context it was given. */
function citedSources(answer: string, retrieved: SearchResult[], index: OpenedIndex): Citation[] {
  const files = index.store.files();
  const cited: Citation[] = [];
  const seen = new Set<string>();
  for (const { citation: c } of findCitations(answer)) {
    if (!files.has(c.path)) continue;
    const key = `${c.path}:${c.startLine}-${c.endLine}`;
    if (!seen.has(key)) cited.push(c);
    seen.add(key);
  }
  return cited.length ? cited : retrieved.slice(0, 5).map(citation);
}

function citation(r: SearchResult): Citation {
  return { path: r.path, startLine: r.startLine, endLine: r.endLine };
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}

/** A lookup lists up to 8 places: each is quoted shorter than a retrieval-only hit. */
const LOOKUP_EXCERPT_LINES = 12;

/** Answers "where is X defined / used" from the index alone: no model, no waiting. */
function lookup(routed: Route, index: OpenedIndex, conversationId: string, trace: Trace, format: AskOptions['format']): AskResult {
  const symbol = routed.symbol!;
  const lexical = index.retriever.lexicalIndex;
  const definitions = lexical.findSymbol(symbol, 5).filter((r) => r.score >= 2);
  const hits = routed.lookup === 'references'
    ? lexical.search(symbol, 20).filter((r) => r.chunk.text.includes(symbol.split(/[.:#]/).pop()!) && !definitions.some((d) => d.chunk.id === r.chunk.id)).slice(0, 8)
    : definitions;
  const heading = routed.lookup === 'references' ? `\`${symbol}\` is used in:` : `\`${symbol}\` is defined in:`;
  const lines = hits.length
    ? [heading, ...hits.flatMap(({ chunk }) => excerpt(chunk, symbol, format, LOOKUP_EXCERPT_LINES))]
    : [`No ${routed.lookup === 'references' ? 'uses' : 'definition'} of \`${symbol}\` found in the index.`];
  trace.add('note', 'lookup', { symbol, kind: routed.lookup, results: hits.length });
  return {
    answer: lines.join('\n'),
    sources: hits.map(({ chunk }) => ({ path: chunk.path, startLine: chunk.startLine, endLine: chunk.endLine })),
    mode: 'lookup',
    conversationId,
    trace: trace.events,
  };
}

/** Memory items recalled for the question, as context the prompt builder drops before code. */
async function recallMemory(memory: LongTermMemory, question: string, trace: Trace): Promise<ContextItem[]> {
  try {
    const hits = await memory.recall(question, 3);
    return hits.map((h) => ({
      path: '.baton/memory', language: 'text',
      text: `${h.kind === 'answer' ? 'An earlier answer' : 'A fact'} (${h.createdAt.slice(0, 10)}): ${h.text}`,
      // Below every retrieved chunk (scores up to 1), so under a tight budget memory goes first.
      score: Math.min(h.score, 1) * 0.5,
    }));
  } catch (err) {
    trace.add('note', 'memory', { recall: 'failed', error: (err as Error).message });
    return [];
  }
}

/** Past answers are long-term memory; one that looks like it holds a secret is not kept. */
async function rememberAnswer(memory: LongTermMemory, question: string, answer: string, trace: Trace): Promise<void> {
  try {
    await memory.remember(`Question: ${question}\nAnswer: ${answer}`, { kind: 'answer', source: 'ask' });
  } catch (err) {
    trace.add('note', 'memory', { remember: 'skipped', reason: (err as Error).message });
  }
}

/** The editor selection as a context item that outranks every retrieved chunk (scores up to 1):
 * it is what the question is about, and it stays fenced as data like any workspace text. */
function selectionContext(selection: NonNullable<AskOptions['selection']>): ContextItem {
  return { path: selection.path, startLine: selection.startLine, endLine: selection.endLine, text: selection.text, language: selection.language, score: 2 };
}

