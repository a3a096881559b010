import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlmClient } from '../../../src/core/llm/client';
import { Trace } from '../../../src/core/trace/trace';
import { runWorkflow } from '../../../src/core/workflow/engine';
import { loadWorkflows, parseWorkflowText, WORKFLOWS_DIR } from '../../../src/core/workflow/loader';
import { WorkflowValidationError } from '../../../src/core/workflow/schema';
import { OpenAIProtocolServer } from '../../helpers/openaiProtocolServer';
import { stringify as stringifyYaml } from 'yaml';

const ROUTE = 'POST /v1/chat/completions';

/** A user workflow: no retrieval, a raw prompt and one model call. */
const summarize = {
  $schema: 'https://example.invalid/baton-workflow.json',
  description: 'Summarise a text in one sentence.',
  state: { text: { type: 'string', required: true }, summary: { type: 'string' } },
  start: 'prompt',
  nodes: [
    { id: 'prompt', kind: 'prompt', messages: [{ role: 'system', content: 'Summarise in one sentence.' }, { role: 'user', content: '{{text}}' }], output: 'messages' },
    { id: 'model', kind: 'llm', messages: 'messages', task: 'brainstorm', output: 'summary' },
  ],
  edges: [{ from: 'prompt', to: 'model' }],
  outputs: ['summary'],
};

