// The workflow definition format (what built-ins and `.baton/workflows/*.json` files contain), its
// validation, and the graph both validation and the engine work from.
//
// Validation happens in two passes: zod checks each field's shape (unknown keys are rejected, so a
// typo such as "ouput" is caught), then cross-checks look at the graph as a whole: edges to missing
// nodes, unreachable nodes, loops that no branch node bounds, template paths that name no state
// key. Every problem is reported as `file: node "id", field: message`, all of them at once.
import { z } from 'zod';
import { OUTPUT_SCHEMAS, isOutputSchemaName } from './outputSchemas';
import { errorMessage } from '../../base/common/errors';

// ---------------------------------------------------------------------------------------------
// Templates and state paths

/** A dotted path into the state: `question`, `selection.path`, `results.0.text`. */
export const PATH_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/;
const TEMPLATE_RE = /\{\{([^{}]*)\}\}/g;
/** Keys that could reach Object.prototype through a lookup or a write. */
const RESERVED = new Set(['__proto__', 'prototype', 'constructor']);

/** The `{{...}}` references in a template, in order, as written (trimmed). */
export function templateRefs(template: string): string[] {
  return [...template.matchAll(TEMPLATE_RE)].map((m) => m[1].trim());
}

function pathProblem(path: string): string | null {
  if (!PATH_RE.test(path)) return `${JSON.stringify(path)} is not a state path (letters, digits and _ separated by dots)`;
  const bad = path.split('.').find((s) => RESERVED.has(s));
  return bad ? `${JSON.stringify(path)} uses the reserved name ${bad}` : null;
}

// ---------------------------------------------------------------------------------------------
// Shapes

const Id = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'ids start with a letter and use letters, digits, _ and -');
const StateKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'state keys use letters, digits and _')
  .refine((k) => !RESERVED.has(k), 'reserved name');
const Path = z.string().refine((p) => pathProblem(p) === null, { message: 'not a state path (letters, digits and _ separated by dots)' });

const Retry = z.strictObject({
  /** Total tries including the first. */
  attempts: z.number().int().min(1).max(10),
  /** Wait before the first retry; doubles for each further one. */
  backoffMs: z.number().int().min(0).max(60_000).default(0),
});

const base = { id: Id, description: z.string().optional() };
const retriable = { ...base, retry: Retry.optional() };

const RetrieveNode = z.strictObject({
  ...retriable,
  kind: z.literal('retrieve'),
  query: z.string(),
  k: z.number().int().min(1).max(50).optional(),
  mode: z.enum(['hybrid', 'lexical', 'dense']).optional(),
  output: StateKey,
});

const PromptMessage = z.strictObject({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });
const PromptNode = z.strictObject({
  ...retriable,
  kind: z.literal('prompt'),
  /** Built mode: system + user + fenced context within the model's budget (prompt/builder). */
  system: z.string().optional(),
  user: z.string().optional(),
  /** State paths holding context items ({path, text, startLine?, endLine?, score?}) or arrays of them. */
  context: z.union([Path, z.array(Path)]).optional(),
  history: Path.optional(),
  examples: z.array(z.strictObject({ user: z.string(), assistant: z.string() })).optional(),
  /** Raw mode: every message templated as written. */
  messages: z.array(PromptMessage).min(1).optional(),
  /** Whose context window the built prompt must fit. */
  role: z.enum(['chat', 'fast']).optional(),
  output: StateKey,
}).refine((n) => (n.user !== undefined) !== (n.messages !== undefined), {
  message: 'a prompt node has either "user" (with optional system/context/history/examples) or "messages", not both',
}).refine((n) => n.messages === undefined || (n.system ?? n.context ?? n.history ?? n.examples) === undefined, {
  message: '"messages" cannot be combined with system/context/history/examples',
});

