// Runs a workflow graph. Scheduling is by edges: when a node finishes, each outgoing edge either
// fires or is skipped (the other side of a branch, the error edge of a node that succeeded). A node
// runs once every forward edge into it has settled and at least one fired, so the targets of one
// node run in parallel and a node with several incoming edges waits for all of them (a join).
// A node whose incoming edges were all skipped is skipped too, and passes the skip on, so a join
// after a branch does not wait for the path that was not taken.
//
// Loops: an edge that closes a loop (a "back" edge, always through a branch node, see schema.ts)
// starts a new iteration at its target: the settled edges inside that iteration's scope (everything
// reachable from the target) are forgotten, while edges from outside the loop stay settled, so a
// join inside the loop does not wait for a node that will not run again. Branch nodes count their
// visits; past maxIterations they take their `exhausted` route or fail the run.
//
// Retry: a failed node runs again up to its `retry.attempts`, except on failures another attempt
// cannot fix (NodeConfigError) or must not make: an agent node whose tools had side effects
// (AgentNodeError with retryable false) would repeat approved edits and commands, so it fails at once.
import type { AgentEvent, AgentResult } from '../agent/loop';
import { sleep } from '../llm/retry';
import type { Trace } from '../trace/trace';
import { AgentNodeError, executeNode, NodeConfigError, route, type NodeContext, type WorkflowServices, type WorkflowState } from './nodes';
import { buildGraph, edgeKey, hasType, type BranchNodeDef, type GraphEdge, type NodeDef, type WorkflowDefinition, type WorkflowGraph } from './schema';
import { errorMessage } from '../../base/common/errors';

export interface WorkflowRunOptions {
  /** Initial values for declared state keys. */
  input: Record<string, unknown>;
  services: WorkflowServices;
  signal?: AbortSignal;
  /** Streamed tokens of llm nodes that set `stream: true`. */
  onToken?: (delta: string, info: { node: string }) => void;
  /** The tokens streamed so far by this node are void (it is being retried); a new answer follows. */
  onReset?: (info: { node: string; reason: string }) => void;
  /** Every event of an agent node's loop: steps, tool calls and results, its stop. */
  onAgentEvent?: (event: AgentEvent, info: { node: string }) => void;
  /** An agent node's full result, given before the node succeeds or fails (and on cancellation). */
  onAgentResult?: (result: AgentResult, info: { node: string }) => void;
}

export interface WorkflowRunResult {
  state: WorkflowState;
  /** The workflow's declared outputs. */
  outputs: Record<string, unknown>;
  trace: Trace;
  /** Things the user should know (e.g. retrieval degraded to lexical), deduplicated. */
  notices: string[];
}

/** A run that failed: names the workflow and, when one is to blame, the node. */
export class WorkflowRunError extends Error {
  override name = 'WorkflowRunError';
  /** The state when the run failed (set by runWorkflow): what the nodes before the failure wrote. */
  state?: WorkflowState;
  constructor(message: string, readonly workflow: string, readonly node?: string, override readonly cause?: unknown) {
    super(message);
  }
}

/** The run was cancelled through its signal. Named AbortError like every other cancellation. */
export class WorkflowCancelledError extends WorkflowRunError {
  override name = 'AbortError';
  constructor(workflow: string, node?: string) {
    super(`workflow "${workflow}" cancelled${node ? ` (in node "${node}")` : ''}`, workflow, node);
  }
}

type Outcome = { kind: 'ok' } | { kind: 'error'; error: WorkflowRunError } | { kind: 'route'; to: string };

export async function runWorkflow(def: WorkflowDefinition, opts: WorkflowRunOptions): Promise<WorkflowRunResult> {
  const state = initialState(def, opts.input);
  const execution = new Execution(def, buildGraph(def), state, opts);
  try {
    await execution.run();
  } catch (err) {
    if (err instanceof WorkflowRunError) err.state = state;
    throw err;
  }
  const outputs = Object.fromEntries(def.outputs.map((k) => [k, state[k]]));
  return { state, outputs, trace: opts.services.trace, notices: execution.notices };
}

function initialState(def: WorkflowDefinition, input: Record<string, unknown>): WorkflowState {
  const state: WorkflowState = {};
  const problems: string[] = [];
  for (const [key, decl] of Object.entries(def.state)) {
    if (decl.default !== undefined) state[key] = structuredClone(decl.default);
  }
  for (const [key, value] of Object.entries(input)) {
    const decl = def.state[key];
    if (!decl) problems.push(`unknown input "${key}" (declared: ${Object.keys(def.state).join(', ') || 'none'})`);
    else if (value !== undefined && !hasType(value, decl.type)) problems.push(`input "${key}" must be of type ${decl.type}`);
    else if (value !== undefined) state[key] = value;
  }
  for (const [key, decl] of Object.entries(def.state)) {
    if (decl.required && state[key] === undefined) problems.push(`input "${key}" is required`);
  }
  if (problems.length) throw new WorkflowRunError(`workflow "${def.id}": ${problems.join('; ')}`, def.id);
  return state;
}

