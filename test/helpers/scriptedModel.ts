// The model the integration and e2e runs talk to: a real OpenAI-protocol HTTP server on 127.0.0.1
// (openaiProtocolServer.ts) whose chat route answers by what the request asks for:
//  - a `codeFix` structured output (response_format json_schema, a forced codeFix tool, or the JSON
//    instructions in the system prompt) gets a valid { explanation, code } fix of the broken file;
//  - anything else gets a streamed answer (several SSE chunks, a pause between them) that cites a
//    fixture file as `path:line`.
// GET /test/requests lists what was asked, so tests inside the extension host can assert on it.
import type { ServerResponse } from 'node:http';
import { OpenAIProtocolServer, sendJson, type ChatReply, type RecordedRequest } from './openaiProtocolServer';

/** The fixture location every streamed answer cites. */
export const CITED_PATH = 'src/util/retry.ts';
export const CITED_LINE = 7;
export const ANSWER_MARKER = 'BATON-TEST-ANSWER';
/** A citation the answer makes up: no such file in the fixture workspace, so it must not be a chip. */
export const INVENTED_CITATION = 'src/util/invented.ts:12';

/**
 * The broken files each run adds to the fixture workspace. The model's fix replaces `bad` with
 * `good` in the excerpt it was shown, so the proposal is the whole excerpt, corrected, as a real
 * model's would be; `fixed` is the corrected line the tests look for.
 */
export interface BrokenFile { path: string; text: string; bad: string; good: string; fixed: string }
export const BROKEN_JSON: BrokenFile = {
  path: 'config/broken.json',
  text: '{\n  "name": "baton-fixture",\n  "retries": 3,\n}\n',
  bad: '"retries": 3,\n}', good: '"retries": 3\n}',
  fixed: '"retries": 3\n}',
};
export const BROKEN_TS: BrokenFile = {
  path: 'src/broken.ts',
  text: 'export function total(values: number[]): number {\n  return values.reduce((a, b) => a + b, 0);\n}\n\nexport const answer: number = "forty-two";\n',
  bad: '"forty-two"', good: '42',
  fixed: 'export const answer: number = 42;',
};

export function streamedAnswer(): string {
  return `${ANSWER_MARKER}: retries use exponential backoff in \`retryWithBackoff\` (${CITED_PATH}:${CITED_LINE}); ` +
    `each failed attempt waits baseDelayMs * 2 ** attempt before trying again (not in ${INVENTED_CITATION}).`;
}

type ChatBody = {
  messages?: Array<{ role: string; content?: unknown }>;
  tools?: Array<{ function?: { name?: string } }>;
  response_format?: { type?: string; json_schema?: { name?: string } };
  stream?: boolean;
};

function text(body: ChatBody): string {
  return (body.messages ?? []).map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? ''))).join('\n');
}

function wantsCodeFix(body: ChatBody): 'tool' | 'json' | null {
  if (body.tools?.some((t) => t.function?.name === 'codeFix')) return 'tool';
  if (body.response_format?.json_schema?.name === 'codeFix') return 'json';
  const system = (body.messages ?? []).filter((m) => m.role === 'system').map((m) => String(m.content ?? '')).join('\n');
  if (/"explanation"/.test(system) && /"code"/.test(system)) return 'json';
  return null;
}

/** The code of the first fenced excerpt of `path` in the request (the selection the fix workflow shows first). */
function excerptOf(all: string, path: string): string | null {
  const at = all.indexOf(`source="${path}:`);
  if (at < 0) return null;
  const m = /\n(`{3,})[^\n]*\n([\s\S]*?)\n\1\n/.exec(all.slice(at));
  return m ? m[2] : null;
}

export function fixFor(body: ChatBody): { explanation: string; code: string } {
  const all = text(body);
  for (const broken of [BROKEN_JSON, BROKEN_TS]) {
    if (!all.includes(broken.path)) continue;
    const excerpt = excerptOf(all, broken.path);
    const code = excerpt?.includes(broken.bad) ? excerpt.replace(broken.bad, broken.good) : broken.fixed;
    return { explanation: `Replaced ${broken.bad} with ${broken.good}.`, code };
  }
  return { explanation: 'Nothing recognisable to fix; returned unchanged.', code: 'unchanged' };
}

export interface ScriptedModel {
  server: OpenAIProtocolServer;
  baseURL: string;
  /** The environment that points Baton (the extension's language server, the CLI) at this model. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startScriptedModel(options: { chunkDelayMs?: number } = {}): Promise<ScriptedModel> {
  const server = new OpenAIProtocolServer();
  // The private chat() writes JSON or SSE in OpenAI's format; reuse it rather than a second copy.
  const chat = (req: RecordedRequest, res: ServerResponse, reply: ChatReply) =>
    (server as unknown as { chat(q: RecordedRequest, s: ServerResponse, r: ChatReply): Promise<void> }).chat(req, res, reply);
  server.route('POST /v1/chat/completions', (req, res) => {
    const body = (req.body ?? {}) as ChatBody;
    const fix = wantsCodeFix(body);
    if (fix === 'tool') return chat(req, res, { toolCalls: [{ name: 'codeFix', arguments: JSON.stringify(fixFor(body)) }] });
    if (fix === 'json') return chat(req, res, { content: JSON.stringify(fixFor(body)) });
    return chat(req, res, { content: streamedAnswer(), chunkDelayMs: options.chunkDelayMs ?? 15 });
  });
  server.route('GET /test/requests', (_req, res) => sendJson(res, 200, server.requests.map((r) => {
    const body = (r.body ?? {}) as ChatBody & { model?: string };
    return { method: r.method, path: r.path, model: body.model, stream: body.stream === true, codeFix: r.path.endsWith('/chat/completions') ? wantsCodeFix(body) : null };
  })));
  const baseURL = await server.start();
  return {
    server,
    baseURL,
    env: { OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: 'sk-test-not-a-secret', BATON_MODEL: 'test-chat' },
    stop: () => server.stop(),
  };
}