const LlmNode = z.strictObject({
  ...retriable,
  kind: z.literal('llm'),
  /** State path of the ChatMessage[] to send (a prompt node's output). */
  messages: Path,
  role: z.enum(['chat', 'fast']).optional(),
  task: z.enum(['edit', 'chat', 'brainstorm']).optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().min(1).optional(),
  /** Ask for a JSON object and store it parsed. */
  json: z.boolean().optional(),
  /** Ask for a named structured output (outputSchemas.ts): schema-constrained where the server
   * supports it, validated, with one repair round; the validated object is stored. */
  schema: z.string().refine(isOutputSchemaName, { message: `unknown output schema (known: ${Object.keys(OUTPUT_SCHEMAS).join(', ')})` }).optional(),
  /** Send this node's tokens to the run's onToken. */
  stream: z.boolean().optional(),
  output: StateKey,
});

const ToolNode = z.strictObject({
  ...retriable,
  kind: z.literal('tool'),
  tool: z.string().min(1),
  /** JSON arguments; strings are templates, and a string that is exactly `{{path}}` passes the value as is. */
  args: z.record(z.string(), z.unknown()).optional(),
  /** Store error text instead of failing the node when the tool reports an error. */
  allowError: z.boolean().optional(),
  output: StateKey,
});

const CodeNode = z.strictObject({
  ...retriable,
  kind: z.literal('code'),
  /** A function registered in code by name (never code from the workflow file). */
  fn: z.string().min(1),
  args: z.record(z.string(), z.unknown()).optional(),
  output: StateKey.optional(),
});

/**
 * The agent loop as one node: the model answers `question`, calling tools as it needs them. Per-node
 * retry re-runs it only when none of its tools had side effects (an approved edit or command is
 * never repeated, a refused one never asked again).
 */
const AgentNode = z.strictObject({
  ...retriable,
  kind: z.literal('agent'),
  /** Templates, like a prompt node's user and system. */
  question: z.string(),
  system: z.string().optional(),
  /** State paths holding context items (retrieval results) or arrays of them. */
  context: z.union([Path, z.array(Path)]).optional(),
  history: Path.optional(),
  /** The tools it may call, by name; default every tool of the run's registry. [] gives none. */
  tools: z.array(z.string().min(1)).optional(),
  role: z.enum(['chat', 'fast']).optional(),
  task: z.enum(['edit', 'chat', 'brainstorm']).optional(),
  /** Model calls at most (default 8). */
  maxSteps: z.number().int().min(1).max(50).optional(),
  /** Prompt plus completion tokens over all steps. */
  maxTotalTokens: z.number().int().min(1).optional(),
  /** Send the agent's tokens to the run's onToken. */
  stream: z.boolean().optional(),
  /** The answer. */
  output: StateKey,
  /** Where to put { stopReason, note?, error?, steps, toolCalls, usage, mode }. */
  details: StateKey.optional(),
});

const Condition = z.strictObject({
  path: Path,
  equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
  contains: z.union([z.string(), z.number()]).optional(),
  exists: z.boolean().optional(),
  matches: z.string().optional(),
  flags: z.string().regex(/^[imsu]*$/, 'regex flags may be i, m, s, u').optional(),
}).refine((c) => ['equals', 'contains', 'exists', 'matches'].filter((k) => k in c).length === 1, {
  message: 'a condition has exactly one of equals, contains, exists, matches',
});

const BranchNode = z.strictObject({
  ...base,
  kind: z.literal('branch'),
  /** First matching case wins. */
  cases: z.array(z.strictObject({ when: Condition, to: Id })).min(1),
  default: Id,
  /** Visits allowed before the loop counts as runaway (default: the workflow's maxIterations). */
  maxIterations: z.number().int().min(1).max(1000).optional(),
  /** Where to go once maxIterations is exceeded; without it the run fails. */
  exhausted: Id.optional(),
});

export const NODE_SCHEMAS = {
  retrieve: RetrieveNode, prompt: PromptNode, llm: LlmNode, tool: ToolNode, code: CodeNode, branch: BranchNode, agent: AgentNode,
} as const;
export type NodeKind = keyof typeof NODE_SCHEMAS;
export const NODE_KINDS = Object.keys(NODE_SCHEMAS) as NodeKind[];

