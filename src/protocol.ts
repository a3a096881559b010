// The one typed protocol between Baton's surfaces:
//  - language server <-> extension (JSON-RPC over the LSP connection): `Requests`, `ServerNotifications`,
//    `HostRequests` (server asks the editor: diagnostics, approvals, edits, commands);
//  - extension <-> chat webview (postMessage): `ToWebview` / `FromWebview`, validated on receipt
//    with the zod schemas below, since a webview's messages are untrusted input.
// Every request's params have a zod schema next to their type (`requestParamsSchemas`), checked at
// compile time to parse to exactly that type: the server validates each request with it, so a
// handler only ever sees well-formed, size-capped params.
// Plain types and zod only: the webview bundle imports this file too, so no Node or vscode imports.
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Limits: what a client may send. Past them a request is refused with InvalidParams at once,
// before any work, so no input can tie the server up.
// ---------------------------------------------------------------------------------------------

/** A question (the chat's own limit too). */
export const MAX_QUESTION_CHARS = 100_000;
/** The text of an editor selection: about 4,000 lines of code. */
export const MAX_SELECTION_CHARS = 200_000;
/** A search query. */
export const MAX_QUERY_CHARS = 10_000;
/** All the strings of a workflow's input together (keys included). */
export const MAX_WORKFLOW_INPUT_CHARS = 400_000;
/** Ids, names and model names. */
export const MAX_ID_CHARS = 200;
export const MAX_PATH_CHARS = 4096;

/** A string of at most `max` characters whose error says what it is and by how much it is over. */
function cappedText(what: string, max: number) {
  return z.string().max(max, { error: (issue) => `${what} is too long: ${String(issue.input).length} characters, at most ${max}` });
}
const idSchema = z.string().min(1).max(MAX_ID_CHARS);
const lineSchema = z.number().int().min(1);

/** True when A and B are the same type (not merely assignable). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

/** Declares a schema for the interface T: compiling fails unless the schema parses to exactly T. */
function schemaFor<T>() {
  return <S extends z.ZodType<T>>(schema: S & (Same<z.output<S>, T> extends true ? unknown : { __schemaDoesNotMatchItsType: T })): S => schema;
}

// ---------------------------------------------------------------------------------------------
// Shared shapes
// ---------------------------------------------------------------------------------------------

import type { Citation } from './base/common/citations';
export type { Citation };

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
export const selectionSchema = schemaFor<SelectionDto>()(z.object({
  path: z.string().min(1).max(MAX_PATH_CHARS),
  language: z.string().max(MAX_ID_CHARS),
  text: cappedText('the selection', MAX_SELECTION_CHARS),
  startLine: lineSchema,
  endLine: lineSchema,
}).refine((s) => s.endLine >= s.startLine, { error: 'endLine is before startLine', path: ['endLine'] }));

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
export const askParamsSchema = schemaFor<AskParams>()(z.object({
  runId: idSchema,
  question: cappedText('the question', MAX_QUESTION_CHARS).refine((q) => q.trim().length > 0, { error: 'the question is empty' }),
  conversationId: z.string().max(MAX_ID_CHARS).optional(),
  model: z.string().max(MAX_ID_CHARS).optional(),
  activeFile: z.string().max(MAX_PATH_CHARS).optional(),
  selection: selectionSchema.optional(),
}));

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
export const runWorkflowParamsSchema = schemaFor<RunWorkflowParams>()(z.object({
  runId: idSchema,
  workflow: idSchema,
  // Any JSON the workflow declares; its size is capped here, the types are the workflow's to check.
  // The inputs the built-ins share are held to their own shapes.
  input: z.record(z.string(), z.unknown()).superRefine((input, ctx) => {
    const size = jsonSize(input, MAX_WORKFLOW_INPUT_CHARS);
    if (size === 'deep') ctx.addIssue({ code: 'custom', message: `input is nested more than ${MAX_JSON_DEPTH} levels deep` });
    else if (size > MAX_WORKFLOW_INPUT_CHARS) ctx.addIssue({ code: 'custom', message: `input is too large: over ${MAX_WORKFLOW_INPUT_CHARS} characters` });
    for (const [key, schema] of [['selection', selectionSchema], ['question', askParamsSchema.shape.question]] as const) {
      if (input[key] === undefined) continue;
      const parsed = schema.safeParse(input[key]);
      for (const issue of parsed.error?.issues ?? []) ctx.addIssue({ code: 'custom', message: issue.message, path: [key, ...issue.path] });
    }
  }),
}));

