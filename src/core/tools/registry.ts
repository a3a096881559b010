// The tools a model may call. Each tool declares JSON-schema parameters (from zod or plain JSON
// Schema) and whether it has side effects. `call` is the only way the agent loop runs a tool and it
// never throws: unknown tools, bad JSON, schema violations and tool failures all come back as
// error text the model can act on.
//
// Side-effecting tools work in two steps so approval cannot be skipped: `prepare` works out what
// would happen (a diff, a command line) without doing it, the registry asks the user through
// host.requestApproval, and only then calls `run` with what `prepare` returned. Read-only tools get
// a host whose applyEdit/runCommand throw, so a mislabelled tool cannot act unapproved through it.
import { z } from 'zod';
import type { ApprovalRequest, EditorHost } from '../host/editorHost';
import type { JsonSchema, ToolSpec } from '../llm/types';
import type { Retriever } from '../search/retriever';
import type { Trace } from '../trace/trace';
import { describeIssues, jsonSchemaOf } from '../prompt/structured';
// The tool modules import only types from this one, so there is no load-order cycle.
import { CODE_TOOLS } from './codeTools';
import { EDITOR_TOOLS } from './editorTools';

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

export interface RegistryOptions {
  /** Longer tool output is cut, with a note saying so. Default 24,000 characters. */
  maxOutputChars?: number;
}

interface Registered {
  tool: Tool;
  schema: z.ZodType;
  spec: ToolSpec;
}

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export class ToolRegistry {
  private readonly tools = new Map<string, Registered>();
  private readonly maxOutputChars: number;

  constructor(opts: RegistryOptions = {}) {
    this.maxOutputChars = opts.maxOutputChars ?? 24_000;
  }

  register(...tools: Tool[]): this {
    for (const tool of tools) {
      if (!TOOL_NAME.test(tool.name)) throw new Error(`invalid tool name ${JSON.stringify(tool.name)}`);
      if (this.tools.has(tool.name)) throw new Error(`tool ${tool.name} is already registered`);
      if (tool.sideEffects && typeof (tool as SideEffectTool).prepare !== 'function') {
        throw new Error(`side-effecting tool ${tool.name} must define prepare() so the user can approve it`);
      }
      const isZod = tool.parameters instanceof z.ZodType;
      const schema = isZod ? (tool.parameters as z.ZodType) : z.fromJSONSchema(tool.parameters as JsonSchema);
      const parameters = isZod ? jsonSchemaOf(schema, 'input') : (tool.parameters as JsonSchema);
      // Input-side JSON Schema leaves objects open (zod strips unknown keys); tell the model not to send any.
      if (isZod && parameters.type === 'object' && !('additionalProperties' in parameters)) parameters.additionalProperties = false;
      this.tools.set(tool.name, { tool, schema, spec: { name: tool.name, description: tool.description, parameters } });
    }
    return this;
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name)?.tool;
  }

  /** What the model is told about the tools. */
  specs(): ToolSpec[] {
    return [...this.tools.values()].map((r) => r.spec);
  }

  /** Validates and runs one tool call. Never throws. */
  async call(name: string, rawArgs: string, ctx: ToolContext): Promise<ToolCallResult> {
    const trace = ctx.trace;
    const started = performance.now();
    const finish = (outcome: ToolOutcome, text: string): ToolCallResult => {
      const { content, truncated } = this.cap(text);
      trace?.add('tool.result', name, { outcome, chars: text.length, truncated, ms: Math.round(performance.now() - started) });
      return { outcome, content, truncated };
    };
    trace?.add('tool.call', name, { args: rawArgs.length > 500 ? rawArgs.slice(0, 500) + '…' : rawArgs });

    const entry = this.tools.get(name);
    if (!entry) {
      return finish('error', `Error: there is no tool named ${JSON.stringify(name)}. Available tools: ${[...this.tools.keys()].join(', ')}.`);
    }
    let parsed: unknown;
    try {
      parsed = rawArgs.trim() === '' ? {} : JSON.parse(rawArgs);
    } catch (err) {
      return finish('error', `Error: the arguments for ${name} are not valid JSON (${(err as Error).message}). Send one JSON object that matches the tool's parameters.`);
    }
    const checked = entry.schema.safeParse(parsed);
    if (!checked.success) {
      return finish('error', `Error: invalid arguments for ${name}:\n${describeIssues(checked.error)}`);
    }
    const args = checked.data;
    const tool = entry.tool;
    try {
      if (!tool.sideEffects) return finish('ok', await tool.run(args, { ...ctx, host: readOnlyHost(ctx.host, name) }));
      const plan = await tool.prepare(args, { ...ctx, host: readOnlyHost(ctx.host, name) });
      if ('error' in plan) return finish('error', `Error: ${plan.error}`);
      ctx.signal?.throwIfAborted();
      const approved = await ctx.host.requestApproval(plan.approval).catch(() => false);
      if (approved !== true) {
        trace?.add('tool.denied', name, { title: plan.approval.title });
        return finish('denied', `The user declined: ${plan.approval.title}. Nothing was changed. Do not retry the same action; ask the user or try a different approach.`);
      }
      return finish('ok', await tool.run(args, ctx, plan.state));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return finish('error', ctx.signal?.aborted ? `Error: ${name} was cancelled.` : `Error: ${name} failed: ${message}`);
    }
  }

  private cap(text: string): { content: string; truncated: boolean } {
    if (text.length <= this.maxOutputChars) return { content: text, truncated: false };
    let cut = text.lastIndexOf('\n', this.maxOutputChars);
    if (cut < this.maxOutputChars * 0.8) cut = this.maxOutputChars;
    const note = `\n[output truncated: showing the first ${cut} of ${text.length} characters; narrow the request (a line range, a tighter pattern) to see the rest]`;
    return { content: text.slice(0, cut) + note, truncated: true };
  }
}

/** The host as read-only tools and prepare() see it: no edits, no commands. */
function readOnlyHost(host: EditorHost, tool: string): EditorHost {
  const refuse = (what: string) => () => Promise.reject(new Error(`${tool} may not ${what} without approval`));
  return {
    root: host.root,
    readFile: (p) => host.readFile(p),
    getDiagnostics: (p) => host.getDiagnostics(p),
    requestApproval: refuse('ask for approval itself'),
    applyEdit: refuse('edit files'),
    runCommand: refuse('run commands'),
  };
}

/** A registry holding Baton's core tools: search_code, grep, find_files, read_file, list_symbols,
 * get_diagnostics, propose_edit and run_command. */
export function createCoreToolRegistry(opts: RegistryOptions = {}): ToolRegistry {
  return new ToolRegistry(opts).register(...CODE_TOOLS, ...EDITOR_TOOLS);
}