export type RetrieveNodeDef = z.output<typeof RetrieveNode>;
export type PromptNodeDef = z.output<typeof PromptNode>;
export type LlmNodeDef = z.output<typeof LlmNode>;
export type ToolNodeDef = z.output<typeof ToolNode>;
export type CodeNodeDef = z.output<typeof CodeNode>;
export type BranchNodeDef = z.output<typeof BranchNode>;
export type AgentNodeDef = z.output<typeof AgentNode>;
export type Condition = z.output<typeof Condition>;
export type NodeDef = RetrieveNodeDef | PromptNodeDef | LlmNodeDef | ToolNodeDef | CodeNodeDef | BranchNodeDef | AgentNodeDef;

const StateDecl = z.strictObject({
  type: z.enum(['string', 'number', 'boolean', 'object', 'array', 'any']).default('any'),
  /** Must be given in the run's input. */
  required: z.boolean().optional(),
  default: z.unknown().optional(),
  description: z.string().optional(),
});
export type StateDecl = z.output<typeof StateDecl>;
export type StateType = StateDecl['type'];

const Edge = z.strictObject({
  from: Id,
  to: z.union([Id, z.array(Id).min(1)]),
  /** `error`: taken only when `from` fails after its retries (the failure is in state.error). */
  on: z.enum(['success', 'error']).default('success'),
});

const Workflow = z.strictObject({
  $schema: z.string().optional(),
  id: Id,
  name: z.string().optional(),
  description: z.string().optional(),
  /** Declared state keys: typed, optionally required in the input or defaulted. */
  state: z.record(StateKey, StateDecl).default({}),
  start: Id,
  nodes: z.array(z.looseObject({})).min(1), // each node is checked against its kind's schema below
  edges: z.array(Edge).default([]),
  /** State keys returned as the run's outputs. */
  outputs: z.array(StateKey).default([]),
  /** Default bound for branch nodes on a loop. */
  maxIterations: z.number().int().min(1).max(1000).default(10),
});

export type WorkflowDefinition = Omit<z.output<typeof Workflow>, 'nodes'> & { nodes: NodeDef[] };
/** What a file may contain: defaults may be left out. */
export type WorkflowInput = z.input<typeof Workflow>;

// ---------------------------------------------------------------------------------------------
// Errors

export interface WorkflowIssue {
  file?: string;
  node?: string;
  /** Where in the node (or the workflow, when no node): `query`, `cases[0].when.matches`, `edges[2].to`. */
  field?: string;
  message: string;
}

export function formatIssue(issue: WorkflowIssue): string {
  const where = [issue.file, issue.node !== undefined ? `node "${issue.node}"` : undefined, issue.field ? `field "${issue.field}"` : undefined]
    .filter(Boolean).join(', ');
  return where ? `${where}: ${issue.message}` : issue.message;
}

export class WorkflowValidationError extends Error {
  override name = 'WorkflowValidationError';
  constructor(readonly issues: WorkflowIssue[], readonly file?: string) {
    super(issues.map(formatIssue).join('\n'));
  }
}