class Execution {
  readonly notices: string[] = [];
  /** Settled forward edges of the current iteration. */
  private readonly settled = new Map<string, 'fired' | 'skipped'>();
  private readonly running = new Map<string, { streamed: { tokens: number } }>();
  private readonly visits = new Map<string, number>();
  /** Aborted by the caller's signal or by the run failing, so in-flight nodes stop too. */
  private readonly controller = new AbortController();
  private finished = false;
  private resolve!: () => void;
  private reject!: (err: unknown) => void;

  constructor(
    private readonly def: WorkflowDefinition,
    private readonly graph: WorkflowGraph,
    private readonly state: WorkflowState,
    private readonly opts: WorkflowRunOptions,
  ) {}

  private get trace(): Trace {
    return this.opts.services.trace;
  }

  run(): Promise<void> {
    const signal = this.opts.signal;
    const onAbort = () => this.fail(new WorkflowCancelledError(this.def.id, [...this.running.keys()][0]));
    const done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (signal?.aborted) onAbort();
    else {
      signal?.addEventListener('abort', onAbort, { once: true });
      this.launch(this.def.start);
      this.checkDone();
    }
    return done.finally(() => signal?.removeEventListener('abort', onAbort));
  }

  private fail(err: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.controller.abort(err);
    this.reject(err);
  }

  private checkDone(): void {
    if (!this.finished && this.running.size === 0) {
      this.finished = true;
      this.resolve();
    }
  }

  private launch(id: string): void {
    if (this.finished) return;
    if (this.running.has(id)) {
      // A loop came back round while the previous iteration's node still runs.
      return this.fail(new WorkflowRunError(`workflow "${this.def.id}": node "${id}" was started again while still running (a loop re-entered it)`, this.def.id, id));
    }
    const slot = { streamed: { tokens: 0 } };
    this.running.set(id, slot);
    this.execute(this.graph.nodes.get(id)!, slot).then(
      (outcome) => {
        this.running.delete(id);
        if (this.finished) return;
        this.complete(id, outcome);
        this.checkDone();
      },
      (err) => {
        this.running.delete(id);
        this.fail(err);
      },
    );
  }

  private complete(id: string, outcome: Outcome): void {
    const edges = this.graph.out.get(id)!;
    if (outcome.kind === 'route') {
      for (const e of edges) (e.to === outcome.to ? this.fire(e) : this.skip(e));
    } else if (outcome.kind === 'ok') {
      for (const e of edges) (e.on === 'error' ? this.skip(e) : this.fire(e));
    } else {
      if (!edges.some((e) => e.on === 'error')) return this.fail(outcome.error);
      this.state.error = { node: id, message: outcome.error.message };
      for (const e of edges) (e.on === 'error' ? this.fire(e) : this.skip(e));
    }
  }

  private fire(e: GraphEdge): void {
    if (this.finished) return;
    if (e.back) return this.startIteration(e.to);
    this.settle(e, 'fired');
  }

  private skip(e: GraphEdge): void {
    if (!e.back) this.settle(e, 'skipped');
  }

  private settle(e: GraphEdge, how: 'fired' | 'skipped'): void {
    this.settled.set(edgeKey(e), how);
    const incoming = this.graph.in.get(e.to)!;
    const states = incoming.map((i) => this.settled.get(edgeKey(i)));
    if (states.some((s) => s === undefined)) return; // a join still waiting
    if (states.includes('fired')) return this.launch(e.to);
    this.trace.add('node.end', e.to, { kind: this.graph.nodes.get(e.to)!.kind, status: 'skipped', latencyMs: 0 });
    for (const out of this.graph.out.get(e.to)!) this.skip(out);
  }

  private startIteration(target: string): void {
    const scope = this.graph.reach.get(target)!;
    for (const id of scope) {
      for (const e of this.graph.in.get(id)!) if (scope.has(e.from)) this.settled.delete(edgeKey(e));
    }
    this.launch(target);
  }

  private cancelled(node: string): WorkflowCancelledError {
    return new WorkflowCancelledError(this.def.id, node);
  }

