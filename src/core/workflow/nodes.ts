// What each node kind does. A node reads the shared state, calls one service (retriever, model,
// tool registry, a registered function) and returns the value the engine stores under its
// `output`. Templates are plain `{{dotted.path}}` substitutions: no expressions, no eval.
import { runAgent, type AgentEvent, type AgentResult, type AgentToolCall, type AgentUsage, type StopReason } from '../agent/loop';
import type { LlmClient } from '../llm/client';
import type { ChatMessage, ModelRole } from '../llm/types';
import type { Retriever } from '../search/retriever';
import { ToolRegistry } from '../tools/registry';
import type { ToolContext } from '../tools/types';
import type { Trace } from '../trace/trace';
import { createTokenCounter } from '../llm/tokens';
import { buildPrompt, type ContextItem } from '../prompt/builder';
import { fenceUntrusted, rangeLabel, UNTRUSTED_DATA_RULES } from '../prompt/fence';
import { extractJson, generateStructured, structuredModeFor } from '../prompt/structured';
import {
  PATH_RE,
  type AgentNodeDef, type BranchNodeDef, type CodeNodeDef, type Condition, type LlmNodeDef, type NodeDef, type PromptNodeDef, type RetrieveNodeDef, type ToolNodeDef,
} from './schema';
import { OUTPUT_SCHEMAS, type OutputSchemaName } from './outputSchemas';

export type WorkflowState = Record<string, unknown>;

/** A function a `code` node may call. Registered in TypeScript; a workflow file can only name it. */
export type CodeFunction = (args: Record<string, unknown>, ctx: CodeFunctionContext) => unknown;

export interface CodeFunctionContext {
  /** A copy of the state: changes go through the node's output only. */
  state: WorkflowState;
  node: string;
  signal: AbortSignal;
  trace: Trace;
}

export interface WorkflowServices {
  llm?: LlmClient;
  retriever?: Retriever | null;
  tools?: ToolRegistry;
  /** Host, walk settings for tool nodes; the run supplies trace and signal. */
  toolContext?: Omit<ToolContext, 'trace' | 'signal'>;
  /** Functions `code` nodes may name. Default BUILTIN_FUNCTIONS. */
  functions?: ReadonlyMap<string, CodeFunction>;
  trace: Trace;
}

export interface NodeContext {
  workflow: string;
  state: WorkflowState;
  services: WorkflowServices;
  signal: AbortSignal;
  onToken?: (delta: string, info: { node: string }) => void;
  onReset?: (info: { node: string; reason: string }) => void;
  /** Every event of an agent node's loop (its own 'reset' events also reach onReset when it streams). */
  onAgentEvent?: (event: AgentEvent, info: { node: string }) => void;
  /** An agent node's result, whether the node then succeeds, fails or is cancelled. */
  onAgentResult?: (result: AgentResult, info: { node: string }) => void;
  /** State writes beside `output` (an agent node's details), made only if the node succeeds. */
  writes: Record<string, unknown>;
  /** Extra facts for this attempt's node.end event (model, tokens, tool calls). */
  report: Record<string, unknown>;
  /** Tokens this attempt streamed, so a retry can tell the UI to discard them. */
  streamed: { tokens: number };
  notice(text: string): void;
}

/** A failure that another attempt cannot fix (missing service, user refusal). */
export class NodeConfigError extends Error {
  override name = 'NodeConfigError';
}

/** An agent node that produced no answer. `retryable` is false once its tools had side effects. */
export class AgentNodeError extends Error {
  override name = 'AgentNodeError';
  constructor(message: string, readonly result: AgentResult, readonly retryable: boolean) {
    super(message);
  }
}

/** What an agent node writes under `details`. Tool output is left out: it is in the trace, and can be large. */
export interface AgentDetails {
  stopReason: StopReason;
  note?: string;
  error?: string;
  steps: number;
  toolCalls: Array<Pick<AgentToolCall, 'step' | 'name' | 'arguments' | 'outcome'>>;
  usage: AgentUsage;
  mode: AgentResult['mode'];
}

/** Runs one non-branch node and returns the value for its output. */
export async function executeNode(node: Exclude<NodeDef, BranchNodeDef>, ctx: NodeContext): Promise<unknown> {
  switch (node.kind) {
    case 'retrieve': return retrieve(node, ctx);
    case 'prompt': return prompt(node, ctx);
    case 'llm': return llm(node, ctx);
    case 'tool': return tool(node, ctx);
    case 'code': return code(node, ctx);
    case 'agent': return agent(node, ctx);
  }
}