function fieldOf(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

function zodIssues(error: z.ZodError, file: string | undefined, node: string | undefined, prefix: PropertyKey[] = []): WorkflowIssue[] {
  return error.issues.map((i) => {
    const path = [...prefix, ...i.path];
    const missing = i.code === 'invalid_type' && /received undefined/.test(i.message);
    return { file, node, field: path.length ? fieldOf(path) : undefined, message: missing ? 'is required' : i.message };
  });
}

// ---------------------------------------------------------------------------------------------
// The graph

export interface GraphEdge {
  from: string;
  to: string;
  /** success/error edges come from `edges`; case edges are a branch node's routes. */
  on: 'success' | 'error' | 'case';
  /** Closes a loop (found by depth-first search from start); joins never wait on it. */
  back: boolean;
  /** Where it was declared, for messages. */
  field: string;
}

export interface WorkflowGraph {
  nodes: Map<string, NodeDef>;
  out: Map<string, GraphEdge[]>;
  /** Incoming forward (non-back) edges: a node runs once all of them are settled. */
  in: Map<string, GraphEdge[]>;
  /** Nodes reachable from each node over forward edges, itself included (a loop iteration's scope). */
  reach: Map<string, Set<string>>;
  reachable: Set<string>;
}

export function edgeKey(e: GraphEdge): string {
  return `${e.from}\0${e.to}\0${e.on}`;
}

/** Builds the graph; edges naming missing nodes are left out (validation reports them). */
export function buildGraph(def: Pick<WorkflowDefinition, 'nodes' | 'edges' | 'start'>): WorkflowGraph {
  const nodes = new Map(def.nodes.map((n) => [n.id, n]));
  const out = new Map<string, GraphEdge[]>([...nodes.keys()].map((id) => [id, []]));
  const seen = new Set<string>();
  const add = (e: Omit<GraphEdge, 'back'>) => {
    const key = `${e.from}\0${e.to}\0${e.on}`;
    if (!nodes.has(e.from) || !nodes.has(e.to) || seen.has(key)) return;
    seen.add(key);
    out.get(e.from)!.push({ ...e, back: false });
  };
  def.edges.forEach((e, i) => {
    for (const to of Array.isArray(e.to) ? e.to : [e.to]) add({ from: e.from, to, on: e.on, field: `edges[${i}]` });
  });
  for (const n of def.nodes) {
    if (n.kind !== 'branch') continue;
    n.cases.forEach((c, i) => add({ from: n.id, to: c.to, on: 'case', field: `cases[${i}].to` }));
    add({ from: n.id, to: n.default, on: 'case', field: 'default' });
    if (n.exhausted) add({ from: n.id, to: n.exhausted, on: 'case', field: 'exhausted' });
  }

  // Depth-first search from start: an edge to a node still on the stack closes a loop.
  const reachable = new Set<string>();
  const onStack = new Set<string>();
  const visit = (id: string) => {
    reachable.add(id);
    onStack.add(id);
    for (const e of out.get(id)!) {
      if (onStack.has(e.to)) e.back = true;
      else if (!reachable.has(e.to)) visit(e.to);
    }
    onStack.delete(id);
  };
  if (nodes.has(def.start)) visit(def.start);

  const incoming = new Map<string, GraphEdge[]>([...nodes.keys()].map((id) => [id, []]));
  for (const edges of out.values()) for (const e of edges) if (!e.back && reachable.has(e.from)) incoming.get(e.to)!.push(e);
  const reach = new Map<string, Set<string>>();
  const reachOf = (id: string): Set<string> => {
    let set = reach.get(id);
    if (set) return set;
    set = new Set([id]);
    for (const e of out.get(id)!) if (!e.back) for (const r of reachOf(e.to)) set.add(r);
    reach.set(id, set);
    return set;
  };
  for (const id of reachable) reachOf(id);
  return { nodes, out, in: incoming, reach, reachable };
}

// ---------------------------------------------------------------------------------------------
// Validation

export interface ValidateOptions {
  /** Named in every message. */
  file?: string;
  /** Code function names that exist; when given, `code` nodes naming others are errors. */
  functions?: Iterable<string>;
  /** Tool names that exist; when given, `tool` nodes and `agent` node tool lists naming others are errors. */
  tools?: Iterable<string>;
}

/** Parses and checks a workflow definition; throws a WorkflowValidationError listing every problem. */
export function parseWorkflow(raw: unknown, opts: ValidateOptions = {}): WorkflowDefinition {
  const file = opts.file;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new WorkflowValidationError([{ file, message: 'a workflow is a JSON object with "id", "start", "nodes" and "edges"' }], file);
  }
  const top = Workflow.safeParse(raw);
  if (!top.success) throw new WorkflowValidationError(zodIssues(top.error, file, undefined), file);

  const issues: WorkflowIssue[] = [];
  const nodes: NodeDef[] = [];
  top.data.nodes.forEach((rawNode: Record<string, unknown>, i) => {
    const id = typeof rawNode.id === 'string' ? rawNode.id : undefined;
    const node = id;
    const kind = rawNode.kind;
    if (typeof kind !== 'string' || !(kind in NODE_SCHEMAS)) {
      const what = kind === undefined ? 'missing "kind"' : `unknown node kind ${JSON.stringify(kind)}`;
      issues.push({ file, node, field: id ? 'kind' : `nodes[${i}].kind`, message: `${what} (expected one of ${NODE_KINDS.join(', ')})` });
      return;
    }
    const parsed = NODE_SCHEMAS[kind as NodeKind].safeParse(rawNode);
    if (parsed.success) nodes.push(parsed.data);
    else issues.push(...zodIssues(parsed.error, file, node, node ? [] : ['nodes', i]));
  });
  if (issues.length) throw new WorkflowValidationError(issues, file);

  const def: WorkflowDefinition = { ...top.data, nodes };
  issues.push(...crossCheck(def, opts));
  if (issues.length) throw new WorkflowValidationError(issues, file);
  return def;
}

