import assert from 'node:assert/strict';
import { BUILTIN_WORKFLOWS } from '../../../src/core/workflow/builtins';
import { BUILTIN_FUNCTIONS } from '../../../src/core/workflow/nodes';
import { buildGraph, parseWorkflow, WorkflowValidationError, type WorkflowIssue } from '../../../src/core/workflow/schema';

const FILE = '.baton/workflows/review.json';

/** A small valid workflow to break one piece at a time. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test breaks a different field of it
function base(): Record<string, any> {
  return {
    id: 'review',
    state: { question: { type: 'string', required: true } },
    start: 'prompt',
    nodes: [
      { id: 'prompt', kind: 'prompt', messages: [{ role: 'user', content: '{{question}}' }], output: 'messages' },
      { id: 'answer', kind: 'llm', messages: 'messages', output: 'answer' },
    ],
    edges: [{ from: 'prompt', to: 'answer' }],
    outputs: ['answer'],
  };
}

function issuesOf(raw: unknown, opts: { functions?: string[]; tools?: string[] } = {}): { issues: WorkflowIssue[]; message: string } {
  try {
    parseWorkflow(raw, { file: FILE, ...opts });
  } catch (err) {
    assert.ok(err instanceof WorkflowValidationError, String(err));
    return { issues: err.issues, message: err.message };
  }
  return assert.fail('expected a validation error');
}

describe('workflow schema', () => {
  it('accepts every built-in workflow', () => {
    for (const raw of BUILTIN_WORKFLOWS) {
      const def = parseWorkflow(raw, { file: `built-in ${raw.id}`, functions: BUILTIN_FUNCTIONS.keys() });
      assert.equal(def.id, raw.id);
    }
    assert.deepEqual(BUILTIN_WORKFLOWS.map((w) => w.id), ['ask', 'explain', 'generate', 'fix', 'tests', 'document']);
  });

  it('accepts only known output schemas on llm nodes', () => {
    const wf = (schema: string) => ({
      id: 'w', start: 'p', state: { out: { type: 'object' } },
      nodes: [
        { id: 'p', kind: 'prompt', messages: [{ role: 'user', content: 'hi' }], output: 'messages' },
        { id: 'm', kind: 'llm', messages: 'messages', schema, output: 'out' },
      ],
      edges: [{ from: 'p', to: 'm' }],
    });
    assert.equal(parseWorkflow(wf('codeFix')).nodes[1].kind, 'llm');
    const { message } = issuesOf(wf('anythingGoes'));
    assert.match(message, /node "m", field "schema": unknown output schema \(known: codeFix\)/);
  });

  it('fills defaults: edges, outputs, maxIterations, retry backoff', () => {
    const def = parseWorkflow({ id: 'one', start: 'a', nodes: [{ id: 'a', kind: 'code', fn: 'passthrough', retry: { attempts: 2 } }] });
    assert.deepEqual(def.edges, []);
    assert.deepEqual(def.outputs, []);
    assert.equal(def.maxIterations, 10);
    assert.deepEqual((def.nodes[0] as { retry?: unknown }).retry, { attempts: 2, backoffMs: 0 });
  });

  it('names the file, the node and the field: unknown node kind', () => {
    const raw = base();
    raw.nodes[1].kind = 'llmm';
    const { issues, message } = issuesOf(raw);
    assert.deepEqual(issues, [{ file: FILE, node: 'answer', field: 'kind', message: 'unknown node kind "llmm" (expected one of retrieve, prompt, llm, tool, code, branch, agent)' }]);
    assert.equal(message, `${FILE}, node "answer", field "kind": unknown node kind "llmm" (expected one of retrieve, prompt, llm, tool, code, branch, agent)`);
  });

  it('rejects misspelt and missing fields and bad values', () => {
    const raw = base();
    delete raw.nodes[1].output;
    raw.nodes[1].ouput = 'answer';
    raw.nodes[0].retry = { attempts: 0 };
    const { message } = issuesOf(raw);
    assert.match(message, /node "answer", field "output": is required/);
    assert.match(message, /node "answer": Unrecognized key: "ouput"/);
    assert.match(message, /node "prompt", field "retry\.attempts": .*>=1/);
    assert.match(issuesOf({ ...base(), start: undefined }).message, /^\.baton\/workflows\/review\.json, field "start": is required$/);
    assert.match(issuesOf([1, 2]).message, /review\.json: a workflow is a JSON object/);
    const noKind = base();
    delete noKind.nodes[0].kind;
    assert.match(issuesOf(noKind).message, /node "prompt", field "kind": missing "kind"/);
  });

  it('reports an edge to a missing node and a missing start node', () => {
    const raw = base();
    raw.edges.push({ from: 'answer', to: 'summarise' });
    raw.start = 'begin';
    const { issues } = issuesOf(raw);
    assert.deepEqual(issues, [
      { file: FILE, node: undefined, field: 'start', message: 'missing start node: no node has id "begin"' },
      { file: FILE, node: 'answer', field: 'edges[1].to', message: 'edge to a missing node "summarise"' },
    ]);
  });

  it('reports unreachable nodes', () => {
    const raw = base();
    raw.nodes.push({ id: 'orphan', kind: 'code', fn: 'passthrough' });
    const { message } = issuesOf(raw);
    assert.equal(message, `${FILE}, node "orphan": unreachable: no path from the start node "prompt" leads to it`);
  });

  it('allows loops only through a branch node', () => {
    const raw = base();
    raw.edges.push({ from: 'answer', to: 'prompt' });
    assert.match(issuesOf(raw).message, /node "prompt": loop prompt -> answer -> prompt does not pass through a branch node/);

    const looped = base();
    looped.nodes.push({ id: 'again', kind: 'branch', cases: [{ when: { path: 'answer', matches: '^retry' }, to: 'prompt' }], default: 'done', maxIterations: 3 });
    looped.nodes.push({ id: 'done', kind: 'code', fn: 'passthrough' });
    looped.edges.push({ from: 'answer', to: 'again' });
    const def = parseWorkflow(looped, { file: FILE });
    const graph = buildGraph(def);
    assert.deepEqual(graph.out.get('again')!.map((e) => [e.to, e.back]), [['prompt', true], ['done', false]]);
    assert.deepEqual(graph.in.get('prompt'), [], 'a back edge is never waited on');
  });

  it('checks branch nodes: conditions, targets, no edges of their own', () => {
    const raw = base();
    raw.nodes.push({ id: 'route', kind: 'branch', cases: [{ when: { path: 'answer', equals: 'x', exists: true }, to: 'answer' }], default: 'nowhere' });
    raw.edges.push({ from: 'answer', to: 'route' });
    assert.match(issuesOf(raw).message, /node "route", field "cases\[0\]\.when": a condition has exactly one of equals, contains, exists, matches/);

    const bad = base();
    bad.nodes.push({ id: 'route', kind: 'branch', cases: [{ when: { path: 'answer', matches: '(' }, to: 'answer' }], default: 'nowhere' });
    bad.edges.push({ from: 'answer', to: 'route' }, { from: 'route', to: 'prompt' });
    const { message } = issuesOf(bad);
    assert.match(message, /node "route", field "edges\[2\]": a branch node routes through its cases and default; it takes no edges of its own/);
    assert.match(message, /node "route", field "cases\[0\]\.when\.matches": invalid regular expression/);
    assert.match(message, /node "route", field "default": routes to a missing node "nowhere"/);
  });

  it('checks template paths, outputs and defaults against the declared state', () => {
    const raw = base();
    raw.nodes[0].messages[0].content = 'Q: {{question}} in {{file.path}} {{ not a path }}';
    raw.outputs.push('summary');
    raw.state.limit = { type: 'number', default: 'ten' };
    const { message } = issuesOf(raw);
    assert.match(message, /node "prompt", field "messages\[0\]\.content": "file\.path": no state key "file"/);
    assert.match(message, /node "prompt", field "messages\[0\]\.content": "not a path" is not a state path/);
    assert.match(message, /field "outputs\[1\]": "summary" is neither a declared state key nor any node's output/);
    assert.match(message, /field "state\.limit\.default": is not of type number/);
    const proto = base();
    proto.nodes[0].messages[0].content = '{{question.__proto__}}';
    assert.match(issuesOf(proto).message, /uses the reserved name __proto__/);
  });

  it('checks code functions and tools by name when told which exist', () => {
    const raw = base();
    raw.nodes.push({ id: 'run', kind: 'code', fn: 'shell' }, { id: 'look', kind: 'tool', tool: 'grepp', args: { pattern: '{{answer}}' }, output: 'hits' });
    raw.edges.push({ from: 'answer', to: ['run', 'look'] });
    const { message } = issuesOf(raw, { functions: ['passthrough'], tools: ['grep'] });
    assert.match(message, /node "run", field "fn": no registered function "shell" \(available: passthrough\)/);
    assert.match(message, /node "look", field "tool": no tool named "grepp" \(available: grep\)/);
  });

  it('rejects duplicate node ids and prompt nodes that mix modes', () => {
    const raw = base();
    raw.nodes.push({ id: 'answer', kind: 'code', fn: 'passthrough' });
    assert.match(issuesOf(raw).message, /node "answer", field "id": duplicate node id/);
    const mixed = base();
    mixed.nodes[0].user = '{{question}}';
    assert.match(issuesOf(mixed).message, /node "prompt": a prompt node has either "user" .* or "messages", not both/);
  });
});
