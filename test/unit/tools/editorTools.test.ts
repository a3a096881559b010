import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApprovalRequest, Diagnostic } from '../../../src/core/host/editorHost';
import { NodeHost } from '../../../src/core/host/nodeHost';
import { applyUnifiedDiff, unifiedDiff } from '../../../src/core/tools/diff';
import { applySearchReplace } from '../../../src/core/tools/editorTools';
import { createCoreToolRegistry } from '../../../src/core/tools/allTools';
import type { ToolContext } from '../../../src/core/tools/types';
import { Trace } from '../../../src/core/trace/trace';
import { seededRandom } from '../../helpers/seededRandom';

/** A disk-backed host whose approval answer is scripted and recorded. */
class ScriptedHost extends NodeHost {
  readonly asked: ApprovalRequest[] = [];
  answer = false;
  beforeAnswer?: () => void;
  diagnostics: Diagnostic[] = [];
  override async requestApproval(request: ApprovalRequest): Promise<boolean> {
    this.asked.push(request);
    this.beforeAnswer?.();
    return this.answer;
  }
  override async getDiagnostics(path?: string): Promise<Diagnostic[]> {
    return this.diagnostics.filter((d) => path === undefined || d.path === path);
  }
}

const SOURCE = [
  'export class Greeter {',
  '    greet(name: string): string {',
  '        const greeting = `Hello, ${name}`;',
  '        return greeting;',
  '    }',
  '',
  '    wave(): string {',
  '        return "wave";',
  '    }',
  '}',
  '',
].join('\n');

