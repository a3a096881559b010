// What `activate()` returns: the extension's own API, used by the extension-host integration tests
// (and by other extensions that want to drive Baton). Every call goes through the language server.
import type { AskResponse, IndexStatus, RunWorkflowResponse, SearchResponse, TraceEventDto } from '../protocol';

export interface BatonApi {
  /** Resolves once the language server has started. */
  ready(): Promise<void>;
  indexStatus(): Promise<IndexStatus>;
  /** Resolves when the index reaches 'indexed' (rejects on 'error' or after timeoutMs). */
  waitForIndexed(timeoutMs?: number): Promise<IndexStatus>;
  search(query: string, k?: number): Promise<SearchResponse>;
  /** Asks through the chat view's path (streamed into the view when it is open); onToken sees each delta. */
  ask(question: string, onToken?: (delta: string) => void): Promise<AskResponse>;
  runWorkflow(workflow: string, input: Record<string, unknown>): Promise<RunWorkflowResponse>;
  /** Traces of finished orchestrations, newest first (what the Trace view shows). */
  traces(): Array<{ runId: string; title: string; startedAt: string; events: TraceEventDto[] }>;
}
