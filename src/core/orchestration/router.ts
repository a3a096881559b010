// Request routing: picks the workflow (and with it the model role and task kind) for a request.
// Structural rules come first (an explicit command, a symbol lookup the index can answer, editor
// context); otherwise the request goes to the workflow whose example requests it is nearest to in
// embedding space, and to the general 'ask' workflow when no workflow is clearly nearest. Words
// are never matched one by one: "fix" inside a question about a merged fix is just a word.
import type { Embedder } from '../embed/types';
import type { LexicalIndex } from '../search/lexical';
import type { TaskKind } from '../llm/models';
import { boundedPrefix } from '../../base/common/prefix';
import { errorMessage } from '../../base/common/errors';

export type WorkflowId = 'ask' | 'explain' | 'generate' | 'fix' | 'tests' | 'search';

export interface RouteRequest {
  text: string;
  /** The editor has a non-empty selection the request can refer to. */
  hasSelection?: boolean;
  /** The selection (or its file) has errors or warnings attached. */
  hasDiagnostics?: boolean;
}

export interface RouteDeps {
  embedder?: Embedder | null;
  lexical?: LexicalIndex;
}

export interface Route {
  workflow: WorkflowId;
  role: 'chat' | 'fast';
  task: TaskKind;
  /** 0..1: 1 for an explicit command, lower for inferred routes. */
  confidence: number;
  via: 'rule' | 'similarity' | 'default';
  /** For 'search' routed by a lookup: the symbol the index resolved (answer from the index, no model). */
  symbol?: string;
  /** For a symbol lookup: its definition, or the places that use it. */
  lookup?: 'definition' | 'references';
  /** One line for traces and UI: which rule fired, or the similarities that decided. */
  reason: string;
}

export const WORKFLOWS: readonly WorkflowId[] = ['ask', 'explain', 'generate', 'fix', 'tests', 'search'];

/**
 * Example requests per workflow; their mean embedding is the workflow's centroid. Varied on
 * purpose (phrasing, length, subject) so the centroid carries the intent rather than a topic.
 */
export const ROUTE_EXAMPLES: Readonly<Record<WorkflowId, readonly string[]>> = {
  ask: [
    'how does the indexer decide which files to skip',
    'why do we keep the embedding cache separate from the store',
    'is it possible to run this without a network connection',
    'what is the difference between these two approaches',
    'does this project support Python',
    'what happens if two processes write at the same time',
    'how do the pieces of this system fit together',
    'should I use a queue or a lock for this',
  ],
  explain: [
    'explain this code',
    'what does this function do',
    'walk me through how this class works step by step',
    'help me understand this regular expression',
    'describe what happens in this loop',
    'break down this snippet for me line by line',
    'what is the purpose of this method and its parameters',
    'clarify what this block of code is doing',
  ],
  generate: [
    'write a function that parses a CSV file into objects',
    'implement a debounce helper',
    'create a new class for caching results',
    'add a method that serializes the object to JSON',
    'generate a component that shows a paginated table',
    'write code to upload a file to the server',
    'make a script that renames all the images in a folder',
    'implement a new command that exports the data',
  ],
  fix: [
    'fix this bug',
    'this throws a null reference error, fix it',
    'why does this crash and how do I fix it',
    'the build is broken with a type error here',
    'correct the off by one error in this loop',
    'this returns the wrong result, something is wrong',
    'fix the compiler errors in this file',
    'it hangs forever when the connection drops, please fix the bug',
  ],
  tests: [
    'write unit tests for this function',
    'add test cases covering the edge cases',
    'generate a mocha test suite for this module',
    'create tests that check the error handling',
    'how should I test this class? write the tests',
    'add a regression test for the empty input case',
    'cover this code with unit tests using assertions',
    'write a test that verifies the parser output',
  ],
  search: [
    'where is the session token verified',
    'find the code that retries failed requests',
    'where in the code do we read the config file',
    'locate the handler for the health endpoint',
    'which file parses invoices',
    'where do we compute the hash',
    'find where the database connection is opened',
    'find usages of the logger',
  ],
};

/** A workflow wins by similarity only with at least this lead in (centered) cosine over the
 * runner-up; chosen by leave-one-out over ROUTE_EXAMPLES (about 85% of the examples routed this
 * way land on their own workflow), never on test phrases. */
export const SIMILARITY_MARGIN = 0.03;

const COMMANDS: Readonly<Record<string, WorkflowId>> = {
  ask: 'ask', explain: 'explain', generate: 'generate', gen: 'generate', fix: 'fix',
  tests: 'tests', test: 'tests', search: 'search', find: 'search',
};

