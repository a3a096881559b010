// `ask`: retrieve the code that matters, let the agent answer with tools (side effects only with
// the host's approval), and cite sources. With no model reachable it still answers, from
// retrieval alone, and says in one line how to connect a model.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type BatonConfig } from './config';
import { indexWorkspace } from './index/indexer';
import { openIndexForSearch, batonDirOf, saveEmbedderSpec, type OpenedIndex } from './index/workspaceIndex';
import type { SearchResult } from './index/types';
import { createEmbedder } from './embed/createEmbedder';
import { LlmClient } from './llm/client';
import type { LlmConfig } from './llm/models';
import { createTokenCounter } from './llm/tokens';
import { runAgent, type AgentEvent, type StopReason } from './agent/loop';
import { createCoreToolRegistry } from './tools/registry';
import { UNTRUSTED_DATA_RULES } from './prompt/fence';
import { ConversationStore } from './memory/conversationStore';
import { createLlmSummarizer, type Citation } from './memory/conversation';
import { Trace, type TraceEvent } from './trace';
import type { EditorHost } from './host';

export interface AskOptions {
  host: EditorHost;
  question: string;
  /** Overrides the chat model (keeps the configured server). */
  model?: string;
  /** Continue this conversation (its history is sent, summarised when long). */
  conversationId?: string;
  /** Retrieved chunks put in front of the model. */
  k?: number;
  signal?: AbortSignal;
  onToken?: (delta: string) => void;
  onEvent?: (event: AgentEvent) => void;
  /** Progress of an automatic first index, for the surface to show. */
  onNotice?: (message: string) => void;
  env?: Record<string, string | undefined>;
}

export interface AskResult {
  answer: string;
  sources: Citation[];
  mode: 'agent' | 'retrieval-only';
  /** Why the answer is limited (no model, step limit, ...). */
  note?: string;
  stopReason?: StopReason;
  conversationId: string;
  trace: TraceEvent[];
}

const ASK_SYSTEM = [
  'You are Baton, a coding assistant working inside the user\'s workspace.',
  'Answer the question about this codebase precisely and concisely. Use the tools to search and read code when the retrieved context is not enough.',
  'Cite the code you rely on as path:start-end (workspace-relative paths, 1-based lines), e.g. src/app.ts:10-24.',
  'Propose edits or commands only when the user asks for a change; the user must approve them.',
  UNTRUSTED_DATA_RULES,
].join('\n');

const NO_MODEL_HINT =
  'connect a model: set OPENAI_BASE_URL (and OPENAI_API_KEY) and BATON_MODEL, or run Ollama on 127.0.0.1:11434 or LM Studio on 127.0.0.1:1234';

export async function ask(opts: AskOptions): Promise<AskResult> {
  const root = opts.host.root;
  const config = loadConfig(root);
  const trace = new Trace();
  const index = await openOrBuildIndex(root, config, opts);
  const store = new ConversationStore(root);
  try {
    const retrieved = await index.retriever.search(opts.question, { k: opts.k ?? 8, signal: opts.signal });
    trace.add('retrieve', retrieved.mode, { results: retrieved.results.length, notices: retrieved.notices });
    const conversation = opts.conversationId ? await store.open(opts.conversationId) : store.create();

    const llm = await connect(config.llm, opts);
    if ('problem' in llm) {
      trace.add('note', 'retrieval-only', { reason: llm.problem });
      return retrievalOnly(retrieved.results, llm.problem, conversation.id, trace);
    }
    conversation.summarize = createLlmSummarizer(llm.client, { trace });
    const chat = llm.client.chain('chat')[0];
    const history = await conversation.historyFor(Math.floor(chat.contextWindow / 4), createTokenCounter(chat.model), { trace, signal: opts.signal });

    const result = await runAgent({
      llm: llm.client,
      tools: createCoreToolRegistry(),
      toolContext: { host: opts.host, retriever: index.retriever, walk: { extraIgnores: config.ignore, maxFileBytes: config.maxFileBytes }, trace, signal: opts.signal },
      system: ASK_SYSTEM,
      question: opts.question,
      context: retrieved.results,
      history,
      signal: opts.signal,
      trace,
      onToken: opts.onToken,
      onEvent: opts.onEvent,
    });
    // The agent's answer is the model's last text plus "[note]": when that is all there is, the
    // model never answered (down, refused every retry), so answer from retrieval instead.
    if (result.stopReason === 'error' && result.answer === `[${result.note}]`) {
      return retrievalOnly(retrieved.results, result.error ?? 'the model did not answer', conversation.id, trace);
    }
    const sources = citedSources(result.answer, retrieved.results, index);
    conversation.addUser(opts.question);
    conversation.addAssistant(result.answer, { sources });
    await store.save(conversation);
    return {
      answer: result.answer,
      sources,
      mode: 'agent',
      note: result.stopReason === 'answer' ? undefined : result.note ?? result.error,
      stopReason: result.stopReason,
      conversationId: conversation.id,
      trace: trace.events,
    };
  } finally {
    await index.close();
  }
}

