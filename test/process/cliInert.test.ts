// The built CLI never writes a raw escape to the terminal: file names and contents (index --verbose,
// search), model answers streamed in pieces (ask, run), tool-call echoes and error messages are shown
// inert, and --json stays exact JSON of the raw values.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { terminalJson } from '../../src/base/common/inert';
import { OpenAIProtocolServer } from '../helpers/openaiProtocolServer';
import { freePort } from '../helpers/ports';
import { runCli } from '../helpers/runCli';
import { assertNoRawControls, readBackRows } from '../helpers/spoofs';
import { makeWorkspace, type TempWorkspace } from '../helpers/workspace';

const ROUTE = 'POST /v1/chat/completions';
const EVIL_TS = 'src/evil\x1b]52;c;cHduZWQ=\x07\u202e.ts';
const EVIL_TS_SHOWN = 'src/evil\\x1b]52;c;cHduZWQ=\\x07\\u{202e}.ts';
const EVIL_BIN = 'assets/bad\x1b[2K\r\u009b1A.bin';
const EVIL_TEXT = '// spoofmarker \x1b[2K\rfake line \u009b31m red \u200b\nexport function spoofmarkerHandler(): string {\n  return "\x1b]0;pwned title\x07";\n}\n';

/** An answer whose escape sequences are split across the streamed deltas. */
const CHUNKS = ['Answer: \x1b', '[2K\r', 'overwritten \u009b', '1A up \u202e', 'desrever \x1b]52;c;', 'cHduZWQ=\x07 copied', ' \\', 'x1b literal\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\'];
const ANSWER = CHUNKS.join('');
const ANSWER_SHOWN = 'Answer: \\x1b[2K\\x0doverwritten \\x9b1A up \\u{202e}desrever \\x1b]52;c;cHduZWQ=\\x07 copied \\\\x1b literal' +
  '\\x1b]8;;https://evil.example/\\x1b\\link\\x1b]8;;\\x1b\\';

describe('the CLI renders untrusted text inert', function () {
  this.timeout(90_000);
  const server = new OpenAIProtocolServer();
  let ws: TempWorkspace;
  let env: NodeJS.ProcessEnv;
  let indexed: Awaited<ReturnType<typeof runCli>>;
  before(async function () {
    if (process.platform === 'win32') this.skip(); // Windows file names cannot hold control characters
    ws = makeWorkspace();
    ws.write(EVIL_TS, EVIL_TEXT);
    ws.write(EVIL_BIN, Buffer.from([0, 1, 2, 3, 0, 0, 0x1b, 0x5b]));
    env = { OPENAI_BASE_URL: await server.start(), OPENAI_API_KEY: 'sk-test-inert', BATON_MODEL: 'test-chat' };
    indexed = await runCli(['index', ws.root, '--embedder', 'none', '--verbose']);
    assert.equal(indexed.code, 0, indexed.stderr);
  });
  after(async () => {
    await server.stop();
    ws?.remove();
  });
  beforeEach(() => server.reset());

  it('index --verbose: a skipped file\'s name is shown escaped', () => {
    assertNoRawControls(indexed.stdout + indexed.stderr);
    assert.ok(indexed.stderr.includes('skipped assets/bad\\x1b[2K\\x0d\\x9b1A.bin: binary'), indexed.stderr);
  });

  it('search: paths, symbols and snippet lines with escapes are shown in the notation', async () => {
    const r = await runCli(['search', '--dir', ws.root, 'spoofmarker'], { env });
    assert.equal(r.code, 0, r.stderr);
    assertNoRawControls(r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^ 1\\. ${EVIL_TS_SHOWN.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}:\\d+-\\d+ {2}spoofmarkerHandler {2}\\(`, 'm'));
    assert.ok(r.stdout.includes('      // spoofmarker \\x1b[2K\\x0dfake line \\x9b31m red \\u{200b}\n'), r.stdout);
    assert.ok(r.stdout.includes('  return "\\x1b]0;pwned title\\x07";'), r.stdout);
  });

  it('search --json: exact JSON of the raw path, with the terminal-acting characters \\u-escaped', async () => {
    const r = await runCli(['search', '--dir', ws.root, '--json', 'spoofmarker'], { env });
    assert.equal(r.code, 0, r.stderr);
    assertNoRawControls(r.stdout.replace(/\n$/, ''));
    const out = JSON.parse(r.stdout);
    assert.ok(out.results.length > 0);
    for (const result of out.results) assert.equal(result.path, EVIL_TS, 'the raw path, byte for byte');
    assert.equal(r.stdout, terminalJson(out) + '\n');
    assert.ok(r.stdout.includes('"src/evil\\u001b]52;c;cHduZWQ=\\u0007\\u202e.ts"'));
  });

  it('search --stdin: one exact JSON line per query', async () => {
    const r = await runCli(['search', '--dir', ws.root, '--stdin'], { env, input: 'spoofmarker\nspoofmarkerHandler\n' });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assertNoRawControls(line);
      assert.equal(JSON.parse(line).results[0].path, EVIL_TS);
    }
  });

  it('ask: the streamed answer is inert per delta; the tool-call echo shows the whole arguments; the refusal line is inert', async () => {
    const command = `npm test\x1b[2K\r${' '.repeat(3000)}; touch pwned.marker`;
    server.script(ROUTE,
      { kind: 'chat', toolCalls: [{ name: 'run_command', arguments: JSON.stringify({ command }) }] },
      { kind: 'chat', content: ANSWER, chunks: CHUNKS });
    const r = await runCli(['ask', '--dir', ws.root, 'run the tests'], { env });
    assert.equal(r.code, 0, r.stderr);
    assertNoRawControls(r.stdout + r.stderr);
    assert.ok(!existsSync(join(ws.root, 'pwned.marker')));
    assert.ok(r.stdout.startsWith(ANSWER_SHOWN), r.stdout);
    assert.match(r.stdout, /\n\nSources:\n/);
    // The echo is whole: the padding is counted, the real command follows it, and it all reads back.
    const lines = r.stderr.split('\n');
    const header = lines.findIndex((l) => l.startsWith('baton: run_command (arguments: 1 line, '));
    assert.ok(header >= 0, r.stderr);
    const rows: string[] = [];
    for (let i = header + 1; /^ {2} *\d* [│┆] /.test(lines[i] ?? ''); i++) rows.push(lines[i]);
    assert.ok(rows.join('').includes('npm test\\\\u001b[2K\\r\\x20{3000}; touch pwned.marker'), rows.join('\n'));
    assert.equal(readBackRows(rows), JSON.stringify({ command }));
    assert.match(r.stderr, /baton: not approved \(no terminal to ask; pass --yes to allow\): Run npm test\\x1b\[2K\\x0d {64}\.\.\.\n/);
  });

  it('ask --yes: the approval echo shows the real command whole, inert, before it runs', async () => {
    const command = `true${' '.repeat(500)}\x1b[2K\r; touch approved.marker`;
    server.script(ROUTE,
      { kind: 'chat', toolCalls: [{ name: 'run_command', arguments: JSON.stringify({ command }) }] },
      { kind: 'chat', content: 'Done.' });
    const r = await runCli(['ask', '--dir', ws.root, '--yes', 'run it'], { env });
    assert.equal(r.code, 0, r.stderr);
    assertNoRawControls(r.stderr);
    assert.ok(existsSync(join(ws.root, 'approved.marker')));
    assert.ok(r.stderr.includes('$ command of 1 line, 532 characters:\n'), r.stderr);
    assert.ok(r.stderr.includes('true\\x20{500}\\x1b[2K\\x0d; touch approved.marker'), r.stderr);
  });

  it('ask --json: the raw answer, exact, in JSON that holds no raw escape', async () => {
    server.script(ROUTE, { kind: 'chat', content: ANSWER, chunks: CHUNKS });
    const r = await runCli(['ask', '--dir', ws.root, '--json', 'explain'], { env });
    assert.equal(r.code, 0, r.stderr);
    assertNoRawControls(r.stdout.replace(/\n$/, ''));
    const out = JSON.parse(r.stdout);
    assert.equal(out.answer, ANSWER);
    assert.equal(r.stdout, terminalJson(out) + '\n');
  });

  it('ask without a model: the retrieved code and its Sources show the file name and contents inert', async () => {
    const down = { ...env, OPENAI_BASE_URL: `http://127.0.0.1:${await freePort()}/v1` };
    const r = await runCli(['ask', '--dir', ws.root, 'spoofmarker handler'], { env: down });
    assert.equal(r.code, 0, r.stderr);
    assertNoRawControls(r.stdout + r.stderr);
    assert.ok(r.stdout.includes(EVIL_TS_SHOWN), r.stdout);
    assert.match(r.stdout, new RegExp(`\\nSources:\\n(?: {2}.*\\n)* {2}${EVIL_TS_SHOWN.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}:\\d+-\\d+\\n`));
  });

  it('run: streamed tokens and the printed outputs are inert; --json parses back to the raw value', async () => {
    ws.write('.baton/workflows/echo.yml', [
      'description: Say a text back.',
      'state:',
      '  text: { type: string, required: true }',
      '  reply: { type: string }',
      'start: prompt',
      'nodes:',
      '  - id: prompt',
      '    kind: prompt',
      '    messages:',
      '      - { role: user, content: "Say: {{text}}" }',
      '    output: messages',
      '  - { id: model, kind: llm, messages: messages, stream: true, output: reply }',
      'edges:',
      '  - { from: prompt, to: model }',
      'outputs: [reply]',
    ].join('\n'));
    server.script(ROUTE, { kind: 'chat', content: ANSWER, chunks: CHUNKS }, { kind: 'chat', content: ANSWER, chunks: CHUNKS });
    const human = await runCli(['run', 'echo', '--dir', ws.root, '--trust', '--input', '{"text":"hi"}'], { env });
    assert.equal(human.code, 0, human.stderr);
    assertNoRawControls(human.stdout + human.stderr);
    assert.ok(human.stdout.startsWith(`${ANSWER_SHOWN}\n\n{\n  "reply": "Answer: \\u001b[2K\\r`), human.stdout);
    assert.ok(human.stdout.includes('\\u009b1A up \\u202edesrever'), 'C1 and bidi \\u-escaped in the printed JSON');
    const json = await runCli(['run', 'echo', '--dir', ws.root, '--json', '--input', '{"text":"hi"}'], { env });
    assert.equal(json.code, 0, json.stderr);
    assertNoRawControls(json.stdout.replace(/\n$/, ''));
    assert.equal(JSON.parse(json.stdout).outputs.reply, ANSWER);
  });

  it('error messages quote the input inert', async () => {
    const unknown = await runCli(['frob\x1b]0;pwned\x07\r\u009b2K']);
    assert.equal(unknown.code, 2);
    assertNoRawControls(unknown.stderr);
    assert.match(unknown.stderr, /^baton: unknown command "frob\\x1b\]0;pwned\\x07\\x0d\\x9b2K"\n/);
    const k = await runCli(['search', '--dir', ws.root, '-k', '\x1b[2J\u202e', 'x']);
    assert.equal(k.code, 2);
    assertNoRawControls(k.stderr);
    assert.equal(k.stderr, 'baton: -k must be a positive integer, got "\\x1b[2J\\u{202e}"\n');
  });
});