describe('editor tools', () => {
  let root: string;
  let host: ScriptedHost;
  let ctx: ToolContext;
  const registry = createCoreToolRegistry();
  const call = (name: string, args: unknown) => registry.call(name, JSON.stringify(args), ctx);
  const read = (rel: string) => readFileSync(join(root, rel), 'utf8');

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'baton-edit-'));
    writeFileSync(join(root, 'greeter.ts'), SOURCE);
    host = new ScriptedHost({ root });
    ctx = { host, trace: new Trace() };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  describe('search/replace matching', () => {
    it('replaces an exact match', () => {
      const r = applySearchReplace(SOURCE, 'return "wave";', 'return "bye";');
      assert.ok(r.ok && !r.tolerant && r.line === 8);
      assert.ok(r.ok && r.text.includes('        return "bye";'));
    });

    it('tolerates indentation drift and re-indents the replacement to the file', () => {
      const search = 'greet(name: string): string {\n  const greeting = `Hello, ${name}`;\n  return greeting;\n}';
      const replace = 'greet(name: string): string {\n  return `Hi, ${name}`;\n}';
      const r = applySearchReplace(SOURCE, search, replace);
      assert.ok(r.ok, r.ok ? '' : r.error);
      assert.ok(r.tolerant);
      assert.equal(r.text, SOURCE.replace('    greet(name: string): string {\n        const greeting = `Hello, ${name}`;\n        return greeting;\n    }', '    greet(name: string): string {\n      return `Hi, ${name}`;\n    }'));
    });

    it('tolerates trailing spaces and CRLF files, keeping CRLF', () => {
      const crlf = SOURCE.replace(/\n/g, '\r\n');
      const r = applySearchReplace(crlf, 'wave(): string {   \n    return "wave";\n', 'wave(): string {\n    return "WAVE";\n');
      assert.ok(r.ok, r.ok ? '' : r.error);
      assert.ok(r.text.includes('        return "WAVE";\r\n    }\r\n'));
      assert.ok(!/[^\r]\n/.test(r.text));
    });

    it('reports ambiguous matches with their lines, and missing text with a hint', () => {
      const twice = applySearchReplace(SOURCE, '    }\n', '');
      assert.ok(!twice.ok);
      assert.match(twice.error, /matches 2 places \(lines 5, 9\); include more surrounding lines/);
      const tolerantTwice = applySearchReplace(SOURCE.replace('return "wave"', 'return greeting'), 'return greeting;\n}', 'x');
      assert.ok(!tolerantTwice.ok);
      assert.match(tolerantTwice.error, /matches 2 places \(lines 4, 8\)/);
      const missing = applySearchReplace(SOURCE, 'wave(): string {\n  return "hello";', 'x');
      assert.ok(!missing.ok);
      assert.match(missing.error, /not found \(its first line appears at line 7, but the lines after it differ\)/);
      const empty = applySearchReplace(SOURCE, '  \n', 'x');
      assert.ok(!empty.ok && /empty/.test(empty.error));
    });
  });

  describe('propose_edit', () => {
    it('asks approval with a unified diff, then applies the edit through the host', async () => {
      host.answer = true;
      const r = await call('propose_edit', { path: 'greeter.ts', description: 'Louder wave', search: 'return "wave";', replace: 'return "WAVE";' });
      assert.equal(r.outcome, 'ok', r.content);
      assert.equal(r.content, 'Edited greeter.ts (+1 -1 lines).');
      assert.equal(host.asked.length, 1);
      assert.equal(host.asked[0].kind, 'edit');
      assert.equal(host.asked[0].title, 'Edit greeter.ts: Louder wave');
      assert.equal(host.asked[0].detail, '--- a/greeter.ts\n+++ b/greeter.ts\n@@ -5,6 +5,6 @@\n     }\n \n     wave(): string {\n-        return "wave";\n+        return "WAVE";\n     }\n }\n');
      assert.equal(read('greeter.ts'), SOURCE.replace('"wave"', '"WAVE"'));
    });

    it('changes nothing when the user declines', async () => {
      const r = await call('propose_edit', { path: 'greeter.ts', description: 'x', content: 'gone\n' });
      assert.equal(r.outcome, 'denied');
      assert.match(r.content, /The user declined: Edit greeter\.ts: x\. Nothing was changed/);
      assert.equal(read('greeter.ts'), SOURCE);
      assert.equal((ctx.trace as Trace).ofKind('tool.denied').length, 1);
    });

    it('creates new files from content, and refuses secrets, escapes and .git', async () => {
      host.answer = true;
      const created = await call('propose_edit', { path: 'src/new/file.ts', description: 'Add file', content: 'export {};\n' });
      assert.equal(created.outcome, 'ok', created.content);
      assert.equal(read('src/new/file.ts'), 'export {};\n');
      assert.match(host.asked[0].detail, /@@ -0,0 \+1,1 @@\n\+export \{\};/);
      for (const [path, why] of [['.env', /secrets file/], ['../x.ts', /outside the workspace/], ['.git/config', /Baton does not edit it/]] as const) {
        const r = await call('propose_edit', { path, description: 'x', content: 'y' });
        assert.equal(r.outcome, 'error', path);
        assert.match(r.content, why);
      }
      assert.match((await call('propose_edit', { path: 'nope.ts', description: 'x', search: 'a', replace: 'b' })).content, /does not exist; to create it, pass its whole content/);
      assert.match((await call('propose_edit', { path: 'greeter.ts', description: 'x', search: 'a' })).content, /search needs a replace/);
      assert.match((await call('propose_edit', { path: 'greeter.ts', description: 'x', content: SOURCE })).content, /unchanged/);
      assert.equal(host.asked.length, 1, 'refused edits never reach the user');
    });

    it('refuses to apply when the file changed between the proposal and the approval', async () => {
      host.answer = true;
      host.beforeAnswer = () => writeFileSync(join(root, 'greeter.ts'), SOURCE + '// edited meanwhile\n');
      const r = await call('propose_edit', { path: 'greeter.ts', description: 'x', search: 'return "wave";', replace: 'return 1;' });
      assert.equal(r.outcome, 'error');
      assert.match(r.content, /changed after the edit was proposed/);
      assert.equal(read('greeter.ts'), SOURCE + '// edited meanwhile\n');
    });
  });

  describe('run_command', () => {
    it('shows the exact command line for approval and returns exit code and output', async () => {
      host.answer = true;
      const r = await call('run_command', { command: 'echo out; echo err >&2; exit 3', timeoutSeconds: 30 });
      assert.equal(host.asked[0].kind, 'command');
      assert.equal(host.asked[0].detail, "$ echo out; echo err >&2; exit 3\n(in ., time limit 30 s; runs without OPENAI_API_KEY: Baton's keys are not passed to commands)");
      assert.equal(r.content, 'exit code 3\nstdout:\nout\n\nstderr:\nerr\n');
    });

    it('never runs a declined command', async () => {
      const r = await call('run_command', { command: 'touch pwned' });
      assert.equal(r.outcome, 'denied');
      assert.ok(!existsSync(join(root, 'pwned')));
    });

    it('runs in a workspace subdirectory and refuses one outside', async () => {
      host.answer = true;
      writeFileSync(join(root, 'marker'), '');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(root, 'sub'));
      assert.match((await call('run_command', { command: 'pwd', cwd: 'sub' })).content, /\/sub\n/);
      assert.match((await call('run_command', { command: 'pwd', cwd: '..' })).content, /outside the workspace/);
    });
  });

  it('get_diagnostics reports what the host knows', async () => {
    host.diagnostics = [{ path: 'greeter.ts', line: 3, column: 9, severity: 'error', message: 'Unused variable', source: 'ts' }];
    assert.equal((await call('get_diagnostics', { path: 'greeter.ts' })).content, 'greeter.ts:3:9: error: Unused variable (ts)');
    assert.equal((await call('get_diagnostics', { path: 'other.ts' })).content, 'No diagnostics for other.ts.');
  });

  it('unified diffs round-trip over random edits', () => {
    const random = seededRandom(99);
    const alphabet = ['a\n', 'b\n', 'c\n', 'd\n', '\n', 'e'];
    const text = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (let i = 0; i < 300; i++) {
      const before = text(Math.floor(random() * 30));
      const after = random() < 0.5 ? text(Math.floor(random() * 30)) : before.replace(/b/g, 'B');
      const diff = unifiedDiff(before, after, { path: 'f' });
      if (before === after) assert.equal(diff, '');
      else assert.equal(applyUnifiedDiff(before, diff), after, JSON.stringify({ before, after, diff }));
    }
  });
});