// ---------------------------------------------------------------------------------------------
// Templates

/** The value at a dotted path, own properties only (never the prototype chain). */
export function lookup(state: unknown, path: string): unknown {
  let value: unknown = state;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

interface RenderInfo {
  /** Set when workspace text was fenced in, so the system prompt can state the untrusted-data rule. */
  fenced: boolean;
}

/**
 * Replaces each `{{path}}` with the state value: strings as they are, context items (retrieved
 * code) fenced as untrusted data, anything else as JSON. A path that is not set is an error naming it.
 */
export function renderTemplate(template: string, state: WorkflowState, info: RenderInfo = { fenced: false }): string {
  return template.replace(/\{\{([^{}]*)\}\}/g, (_, raw: string) => {
    const path = raw.trim();
    if (!PATH_RE.test(path)) throw new TemplateError(`{{${raw}}} is not a state path`);
    const value = lookup(state, path);
    if (value === undefined) throw new TemplateError(`{{${path}}} is not set in the state`);
    return display(value, info);
  });
}

function display(value: unknown, info: RenderInfo): string {
  if (typeof value === 'string') return value;
  if (value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const items = Array.isArray(value) ? value : [value];
  if (items.length && items.every(isContextItem)) {
    info.fenced = true;
    return items.map((c: ContextItem) => fenceUntrusted(c.text, rangeLabel(c.path, c.startLine, c.endLine), { language: c.language })).join('\n\n');
  }
  return JSON.stringify(value, null, 2);
}

/** Templated JSON arguments: a string that is exactly `{{path}}` passes the value itself (numbers stay numbers). */
export function renderArgs(value: unknown, state: WorkflowState): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{\s*([^{}]*?)\s*\}\}$/.exec(value);
    if (whole) {
      const v = lookup(state, whole[1]);
      if (v === undefined) throw new TemplateError(`{{${whole[1]}}} is not set in the state`);
      return v;
    }
    return renderTemplate(value, state);
  }
  if (Array.isArray(value)) return value.map((v) => renderArgs(v, state));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderArgs(v, state)]));
  return value;
}

function isContextItem(v: unknown): v is ContextItem {
  return typeof v === 'object' && v !== null && typeof (v as ContextItem).path === 'string' && typeof (v as ContextItem).text === 'string';
}

// ---------------------------------------------------------------------------------------------
// Node kinds

async function retrieve(node: RetrieveNodeDef, ctx: NodeContext): Promise<unknown> {
  const query = renderTemplate(node.query, ctx.state);
  const retriever = ctx.services.retriever;
  if (!retriever) {
    // Asking without an index still works, just without workspace context.
    ctx.notice('no search index: answering without retrieved code (run `baton index`)');
    ctx.report.results = 0;
    return [];
  }
  const response = await retriever.search(query, { k: node.k ?? 8, mode: node.mode, signal: ctx.signal });
  for (const n of response.notices) ctx.notice(n);
  ctx.report.results = response.results.length;
  ctx.report.mode = response.mode;
  ctx.services.trace.add('retrieve', node.id, { query: query.slice(0, 200), results: response.results.length, mode: response.mode });
  return response.results;
}

/** Context items without a score are pinned: the budget drops them last. */
const PINNED_SCORE = Number.MAX_SAFE_INTEGER;
/** Budget when no model is configured to say how big its window is. */
const FALLBACK_WINDOW = { model: 'gpt-4o', contextWindow: 128_000, maxOutputTokens: 4_096 };

