// Structured output: the model answers with JSON that must match a zod schema. The schema goes to
// the server the strongest way it supports (response_format json_schema, a forced tool call,
// json_object, or only the instructions), the reply is parsed leniently (a ```json fence or
// leading prose is fine) and validated; an invalid reply gets exactly one repair round that shows
// the model its validation error, then a StructuredOutputError says what was wrong.
import { z } from 'zod';
import type { ChatMessage, ChatRequest, ChatResult, JsonSchema, ModelConfig } from '../llm/types';
import type { Trace } from '../trace/trace';
import { errorMessage } from '../../base/common/errors';

export type ChatFn = (req: ChatRequest) => Promise<ChatResult>;

/** How the schema is conveyed: pick with structuredModeFor from the model's capabilities. */
export type StructuredMode = 'json_schema' | 'tool' | 'json_object' | 'prompt';

export interface StructuredRequest<T> {
  chat: ChatFn;
  messages: ChatMessage[];
  schema: z.ZodType<T>;
  /** Schema name ([A-Za-z0-9_-]); also the tool name in 'tool' mode. */
  name: string;
  /** What the object is for, shown to the model. */
  description?: string;
  mode?: StructuredMode;
  /** Repair rounds after an invalid reply. Default 1. */
  repairs?: number;
  temperature?: number;
  maxTokens?: number;
  signal?: AbortSignal;
  trace?: Trace;
}

export interface StructuredResult<T> {
  value: T;
  /** The raw reply that validated. */
  raw: string;
  /** Model calls made: 1 when the first reply was valid. */
  attempts: number;
  result: ChatResult;
}

export class StructuredOutputError extends Error {
  constructor(
    message: string,
    /** Each attempt's raw reply and what was wrong with it. */
    readonly attempts: { raw: string; error: string }[],
  ) {
    super(message);
  }
}

/** The strongest mode a model's server supports. */
export function structuredModeFor(model: Pick<ModelConfig, 'supportsJsonSchema' | 'supportsTools'>): StructuredMode {
  if (model.supportsJsonSchema) return 'json_schema';
  if (model.supportsTools) return 'tool';
  return 'json_object';
}

/** JSON Schema of a zod schema as servers accept it (no `$schema` key). */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

export async function generateStructured<T>(req: StructuredRequest<T>): Promise<StructuredResult<T>> {
  const mode = req.mode ?? 'json_schema';
  const schema = jsonSchemaOf(req.schema);
  const messages = withInstructions(req.messages, instructions(req, mode, schema));
  const failures: { raw: string; error: string }[] = [];
  const rounds = 1 + Math.max(0, req.repairs ?? 1);

  for (let attempt = 1; attempt <= rounds; attempt++) {
    const result = await req.chat({
      messages,
      temperature: req.temperature,
      maxTokens: req.maxTokens,
      signal: req.signal,
      ...(mode === 'json_schema' ? { responseFormat: { type: 'json_schema', name: req.name, schema } } : {}),
      ...(mode === 'json_object' ? { responseFormat: { type: 'json_object' } } : {}),
      ...(mode === 'tool' ? { tools: [{ name: req.name, description: req.description ?? `Return the ${req.name} object.`, parameters: schema }] } : {}),
    });
    const call = mode === 'tool' ? result.toolCalls.find((c) => c.name === req.name) ?? result.toolCalls[0] : undefined;
    const raw = call ? call.arguments : result.content;
    const checked = validate(raw, req.schema);
    if (checked.ok) {
      req.trace?.add('note', 'structured', { schema: req.name, attempts: attempt, ok: true });
      return { value: checked.value, raw, attempts: attempt, result };
    }
    failures.push({ raw, error: checked.error });
    req.trace?.add('note', 'structured', { schema: req.name, attempt, ok: false, error: checked.error.slice(0, 500) });
    // The repair round shows the model its own reply and exactly what was wrong with it.
    const fix = `Your reply did not match the required ${req.name} JSON schema:\n${checked.error}\n` +
      (mode === 'tool' ? `Call ${req.name} again with corrected arguments.` : 'Reply again with only the corrected JSON value, no other text.');
    if (call) {
      messages.push({ role: 'assistant', content: result.content || null, toolCalls: [call] });
      messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: `Invalid: ${checked.error}` });
      messages.push({ role: 'user', content: fix });
    } else {
      messages.push({ role: 'assistant', content: raw }, { role: 'user', content: fix });
    }
  }
  const last = failures[failures.length - 1];
  throw new StructuredOutputError(
    `the model's reply did not match the ${req.name} schema after ${rounds} attempt${rounds === 1 ? '' : 's'}: ${last.error}`,
    failures,
  );
}