/** The index, built first when the workspace has none yet (lexical search works right after). */
async function openOrBuildIndex(root: string, config: BatonConfig, opts: AskOptions): Promise<OpenedIndex> {
  const batonDir = batonDirOf(root);
  if (!existsSync(join(batonDir, 'manifest.json'))) {
    opts.onNotice?.('no index yet: indexing the workspace first');
    const embedder = createEmbedder(config.embedder, { inWorker: true });
    try {
      const summary = await indexWorkspace({ root, batonDir, embedder, extraIgnores: config.ignore, maxFileBytes: config.maxFileBytes, signal: opts.signal });
      if (summary.notice) opts.onNotice?.(summary.notice);
    } finally {
      await embedder?.dispose();
    }
    await saveEmbedderSpec(batonDir, config.embedder);
  }
  return openIndexForSearch(root);
}

async function connect(config: LlmConfig, opts: AskOptions): Promise<{ client: LlmClient } | { problem: string }> {
  const llmConfig: LlmConfig = opts.model ? { ...config, models: { ...config.models, chat: opts.model } } : config;
  try {
    return { client: await LlmClient.fromConfig(llmConfig, opts.env ?? process.env) };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

function retrievalOnly(results: SearchResult[], problem: string, conversationId: string, trace: Trace): AskResult {
  const top = results.slice(0, 5);
  const lines = top.length
    ? ['The most relevant code for your question:', ...top.flatMap((r) => [
        '',
        `${r.path}:${r.startLine}-${r.endLine}${r.symbol ? `  ${r.symbol}` : ''}`,
        ...r.text.split('\n').filter((l) => l.trim()).slice(0, 4).map((l) => `    ${l.length > 110 ? `${l.slice(0, 107)}...` : l}`),
      ])]
    : ['Nothing in the index matches your question.'];
  return {
    answer: lines.join('\n'),
    sources: top.map(citation),
    mode: 'retrieval-only',
    // The model layer's own message may already say how to connect one: do not say it twice.
    note: /Ollama|LM Studio/.test(problem) ? `no language model answered: ${firstLine(problem)}` : `no language model answered (${firstLine(problem)}); ${NO_MODEL_HINT}`,
    conversationId,
    trace: trace.events,
  };
}

const CITATION = /([\w@.\-/]+\.[\w]+):(\d+)(?:-(\d+))?/g;

/** The locations the answer cites that exist in the index, else the retrieved context it was given. */
function citedSources(answer: string, retrieved: SearchResult[], index: OpenedIndex): Citation[] {
  const files = index.store.files();
  const cited: Citation[] = [];
  const seen = new Set<string>();
  for (const m of answer.matchAll(CITATION)) {
    const path = m[1].replace(/^\.\//, '');
    if (!files.has(path)) continue;
    const startLine = Number(m[2]);
    const c = { path, startLine, endLine: m[3] ? Number(m[3]) : startLine };
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
