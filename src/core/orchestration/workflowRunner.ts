// `baton run WORKFLOW`: runs a built-in or user workflow (.baton/workflows) by id with the
// workspace's services — index, model, tools behind the host's approvals.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, type BatonConfig } from '../config/config';
import { openIndexForSearch, batonDirOf, type OpenedIndex } from '../indexing/workspaceIndex';
import { LlmClient } from '../llm/client';
import { createCoreToolRegistry } from '../tools/allTools';
import type { ToolRegistry } from '../tools/registry';
import type { Retriever } from '../search/retriever';
import type { WorkflowServices } from '../workflow/nodes';
import { loadWorkflows } from '../workflow/loader';
import { runWorkflow } from '../workflow/engine';
import { Trace, type TraceEvent } from '../trace/trace';
import type { EditorHost } from '../host/editorHost';
import type { AgentEvent } from '../agent/loop';
import { withheldVariables } from '../security/commandEnv';
import type { WaitListener } from '../llm/waiting';

export interface RunWorkflowOptions {
  host: EditorHost;
  workflow: string;
  input: Record<string, unknown>;
  signal?: AbortSignal;
  onToken?: (delta: string) => void;
  /** The tokens streamed so far are void (a node or model call is retried); a new answer follows. */
  onReset?: (reason: string) => void;
  /** Events of agent nodes: tool calls and results, steps. */
  onEvent?: (event: AgentEvent) => void;
  onNotice?: (message: string) => void;
  /** Every few seconds while a model call is silent (no reply yet, or a pause before a retry). */
  onWait?: WaitListener;
  env?: Record<string, string | undefined>;
  /** The user trusts this workspace's own files: its config file and .baton/workflows apply. Default false. */
  trusted?: boolean;
  /** The configuration to use instead of resolving it (a server merges its settings in). */
  config?: BatonConfig;
  /** An index the caller keeps open (a server's warm index; null: none yet): used as is, not closed here. */
  index?: OpenedIndex | null;
  /** Where the run's trace events go; a caller that passes its own keeps them when the run throws. */
  trace?: Trace;
}

export interface RunWorkflowResult {
  outputs: Record<string, unknown>;
  notices: string[];
  trace: TraceEvent[];
}

export class UnknownWorkflowError extends Error {}

export async function runNamedWorkflow(opts: RunWorkflowOptions): Promise<RunWorkflowResult> {
  const root = opts.host.root;
  const trusted = opts.trusted ?? false;
  const config = opts.config ?? resolveConfig(root, { trusted, env: opts.env });
  const tools = createCoreToolRegistry();
  const set = await loadWorkflows(root, { tools: tools.specs().map((t) => t.name), trusted });
  for (const notice of set.notices) opts.onNotice?.(notice);
  for (const error of set.errors) opts.onNotice?.(error.message);
  const entry = set.workflows.get(opts.workflow);
  if (!entry) {
    throw new UnknownWorkflowError(`no workflow "${opts.workflow}" (available: ${[...set.workflows.keys()].sort().join(', ')})`);
  }

  // Each service is optional: a workflow without retrieve/llm nodes runs without them, and a node
  // that needs a missing one fails with a message naming it.
  let index: OpenedIndex | null = opts.index ?? null;
  if (opts.index !== undefined) {
    if (!index) opts.onNotice?.('no index yet: retrieve nodes return nothing until indexing finishes');
  } else if (existsSync(join(batonDirOf(root), 'manifest.json'))) {
    index = await openIndexForSearch(root, { trusted, configured: config.embedder });
    for (const notice of await index.notices()) opts.onNotice?.(notice);
  }
  else opts.onNotice?.('no index: retrieve nodes return nothing until `baton index` runs');
  let llm: LlmClient | undefined;
  try {
    llm = await LlmClient.fromConfig(config.llm, opts.env ?? process.env, { onWait: opts.onWait });
  } catch (err) {
    opts.onNotice?.(`no model: ${(err as Error).message}`);
  }
  const trace = opts.trace ?? new Trace();
  try {
    const result = await runWorkflow(entry.definition, {
      input: opts.input,
      services: workspaceServices(opts.host, config, { llm, retriever: index?.retriever ?? null, tools, trace }),
      signal: opts.signal,
      onToken: opts.onToken ? (delta) => opts.onToken!(delta) : undefined,
      onReset: opts.onReset && ((info) => opts.onReset!(info.reason)),
      onAgentEvent: opts.onEvent && ((event) => opts.onEvent!(event)),
    });
    return { outputs: result.outputs, notices: result.notices, trace: trace.events };
  } finally {
    if (opts.index === undefined) await index?.close();
  }
}

/** The services a workflow run gets in a workspace (one shape for `ask` and `baton run`): tools see
 * the same index and the same ignore settings as the indexer. */
export function workspaceServices(
  host: EditorHost,
  config: BatonConfig,
  parts: { llm?: LlmClient; retriever: Retriever | null; tools: ToolRegistry; trace: Trace },
): WorkflowServices {
  return {
    ...parts,
    toolContext: {
      host, retriever: parts.retriever, walk: { extraIgnores: config.ignore, maxFileBytes: config.maxFileBytes }, withholdEnv: withheldVariables(config),
    },
  };
}
