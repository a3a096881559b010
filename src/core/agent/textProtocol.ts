// Tool calling for servers without native tool support: the tools are described in the system
// prompt and the model replies either with one fenced JSON block
//   ```json
//   {"tool": "search_code", "arguments": {"query": "retry"}}
//   ```
// or with its final answer as plain text. Replies are parsed leniently (leading prose, a missing
// fence, `args`/`parameters` instead of `arguments`, Hermes-style {"name", "arguments"}); a reply
// that clearly tries to call a tool but cannot be read comes back as `invalid`, so the loop can
// show the model its mistake instead of passing the block off as an answer.
//
// On the wire such servers see only system/user/assistant messages: tool results travel as user
// messages holding the fenced untrusted-data block that the prompt builder made of them.
import type { ChatMessage, ToolSpec } from '../llm/types';
import { extractJson } from '../prompt/structured';
import { errorMessage } from '../../base/common/errors';

export type TextReply =
  | { kind: 'answer'; text: string }
  /** `arguments` is JSON text, as a native tool call carries it; `text` is the prose around the block. */
  | { kind: 'call'; name: string; arguments: string; text: string; extraCalls: number }
  | { kind: 'invalid'; error: string; text: string };

const FENCE = /```[ \t]*[A-Za-z0-9_-]*[ \t]*\r?\n([\s\S]*?)\r?\n?[ \t]*```/g;
/** What makes a JSON block look like a tool call rather than, say, a code sample in an answer. */
const LOOKS_LIKE_CALL = (s: string) => /"tool"\s*:/.test(s) || (/"name"\s*:/.test(s) && /"arguments"\s*:/.test(s));

/** The system-prompt section that teaches the protocol and lists the tools. */
export function textProtocolInstructions(specs: ToolSpec[]): string {
  const tools = specs.map((s) => `- ${s.name}: ${s.description}\n  arguments (JSON Schema): ${JSON.stringify(s.parameters)}`);
  return [
    'You can call tools. To call one, reply with exactly one fenced JSON block and nothing after it:',
    '```json',
    '{"tool": "<tool name>", "arguments": {<arguments matching the tool\'s schema>}}',
    '```',
    'Call one tool per reply. Its result comes back in the next user message as an untrusted-data block whose ' +
      'source is "tool <name>". When you have what you need, reply with your final answer as plain text, ' +
      'without any tool-call block.',
    '',
    'Tools:',
    ...tools,
  ].join('\n');
}

/** The block a tool call is written as; used for earlier turns' native calls in text mode. */
export function formatTextCall(name: string, args: string): string {
  let parsed: unknown = args;
  try {
    parsed = args.trim() === '' ? {} : JSON.parse(args);
  } catch { /* keep the raw text: the model sees what was sent */ }
  return '```json\n' + JSON.stringify({ tool: name, arguments: parsed }) + '\n```';
}

export function parseTextReply(reply: string): TextReply {
  const text = reply.trim();
  const blocks = [...text.matchAll(FENCE)]
    .filter((m) => LOOKS_LIKE_CALL(m[1]))
    .map((m) => ({ body: m[1], start: m.index, end: m.index + m[0].length }));
  // Models often drop the fence: a bare {"tool": ...} object in the prose is a call too.
  if (!blocks.length && LOOKS_LIKE_CALL(text)) {
    const start = text.search(/\{\s*"(?:tool|name)"\s*:/);
    blocks.push({ body: start >= 0 ? text.slice(start) : text, start: Math.max(0, start), end: text.length });
  }
  if (!blocks.length) return { kind: 'answer', text: answerText(text) };

  const calls: { name: string; arguments: string; start: number; end: number }[] = [];
  let error: string | undefined;
  for (const block of blocks) {
    const read = readCall(block.body);
    if ('error' in read) error ??= read.error;
    else calls.push({ ...read, start: block.start, end: block.end });
  }
  if (!calls.length) return { kind: 'invalid', error: error!, text };
  const [first] = calls;
  const prose = (text.slice(0, first.start) + text.slice(first.end)).trim();
  return { kind: 'call', name: first.name, arguments: first.arguments, text: prose, extraCalls: calls.length - 1 };
}

function readCall(body: string): { name: string; arguments: string } | { error: string } {
  let value: unknown;
  try {
    value = extractJson(body);
  } catch (err) {
    return { error: `the tool-call block is not valid JSON (${errorMessage(err)})` };
  }
  const obj = isObject(value) ? value : {};
  const name = typeof obj.tool === 'string' ? obj.tool : typeof obj.name === 'string' && 'arguments' in obj ? obj.name : undefined;
  if (!name?.trim()) {
    // extractJson settles for an inner object when the outer one is broken: say what is wrong with the outer.
    let why = 'it has no "tool" name';
    try {
      JSON.parse(body.trim());
    } catch (err) {
      why = `it is not valid JSON (${errorMessage(err)})`;
    }
    return { error: `the tool-call block could not be read: ${why}` };
  }
  const args = obj.arguments ?? obj.args ?? obj.parameters ?? obj.input ?? {};
  return { name: name.trim(), arguments: typeof args === 'string' ? args : JSON.stringify(args) };
}

/** A final answer; a reply that is only {"answer": "..."} (some models wrap it) is unwrapped. */
function answerText(text: string): string {
  try {
    const value = JSON.parse(text) as unknown;
    if (isObject(value)) {
      const answer = value.answer ?? value.final_answer;
      if (typeof answer === 'string') return answer;
    }
  } catch { /* plain text */ }
  return text;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Earlier turns for a text-protocol server: native tool calls become the blocks the model writes. */
export function historyToText(history: ChatMessage[]): ChatMessage[] {
  return history.map((m) => {
    if (!m.toolCalls?.length) return m;
    const blocks = m.toolCalls.map((c) => formatTextCall(c.name, c.arguments));
    return { role: 'assistant', content: [m.content ?? '', ...blocks].filter(Boolean).join('\n\n') };
  });
}

/**
 * A built prompt as a text-protocol server takes it: tool messages (already fenced by the builder)
 * become user messages, and adjacent user messages merge, since some chat templates insist that
 * roles alternate. Neither change adds tokens: the role is not counted and a merge saves the
 * per-message overhead.
 */
export function toTextMessages(messages: ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    const plain: ChatMessage = m.role === 'tool' ? { role: 'user', content: m.content } : { role: m.role, content: m.content };
    const last = out[out.length - 1];
    if (plain.role === 'user' && last?.role === 'user') last.content = `${last.content ?? ''}\n\n${plain.content ?? ''}`;
    else out.push(plain);
  }
  return out;
}