const MAX_JSON_DEPTH = 32;

/** About the characters `value` takes as JSON, counted only until past `limit`; 'deep' when it
 * nests deeper than MAX_JSON_DEPTH. */
function jsonSize(value: unknown, limit: number, depth = 0): number | 'deep' {
  if (depth > MAX_JSON_DEPTH) return 'deep';
  if (typeof value === 'string') return value.length + 2;
  if (value === null || typeof value !== 'object') return String(value).length;
  let size = 2;
  const entries: Array<[string, unknown]> = Array.isArray(value) ? value.map((v) => ['', v]) : Object.entries(value);
  for (const [key, item] of entries) {
    const inner = jsonSize(item, limit - size, depth + 1);
    if (inner === 'deep') return inner;
    size += key.length + inner + 2;
    if (size > limit) return size;
  }
  return size;
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
export const searchParamsSchema = schemaFor<SearchParams>()(z.object({
  query: cappedText('the query', MAX_QUERY_CHARS),
  k: z.number().int().min(1).optional(),
  mode: z.enum(['hybrid', 'lexical', 'dense']).optional(),
}));

export interface SearchResponse {
  results: SearchHit[];
  mode: 'hybrid' | 'lexical' | 'dense';
  notices: string[];
}

export interface CancelParams {
  runId: string;
}
export const cancelParamsSchema = schemaFor<CancelParams>()(z.object({ runId: idSchema }));

export interface RebuildIndexParams {
  /** Drop the stored index first (the embedding cache is kept). */
  full: boolean;
}
export const rebuildIndexParamsSchema = schemaFor<RebuildIndexParams>()(z.object({ full: z.boolean() }));

/** Requests without parameters take an empty object (or none); extra fields are ignored. */
export type NoParams = Record<string, never>;
export const noParamsSchema = schemaFor<NoParams>()(z.object({}));

export interface ConversationParams {
  id: string;
}
export const conversationParamsSchema = schemaFor<ConversationParams>()(z.object({ id: idSchema }));

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

// Model setup (Configure Model, Configure Embeddings): the extension never talks to a model server
// itself; the language server detects, lists and tests on its behalf. A key typed during setup
// travels in `apiKey` for these requests only (it is kept in SecretStorage, never in settings).
export const MAX_URL_CHARS = 2048;
export const MAX_KEY_CHARS = 1000;
const baseUrlSchema = z.string().max(MAX_URL_CHARS).refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'expected an http:// or https:// URL');
export interface ModelServerCandidate { name: string; baseURL: string; models: string[] }
export interface DetectModelServersResponse { servers: ModelServerCandidate[] }
export interface ProbeModelServerParams { baseURL: string; apiKey?: string }
export const probeModelServerParamsSchema = schemaFor<ProbeModelServerParams>()(z.object({
  baseURL: baseUrlSchema, apiKey: z.string().max(MAX_KEY_CHARS).optional(),
}));
export interface ModelServerProbe {
  /** Where the OpenAI-style API answered (a typed host:port gains /v1; Ollama's gains /v1 too). */
  baseURL: string;
  ok: boolean;
  models: string[];
  /** 401/403: ask the user for a key and probe again with it. */
  needsKey: boolean;
  problem?: string;
  via?: 'openai' | 'ollama';
}
export interface TestModelParams { baseURL: string; model: string; kind: 'chat' | 'embed'; apiKey?: string }
export const testModelParamsSchema = schemaFor<TestModelParams>()(z.object({
  baseURL: baseUrlSchema, model: idSchema, kind: z.enum(['chat', 'embed']), apiKey: z.string().max(MAX_KEY_CHARS).optional(),
}));
export interface TestModelResponse { ok: boolean; ms: number; problem?: string; reply?: string }

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
  'baton/indexStatus': [NoParams, IndexStatus];
  'baton/rebuildIndex': [RebuildIndexParams, IndexStatus];
  'baton/models': [NoParams, ModelsResponse];
  'baton/conversations': [NoParams, ConversationSummary[]];
  'baton/conversation': [ConversationParams, ConversationResponse];
  'baton/detectModelServers': [NoParams, DetectModelServersResponse];
  'baton/probeModelServer': [ProbeModelServerParams, ModelServerProbe];
  'baton/testModel': [TestModelParams, TestModelResponse];
}
export type RequestMethod = keyof Requests;

