// The built-in `document` workflow: a selection in, the selection with its doc comment out, as the
// same validated codeFix object `fix` returns (so a surface shows both as a diff).
import assert from 'node:assert/strict';
import { indexWorkspace } from '../../src/core/index/indexer';
import { batonDirOf, openIndexForSearch, type OpenedIndex } from '../../src/core/index/workspaceIndex';
import { LlmClient } from '../../src/core/llm/client';
import { DEFAULT_RETRY_POLICY } from '../../src/core/llm/retry';
import { Trace } from '../../src/core/trace';
import { runWorkflow } from '../../src/core/workflow/engine';
import { loadBuiltinWorkflows } from '../../src/core/workflow/loader';
import { OpenAIProtocolServer } from '../helpers/openaiProtocolServer';
import { makeWorkspace, type TempWorkspace } from '../helpers/workspace';

const ROUTE = 'POST /v1/chat/completions';

describe('document workflow', function () {
  this.timeout(30_000);
  const server = new OpenAIProtocolServer();
  let ws: TempWorkspace;
  let index: OpenedIndex;
  let llm: LlmClient;

  before(async () => {
    const baseURL = await server.start();
    llm = new LlmClient({
      models: { chat: [{ model: 'test-chat', baseURL, contextWindow: 8192, maxOutputTokens: 256, timeoutMs: 5_000 }] },
      retry: { ...DEFAULT_RETRY_POLICY, maxRetries: 0 },
      env: {},
    });
    ws = makeWorkspace();
    await indexWorkspace({ root: ws.root, batonDir: batonDirOf(ws.root), embedder: null });
    index = await openIndexForSearch(ws.root);
  });
  after(async () => {
    await server.stop();
    await index?.close();
    ws?.remove();
  });

  it('returns the selection with a doc comment as a codeFix, from a prompt that fences the selection', async () => {
    const code = 'export function isExpired(s: Session) {\n  return s.expiresAt < Date.now();\n}';
    const documented = `/**\n * Whether the session has expired.\n * @param s The session to check.\n */\n${code}`;
    server.script(ROUTE,
      { kind: 'chat', content: '{"explanation": "no code"}' }, // invalid: repaired once
      { kind: 'chat', content: JSON.stringify({ explanation: 'Adds a TSDoc comment.', code: documented }) });
    const selection = { path: 'src/auth/session.ts', language: 'typescript', startLine: 1, endLine: 3, text: code };
    const def = loadBuiltinWorkflows().get('document')!.definition;
    const result = await runWorkflow(def, { input: { selection }, services: { trace: new Trace(), llm, retriever: index.retriever } });
    assert.deepEqual(result.outputs.fix, { explanation: 'Adds a TSDoc comment.', code: documented });
    const [first] = server.requestsTo(ROUTE).map((r) => r.body as { messages: Array<{ role: string; content: string }>; temperature?: number });
    assert.equal(first.temperature, 0.1, 'an edit: low temperature');
    assert.match(first.messages[0].content, /Document the selected symbol/);
    const user = first.messages.at(-1)!.content;
    assert.match(user, /<untrusted-data-[0-9a-f]{8} source="src\/auth\/session\.ts:1-3">\n```typescript\nexport function isExpired/);
    assert.match(user, /Document the symbol in the excerpt of src\/auth\/session\.ts/);
  });

  it('needs a selection', async () => {
    const def = loadBuiltinWorkflows().get('document')!.definition;
    await assert.rejects(runWorkflow(def, { input: {}, services: { trace: new Trace(), llm, retriever: index.retriever } }), /input "selection" is required/);
  });
});
