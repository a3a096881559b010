// The agent loop: observe → think → act. Each step rebuilds the whole prompt with the prompt
// builder (the question, the fenced retrieved context, and this run's tool calls and fenced results
// as follow-up), so however many steps run, no request exceeds the context window. The model then
// either answers, which ends the run, or asks for tools, which run through the registry: it
// validates arguments, asks the host before anything with side effects, and turns every failure
// into text the model can act on.
//
// Tools reach the model natively (the request's `tools`) or, for servers without native tool
// calling, through the text protocol of textProtocol.ts. A native request refused with a 4xx that
// mentions tools switches the run to the text protocol.
//
// The run also ends, gracefully and with whatever the model said so far plus a note, at the step
// limit (the last step tells the model to answer now), when the token budget is spent, when the
// model insists on repeating an identical call, on cancellation, or on an error; `stopReason` says
// which. A repeated call is never run twice: the model is reminded once, then the run stops.
import { LlmError, type LlmChatResult, type LlmClient } from '../llm/client';
import type { TaskKind } from '../llm/models';
import { createTokenCounter } from '../llm/tokens';
import type { ChatMessage, ChatResult, ModelConfig, ModelRole, TokenCounter, ToolCall, ToolSpec } from '../llm/types';
import { buildPrompt, type BuiltPrompt, type ContextItem, type PromptBudget } from '../prompt/builder';
import type { ToolRegistry } from '../tools/registry';
import type { ToolContext, ToolOutcome } from '../tools/types';
import type { Trace } from '../trace/trace';
import { callKey } from './callKey';
import { historyToText, parseTextReply, textProtocolInstructions, toTextMessages } from './textProtocol';
import { errorMessage } from '../../base/common/errors';

export const DEFAULT_MAX_STEPS = 8;
/** Repeated identical calls answered with a reminder; the next one stops the run. */
const REPEATS_TOLERATED = 1;

export type StopReason = 'answer' | 'max-steps' | 'token-budget' | 'repeated-call' | 'cancelled' | 'error';
export type AgentMode = 'native' | 'text';

export interface AgentOptions {
  llm: LlmClient;
  tools: ToolRegistry;
  toolContext: ToolContext;
  system: string;
  question: string;
  context?: ContextItem[];
  /** Earlier turns, oldest first. */
  history?: ChatMessage[];
  /** The model whose window and output limit set the budget; default the role's first model. */
  model?: ModelConfig;
  /** Overrides the model's numbers. Without a model or a window here, the smallest window in the chain counts. */
  budget?: Partial<PromptBudget>;
  role?: ModelRole;
  task?: TaskKind;
  /** Model calls at most. Default 8. */
  maxSteps?: number;
  /** Prompt plus completion tokens over all steps, as the server reports them. */
  maxTotalTokens?: number;
  /** Default: the model's supportsTools !== false. */
  nativeTools?: boolean;
  signal?: AbortSignal;
  trace?: Trace;
  /** Streamed text of every step (a step that calls tools may say something first). */
  onToken?: (delta: string) => void;
  onEvent?: (e: AgentEvent) => void;
}

export interface AgentToolCall {
  step: number;
  id: string;
  name: string;
  /** JSON text as the model sent it. */
  arguments: string;
  /** 'repeated': an identical earlier call; the tool did not run again. */
  outcome: ToolOutcome | 'repeated';
  /** What the model was shown (raw: the prompt builder fences it). */
  content: string;
}

export interface AgentUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** true when some step's server reported no usage and the counts are estimates. */
  estimated: boolean;
}

export interface AgentResult {
  /** The final answer; when the run stopped short of one, what the model said last plus the note. */
  answer: string;
  stopReason: StopReason;
  /** Why the run ended the way it did, when that needs saying. */
  note?: string;
  /** The error message when stopReason is 'error'. */
  error?: string;
  /** The error itself when stopReason is 'error' (an LlmError says whether any model was reachable). */
  cause?: unknown;
  /** Model calls made. */
  steps: number;
  toolCalls: AgentToolCall[];
  usage: AgentUsage;
  /** The tool protocol the run ended in. */
  mode: AgentMode;
}

