// `baton/ask` and `baton/runWorkflow`: one core run each, on the warm index, streaming
// `baton/runProgress` while it runs and sending its `baton/trace` when it is over. Cancelled runs
// (`baton/cancel` or $/cancelRequest) answer with what was streamed so far and `cancelled: true`.
import type { CancellationToken, Connection } from 'vscode-languageserver/node';
import type { AgentEvent } from '../core/agent/loop';
import { describeWait, type LlmWait } from '../core/llm/waiting';
import type { EditorHost } from '../core/host/editorHost';
import { ConversationNotFoundError } from '../core/memory/conversationStore';
import { ask } from '../core/orchestration/orchestrator';
import { Trace } from '../core/trace/trace';
import { runNamedWorkflow, UnknownWorkflowError } from '../core/orchestration/workflowRunner';
import type { TraceEventDto, AskParams, AskResponse, RunProgress, RunWorkflowParams, RunWorkflowResponse } from '../protocol';
import type { IndexService } from './indexService';
import type { IndexLease } from './warmIndex';
import { ClientError, notify } from './rpc';
import { forEditor } from './wording';
import type { RunRegistry } from './runs';
import type { Effective } from './settings';
import { redactTraceEvents } from '../core/security/outbound';

export interface OrchestrationContext {
  connection: Connection;
  runs: RunRegistry;
  index: IndexService;
  host: EditorHost;
  effective: () => Effective;
  /** Notices a server says once, not on every run (what an untrusted workspace's files did not do). */
  saidOnce: Set<string>;
}

/** What a run streams, and what it had streamed when it stopped. */
interface RunIO {
  signal: AbortSignal;
  trace: Trace;
  /** The answer streamed so far (emptied by a reset). */
  partial(): string;
  onToken: (delta: string) => void;
  onReset: (reason: string) => void;
  onEvent: (event: AgentEvent) => void;
  onNotice: (message: string) => void;
  onWait: (wait: LlmWait) => void;
}

/** `params` are validated (rpc.ts, protocol.ts's schemas): shapes and sizes need no checking here. */
export async function handleAsk(ctx: OrchestrationContext, params: AskParams, token: CancellationToken): Promise<AskResponse> {
  return withRun(ctx, params.runId, clip(params.question, 80), token, async (io) => {
    const lease = await ctx.index.acquire(io.signal);
    try {
      const effective = ctx.effective();
      sayEffectiveProblems(ctx, effective, io);
      const result = await ask({
        host: ctx.host,
        question: params.question,
        selection: params.selection,
        format: 'markdown',
        model: params.model || undefined,
        conversationId: params.conversationId || undefined,
        signal: io.signal,
        onToken: io.onToken,
        onEvent: (e) => (e.type === 'reset' ? io.onReset(e.reason) : io.onEvent(e)),
        onNotice: io.onNotice,
        onWait: io.onWait,
        env: effective.env,
        trusted: effective.trusted,
        config: effective.config,
        index: lease.index,
        trace: io.trace,
      });
      const response: AskResponse = {
        answer: result.answer, sources: result.sources, mode: result.mode, conversationId: result.conversationId, trace: result.trace,
      };
      if (result.note) response.note = forEditor(result.note);
      if (io.signal.aborted) response.cancelled = true;
      return response;
    } catch (err) {
      if (err instanceof ConversationNotFoundError) throw new ClientError(err.message);
      throw err;
    } finally {
      lease.release();
    }
  }, (io) => ({
    answer: io.partial(), sources: [], mode: 'agent', note: 'cancelled', conversationId: params.conversationId ?? '', trace: io.trace.events, cancelled: true,
  }));
}

