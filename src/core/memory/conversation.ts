// Short-term memory: one conversation's turns, and the history a request sends.
//
// historyFor(budget) returns the newest turns verbatim. When the turns no longer fit, the older
// ones are folded into a running summary written by the model: each turn is summarised once, when
// it leaves the verbatim window, together with the previous summary (incremental), and the result
// is cached in the conversation (and so persisted with it). Folding goes past the minimum (down
// to `foldTarget` of the verbatim budget) so the next few turns fit without another model call.
// If the summariser fails (model down), the turns it should have covered are dropped with a note
// instead: history never fails a request.
import { randomBytes } from 'node:crypto';
import type { LlmClient } from '../llm/client';
import type { ChatMessage, TokenCounter, ToolCall } from '../llm/types';
import { fenceUntrusted, UNTRUSTED_DATA_RULES } from '../prompt/fence';
import { truncateToTokens } from '../prompt/truncate';
import type { Trace } from '../trace/trace';
import { Pacer } from '../../base/node/yield';
import type { Citation } from '../../base/common/citations';
import {  } from '../../base/common/errors';
import { errorLine } from '../../base/common/errors';

export const CONVERSATION_VERSION = 1;


export function formatCitation(c: Citation): string {
  return `${c.path}:${c.startLine}-${c.endLine}`;
}

interface TurnBase {
  id: string;
  /** ISO time the turn was added. */
  at: string;
}
export interface UserTurn extends TurnBase {
  role: 'user';
  content: string;
}
export interface AssistantTurn extends TurnBase {
  role: 'assistant';
  content: string;
  sources?: Citation[];
  toolCalls?: ToolCall[];
}
export interface ToolTurn extends TurnBase {
  role: 'tool';
  toolCallId: string;
  name: string;
  content: string;
}
export type Turn = UserTurn | AssistantTurn | ToolTurn;

export interface ConversationSummary {
  text: string;
  /** How many leading turns (of `turns`) it covers. */
  coveredTurns: number;
  at: string;
}

/** The persisted shape (ConversationStore writes it as JSON). */
export interface ConversationData {
  version: typeof CONVERSATION_VERSION;
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  turns: Turn[];
  summary?: ConversationSummary;
  /** Turns removed from the start to bound the file size; history mentions them. */
  omittedTurns?: number;
}

/** Turns messages (the previous summary first, if any) into a summary of at most ~maxTokens. */
export type Summarizer = (messages: ChatMessage[], opts: { maxTokens: number; signal?: AbortSignal }) => Promise<string>;

export interface ConversationOptions {
  summarize?: Summarizer;
  /** Share of the history budget the summary may take. Default 0.25. */
  summaryShare?: number;
  /** Upper bound for the summary whatever the budget. Default 1000 tokens. */
  maxSummaryTokens?: number;
  /** After folding, the verbatim turns use at most this share of their budget. Default 0.6. */
  foldTarget?: number;
  now?: () => Date;
}

export interface HistoryOptions {
  /** Overrides the conversation's summariser for this call. */
  summarize?: Summarizer;
  trace?: Trace;
  signal?: AbortSignal;
}

/** Starts the history's summary message; callers may recognise (e.g. merge) it by this. */
export const SUMMARY_HEADING = 'Summary of the earlier conversation:';
const TRUNCATED = '… [truncated]';
/** No summary is worth keeping below this many tokens. */
const MIN_SUMMARY_TOKENS = 24;

