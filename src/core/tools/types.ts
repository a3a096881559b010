// The shapes every tool and the registry share: a tool's declaration, the context it runs in and
// what one call returns. Types only, so tool modules and the registry never import each other.
import type { z } from 'zod';
import type { ApprovalRequest, EditorHost } from '../host/editorHost';
import type { JsonSchema } from '../llm/types';
import type { Retriever } from '../search/retriever';
import type { Trace } from '../trace/trace';

export interface ToolContext {
  host: EditorHost;
  /** For search_code; absent when the workspace has no index. */
  retriever?: Retriever | null;
  /** The same ignore settings the indexer uses (baton.config.json), for grep and find_files. */
  walk?: { extraIgnores?: string[]; maxFileBytes?: number };
  /** Variables commands run without (security/commandEnv.ts); default: OPENAI_API_KEY. */
  withholdEnv?: string[];
  trace?: Trace;
  signal?: AbortSignal;
}

/** A side-effecting tool's plan: what the user is asked to approve, and the state run() needs. */
export type Prepared<P> = { approval: ApprovalRequest; state: P } | { error: string };

interface ToolBase<A> {
  name: string;
  description: string;
  parameters: z.ZodType<A> | JsonSchema;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a list of tools mixes argument types; each tool checks its own
export interface ReadOnlyTool<A = any> extends ToolBase<A> {
  sideEffects: false;
  run(args: A, ctx: ToolContext): Promise<string>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a list of tools mixes argument types; each tool checks its own
export interface SideEffectTool<A = any, P = any> extends ToolBase<A> {
  sideEffects: true;
  /** Works out the change without making it; `{ error }` refuses without asking the user. */
  prepare(args: A, ctx: ToolContext): Promise<Prepared<P>>;
  /** Makes the approved change. */
  run(args: A, ctx: ToolContext, state: P): Promise<string>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a list of tools mixes argument types; each tool checks its own
export type Tool<A = any> = ReadOnlyTool<A> | SideEffectTool<A>;

export type ToolOutcome = 'ok' | 'error' | 'denied';

export interface ToolCallResult {
  outcome: ToolOutcome;
  /** Text for the tool message (raw: the prompt builder fences it as untrusted data). */
  content: string;
  truncated: boolean;
}
