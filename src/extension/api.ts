// What `activate()` returns: the extension's own API, used by the extension-host integration tests
// (and by other extensions that want to drive Baton). Every call goes through the language server.
import type { SetupKind, SetupResult, SetupUi } from './commands/modelSetupFlow';
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
  /** Configure Model ('chat', default) or Configure Embeddings ('embed') answered by `ui`; resolves
   * once the server runs with the new settings (undefined: the user stopped). */
  configureModel(ui: SetupUi, kind?: SetupKind): Promise<SetupResult | undefined>;
  /** Traces of finished orchestrations, newest first (what the Trace view shows). */
  traces(): Array<{ runId: string; title: string; startedAt: string; events: TraceEventDto[] }>;
}