/** Adds the format rule to the leading system message: many chat templates accept only one, first. */
function withInstructions(messages: ChatMessage[], text: string): ChatMessage[] {
  if (messages[0]?.role === 'system') return [{ ...messages[0], content: `${messages[0].content ?? ''}\n\n${text}` }, ...messages.slice(1)];
  return [{ role: 'system', content: text }, ...messages];
}

function instructions(req: StructuredRequest<unknown>, mode: StructuredMode, schema: JsonSchema): string {
  const what = req.description ? ` (${req.description})` : '';
  if (mode === 'tool') return `Answer by calling the ${req.name} tool${what} with arguments that match its schema.`;
  return `Answer with a single JSON value${what} that matches this JSON Schema, and nothing else:\n${JSON.stringify(schema)}`;
}

type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses (leniently) and validates a reply; the error text is written for the model to act on. */
export function validate<T>(raw: string, schema: z.ZodType<T>): Checked<T> {
  let parsed: unknown;
  try {
    parsed = extractJson(raw);
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
  const checked = schema.safeParse(parsed);
  if (checked.success) return { ok: true, value: checked.data };
  return { ok: false, error: describeIssues(checked.error) };
}

/** One line per problem: `at items[2].name: expected string, received number`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 20)
    .map((issue) => `- at ${issue.path.length ? formatPath(issue.path) : '(root)'}: ${issue.message}`)
    .join('\n');
}

function formatPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/**
 * The JSON value in a model reply: the whole text, the inside of a ```json fence, or the first
 * balanced {...} / [...] that parses (so leading or trailing prose is fine). Throws with a short
 * explanation when there is none.
 */
export function extractJson(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed) throw new Error('the reply was empty; expected a JSON value');
  const whole = tryParse(trimmed);
  if (whole.ok) return whole.value;
  const fence = /```[ \t]*(?:json[c5]?)?[ \t]*\r?\n([\s\S]*?)\r?\n?```/i.exec(trimmed);
  if (fence) {
    const inner = tryParse(fence[1].trim());
    if (inner.ok) return inner.value;
  }
  let firstError: string | null = null;
  for (let start = findOpen(trimmed, 0), tries = 0; start >= 0 && tries < 50; start = findOpen(trimmed, start + 1), tries++) {
    const end = balancedEnd(trimmed, start);
    if (end < 0) {
      firstError ??= 'a JSON value starts but is never closed (was the reply cut off?)';
      continue;
    }
    const candidate = tryParse(trimmed.slice(start, end + 1));
    if (candidate.ok) return candidate.value;
    firstError ??= `not valid JSON: ${candidate.error}`;
  }
  throw new Error(firstError ?? `no JSON object or array found in the reply: ${JSON.stringify(trimmed.slice(0, 80))}`);
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

function findOpen(text: string, from: number): number {
  const a = text.indexOf('{', from);
  const b = text.indexOf('[', from);
  return a < 0 ? b : b < 0 ? a : Math.min(a, b);
}

/** Index of the bracket closing the one at `start`, skipping strings; -1 when unbalanced. */
function balancedEnd(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') stack.push('}');
    else if (c === '[') stack.push(']');
    else if (c === '}' || c === ']') {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}
