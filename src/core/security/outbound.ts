// The boundaries where text leaves the machine or is stored, and the redaction each applies
// (secrets.ts does the finding). Model requests are the one exit every prompt, retrieved chunk,
// tool output and history turn goes through; a remote embedder gets the texts it embeds; traces
// leave with a run's result. Each redaction is counted in the run's trace by rule, never by value.
import type { ChatMessage } from '../llm/types';
import type { Trace } from '../trace/trace';
import { mayContainSecrets, redactSecrets, redactValue, type Redaction } from './secrets';

/** Texts seen before, with their redacted form: an agent loop resends the same history every step. */
const seen = new Map<string, { text: string; redactions: Redaction[] }>();
const SEEN_LIMIT = 4000;

async function redactCached(text: string, found: Redaction[]): Promise<string> {
  if (!mayContainSecrets(text)) return text;
  let result = seen.get(text);
  if (!result) {
    result = await redactSecrets(text);
    if (seen.size >= SEEN_LIMIT) seen.delete(seen.keys().next().value!);
    seen.set(text, result);
  }
  found.push(...result.redactions);
  return result.text;
}

/** The messages as they may be sent: every content and tool-call argument string redacted. */
export async function redactMessages(messages: ChatMessage[], trace?: Trace): Promise<ChatMessage[]> {
  const found: Redaction[] = [];
  const out: ChatMessage[] = [];
  for (const m of messages) {
    const content = typeof m.content === 'string' ? await redactCached(m.content, found) : m.content;
    const toolCalls = m.toolCalls && await Promise.all(m.toolCalls.map(async (c) => ({ ...c, arguments: await redactCached(c.arguments, found) })));
    out.push(content === m.content && toolCalls === m.toolCalls ? m : { ...m, content, ...(toolCalls ? { toolCalls } : {}) });
  }
  noteRedactions(trace, 'model request', found);
  return out;
}

/** Texts for a remote embedding endpoint (queries; documents are chunks, redacted when indexed). */
export async function redactTexts(texts: string[]): Promise<string[]> {
  const found: Redaction[] = [];
  return Promise.all(texts.map((t) => redactCached(t, found)));
}

/** Trace events as they may leave the run (a client, --json): any string in them redacted. */
export function redactTraceEvents<T>(events: T): Promise<T> {
  return redactValue(events);
}

/** One trace note per boundary crossing that redacted something: how many, of which kinds. */
export function noteRedactions(trace: Trace | undefined, where: string, found: Redaction[]): void {
  if (!trace || !found.length) return;
  const rules: Record<string, number> = {};
  for (const r of found) rules[r.rule] = (rules[r.rule] ?? 0) + 1;
  trace.add('note', 'secrets.redacted', { where, count: found.length, rules });
}
