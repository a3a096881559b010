// A trace records every step of one orchestration (model attempts, retries, fallbacks, tool calls,
// workflow nodes) so a user can see what happened and why. Traces never hold API keys.

export type TraceKind =
  | 'llm.attempt' | 'llm.retry' | 'llm.fallback' | 'llm.done' | 'llm.error'
  | 'tool.call' | 'tool.result' | 'tool.denied'
  | 'retrieve' | 'prompt'
  | 'node.start' | 'node.end' | 'node.retry'
  | 'agent.step' | 'agent.stop'
  | 'note';

export interface TraceEvent {
  /** Milliseconds since the trace started. */
  at: number;
  kind: TraceKind;
  /** What the event is about: a model name, a tool name, a node id. */
  name?: string;
  /** Small JSON-safe details: tokens in/out, latency, status codes, error messages. */
  data?: Record<string, unknown>;
}

export class Trace {
  readonly events: TraceEvent[] = [];
  private readonly started = performance.now();

  add(kind: TraceKind, name?: string, data?: Record<string, unknown>): TraceEvent {
    const event: TraceEvent = { at: Math.round(performance.now() - this.started), kind };
    if (name !== undefined) event.name = name;
    if (data !== undefined) event.data = data;
    this.events.push(event);
    return event;
  }

  ofKind(kind: TraceKind): TraceEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }

  toJSON(): TraceEvent[] {
    return this.events;
  }
}