export async function handleRunWorkflow(ctx: OrchestrationContext, params: RunWorkflowParams, token: CancellationToken): Promise<RunWorkflowResponse> {
  const { input } = params;
  return withRun(ctx, params.runId, `workflow ${params.workflow}`, token, async (io) => {
    // Retrieval is optional for a workflow: without an index its retrieve nodes return nothing.
    let lease: IndexLease | null = null;
    try {
      lease = await ctx.index.acquire(io.signal);
    } catch (err) {
      if (io.signal.aborted) throw err;
      io.onNotice(`no index: ${(err as Error).message}`);
    }
    try {
      const effective = ctx.effective();
      sayEffectiveProblems(ctx, effective, io);
      const result = await runNamedWorkflow({
        host: ctx.host,
        workflow: params.workflow,
        input,
        signal: io.signal,
        onToken: io.onToken,
        onReset: io.onReset,
        onEvent: io.onEvent,
        onNotice: io.onNotice,
        onWait: io.onWait,
        env: effective.env,
        trusted: effective.trusted,
        config: effective.config,
        index: lease?.index ?? null,
        trace: io.trace,
      });
      const response: RunWorkflowResponse = { outputs: result.outputs, notices: result.notices.map(forEditor), trace: result.trace };
      if (io.signal.aborted) response.cancelled = true;
      return response;
    } catch (err) {
      if (err instanceof UnknownWorkflowError) throw new ClientError(err.message);
      throw err;
    } finally {
      lease?.release();
    }
  }, (io) => ({ outputs: io.partial() ? { answer: io.partial() } : {}, notices: ['cancelled'], trace: io.trace.events, cancelled: true }));
}

/** Registers the run, streams its progress, answers a cancellation with `cancelled(io)`, and sends
 * the trace however the run ended. */
async function withRun<T extends { trace: TraceEventDto[] }>(
  ctx: OrchestrationContext, runId: string, title: string, token: CancellationToken,
  body: (io: RunIO) => Promise<T>, cancelled: (io: RunIO) => T,
): Promise<T> {
  // A trace leaves the server with the response and as its own notification: secrets redacted.
  const outgoing = async (r: T): Promise<T> => ({ ...r, trace: await redactTraceEvents(r.trace) });
  const run = ctx.runs.start(runId, token);
  const startedAt = new Date().toISOString();
  const send = (p: RunProgress) => notify(ctx.connection, 'baton/runProgress', p);
  let partial = '';
  const io: RunIO = {
    signal: run.signal,
    trace: new Trace(),
    partial: () => partial,
    onToken: (text) => {
      partial += text;
      send({ runId, kind: 'token', text });
    },
    onReset: (reason) => {
      partial = '';
      send({ runId, kind: 'reset', reason });
    },
    onEvent: (e) => {
      if (e.type === 'tool-call') send({ runId, kind: 'tool', name: e.name, status: 'call', detail: clip(e.arguments, 300) });
      if (e.type === 'tool-result') {
        const status = e.outcome === 'repeated' ? 'error' : e.outcome;
        send({ runId, kind: 'tool', name: e.name, status, detail: clip(e.content.split('\n')[0] ?? '', 300) });
      }
    },
    onNotice: (message) => send({ runId, kind: 'notice', message: forEditor(message) }),
    onWait: (w) => send({
      runId, kind: 'waiting', model: w.model, baseURL: w.baseURL, seconds: Math.round(w.waitedMs / 1000), message: describeWait(w), ...(w.done ? { done: true } : {}),
    }),
  };
  try {
    return await outgoing(await body(io));
  } catch (err) {
    if (run.signal.aborted) return outgoing(cancelled(io));
    throw err;
  } finally {
    run.end();
    const events = await redactTraceEvents(io.trace.events).catch(() => []);
    notify(ctx.connection, 'baton/trace', { runId, title, startedAt, events });
  }
}

function sayEffectiveProblems(ctx: OrchestrationContext, effective: Effective, io: RunIO): void {
  if (effective.trustNotice && !ctx.saidOnce.has(effective.trustNotice)) {
    ctx.saidOnce.add(effective.trustNotice);
    io.onNotice(effective.trustNotice);
  }
  for (const problem of effective.problems) io.onNotice(problem);
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