describe('workflow loader', function () {
  this.timeout(20_000);
  const server = new OpenAIProtocolServer();
  let llm: LlmClient;
  let root: string;
  const write = (name: string, content: unknown) =>
    writeFileSync(join(root, '.baton', 'workflows', name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));

  before(async () => {
    const baseURL = await server.start();
    llm = new LlmClient({ models: { chat: [{ model: 'test-chat', baseURL, contextWindow: 8192, maxOutputTokens: 256, timeoutMs: 5_000 }] }, env: {} });
  });
  after(() => server.stop());
  beforeEach(() => {
    server.reset();
    root = mkdtempSync(join(tmpdir(), 'baton-wf-'));
    mkdirSync(join(root, '.baton', 'workflows'), { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('loads the built-ins when the workspace has no workflows folder', async () => {
    rmSync(join(root, '.baton'), { recursive: true });
    const set = await loadWorkflows(root, { trusted: true });
    assert.deepEqual([...set.workflows.keys()], ['ask', 'explain', 'generate', 'fix', 'tests', 'document']);
    assert.ok([...set.workflows.values()].every((w) => w.source === 'builtin'));
    assert.deepEqual(set.errors, []);
    assert.deepEqual(set.notices, []);
  });

  it('loads a user workflow (id from the file name) and runs it', async () => {
    write('summarize.json', summarize);
    write('README.md', '# not a workflow');
    const set = await loadWorkflows(root, { trusted: true });
    assert.deepEqual(set.errors, []);
    const loaded = set.workflows.get('summarize')!;
    assert.equal(loaded.source, `${WORKFLOWS_DIR}/summarize.json`);

    server.script(ROUTE, { kind: 'chat', content: 'Baton orchestrates models.' });
    const result = await runWorkflow(loaded.definition, { input: { text: 'Baton is an orchestrator ...' }, services: { llm, trace: new Trace() } });
    assert.deepEqual(result.outputs, { summary: 'Baton orchestrates models.' });
    const body = server.requestsTo(ROUTE)[0].body as { messages: unknown[]; temperature: number };
    assert.deepEqual(body.messages, [{ role: 'system', content: 'Summarise in one sentence.' }, { role: 'user', content: 'Baton is an orchestrator ...' }]);
    assert.equal(body.temperature, 0.8);
  });

  it('lets a user file override a built-in by id, with a notice', async () => {
    write('my-ask.json', {
      id: 'ask',
      state: { question: { type: 'string', required: true } },
      start: 'prompt',
      nodes: [
        { id: 'prompt', kind: 'prompt', system: 'You answer like a pirate.', user: '{{question}}', output: 'messages' },
        { id: 'answer', kind: 'llm', messages: 'messages', output: 'answer' },
      ],
      edges: [{ from: 'prompt', to: 'answer' }],
      outputs: ['answer'],
    });
    const set = await loadWorkflows(root, { trusted: true });
    assert.deepEqual(set.notices, [`${WORKFLOWS_DIR}/my-ask.json overrides the built-in workflow "ask"`]);
    const ask = set.workflows.get('ask')!;
    assert.equal(ask.source, `${WORKFLOWS_DIR}/my-ask.json`);

    server.script(ROUTE, { kind: 'chat', content: 'Arr.' });
    const result = await runWorkflow(ask.definition, { input: { question: 'where is main?' }, services: { llm, trace: new Trace() } });
    assert.equal(result.outputs.answer, 'Arr.');
    const body = server.requestsTo(ROUTE)[0].body as { messages: Array<{ role: string; content: string }> };
    assert.ok(body.messages[0].content.startsWith('You answer like a pirate.'));
    assert.equal(body.messages.at(-1)!.content, 'where is main?');
  });

  it('reports each broken file with a clear message and still loads the good ones', async () => {
    write('a-bad-json.json', '{\n  "start": "a",\n  "nodes": [ { "id": "a", "kind": "code", "fn": "passthrough" }, ]\n}\n');
    write('b-kind.json', { start: 'a', nodes: [{ id: 'a', kind: 'shell', command: 'rm -rf /' }] });
    write('c-edge.json', { start: 'a', nodes: [{ id: 'a', kind: 'code', fn: 'passthrough' }], edges: [{ from: 'a', to: 'b' }] });
    write('d-unreachable.json', { start: 'a', nodes: [{ id: 'a', kind: 'code', fn: 'passthrough' }, { id: 'lost', kind: 'code', fn: 'passthrough' }] });
    write('e-fn.json', { start: 'a', nodes: [{ id: 'a', kind: 'code', fn: 'require("child_process")' }] });
    write('f.yaml', 'id: f\nstart: a\nnodes:\n  - id: a\n    kind: [code\n');
    write('summarize.json', summarize);
    const set = await loadWorkflows(root, { trusted: true });
    assert.ok(set.workflows.has('summarize'));
    for (const broken of ['a-bad-json', 'b-kind', 'c-edge', 'd-unreachable', 'e-fn', 'f']) assert.ok(!set.workflows.has(broken), broken);
    const messages = set.errors.map((e) => e.message);
    assert.equal(messages.length, 6, messages.join('\n'));
    assert.match(messages[0], /^\.baton\/workflows\/a-bad-json\.json: invalid JSON: .* \(line 3, column 66\)$/);
    assert.equal(messages[1], '.baton/workflows/b-kind.json, node "a", field "kind": unknown node kind "shell" (expected one of retrieve, prompt, llm, tool, code, branch, agent)');
    assert.equal(messages[2], '.baton/workflows/c-edge.json, node "a", field "edges[0].to": edge to a missing node "b"');
    assert.equal(messages[3], '.baton/workflows/d-unreachable.json, node "lost": unreachable: no path from the start node "a" leads to it');
    assert.match(messages[4], /^\.baton\/workflows\/e-fn\.json, node "a", field "fn": no registered function "require\("child_process"\)" \(available: extractCodeBlock, baseName, passthrough\)$/);
    assert.match(messages[5], /^\.baton\/workflows\/f\.yaml: invalid YAML: .* \(line \d+, column \d+\)$/);
    assert.ok(set.errors.every((e) => e instanceof WorkflowValidationError && e.file?.startsWith(WORKFLOWS_DIR)));
  });

  it('loads a YAML workflow exactly like its JSON twin', async () => {
    write('summarize.json', summarize);
    const yamlText = stringifyYaml({ ...summarize, id: 'digest' }); // block style, as a person writes it
    assert.match(yamlText, /^nodes:\n  - id: prompt$/m);
    write('digest.yml', yamlText);
    const set = await loadWorkflows(root, { trusted: true });
    assert.deepEqual(set.errors, []);
    const fromYaml = set.workflows.get('digest')!.definition;
    assert.deepEqual({ ...fromYaml, id: 'summarize' }, set.workflows.get('summarize')!.definition);
  });

  it('refuses a second file with an id already taken by another file', async () => {
    write('one.json', { ...summarize, id: 'same' });
    write('two.json', { ...summarize, id: 'same' });
    const set = await loadWorkflows(root, { trusted: true });
    assert.equal(set.workflows.get('same')!.source, `${WORKFLOWS_DIR}/one.json`);
    assert.deepEqual(set.errors.map((e) => e.message), [`${WORKFLOWS_DIR}/two.json, field "id": workflow id "same" is already defined by ${WORKFLOWS_DIR}/one.json`]);
  });

  it('parses text directly, naming the file in errors', () => {
    assert.equal(parseWorkflowText('x/summarize.json', JSON.stringify(summarize)).id, 'summarize');
    assert.throws(() => parseWorkflowText('x/broken.json', '"just a string"'), /^WorkflowValidationError: x\/broken\.json: a workflow is a JSON object/);
  });
});