function prompt(node: PromptNodeDef, ctx: NodeContext): ChatMessage[] {
  if (node.messages) {
    const info: RenderInfo = { fenced: false };
    const messages: ChatMessage[] = node.messages.map((m) => ({ role: m.role, content: renderTemplate(m.content, ctx.state, info) }));
    if (info.fenced) {
      // Fenced workspace text needs the rule that tells the model it is data, not instructions.
      const sys = messages.find((m) => m.role === 'system');
      if (sys) sys.content = `${sys.content}\n\n${UNTRUSTED_DATA_RULES}`;
      else messages.unshift({ role: 'system', content: UNTRUSTED_DATA_RULES });
    }
    return messages;
  }
  const context = contextItems(node.context, ctx.state);
  const history = historyAt(node.history, ctx.state);
  const model = budgetModel(ctx.services.llm, node.role ?? 'chat');
  const built = buildPrompt(
    {
      system: node.system !== undefined ? renderTemplate(node.system, ctx.state) : 'You are Baton, a coding assistant.',
      question: renderTemplate(node.user!, ctx.state),
      context,
      history,
      examples: node.examples,
    },
    { contextWindow: model.contextWindow, reservedOutput: model.maxOutputTokens },
    createTokenCounter(model.model),
    ctx.services.trace,
  );
  ctx.report.promptTokens = built.tokens;
  ctx.report.droppedContext = built.droppedContext.length;
  return built.messages;
}

/** The context items at the given state paths; unset paths are skipped. */
function contextItems(paths: string | string[] | undefined, state: WorkflowState): ContextItem[] {
  const context: ContextItem[] = [];
  for (const path of Array.isArray(paths) ? paths : paths ? [paths] : []) {
    const value = lookup(state, path);
    if (value === undefined || value === null) continue;
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (!isContextItem(item)) throw new TemplateError(`context "${path}" holds something other than context items ({ path, text })`);
      context.push({
        path: item.path, text: item.text, startLine: item.startLine, endLine: item.endLine, language: item.language,
        score: typeof item.score === 'number' ? item.score : PINNED_SCORE,
      });
    }
  }
  return context;
}

function historyAt(path: string | undefined, state: WorkflowState): ChatMessage[] | undefined {
  const history = path ? lookup(state, path) : undefined;
  if (history !== undefined && !Array.isArray(history)) throw new TemplateError(`history "${path}" is not a list of messages`);
  return history as ChatMessage[] | undefined;
}

/** The model whose window the prompt must fit: the role's first choice, which answers when it can. */
function budgetModel(client: LlmClient | undefined, role: ModelRole): { model: string; contextWindow: number; maxOutputTokens: number } {
  try {
    return client ? client.chain(role)[0] : FALLBACK_WINDOW;
  } catch {
    return FALLBACK_WINDOW; // no model for the role: the llm node will say so
  }
}

async function llm(node: LlmNodeDef, ctx: NodeContext): Promise<unknown> {
  const client = ctx.services.llm;
  if (!client) throw new NodeConfigError('no model configured (the run has no llm service)');
  const messages = lookup(ctx.state, node.messages);
  if (!Array.isArray(messages)) throw new NodeConfigError(`"${node.messages}" is not a list of messages (is a prompt node writing it?)`);
  if (node.schema) return structuredLlm(node, node.schema, messages as ChatMessage[], client, ctx);
  const onToken = node.stream && ctx.onToken
    ? (delta: string) => {
      ctx.streamed.tokens++;
      ctx.onToken!(delta, { node: node.id });
    }
    : undefined;
  const result = await client.chat(
    {
      messages: messages as ChatMessage[],
      temperature: node.temperature,
      maxTokens: node.maxTokens,
      responseFormat: node.json ? { type: 'json_object' } : undefined,
      signal: ctx.signal,
      onToken,
    },
    {
      role: (node.role ?? 'chat') as ModelRole,
      task: node.task,
      trace: ctx.services.trace,
      onReset: onToken && ctx.onReset ? (info) => ctx.onReset!({ node: node.id, reason: info.reason }) : undefined,
    },
  );
  Object.assign(ctx.report, {
    model: result.model, tokensIn: result.usage.promptTokens, tokensOut: result.usage.completionTokens,
    usageEstimated: result.usage.estimated, attempts: result.attempts,
  });
  return node.json ? extractJson(result.content) : result.content;
}

/** A schema-constrained reply (json_schema, a tool call or json_object, whatever the model
 * supports), validated, with one repair round that shows the model its validation errors. */
async function structuredLlm(node: LlmNodeDef, name: OutputSchemaName, messages: ChatMessage[], client: LlmClient, ctx: NodeContext): Promise<unknown> {
  const role = (node.role ?? 'chat') as ModelRole;
  const out = await generateStructured({
    chat: (req) => client.chat(req, { role, task: node.task, trace: ctx.services.trace }),
    messages,
    schema: OUTPUT_SCHEMAS[name],
    name,
    mode: structuredModeFor(client.chain(role)[0]),
    temperature: node.temperature,
    maxTokens: node.maxTokens,
    signal: ctx.signal,
    trace: ctx.services.trace,
  });
  const usage = out.result.usage;
  Object.assign(ctx.report, { model: out.result.model, tokensIn: usage.promptTokens, tokensOut: usage.completionTokens, attempts: out.attempts });
  return out.value;
}

