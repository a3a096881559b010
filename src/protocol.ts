// The one typed protocol between Baton's surfaces:
//  - language server <-> extension (JSON-RPC over the LSP connection): `Requests`, `ServerNotifications`,
//    `HostRequests` (server asks the editor: diagnostics, approvals, edits, commands);
//  - extension <-> chat webview (postMessage): `ToWebview` / `FromWebview`, validated on receipt
//    with the zod schemas below, since a webview's messages are untrusted input.
// Plain types and zod only: the webview bundle imports this file too, so no Node or vscode imports.
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Shared shapes
// ---------------------------------------------------------------------------------------------

/** A location in the workspace, 1-based inclusive lines, path relative to the workspace root. */
export interface Citation {
  path: string;
  startLine: number;
  endLine: number;
}

export interface SearchHit extends Citation {
  score: number;
  symbol: string | null;
  language: string;
  text: string;
  /** Which retrievers found it (lexical, dense, symbol), best first. */
  sources: string[];
}

/** One step of an orchestration, as recorded by core/trace.ts. */
export interface TraceEventDto {
  at: number;
  kind: string;
  name?: string;
  data?: Record<string, unknown>;
}

/** A selection in an editor, as the workflows take it (`selection` input of explain/fix/tests/document). */
export interface SelectionDto {
  path: string;
  language: string;
  text: string;
  /** 1-based inclusive. */
  startLine: number;
  endLine: number;
}

export type IndexState = 'starting' | 'indexing' | 'indexed' | 'error';

export interface IndexStatus {
  state: IndexState;
  phase?: 'scan' | 'embed';
  files: number;
  chunks: number;
  chunksEmbedded: number;
  chunksToEmbed: number;
  /** Seconds left in the current phase, when it can be estimated. */
  etaSeconds?: number;
  /** Embedder in use, or null when search is lexical-only. */
  embedder: string | null;
  /** What went wrong (state 'error') or what is degraded (lexical-only, rebuilt after corruption). */
  message?: string;
  /** ISO time of the last completed index run. */
  updatedAt?: string;
}

// ---------------------------------------------------------------------------------------------
// Extension -> server requests
// ---------------------------------------------------------------------------------------------

export interface AskParams {
  /** Chosen by the client; streamed `baton/runProgress` notifications carry it; `baton/cancel` names it. */
  runId: string;
  question: string;
  conversationId?: string;
  /** Overrides the chat model for this request. */
  model?: string;
  /** What the user is looking at, to steer routing and retrieval. */
  activeFile?: string;
  selection?: SelectionDto;
}

export interface AskResponse {
  answer: string;
  sources: Citation[];
  mode: 'agent' | 'retrieval-only' | 'lookup';
  note?: string;
  conversationId: string;
  trace: TraceEventDto[];
  cancelled?: boolean;
}

export interface RunWorkflowParams {
  runId: string;
  /** A built-in (explain, generate, fix, tests, document) or a workspace workflow id. */
  workflow: string;
  input: Record<string, unknown>;
}

export interface RunWorkflowResponse {
  outputs: Record<string, unknown>;
  notices: string[];
  trace: TraceEventDto[];
  cancelled?: boolean;
}

export interface SearchParams {
  query: string;
  k?: number;
  mode?: 'hybrid' | 'lexical' | 'dense';
}

export interface SearchResponse {
  results: SearchHit[];
  mode: 'hybrid' | 'lexical' | 'dense';
  notices: string[];
}

export interface CancelParams {
  runId: string;
}

export interface RebuildIndexParams {
  /** Drop the stored index first (the embedding cache is kept). */
  full: boolean;
}

export interface ModelsResponse {
  /** The chat model used when none is picked. */
  current: string | null;
  /** Models the configured server lists, plus configured ones. */
  available: string[];
  /** Why the list is short (server down, no model configured). */
  problem?: string;
}

export interface ConversationSummary {
  id: string;
  title: string;
  updatedAt: string;
  turns: number;
}

export interface ConversationMessage {
  role: 'user' | 'assistant';
  text: string;
  sources?: Citation[];
}

export interface ConversationResponse {
  id: string;
  title: string;
  messages: ConversationMessage[];
}

/** Settings the extension passes to the server (initializationOptions and on change).
 * API keys are never here: they reach the server process through its environment. */