/** The params schema of every request: the server validates each request with its own. */
export const requestParamsSchemas: { readonly [M in RequestMethod]: z.ZodType<Requests[M][0]> } = {
  'baton/ask': askParamsSchema,
  'baton/runWorkflow': runWorkflowParamsSchema,
  'baton/search': searchParamsSchema,
  'baton/cancel': cancelParamsSchema,
  'baton/indexStatus': noParamsSchema,
  'baton/rebuildIndex': rebuildIndexParamsSchema,
  'baton/models': noParamsSchema,
  'baton/conversations': noParamsSchema,
  'baton/conversation': conversationParamsSchema,
  'baton/detectModelServers': noParamsSchema,
  'baton/probeModelServer': probeModelServerParamsSchema,
  'baton/testModel': testModelParamsSchema,
};

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
  z.object({ type: z.literal('ask'), question: z.string().min(1).max(MAX_QUESTION_CHARS), model: z.string().max(MAX_ID_CHARS).optional() }),
  z.object({ type: z.literal('stop') }),
  z.object({ type: z.literal('newConversation') }),
  z.object({ type: z.literal('openConversation'), id: z.string().regex(/^[\w-]{1,100}$/) }),
  z.object({ type: z.literal('openCitation'), citation: citationSchema }),
  z.object({ type: z.literal('copy'), text: z.string().max(1_000_000) }),
  z.object({ type: z.literal('insert'), text: z.string().max(1_000_000) }),
  z.object({ type: z.literal('apply'), text: z.string().max(1_000_000), language: z.string().max(50).optional() }),
  z.object({ type: z.literal('pickModel'), model: z.string().max(200) }),
  /** The user removed the context chip: the next questions go without the editor's file and selection. */
  z.object({ type: z.literal('dropContext') }),
]);
export type FromWebview = z.infer<typeof fromWebviewSchema>;

export interface ChatMessageDto {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  sources?: Citation[];
  /** The citations in the text and sources that were checked against the workspace (the file
   *  exists, the lines are in it), as `path:start-end` labels. Only these render as chips. */
  citations?: string[];
  /** The answer quotes the index (retrieval-only, lookup): its code blocks are excerpts, not edits to apply. */
  excerpts?: boolean;
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
      citations: z.array(z.string().max(5000)).max(1000).optional(),
      excerpts: z.boolean().optional(),
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
    sources: z.array(citationSchema), citations: z.array(z.string().max(5000)).max(1000).optional(), excerpts: z.boolean().optional(),
    note: z.string().optional(), error: z.string().optional(),
  }),
  z.object({ type: z.literal('status'), text: z.string() }),
  /** What a question will be sent with: the editor's file and selection (null: nothing). */
  z.object({ type: z.literal('context'), context: z.object({ label: z.string().max(300), title: z.string().max(5000) }).nullable() }),
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
  configureEmbeddings: 'baton.configureEmbeddings',
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