async function tool(node: ToolNodeDef, ctx: NodeContext): Promise<string> {
  const { tools, toolContext } = ctx.services;
  if (!tools || !toolContext) throw new NodeConfigError('no tools available (the run has no tool registry or tool context)');
  if (!tools.has(node.tool)) throw new NodeConfigError(`no tool named "${node.tool}"`);
  const args = renderArgs(node.args ?? {}, ctx.state);
  const result = await tools.call(node.tool, JSON.stringify(args), { ...toolContext, trace: ctx.services.trace, signal: ctx.signal });
  const calls = (ctx.report.toolCalls ??= []) as Array<{ name: string; outcome: string }>;
  calls.push({ name: node.tool, outcome: result.outcome });
  // Asking again would ask the user again: a refusal is final.
  if (result.outcome === 'denied') throw new NodeConfigError(`${node.tool}: ${result.content}`);
  if (result.outcome === 'error' && !node.allowError) throw new Error(result.content.replace(/^Error: /, ''));
  return result.content;
}

const AGENT_SYSTEM = 'You are Baton, a coding assistant working inside the user\'s workspace. Use the tools when the context given is not enough.';

async function agent(node: AgentNodeDef, ctx: NodeContext): Promise<string> {
  const client = ctx.services.llm;
  if (!client) throw new NodeConfigError('no model configured (the run has no llm service)');
  const registry = agentTools(node, ctx);
  const toolContext = ctx.services.toolContext;
  if (!toolContext && registry.specs().length) throw new NodeConfigError('no tool context (the run has tools but no host to run them against)');
  const stream = node.stream && ctx.onToken;
  const result = await runAgent({
    llm: client,
    tools: registry,
    // With no tools the context is never used; the loop still wants one.
    toolContext: { ...(toolContext ?? { host: NO_HOST }), trace: ctx.services.trace, signal: ctx.signal },
    system: node.system !== undefined ? renderTemplate(node.system, ctx.state) : AGENT_SYSTEM,
    question: renderTemplate(node.question, ctx.state),
    context: contextItems(node.context, ctx.state),
    history: historyAt(node.history, ctx.state),
    role: node.role,
    task: node.task,
    maxSteps: node.maxSteps,
    maxTotalTokens: node.maxTotalTokens,
    signal: ctx.signal,
    trace: ctx.services.trace,
    onToken: stream
      ? (delta) => {
        ctx.streamed.tokens++;
        ctx.onToken!(delta, { node: node.id });
      }
      : undefined,
    onEvent: (e) => {
      // The agent resets its own step's text when the model call is retried mid-stream.
      if (e.type === 'reset' && stream) ctx.onReset?.({ node: node.id, reason: e.reason });
      ctx.onAgentEvent?.(e, { node: node.id });
    },
  });
  ctx.onAgentResult?.(result, { node: node.id });
  Object.assign(ctx.report, {
    stopReason: result.stopReason, steps: result.steps, tokensIn: result.usage.promptTokens, tokensOut: result.usage.completionTokens,
    usageEstimated: result.usage.estimated, toolCalls: result.toolCalls.map((c) => ({ name: c.name, outcome: c.outcome })),
  });
  // A run that stopped on an error before the model said anything has no answer: that is a failure
  // (retry, error edges). One that said something keeps it, with the note, like a step-limit stop.
  if (result.stopReason === 'error' && result.answer === `[${result.note}]`) {
    const acted = result.toolCalls.filter((c) => c.outcome !== 'repeated' && registry.get(c.name)?.sideEffects).map((c) => c.name);
    const message = result.error ?? 'the model did not answer';
    // Running the agent again would repeat approved edits or commands, or ask the user again.
    if (acted.length) ctx.report.noRetry = `tools with side effects ran: ${[...new Set(acted)].join(', ')}`;
    throw new AgentNodeError(message, result, acted.length === 0);
  }
  if (node.details) {
    const details: AgentDetails = {
      stopReason: result.stopReason, steps: result.steps, usage: result.usage, mode: result.mode,
      toolCalls: result.toolCalls.map(({ step, name, arguments: args, outcome }) => ({ step, name, arguments: args, outcome })),
      ...(result.note ? { note: result.note } : {}), ...(result.error ? { error: result.error } : {}),
    };
    ctx.writes[node.details] = details;
  }
  return result.answer;
}