// An identifier, optionally qualified (Foo.bar, Foo::bar, Foo#bar), optionally in backticks, with
// an optional trailing "()" or kind word ("the retryWithBackoff function").
const IDENT = String.raw`[A-Za-z_$][\w$]*(?:(?:\.|::|#)[A-Za-z_$][\w$]*)*`;
const TARGET = String.raw`(?:the\s+)?\x60?(${IDENT})(?:\(\))?\x60?(?:\s+(?:function|method|class|type|interface|symbol|constant|variable))?`;
const END = String.raw`\s*[?.!]*\s*$`;

/** Whole-request shapes of a symbol lookup; the captured group is the symbol. Anchored at both
 * ends so a lookup phrase inside a longer request ("find a way to ...") never matches. */
const LOOKUPS: ReadonlyArray<{ re: RegExp; lookup: 'definition' | 'references' }> = [
  { re: new RegExp(String.raw`^\s*where(?:\s+is|'s)\s+${TARGET}(?:\s+(?:defined|declared|implemented))?${END}`, 'i'), lookup: 'definition' },
  { re: new RegExp(String.raw`^\s*(?:find|locate|show(?:\s+me)?|go\s+to|jump\s+to|open)\s+(?:the\s+)?(?:definition\s+of\s+)?${TARGET}${END}`, 'i'), lookup: 'definition' },
  { re: new RegExp(String.raw`^\s*(?:the\s+)?definition\s+of\s+${TARGET}${END}`, 'i'), lookup: 'definition' },
  { re: new RegExp(String.raw`^\s*(?:who|what|which\s+\w+)\s+(?:calls|uses|references)\s+${TARGET}${END}`, 'i'), lookup: 'references' },
  { re: new RegExp(String.raw`^\s*(?:find\s+|show\s+(?:me\s+)?)?(?:the\s+)?(?:callers|usages|uses|references)\s+(?:of|to)\s+${TARGET}${END}`, 'i'), lookup: 'references' },
  { re: new RegExp(String.raw`^\s*where\s+is\s+${TARGET}\s+(?:called|used|referenced)${END}`, 'i'), lookup: 'references' },
];

/** findSymbol scores an exact or qualified-name match at 2 and above; below is a partial-name guess. */
const RESOLVED_SYMBOL_SCORE = 2;

/** Role and task follow the workflow: code-writing workflows want deterministic edits. */
function shape(workflow: WorkflowId): Pick<Route, 'workflow' | 'role' | 'task'> {
  switch (workflow) {
    case 'fix': case 'generate': case 'tests': return { workflow, role: 'chat', task: 'edit' };
    case 'search': return { workflow, role: 'fast', task: 'chat' };
    default: return { workflow, role: 'chat', task: 'chat' };
  }
}

export async function route(request: RouteRequest, deps: RouteDeps = {}): Promise<Route> {
  // Routing reads the start of a long request only: its cost (the embedding above all) must not
  // grow with a pasted 100,000-character question. A lookup is a short request, never a cut one.
  const whole = request.text.trim();
  const text = boundedPrefix(whole).trim();
  const short = text.length === whole.length;

  // 1. An explicit command: the user said what they want.
  const command = /^\/([a-z]+)\b\s*([\s\S]*)$/i.exec(text);
  if (command && COMMANDS[command[1].toLowerCase()]) {
    const workflow = COMMANDS[command[1].toLowerCase()];
    const rest = command[2].trim();
    const found = workflow === 'search' && rest && short ? resolveSymbol(rest.replace(/^\x60|\x60$|\(\)$/g, ''), deps.lexical) : undefined;
    return {
      ...shape(workflow), confidence: 1, via: 'rule',
      ...(found ? { symbol: found, lookup: 'definition' as const } : {}),
      reason: `command /${command[1].toLowerCase()}${found ? `; symbol ${found} is in the index` : ''}`,
    };
  }

  // 2. A lookup of a symbol the index knows: answered from the index, no model needed.
  for (const { re, lookup } of short ? LOOKUPS : []) {
    const m = re.exec(text);
    const found = m ? resolveSymbol(m[1], deps.lexical) : undefined;
    if (found) return { ...shape('search'), confidence: 0.95, via: 'rule', symbol: found, lookup, reason: `${lookup} lookup of ${found}, resolved in the index` };
  }

  // 3. Similarity to the example requests (when an embedder is available).
  let similar: Similarity | undefined;
  let degraded: string | undefined;
  if (!deps.embedder) degraded = 'no embedder';
  else if (text) {
    try {
      similar = await nearestWorkflow(text, deps.embedder);
    } catch (err) {
      degraded = `embedder failed: ${errorMessage(err)}`;
    }
  }

  // 4. Editor context: a selection with diagnostics is most likely something to fix, unless the
  //    words clearly ask for new code instead (write tests for this, add a method). A vague
  //    "what is going on here" next to an error is a request to fix it, not a lecture.
  if (request.hasSelection && request.hasDiagnostics) {
    if (!(similar?.clear && (similar.best === 'tests' || similar.best === 'generate'))) {
      return { ...shape('fix'), confidence: 0.8, via: 'rule', reason: 'selection with diagnostics' };
    }
  }
  if (request.hasSelection && !text) {
    return { ...shape('explain'), confidence: 0.8, via: 'rule', reason: 'selection without a request' };
  }

  if (similar?.clear) {
    return { ...shape(similar.best), confidence: similar.confidence, via: 'similarity', reason: similar.reason };
  }
  const why = similar ? `no clear match (${similar.reason})` : degraded ?? 'empty request';
  return { ...shape('ask'), confidence: 0.3, via: 'default', reason: why };
}

