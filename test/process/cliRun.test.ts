// `baton run WORKFLOW`: built-in and user workflows through the built CLI against a real
// OpenAI-protocol server on 127.0.0.1.
import assert from 'node:assert/strict';
import { makeWorkspace, type TempWorkspace } from '../helpers/workspace';
import { runCli } from '../helpers/runCli';
import { OpenAIProtocolServer } from '../helpers/openaiProtocolServer';

const ROUTE = 'POST /v1/chat/completions';

describe('baton run', function () {
  this.timeout(90_000);
  const server = new OpenAIProtocolServer();
  let ws: TempWorkspace;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    ws = makeWorkspace();
    env = { OPENAI_BASE_URL: await server.start(), OPENAI_API_KEY: 'sk-test-run', BATON_MODEL: 'test-chat' };
    assert.equal((await runCli(['index', ws.root, '--embedder', 'none'])).code, 0);
  });
  after(async () => {
    await server.stop();
    ws.remove();
  });
  beforeEach(() => server.reset());

  it('runs the built-in explain workflow on a selection and prints its outputs as JSON', async () => {
    server.script(ROUTE, { kind: 'chat', content: 'It retries with exponential backoff.' });
    const selection = { path: 'src/util/retry.ts', startLine: 6, endLine: 19, text: 'export async function retryWithBackoff<T>(' };
    const r = await runCli(['run', 'explain', '--dir', ws.root, '--json', '--input', JSON.stringify({ selection })], { env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.outputs.answer, 'It retries with exponential backoff.');
    assert.ok(out.trace.some((e: { kind: string; name?: string }) => e.kind === 'node.end' && e.name === 'answer'));
    assert.match(JSON.stringify(server.requestsTo(ROUTE)[0].body), /retryWithBackoff/);
  });

  it('runs a user workflow from .baton/workflows (YAML), streaming its llm node', async () => {
    ws.write('.baton/workflows/shout.yml', [
      'description: Say a text back in capitals.',
      'state:',
      '  text: { type: string, required: true }',
      '  reply: { type: string }',
      'start: prompt',
      'nodes:',
      '  - id: prompt',
      '    kind: prompt',
      '    messages:',
      '      - { role: user, content: "Shout this: {{text}}" }',
      '    output: messages',
      '  - { id: model, kind: llm, messages: messages, stream: true, output: reply }',
      'edges:',
      '  - { from: prompt, to: model }',
      'outputs: [reply]',
    ].join('\n'));
    server.script(ROUTE, { kind: 'chat', content: 'HELLO THERE' });
    // Untrusted, the repository's workflow is not loaded, and the one line says why.
    const untrusted = await runCli(['run', 'shout', '--dir', ws.root, '--input', '{"text":"hello there"}'], { env });
    assert.equal(untrusted.code, 2);
    assert.match(untrusted.stderr, /ignoring this workspace's own 1 workflow file in \.baton\/workflows because this workspace is not trusted.*--trust/);
    assert.match(untrusted.stderr, /no workflow "shout"/);
    assert.equal(server.requestsTo(ROUTE).length, 0);
    const r = await runCli(['run', 'shout', '--dir', ws.root, '--input', '{"text":"hello there"}', '--trust'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HELLO THERE\n\n\{\n {2}"reply": "HELLO THERE"\n\}\n$/);
    assert.match(JSON.stringify(server.requestsTo(ROUTE)[0].body), /Shout this: hello there/);
  });

  it('names the available workflows for an unknown id, and rejects bad --input', async () => {
    const unknown = await runCli(['run', 'nope', '--dir', ws.root], { env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no workflow "nope" \(available: .*explain.*\)/);
    const bad = await runCli(['run', 'explain', '--dir', ws.root, '--input', '{oops'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--input is not valid JSON/);
  });
});