/** The run's registry, or the subset the node names. */
function agentTools(node: AgentNodeDef, ctx: NodeContext): ToolRegistry {
  const all = ctx.services.tools;
  if (!node.tools) return all ?? new ToolRegistry();
  const missing = node.tools.filter((t) => !all?.has(t));
  if (missing.length) throw new NodeConfigError(`no tool named ${missing.map((t) => `"${t}"`).join(', ')}`);
  return new ToolRegistry().register(...node.tools.map((t) => all!.get(t)!));
}

/** A host for a tool-less agent: nothing can reach it, but the loop's context needs one. */
const NO_HOST: ToolContext['host'] = {
  root: '',
  readFile: () => Promise.reject(new Error('no host')),
  getDiagnostics: () => Promise.reject(new Error('no host')),
  requestApproval: () => Promise.resolve(false),
  applyEdit: () => Promise.reject(new Error('no host')),
  runCommand: () => Promise.reject(new Error('no host')),
};

async function code(node: CodeNodeDef, ctx: NodeContext): Promise<unknown> {
  const functions = ctx.services.functions ?? BUILTIN_FUNCTIONS;
  const fn = functions.get(node.fn);
  if (!fn) throw new NodeConfigError(`no registered function "${node.fn}"`);
  const args = renderArgs(node.args ?? {}, ctx.state) as Record<string, unknown>;
  return await fn(args, { state: structuredClone(ctx.state), node: node.id, signal: ctx.signal, trace: ctx.services.trace });
}

/** The branch's next node: the first case whose condition holds, else the default. */
export function route(node: BranchNodeDef, state: WorkflowState): { to: string; case: number | 'default' } {
  const i = node.cases.findIndex((c) => holds(c.when, state));
  return i >= 0 ? { to: node.cases[i].to, case: i } : { to: node.default, case: 'default' };
}

/** Longest text a `matches` condition looks at, so a bad pattern cannot stall on a huge value. */
const MAX_MATCH_INPUT = 100_000;

export function holds(c: Condition, state: WorkflowState): boolean {
  const value = lookup(state, c.path);
  if (c.exists !== undefined) return (value !== undefined && value !== null) === c.exists;
  if (c.equals !== undefined) return value === c.equals;
  if (c.contains !== undefined) {
    if (typeof value === 'string') return value.includes(String(c.contains));
    return Array.isArray(value) && value.includes(c.contains);
  }
  if (c.matches !== undefined) {
    if (typeof value !== 'string' && typeof value !== 'number') return false;
    return new RegExp(c.matches, c.flags).test(String(value).slice(0, MAX_MATCH_INPUT));
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Built-in functions

/** The body of the first fenced code block in `text`, or the whole text trimmed when there is none. */
export function extractCodeBlock(text: string): string {
  // (?=(...))\1 takes the whole backtick run at once: backtracking into it made a long run quadratic.
  const m = /^[ \t]*(?=(`{3,}|~{3,}))\1[^\n]*\n([\s\S]*?)^[ \t]*\1[ \t]*$/m.exec(text);
  return m ? m[2].replace(/\r?\n$/, '') : text.trim();
}

export const BUILTIN_FUNCTIONS: ReadonlyMap<string, CodeFunction> = new Map<string, CodeFunction>([
  ['extractCodeBlock', (args) => extractCodeBlock(String(args.text ?? ''))],
  /** `src/auth/session.ts` -> `session`: a file's name for searching its tests. */
  ['baseName', (args) => String(args.path ?? '').replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '')],
  /** Returns its `value` argument: a start node that fans out, or a copy from one key to another. */
  ['passthrough', (args) => args.value ?? null],
]);

/** The built-in functions plus `extra` (which may not replace a built-in). */
export function codeFunctions(extra: Record<string, CodeFunction> = {}): Map<string, CodeFunction> {
  const all = new Map(BUILTIN_FUNCTIONS);
  for (const [name, fn] of Object.entries(extra)) {
    if (all.has(name)) throw new Error(`function "${name}" is already registered`);
    all.set(name, fn);
  }
  return all;
}