function crossCheck(def: WorkflowDefinition, opts: ValidateOptions): WorkflowIssue[] {
  const file = opts.file;
  const issues: WorkflowIssue[] = [];
  const push = (node: string | undefined, field: string | undefined, message: string) => issues.push({ file, node, field, message });

  const ids = new Set<string>();
  for (const n of def.nodes) {
    if (ids.has(n.id)) push(n.id, 'id', 'duplicate node id');
    ids.add(n.id);
  }
  if (!ids.has(def.start)) push(undefined, 'start', `missing start node: no node has id "${def.start}"`);

  def.edges.forEach((e, i) => {
    if (!ids.has(e.from)) push(e.from, `edges[${i}].from`, `edge from a missing node "${e.from}"`);
    else if (def.nodes.find((n) => n.id === e.from)!.kind === 'branch') {
      push(e.from, `edges[${i}]`, 'a branch node routes through its cases and default; it takes no edges of its own');
    }
    for (const to of Array.isArray(e.to) ? e.to : [e.to]) {
      if (!ids.has(to)) push(e.from, `edges[${i}].to`, `edge to a missing node "${to}"`);
    }
  });

  const known = new Set<string>([...Object.keys(def.state), 'error']);
  for (const n of def.nodes) {
    if ('output' in n && n.output) known.add(n.output);
    if (n.kind === 'agent' && n.details) known.add(n.details);
  }
  const checkPath = (node: string, field: string, path: string) => {
    const problem = pathProblem(path);
    if (problem) return push(node, field, problem);
    const root = path.split('.')[0];
    if (!known.has(root)) push(node, field, `"${path}": no state key "${root}" (declare it under "state" or write it with a node's "output")`);
  };
  const checkTemplate = (node: string, field: string, template: string) => {
    for (const ref of templateRefs(template)) checkPath(node, field, ref);
  };
  const checkArgs = (node: string, field: string, value: unknown): void => {
    if (typeof value === 'string') checkTemplate(node, field, value);
    else if (Array.isArray(value)) value.forEach((v, i) => checkArgs(node, `${field}[${i}]`, v));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) checkArgs(node, `${field}.${k}`, v);
  };
  const functions = opts.functions ? new Set(opts.functions) : null;
  const tools = opts.tools ? new Set(opts.tools) : null;

  for (const n of def.nodes) {
    switch (n.kind) {
      case 'retrieve':
        checkTemplate(n.id, 'query', n.query);
        break;
      case 'prompt':
        if (n.system !== undefined) checkTemplate(n.id, 'system', n.system);
        if (n.user !== undefined) checkTemplate(n.id, 'user', n.user);
        n.messages?.forEach((m, i) => checkTemplate(n.id, `messages[${i}].content`, m.content));
        (Array.isArray(n.context) ? n.context : n.context ? [n.context] : []).forEach((p) => checkPath(n.id, 'context', p));
        if (n.history) checkPath(n.id, 'history', n.history);
        break;
      case 'llm':
        checkPath(n.id, 'messages', n.messages);
        break;
      case 'tool':
        checkArgs(n.id, 'args', n.args ?? {});
        if (tools && !tools.has(n.tool)) push(n.id, 'tool', `no tool named "${n.tool}" (available: ${[...tools].join(', ')})`);
        break;
      case 'agent':
        checkTemplate(n.id, 'question', n.question);
        if (n.system !== undefined) checkTemplate(n.id, 'system', n.system);
        (Array.isArray(n.context) ? n.context : n.context ? [n.context] : []).forEach((p) => checkPath(n.id, 'context', p));
        if (n.history) checkPath(n.id, 'history', n.history);
        if (n.details === n.output) push(n.id, 'details', 'must differ from "output"');
        n.tools?.forEach((t, i) => {
          if (tools && !tools.has(t)) push(n.id, `tools[${i}]`, `no tool named "${t}" (available: ${[...tools].join(', ')})`);
        });
        break;
      case 'code':
        checkArgs(n.id, 'args', n.args ?? {});
        if (functions && !functions.has(n.fn)) push(n.id, 'fn', `no registered function "${n.fn}" (available: ${[...functions].join(', ')})`);
        break;
      case 'branch':
        n.cases.forEach((c, i) => {
          checkPath(n.id, `cases[${i}].when.path`, c.when.path);
          if (!ids.has(c.to)) push(n.id, `cases[${i}].to`, `routes to a missing node "${c.to}"`);
          if (c.when.matches !== undefined) {
            try {
              new RegExp(c.when.matches, c.when.flags);
            } catch (err) {
              push(n.id, `cases[${i}].when.matches`, `invalid regular expression: ${errorMessage(err)}`);
            }
          }
        });
        if (!ids.has(n.default)) push(n.id, 'default', `routes to a missing node "${n.default}"`);
        if (n.exhausted && !ids.has(n.exhausted)) push(n.id, 'exhausted', `routes to a missing node "${n.exhausted}"`);
        break;
    }
  }
  def.outputs.forEach((o, i) => {
    if (!known.has(o)) push(undefined, `outputs[${i}]`, `"${o}" is neither a declared state key nor any node's output`);
  });
  for (const [key, decl] of Object.entries(def.state)) {
    if (decl.default !== undefined && !hasType(decl.default, decl.type)) push(undefined, `state.${key}.default`, `is not of type ${decl.type}`);
  }
  if (issues.length) return issues; // the graph checks below assume every edge names a real node

  const graph = buildGraph(def);
  for (const n of def.nodes) {
    if (!graph.reachable.has(n.id)) push(n.id, undefined, `unreachable: no path from the start node "${def.start}" leads to it`);
  }
  const cycle = cycleWithoutBranch(graph);
  if (cycle) {
    push(cycle[0], undefined, `loop ${[...cycle, cycle[0]].join(' -> ')} does not pass through a branch node; ` +
      'loops must go through a branch, which ends them by its condition or its maxIterations');
  }
  return issues;
}

/** A cycle among non-branch nodes, if any: such a loop has no condition and no iteration bound. */
function cycleWithoutBranch(graph: WorkflowGraph): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    state.set(id, 'open');
    stack.push(id);
    for (const e of graph.out.get(id)!) {
      if (graph.nodes.get(e.to)!.kind === 'branch') continue;
      if (state.get(e.to) === 'open') return stack.slice(stack.indexOf(e.to));
      if (!state.has(e.to)) {
        const found = visit(e.to);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };
  for (const [id, node] of graph.nodes) {
    if (node.kind === 'branch' || state.has(id)) continue;
    const found = visit(id);
    if (found) return found;
  }
  return null;
}

/** Whether a JSON value has a declared state type. */
export function hasType(value: unknown, type: StateType): boolean {
  switch (type) {
    case 'any': return true;
    case 'array': return Array.isArray(value);
    case 'object': return typeof value === 'object' && value !== null && !Array.isArray(value);
    default: return typeof value === type;
  }
}