  private async execute(node: NodeDef, slot: { streamed: { tokens: number } }): Promise<Outcome> {
    const signal = this.controller.signal;
    if (signal.aborted) throw this.cancelled(node.id);
    if (node.kind === 'branch') return this.branch(node);

    const attempts = node.retry?.attempts ?? 1;
    const backoffMs = node.retry?.backoffMs ?? 0;
    for (let attempt = 1; ; attempt++) {
      this.trace.add('node.start', node.id, { kind: node.kind, attempt });
      const started = performance.now();
      const ctx: NodeContext = {
        workflow: this.def.id,
        state: this.state,
        services: this.opts.services,
        signal,
        onToken: this.opts.onToken,
        onReset: this.opts.onReset,
        onAgentEvent: this.opts.onAgentEvent,
        onAgentResult: this.opts.onAgentResult,
        writes: {},
        report: {},
        streamed: slot.streamed,
        notice: (text) => {
          if (!this.notices.includes(text)) this.notices.push(text);
        },
      };
      try {
        const value = await executeNode(node, ctx);
        if (signal.aborted) throw signal.reason;
        if ('output' in node && node.output) this.write(node.output, value);
        for (const [key, extra] of Object.entries(ctx.writes)) this.write(key, extra);
        this.trace.add('node.end', node.id, { kind: node.kind, status: 'ok', attempt, latencyMs: ms(started), ...ctx.report });
        return { kind: 'ok' };
      } catch (err) {
        if (signal.aborted) {
          this.trace.add('node.end', node.id, { kind: node.kind, status: 'cancelled', attempt, latencyMs: ms(started), ...ctx.report });
          throw this.cancelled(node.id);
        }
        const message = errorMessage(err);
        this.trace.add('node.end', node.id, { kind: node.kind, status: 'error', attempt, latencyMs: ms(started), error: message, ...ctx.report });
        const retryable = !(err instanceof NodeConfigError) && !(err instanceof WorkflowRunError) && !(err instanceof AgentNodeError && !err.retryable);
        if (!retryable && attempt < attempts && err instanceof AgentNodeError) {
          this.trace.add('note', node.id, { retrySkipped: ctx.report.noRetry ?? 'not retryable', attempt });
        }
        if (retryable && attempt < attempts) {
          const delayMs = backoffMs * 2 ** (attempt - 1);
          this.trace.add('node.retry', node.id, { attempt, nextAttempt: attempt + 1, delayMs, error: message });
          if (slot.streamed.tokens > 0) {
            this.opts.onReset?.({ node: node.id, reason: 'retry' });
            slot.streamed.tokens = 0;
          }
          try {
            await sleep(delayMs, signal);
          } catch {
            throw this.cancelled(node.id);
          }
          continue;
        }
        const after = attempt > 1 ? ` after ${attempt} attempts` : '';
        return {
          kind: 'error',
          error: new WorkflowRunError(`workflow "${this.def.id}": node "${node.id}" (${node.kind}) failed${after}: ${message}`, this.def.id, node.id, err),
        };
      }
    }
  }

  private branch(node: BranchNodeDef): Outcome {
    this.trace.add('node.start', node.id, { kind: 'branch', attempt: 1 });
    const started = performance.now();
    const visits = (this.visits.get(node.id) ?? 0) + 1;
    this.visits.set(node.id, visits);
    const max = node.maxIterations ?? this.def.maxIterations;
    if (visits > max) {
      if (node.exhausted) {
        this.trace.add('node.end', node.id, { kind: 'branch', status: 'ok', latencyMs: ms(started), route: node.exhausted, case: 'exhausted', visits });
        return { kind: 'route', to: node.exhausted };
      }
      const message = `workflow "${this.def.id}": node "${node.id}" (branch) was reached ${visits} times, more than its maxIterations (${max}); the loop through it did not end`;
      this.trace.add('node.end', node.id, { kind: 'branch', status: 'error', latencyMs: ms(started), error: message, visits });
      throw new WorkflowRunError(message, this.def.id, node.id);
    }
    const next = route(node, this.state);
    this.trace.add('node.end', node.id, { kind: 'branch', status: 'ok', latencyMs: ms(started), route: next.to, case: next.case, visits });
    return { kind: 'route', to: next.to };
  }

  private write(key: string, value: unknown): void {
    const decl = this.def.state[key];
    if (decl && !hasType(value, decl.type)) {
      throw new NodeConfigError(`output "${key}" must be of type ${decl.type}, got ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}`);
    }
    this.state[key] = value;
  }
}

function ms(started: number): number {
  return Math.round(performance.now() - started);
}
