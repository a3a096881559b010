// Orchestration overhead of `ask` on a real repository: everything except model time (config,
// index open, retrieval, prompt building, tool runs, conversation save), p50/p95, next to the
// model server's own time. The model is the repository's OpenAI-protocol test server on 127.0.0.1
// with scripted replies (one search_code call, then an answer), so model time is small and known.
//
//   node out/bench/orchestration.js [DIR] [--requests N]
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ask } from '../src/core/orchestration/orchestrator';
import { indexWorkspace } from '../src/core/indexing/indexer';
import { batonDirOf, saveEmbedderSpec } from '../src/core/indexing/workspaceIndex';
import { createEmbedder } from '../src/core/embed/createEmbedder';
import { NodeHost } from '../src/core/host/nodeHost';
import { OpenAIProtocolServer } from '../test/helpers/openaiProtocolServer';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { requests: { type: 'string', default: '40' } } });
const source = resolve(positionals[0] ?? join(__dirname, '..', '..', 'bench', 'data', 'retrieval', 'test', 'repos', 'luxon'));
const ROUTE = 'POST /v1/chat/completions';
const QUESTIONS = ['How is a duration normalized?', 'Where are time zones parsed?', 'How does formatting of dates work?', 'What validates an interval?'];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'baton-bench-ask-'));
  const root = join(work, 'repo');
  cpSync(source, root, { recursive: true });
  const server = new OpenAIProtocolServer();
  const baseURL = await server.start();
  try {
    const embedder = createEmbedder({ kind: 'baton' }, { inWorker: true });
    const summary = await indexWorkspace({ root, batonDir: batonDirOf(root), embedder });
    await embedder?.dispose();
    await saveEmbedderSpec(batonDirOf(root), { kind: 'baton' });
    console.log(`repository: ${source} (${summary.files} files, ${summary.chunks} chunks), embedder: Baton's model`);

    const env = { OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: 'sk-bench', BATON_MODEL: 'test-chat' };
    const host = new NodeHost({ root });
    const total: number[] = [];
    const model: number[] = [];
    const n = Number(values.requests);
    for (let i = 0; i < n + 2; i++) {
      server.script(ROUTE,
        { kind: 'chat', toolCalls: [{ name: 'search_code', arguments: JSON.stringify({ query: QUESTIONS[i % QUESTIONS.length] }) }] },
        { kind: 'chat', content: 'The answer is in src/index.js:1-10, which the retrieved code shows.' });
      const started = performance.now();
      const result = await ask({ host, question: QUESTIONS[i % QUESTIONS.length], env, k: 8 });
      const elapsed = performance.now() - started;
      const modelMs = result.trace.filter((e) => e.kind === 'llm.done').reduce((sum, e) => sum + Number(e.data?.latencyMs ?? 0), 0);
      if (i < 2) continue; // warm-up: first model load and SDK import
      total.push(elapsed);
      model.push(modelMs);
    }
    const overhead = total.map((t, i) => t - model[i]);
    const f = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms / p95 ${pct(xs, 95).toFixed(1)} ms`;
    console.log(`${n} ask requests (2 model calls and one search_code each):`);
    console.log(`  whole request:          ${f(total)}`);
    console.log(`  model server (2 calls): ${f(model)}`);
    console.log(`  orchestration overhead: ${f(overhead)}`);
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