/** The symbol as the index spells it, when `name` resolves to an exact or qualified match. */
function resolveSymbol(name: string, lexical: LexicalIndex | undefined): string | undefined {
  if (!lexical || !new RegExp(`^${IDENT}$`).test(name)) return undefined;
  const top = lexical.findSymbol(name, 1)[0];
  return top && top.score >= RESOLVED_SYMBOL_SCORE ? top.chunk.symbol ?? name : undefined;
}

interface Similarity {
  best: WorkflowId;
  clear: boolean;
  confidence: number;
  reason: string;
}

/** Workflow centroids and the mean of all examples, both in the embedder's space. */
interface Centroids {
  mean: Float32Array;
  workflows: ReadonlyArray<{ workflow: WorkflowId; vector: Float32Array }>;
}

/** Centroids per embedder id: the examples are embedded once per vector space and process. */
const centroidCache = new Map<string, Promise<Centroids>>();

async function centroidsFor(embedder: Embedder): Promise<Centroids> {
  await embedder.init();
  const id = embedder.id;
  let cached = centroidCache.get(id);
  if (!cached) {
    cached = buildCentroids(embedder);
    centroidCache.set(id, cached);
    cached.catch(() => centroidCache.delete(id)); // a failed build may succeed later
  }
  return cached;
}

// Every request is "a request about code", so raw vectors share a large common direction that
// drowns the intent; subtracting the mean of all examples (centering) measurably separated the
// workflows better in leave-one-out over the examples than raw centroids or nearest neighbours.
async function buildCentroids(embedder: Embedder): Promise<Centroids> {
  const texts = WORKFLOWS.flatMap((w) => ROUTE_EXAMPLES[w]);
  const vectors = await embedder.embed(texts, 'query');
  const mean = average(vectors);
  let at = 0;
  const workflows = WORKFLOWS.map((workflow) => {
    const mine = vectors.slice(at, (at += ROUTE_EXAMPLES[workflow].length));
    return { workflow, vector: centered(average(mine), mean) };
  });
  return { mean, workflows };
}

async function nearestWorkflow(text: string, embedder: Embedder): Promise<Similarity> {
  const { mean, workflows } = await centroidsFor(embedder);
  const [raw] = await embedder.embed([text], 'query');
  const query = centered(raw, mean);
  const scored = workflows.map((c) => ({ workflow: c.workflow, score: dot(query, c.vector) })).sort((a, b) => b.score - a.score);
  const [first, second] = scored;
  const margin = first.score - second.score;
  const clear = margin >= SIMILARITY_MARGIN;
  // Confidence grows with the lead: a bare pass of the margin is only somewhat better than a guess.
  const confidence = clear ? Math.min(0.9, 0.5 + margin * 4) : 0.3;
  const fmt = (s: { workflow: string; score: number }) => `${s.workflow} ${s.score.toFixed(3)}`;
  return { best: first.workflow, clear, confidence, reason: `nearest ${fmt(first)}, then ${fmt(second)}` };
}

function average(vectors: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(vectors[0].length);
  for (const v of vectors) for (let i = 0; i < v.length; i++) out[i] += v[i] / vectors.length;
  return out;
}

/** Unit vector of v - mean. */
function centered(v: Float32Array, mean: Float32Array): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] - mean[i];
  const n = Math.sqrt(dot(out, out)) || 1;
  for (let i = 0; i < out.length; i++) out[i] /= n;
  return out;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