export interface ServerSettings {
  /** OpenAI-compatible base URL (OPENAI_BASE_URL), e.g. http://127.0.0.1:11434/v1. */
  baseUrl?: string;
  /** Chat model (BATON_MODEL). */
  model?: string;
  /** Embedder override: 'baton' (packaged), a hub id / folder for transformers.js, or 'openai:<model>', or 'none'. */
  embedder?: string;
  /** Extra ignore globs. */
  ignore?: string[];
  /** 'ask' (default): side-effecting tools need approval; 'never': they are refused. */
  approval?: 'ask' | 'never';
  /** initializationOptions only: the editor trusts this folder (VS Code's workspace trust), so the
   * workspace's own baton.config.json and .baton/workflows apply. Other clients leave it out and
   * rely on `baton trust` decisions recorded by the CLI (or start the server with --trust). */
  workspaceTrusted?: boolean;
}

/** Method name -> [params, result]. */
export interface Requests {
  'baton/ask': [AskParams, AskResponse];
  'baton/runWorkflow': [RunWorkflowParams, RunWorkflowResponse];
  'baton/search': [SearchParams, SearchResponse];
  'baton/cancel': [CancelParams, { cancelled: boolean }];
  'baton/indexStatus': [Record<string, never>, IndexStatus];
  'baton/rebuildIndex': [RebuildIndexParams, IndexStatus];
  'baton/models': [Record<string, never>, ModelsResponse];
  'baton/conversations': [Record<string, never>, ConversationSummary[]];
  'baton/conversation': [{ id: string }, ConversationResponse];
}
export type RequestMethod = keyof Requests;

// ---------------------------------------------------------------------------------------------
// Server -> extension notifications
// ---------------------------------------------------------------------------------------------

/** Streamed while a `baton/ask` or `baton/runWorkflow` runs. */
export type RunProgress =
  | { runId: string; kind: 'token'; text: string }
  /** A retried model call discards what was streamed of the current answer. */
  | { runId: string; kind: 'reset'; reason: string }
  | { runId: string; kind: 'tool'; name: string; status: 'call' | 'ok' | 'error' | 'denied'; detail?: string }
  | { runId: string; kind: 'notice'; message: string }
  /** A model call is silent (no reply yet, or a pause before a retry), repeated every few seconds
   * with `message` ("waiting for qwen2.5-coder at http://127.0.0.1:11434/v1… 10 s"); `done` ends it.
   * A transient status: it is not part of the answer. */
  | { runId: string; kind: 'waiting'; model: string; baseURL: string; seconds: number; message: string; done?: boolean };

export interface ServerNotifications {
  'baton/runProgress': RunProgress;
  'baton/indexStatusChanged': IndexStatus;
  /** Every finished orchestration, for the trace view and output channel. */
  'baton/trace': { runId: string; title: string; startedAt: string; events: TraceEventDto[] };
}
export type ServerNotificationMethod = keyof ServerNotifications;

// ---------------------------------------------------------------------------------------------
// Server -> extension requests: the EditorHost implemented by the editor
// ---------------------------------------------------------------------------------------------

export interface DiagnosticDto {
  path: string;
  line: number;
  column: number;
  severity: 'error' | 'warning' | 'info' | 'hint';
  message: string;
  source?: string;
}

export interface HostRequests {
  'baton/host/getDiagnostics': [{ path?: string }, DiagnosticDto[]];
  /** Shows the change (a diff for edits, the whole `command` line for commands) and asks; false when denied. */
  'baton/host/requestApproval': [{ kind: 'edit' | 'command'; title: string; detail: string; path?: string; newText?: string; command?: string }, { approved: boolean }];
  /** Applies an approved whole-file edit through the editor (undoable, unsaved buffers respected). */
  'baton/host/applyEdit': [{ path: string; newText: string; description: string }, { applied: boolean; error?: string }];
  /** `withholdEnv`: variables the command must not inherit (Baton's keys), names or `PREFIX_*`. */
  'baton/host/runCommand': [{ command: string; cwd?: string; timeoutMs?: number; withholdEnv?: string[] }, { exitCode: number | null; stdout: string; stderr: string }];
}
export type HostRequestMethod = keyof HostRequests;

// ---------------------------------------------------------------------------------------------
// Extension <-> chat webview messages (validated with zod on both sides)
// ---------------------------------------------------------------------------------------------