export class Conversation {
  readonly data: ConversationData;
  summarize: Summarizer | undefined;
  private readonly opts: Required<Omit<ConversationOptions, 'summarize'>>;
  /** historyFor calls run one at a time, so two never summarise the same turns. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(data?: ConversationData, opts: ConversationOptions = {}) {
    this.opts = {
      summaryShare: opts.summaryShare ?? 0.25,
      maxSummaryTokens: opts.maxSummaryTokens ?? 1000,
      foldTarget: opts.foldTarget ?? 0.6,
      now: opts.now ?? (() => new Date()),
    };
    this.summarize = opts.summarize;
    const now = this.opts.now().toISOString();
    this.data = data ?? { version: CONVERSATION_VERSION, id: newConversationId(), title: '', createdAt: now, updatedAt: now, turns: [] };
  }

  get id(): string { return this.data.id; }
  get title(): string { return this.data.title; }
  get turns(): readonly Turn[] { return this.data.turns; }
  get summary(): ConversationSummary | undefined { return this.data.summary; }

  addUser(content: string): UserTurn {
    if (!this.data.title) this.data.title = titleFrom(content);
    return this.push({ ...this.base(), role: 'user', content });
  }

  addAssistant(content: string, extra: { sources?: Citation[]; toolCalls?: ToolCall[] } = {}): AssistantTurn {
    const turn: AssistantTurn = { ...this.base(), role: 'assistant', content };
    if (extra.sources?.length) turn.sources = extra.sources.map((s) => ({ ...s }));
    if (extra.toolCalls?.length) turn.toolCalls = extra.toolCalls.map((c) => ({ ...c }));
    return this.push(turn);
  }

  addToolResult(toolCallId: string, name: string, content: string): ToolTurn {
    return this.push({ ...this.base(), role: 'tool', toolCallId, name, content });
  }

  /** Messages for the next request, oldest first, counting at most `budgetTokens` by `counter`. */
  historyFor(budgetTokens: number, counter: TokenCounter, opts: HistoryOptions = {}): Promise<ChatMessage[]> {
    const run = this.queue.then(() => this.buildHistory(budgetTokens, counter, opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  toJSON(): ConversationData {
    return this.data;
  }

  private async buildHistory(budget: number, counter: TokenCounter, opts: HistoryOptions): Promise<ChatMessage[]> {
    const turns = this.data.turns;
    const n = turns.length;
    const base = counter.countMessages([]);
    const cached = this.data.summary;
    let start = Math.min(cached?.coveredTurns ?? 0, n);
    // suffix[i]: tokens of turns i..n-1 as messages (turns already in the summary are never counted).
    // Counted once, pausing between turns: a long conversation of pasted files is a lot of text.
    const suffix = new Array<number>(n + 1).fill(0);
    const pacer = new Pacer(20, opts.signal);
    for (let i = n - 1; i >= start; i--) {
      suffix[i] = suffix[i + 1] + counter.countMessages([turnMessage(turns[i])]) - base;
      await pacer.tick();
    }

    let summary = cached && start > 0 ? cached.text : undefined;
    let dropped = this.data.omittedTurns ?? 0;
    const reserve = Math.max(MIN_SUMMARY_TOKENS, Math.min(this.opts.maxSummaryTokens, Math.floor(budget * this.opts.summaryShare)));

    if (counter.countMessages(headMessages(summary, dropped)) + suffix[start] > budget) {
      // Fold: everything before `cut` leaves the verbatim window.
      const verbatimBudget = budget - counter.countMessages(headMessages('x', dropped + 1)) - reserve;
      const cut = chooseCut(turns, suffix, start, Math.floor(verbatimBudget * this.opts.foldTarget));
      const summarize = opts.summarize ?? this.summarize;
      if (cut > start) {
        try {
          if (!summarize) throw new Error('no summariser configured');
          const input = [...headMessages(summary, 0), ...turns.slice(start, cut).map(turnMessage)];
          const text = (await summarize(input, { maxTokens: reserve, signal: opts.signal })).trim();
          if (!text) throw new Error('the summariser returned nothing');
          summary = truncateToTokens(text, reserve, counter);
          this.data.summary = { text: summary, coveredTurns: cut, at: this.opts.now().toISOString() };
          opts.trace?.add('note', 'history.summarised', { turns: cut - start, coveredTurns: cut, tokens: counter.count(summary) });
        } catch (err) {
          if (opts.signal?.aborted) throw err; // cancellation is the caller's choice, not a model failure
          dropped += cut - start;
          opts.trace?.add('note', 'history.summary-failed', { droppedTurns: cut - start, message: errorLine(err) });
        }
        start = cut;
      }
    }
    return fit(turns, suffix, start, summary, dropped, budget, counter);
  }

  private base(): TurnBase {
    return { id: randomBytes(6).toString('hex'), at: this.opts.now().toISOString() };
  }

  private push<T extends Turn>(turn: T): T {
    this.data.turns.push(turn);
    this.data.updatedAt = turn.at;
    return turn;
  }
}

/** The message a turn is sent as; an answer's sources are listed so follow-ups can refer to them. */
export function turnMessage(turn: Turn): ChatMessage {
  switch (turn.role) {
    case 'user':
      return { role: 'user', content: turn.content };
    case 'assistant': {
      const sources = turn.sources?.length ? `\n\nSources: ${turn.sources.map(formatCitation).join(', ')}` : '';
      const m: ChatMessage = { role: 'assistant', content: turn.content + sources };
      if (turn.toolCalls?.length) m.toolCalls = turn.toolCalls.map((c) => ({ ...c }));
      return m;
    }
    case 'tool':
      return { role: 'tool', content: turn.content, toolCallId: turn.toolCallId, name: turn.name };
  }
}

function headMessages(summary: string | undefined, dropped: number): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (summary) out.push({ role: 'system', content: `${SUMMARY_HEADING}\n${summary}` });
  if (dropped > 0) {
    out.push({ role: 'system', content: `Note: ${dropped} earlier turn${dropped === 1 ? ' was' : 's were'} left out of this conversation's history to fit the context.` });
  }
  return out;
}

/**
 * The first verbatim turn: the earliest at or after `start` whose suffix fits `target`, never a
 * tool result (it would lose its call), and never past the last user/assistant turn.
 */
function chooseCut(turns: Turn[], suffix: number[], start: number, target: number): number {
  const last = lastNonTool(turns, start);
  for (let i = start; i < last; i++) if (turns[i].role !== 'tool' && suffix[i] <= target) return i;
  return last;
}

/** Index of the newest user/assistant turn at or after `start` (`start` when there is none). */
function lastNonTool(turns: Turn[], start: number): number {
  for (let i = turns.length - 1; i >= start; i--) if (turns[i].role !== 'tool') return i;
  return start;
}

/** Assembles the history and, as a safety net, shrinks it until it fits: oldest verbatim turns
 * first, then the summary, then the longest messages. `suffix` holds the turns' counts, so no turn
 * is counted again however many are dropped. */
function fit(
  turns: Turn[], suffix: number[], from: number, summary: string | undefined, dropped: number, budget: number, counter: TokenCounter,
): ChatMessage[] {
  const build = () => [...headMessages(summary, dropped), ...turns.slice(from).map(turnMessage)];
  const tokens = () => counter.countMessages(headMessages(summary, dropped)) + suffix[from];
  const last = lastNonTool(turns, from);
  // A tool result never opens the history: its call would be missing.
  while (from < turns.length && turns[from].role === 'tool') { from++; dropped++; }
  while (tokens() > budget && from < last) {
    let next = from + 1;
    while (next < last && turns[next].role === 'tool') next++;
    dropped += next - from;
    from = next;
  }
  if (summary && tokens() > budget) {
    const room = budget - counter.countMessages(headMessages(undefined, dropped)) - suffix[from]
      - counter.countMessages([{ role: 'system', content: SUMMARY_HEADING }]);
    summary = room >= MIN_SUMMARY_TOKENS ? truncateToTokens(summary, room, counter) : undefined;
  }
  const msgs = build();
  // Last resort (a single turn larger than the budget): cut the longest messages, then drop.
  for (let guard = 0, total = counter.countMessages(msgs); total > budget && msgs.length > 0 && guard < 100; guard++) {
    let longest = 0;
    msgs.forEach((m, i) => { if ((m.content ?? '').length > (msgs[longest].content ?? '').length) longest = i; });
    const text = msgs[longest].content ?? '';
    const keep = counter.count(text) - (total - budget) - 1;
    if (keep >= 8) msgs[longest] = { ...msgs[longest], content: truncateToTokens(text, keep, counter) };
    else msgs.shift();
    // A tool result whose call was dropped would be rejected by the server.
    while (msgs[0]?.role === 'tool') msgs.shift();
    total = counter.countMessages(msgs);
  }
  return msgs;
}

export function titleFrom(question: string): string {
  const line = question.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

export function newConversationId(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}


// ---- the production summariser ----

const SUMMARIZER_SYSTEM =
  'You maintain the running summary of a conversation between a user and a coding assistant. ' +
  'Write one updated summary that merges the summary so far (if any) with the new turns: the user\'s goals and ' +
  'decisions, facts established, files and symbols discussed (keep path:start-end references), tool results that ' +
  'matter, and open questions. Be concise and factual; no preamble. ' + UNTRUSTED_DATA_RULES;
/** The transcript a summariser reads is capped: the fast model's context is small. */
const TRANSCRIPT_CHARS = 24_000;

export interface LlmSummarizerOptions {
  trace?: Trace;
  /** Default 0.1: a summary should be faithful, not creative. */
  temperature?: number;
}

/** A Summarizer on the 'fast' model role (the 'chat' chain when no fast model is configured). */
export function createLlmSummarizer(client: Pick<LlmClient, 'chat' | 'chain'>, opts: LlmSummarizerOptions = {}): Summarizer {
  return async (messages, { maxTokens, signal }) => {
    let role: 'fast' | 'chat' = 'fast';
    try { client.chain('fast'); } catch { role = 'chat'; }
    const result = await client.chat(
      {
        messages: [
          { role: 'system', content: SUMMARIZER_SYSTEM },
          { role: 'user', content: `${transcript(messages)}\n\nWrite the updated summary (at most about ${Math.max(50, Math.floor(maxTokens * 0.7))} words).` },
        ],
        temperature: opts.temperature ?? 0.1,
        maxTokens,
        signal,
      },
      { role, trace: opts.trace },
    );
    return result.content;
  };
}

/** Renders messages as plain text (a summariser request carries no tool definitions, so tool
 * messages cannot be sent as such); tool output is fenced as untrusted data. */
export function transcript(messages: ChatMessage[]): string {
  const cap = Math.max(400, Math.floor(TRANSCRIPT_CHARS / Math.max(1, messages.length)));
  const clip = (s: string) => (s.length > cap ? `${s.slice(0, cap)}${TRUNCATED}` : s);
  return messages.map((m) => {
    const text = m.content ?? '';
    if (m.role === 'system' && text.startsWith(SUMMARY_HEADING)) return `Summary so far:\n${text.slice(SUMMARY_HEADING.length).trim()}`;
    if (m.role === 'tool') return `Tool result (${m.name ?? 'tool'}):\n${fenceUntrusted(clip(text), `tool ${m.name ?? ''}`)}`;
    const calls = (m.toolCalls ?? []).map((c) => `\n[calls ${c.name} ${clip(c.arguments)}]`).join('');
    const who = m.role === 'user' ? 'User' : m.role === 'assistant' ? 'Assistant' : 'Note';
    return `${who}: ${clip(text)}${calls}`;
  }).join('\n\n');
}

// ---- validation of persisted data ----

/** Checks the shape of parsed JSON; throws an Error naming the first problem. */
export function validateConversationData(value: unknown): ConversationData {
  const fail = (what: string): never => { throw new Error(what); };
  if (!isObject(value)) return fail('not a JSON object');
  if (value.version !== CONVERSATION_VERSION) fail(`unsupported version ${JSON.stringify(value.version)}`);
  for (const k of ['id', 'title', 'createdAt', 'updatedAt'] as const) if (typeof value[k] !== 'string') fail(`"${k}" must be a string`);
  if (!Array.isArray(value.turns)) return fail('"turns" must be an array');
  value.turns.forEach((t: unknown, i: number) => {
    if (!isObject(t) || typeof t.id !== 'string' || typeof t.at !== 'string' || typeof t.content !== 'string') fail(`turn ${i} is malformed`);
    const turn = t as Record<string, unknown>;
    if (turn.role === 'tool') {
      if (typeof turn.toolCallId !== 'string' || typeof turn.name !== 'string') fail(`tool turn ${i} lacks its call id or name`);
    } else if (turn.role === 'assistant') {
      if (turn.sources !== undefined && !(Array.isArray(turn.sources) && turn.sources.every(isCitation))) fail(`turn ${i} has malformed sources`);
      if (turn.toolCalls !== undefined && !(Array.isArray(turn.toolCalls) && turn.toolCalls.every(isToolCall))) fail(`turn ${i} has malformed tool calls`);
    } else if (turn.role !== 'user') fail(`turn ${i} has unknown role ${JSON.stringify(turn.role)}`);
  });
  const s = value.summary;
  if (s !== undefined && !(isObject(s) && typeof s.text === 'string' && Number.isInteger(s.coveredTurns) && typeof s.at === 'string')) fail('"summary" is malformed');
  if (value.omittedTurns !== undefined && !Number.isInteger(value.omittedTurns)) fail('"omittedTurns" must be an integer');
  return value as unknown as ConversationData;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isCitation(v: unknown): boolean {
  return isObject(v) && typeof v.path === 'string' && Number.isInteger(v.startLine) && Number.isInteger(v.endLine);
}
function isToolCall(v: unknown): boolean {
  return isObject(v) && typeof v.id === 'string' && typeof v.name === 'string' && typeof v.arguments === 'string';
}