export type AgentEvent =
  | { type: 'step'; step: number; mode: AgentMode; promptTokens: number; lastStep: boolean }
  /** Streaming: the model call was retried after tokens were shown; discard this step's text. */
  | { type: 'reset'; step: number; reason: string }
  | { type: 'tool-call'; step: number; id: string; name: string; arguments: string }
  | { type: 'tool-result'; step: number; id: string; name: string; outcome: AgentToolCall['outcome']; content: string }
  | { type: 'mode'; mode: AgentMode; reason: string }
  | { type: 'stop'; reason: StopReason; note?: string };

export function runAgent(opts: AgentOptions): Promise<AgentResult> {
  return new AgentRun(opts).run();
}

const LAST_STEP_NOTE = 'This is your last step: tool calls will not be run any more. Give your final answer now, from what you have.';

class AgentRun {
  private readonly followUp: ChatMessage[] = [];
  private readonly toolCalls: AgentToolCall[] = [];
  /** Call key → the step that first made the call. */
  private readonly seen = new Map<string, number>();
  private repeats = 0;
  private readonly usage: AgentUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, estimated: false };
  /** The latest text the model wrote beside its tool calls: the best answer there is if the run stops early. */
  private lastText = '';
  private steps = 0;
  private mode: AgentMode = 'native';
  private readonly signal: AbortSignal | undefined;
  private readonly ctx: ToolContext;
  private readonly maxSteps: number;

  constructor(private readonly opts: AgentOptions) {
    this.signal = anySignal(opts.signal, opts.toolContext.signal);
    this.ctx = { ...opts.toolContext, signal: this.signal, trace: opts.trace ?? opts.toolContext.trace };
    this.maxSteps = Math.max(1, Math.floor(opts.maxSteps ?? DEFAULT_MAX_STEPS));
  }

  async run(): Promise<AgentResult> {
    try {
      return await this.loop();
    } catch (err) {
      if (this.signal?.aborted || (err as Error)?.name === 'AbortError') return this.stop('cancelled');
      return this.stop('error', { error: errorMessage(err), cause: err });
    }
  }

  private async loop(): Promise<AgentResult> {
    const { opts } = this;
    const chain = opts.llm.chain(opts.role ?? 'chat');
    const model = opts.model ?? chain[0];
    const counter = createTokenCounter(model.model);
    const budget: PromptBudget = {
      // A fallback model may answer any step: without an explicit model, the smallest window is safe.
      contextWindow: opts.budget?.contextWindow ?? (opts.model ? model.contextWindow : Math.min(...chain.map((m) => m.contextWindow))),
      reservedOutput: opts.budget?.reservedOutput ?? model.maxOutputTokens,
      maxItemTokens: opts.budget?.maxItemTokens,
    };
    const specs = opts.tools.specs();
    this.mode = (opts.nativeTools ?? model.supportsTools !== false) ? 'native' : 'text';

    for (;;) {
      if (this.signal?.aborted) return this.stop('cancelled');
      const step = this.steps + 1;
      const lastStep = step >= this.maxSteps;
      const prompt = this.prompt(specs, budget, counter, lastStep);
      if (opts.maxTotalTokens !== undefined && this.usage.totalTokens + prompt.tokens > opts.maxTotalTokens) return this.stop('token-budget');
      this.steps = step;
      opts.trace?.add('agent.step', undefined, { step, mode: this.mode, promptTokens: prompt.tokens, budget: prompt.budget, followUp: this.followUp.length, lastStep });
      this.emit({ type: 'step', step, mode: this.mode, promptTokens: prompt.tokens, lastStep });

      let reply: LlmChatResult;
      try {
        reply = await opts.llm.chat(
          { messages: prompt.messages, tools: this.mode === 'native' ? specs : undefined, maxTokens: budget.reservedOutput, signal: this.signal, onToken: opts.onToken },
          {
            role: opts.role, trace: opts.trace, task: opts.task,
            onReset: opts.onToken && opts.onEvent ? (info) => this.emit({ type: 'reset', step, reason: info.reason }) : undefined,
          },
        );
      } catch (err) {
        if (this.mode === 'native' && refusesTools(err)) {
          this.switchToText(errorMessage(err));
          this.steps--; // the refused request does not count as a step
          continue;
        }
        throw err;
      }
      this.count(reply);

      const turn = this.readReply(reply, step);
      if (turn.kind === 'answer') return this.stop('answer', { answer: turn.text, note: reply.finishReason === 'length' ? 'The answer was cut off at the output limit.' : undefined });
      if (turn.prose) this.lastText = turn.prose;
      if (lastStep) return this.stop('max-steps');
      if (opts.maxTotalTokens !== undefined && this.usage.totalTokens >= opts.maxTotalTokens) return this.stop('token-budget');
      this.followUp.push(turn.assistant);
      if (turn.kind === 'invalid') {
        opts.trace?.add('note', 'agent', { step, protocolError: turn.error });
        this.followUp.push({ role: 'tool', name: 'protocol', content: `Error: ${turn.error}. To call a tool, reply with one fenced JSON block {"tool": "<name>", "arguments": {...}}; to answer, reply with plain text and no tool-call block.` });
        continue;
      }
      for (const call of turn.calls) {
        const goOn = await this.runCall(call, step, turn.note);
        if (!goOn) return this.stop('repeated-call', { repeatedTool: call.name });
        if (this.signal?.aborted) return this.stop('cancelled');
      }
    }
  }

  private prompt(specs: ToolSpec[], budget: PromptBudget, counter: TokenCounter, lastStep: boolean): BuiltPrompt {
    const text = this.mode === 'text';
    const system = [this.opts.system.trim(), text ? textProtocolInstructions(specs) : '', lastStep ? LAST_STEP_NOTE : ''].filter(Boolean).join('\n\n');
    // Native tool specs travel beside the messages but fill the same window.
    const specTokens = text ? 0 : toolSpecTokens(specs, counter);
    const window = budget.contextWindow - specTokens;
    if (specTokens && window - budget.reservedOutput <= 0) {
      throw new Error(
        `the context window (${budget.contextWindow} tokens) cannot hold the tool descriptions (${specTokens} tokens) ` +
          `and ${budget.reservedOutput} tokens for the reply; use a model with a larger window, or fewer tools`,
      );
    }
    const built = buildPrompt(
      {
        system,
        context: this.opts.context,
        history: text ? historyToText(this.opts.history ?? []) : this.opts.history,
        question: this.opts.question,
        // After a switch to text, the steps taken natively are replayed in the text form too.
        followUp: text ? historyToText(this.followUp) : this.followUp,
      },
      { ...budget, contextWindow: window },
      counter,
      this.opts.trace,
    );
    return text ? { ...built, messages: toTextMessages(built.messages) } : built;
  }

  /** What the model did this step, in either protocol. */
  private readReply(reply: ChatResult, step: number): Turn {
    if (this.mode === 'native') {
      if (!reply.toolCalls.length) return { kind: 'answer', text: reply.content };
      return { kind: 'calls', calls: reply.toolCalls, prose: reply.content.trim(), assistant: { role: 'assistant', content: reply.content || null, toolCalls: reply.toolCalls } };
    }
    const parsed = parseTextReply(reply.content);
    if (parsed.kind === 'answer') return parsed;
    const assistant: ChatMessage = { role: 'assistant', content: reply.content };
    if (parsed.kind === 'invalid') return { kind: 'invalid', error: parsed.error, prose: '', assistant };
    return {
      kind: 'calls',
      calls: [{ id: `text_${step}`, name: parsed.name, arguments: parsed.arguments }],
      prose: parsed.text,
      assistant,
      note: parsed.extraCalls ? 'Note: only the first tool call of a reply is run; send the others one per reply.' : undefined,
    };
  }

  /** Runs (or, when repeated, withholds) one call; false when the run must stop for repetition. */
  private async runCall(call: ToolCall, step: number, note: string | undefined): Promise<boolean> {
    this.emit({ type: 'tool-call', step, id: call.id, name: call.name, arguments: call.arguments });
    const key = callKey(call.name, call.arguments);
    const first = this.seen.get(key);
    let outcome: AgentToolCall['outcome'];
    let content: string;
    if (first !== undefined) {
      this.repeats++;
      this.opts.trace?.add('note', call.name, { step, repeatedCall: true, firstStep: first, repeats: this.repeats });
      outcome = 'repeated';
      content = `You already called ${call.name} with these arguments in step ${first}; its result is above and the tool was not run again. ` +
        'Use that result, try different arguments or another tool, or give your final answer.';
      if (this.repeats > REPEATS_TOLERATED) {
        this.toolCalls.push({ step, id: call.id, name: call.name, arguments: call.arguments, outcome, content: '' });
        return false;
      }
    } else {
      this.seen.set(key, step);
      const result = await untilAborted(this.opts.tools.call(call.name, call.arguments, this.ctx), this.signal);
      outcome = result.outcome;
      content = result.content;
    }
    if (note) content += `\n\n${note}`;
    this.toolCalls.push({ step, id: call.id, name: call.name, arguments: call.arguments, outcome, content });
    this.followUp.push(this.mode === 'native' ? { role: 'tool', toolCallId: call.id, name: call.name, content } : { role: 'tool', name: call.name, content });
    this.emit({ type: 'tool-result', step, id: call.id, name: call.name, outcome, content });
    return true;
  }

  private switchToText(reason: string): void {
    this.mode = 'text';
    this.opts.trace?.add('note', 'agent', { switchedTo: 'text-protocol', reason });
    this.emit({ type: 'mode', mode: 'text', reason });
  }

  private count(reply: LlmChatResult): void {
    this.usage.promptTokens += reply.usage.promptTokens;
    this.usage.completionTokens += reply.usage.completionTokens;
    this.usage.totalTokens = this.usage.promptTokens + this.usage.completionTokens;
    if (reply.usage.estimated) this.usage.estimated = true;
  }

  private stop(reason: StopReason, extra: { answer?: string; note?: string; error?: string; cause?: unknown; repeatedTool?: string } = {}): AgentResult {
    const note = extra.note ?? this.noteFor(reason, extra);
    const answer = reason === 'answer' ? extra.answer ?? '' : [this.lastText, note ? `[${note}]` : ''].filter(Boolean).join('\n\n');
    this.opts.trace?.add('agent.stop', reason, {
      steps: this.steps, toolCalls: this.toolCalls.length, promptTokens: this.usage.promptTokens,
      completionTokens: this.usage.completionTokens, ...(note ? { note } : {}), ...(extra.error ? { error: extra.error } : {}),
    });
    try {
      this.opts.onEvent?.({ type: 'stop', reason, note });
    } catch { /* the run is over either way; a listener's failure cannot change its result */ }
    return {
      answer, stopReason: reason, steps: this.steps, toolCalls: this.toolCalls, usage: { ...this.usage }, mode: this.mode,
      ...(note ? { note } : {}), ...(extra.error ? { error: extra.error } : {}), ...(extra.cause !== undefined ? { cause: extra.cause } : {}),
    };
  }

  private noteFor(reason: StopReason, extra: { error?: string; repeatedTool?: string }): string | undefined {
    switch (reason) {
      case 'max-steps': return `Stopped at the step limit (${this.maxSteps}) before a final answer.`;
      case 'token-budget': return `Stopped: the token budget (${this.opts.maxTotalTokens}) is spent (${this.usage.totalTokens} used) before a final answer.`;
      case 'repeated-call': return `Stopped: the model kept repeating the same ${extra.repeatedTool ?? 'tool'} call.`;
      case 'cancelled': return 'Cancelled.';
      case 'error': return `Stopped by an error: ${extra.error}`;
      default: return undefined;
    }
  }

  private emit(e: AgentEvent): void {
    this.opts.onEvent?.(e);
  }
}

type Turn =
  | { kind: 'answer'; text: string }
  | { kind: 'calls'; calls: ToolCall[]; prose: string; assistant: ChatMessage; note?: string }
  | { kind: 'invalid'; error: string; prose: string; assistant: ChatMessage };

/** What the tool specs cost in the window: servers render them into the prompt, a little beyond the JSON. */
export function toolSpecTokens(specs: ToolSpec[], counter: TokenCounter): number {
  if (!specs.length) return 0;
  return counter.count(JSON.stringify(specs.map((s) => ({ type: 'function', function: s })))) + 8 * specs.length;
}

/** A server that cannot do native tool calls says so with a 4xx that names tools. */
function refusesTools(err: unknown): boolean {
  return err instanceof LlmError && err.status !== undefined && err.status >= 400 && err.status < 500 &&
    err.status !== 401 && err.status !== 403 && err.status !== 429 && /tool/i.test(err.message);
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  return a && b && a !== b ? AbortSignal.any([a, b]) : a ?? b;
}

/** A tool that ignores the signal must not hold the run: stop waiting for it on abort. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
    if (signal.aborted) {
      work.catch(() => undefined);
      return onAbort();
    }
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}