const citationSchema = z.object({
  path: z.string().min(1).max(4096),
  startLine: z.number().int().min(1),
  endLine: z.number().int().min(1),
});

/** Webview -> extension. */
export const fromWebviewSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('ask'), question: z.string().min(1).max(100_000), model: z.string().max(200).optional() }),
  z.object({ type: z.literal('stop') }),
  z.object({ type: z.literal('newConversation') }),
  z.object({ type: z.literal('openConversation'), id: z.string().regex(/^[\w-]{1,100}$/) }),
  z.object({ type: z.literal('openCitation'), citation: citationSchema }),
  z.object({ type: z.literal('copy'), text: z.string().max(1_000_000) }),
  z.object({ type: z.literal('insert'), text: z.string().max(1_000_000) }),
  z.object({ type: z.literal('apply'), text: z.string().max(1_000_000), language: z.string().max(50).optional() }),
  z.object({ type: z.literal('pickModel'), model: z.string().max(200) }),
]);
export type FromWebview = z.infer<typeof fromWebviewSchema>;

export interface ChatMessageDto {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  sources?: Citation[];
  note?: string;
  /** True while the answer is streaming. */
  pending?: boolean;
  /** While pending: what the answer waits for (a silent model). Never persisted. */
  waiting?: string;
  error?: string;
}

/** Extension -> webview. */
export const toWebviewSchema = z.discriminatedUnion('type', [
  /** Replaces the whole conversation (on ready, after switching conversations). */
  z.object({
    type: z.literal('conversation'),
    id: z.string().nullable(),
    messages: z.array(z.object({
      id: z.string(),
      role: z.enum(['user', 'assistant']),
      text: z.string(),
      sources: z.array(citationSchema).optional(),
      note: z.string().optional(),
      pending: z.boolean().optional(),
      error: z.string().optional(),
    })),
  }),
  /** A new message starts (the user's question, or an empty pending assistant answer). */
  z.object({ type: z.literal('messageStart'), id: z.string(), role: z.enum(['user', 'assistant']), text: z.string() }),
  z.object({ type: z.literal('messageDelta'), id: z.string(), text: z.string() }),
  /** A retried model call: the streamed text of this message is discarded. */
  z.object({ type: z.literal('messageReset'), id: z.string() }),
  /** What the pending answer is waiting for, shown until its text arrives; empty clears it. */
  z.object({ type: z.literal('messageWaiting'), id: z.string(), text: z.string().max(500) }),
  z.object({
    type: z.literal('messageEnd'), id: z.string(), text: z.string(),
    sources: z.array(citationSchema), note: z.string().optional(), error: z.string().optional(),
  }),
  z.object({ type: z.literal('status'), text: z.string() }),
  z.object({ type: z.literal('models'), current: z.string().nullable(), available: z.array(z.string()) }),
  z.object({ type: z.literal('history'), conversations: z.array(z.object({ id: z.string(), title: z.string(), updatedAt: z.string() })) }),
]);
export type ToWebview = z.infer<typeof toWebviewSchema>;

/** Parses a webview message; returns null (and the caller logs) on anything unexpected. */
export function parseFromWebview(raw: unknown): FromWebview | null {
  const parsed = fromWebviewSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export function parseToWebview(raw: unknown): ToWebview | null {
  const parsed = toWebviewSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

// ---------------------------------------------------------------------------------------------
// Commands (package.json contributes) and code-action arguments
// ---------------------------------------------------------------------------------------------

export const COMMANDS = {
  ask: 'baton.ask',
  explainSelection: 'baton.explainSelection',
  generateCode: 'baton.generateCode',
  fixProblem: 'baton.fixProblem',
  explainProblem: 'baton.explainProblem',
  generateTests: 'baton.generateTests',
  documentSymbol: 'baton.documentSymbol',
  searchCodebase: 'baton.searchCodebase',
  rebuildIndex: 'baton.rebuildIndex',
  showTrace: 'baton.showTrace',
  configureModel: 'baton.configureModel',
  setApiKey: 'baton.setApiKey',
  showIndexStatus: 'baton.showIndexStatus',
} as const;

/** Arguments the server's code actions attach to their commands. */
export interface CodeActionArgs {
  /** Document URI string. */
  uri: string;
  /** 0-based LSP range. */
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  /** For diagnostic actions: the problem's message. */
  diagnostic?: string;
}
