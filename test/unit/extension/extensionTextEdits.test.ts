import assert from 'node:assert/strict';
import { citationsOf, codeBlock, fenceLanguage, isCodeFix, linesOf, padLines, replaceLines, resultMarkdown } from '../../../src/extension/edits/textEdits';
import { resolveInside, toRelative } from '../../../src/base/node/paths';
import { RunProgressRouter } from '../../../src/extension/commands/runProgressRouter';

describe('extension: text edits and workflow outputs', () => {
  it('replaces the selected lines with a fix, keeping the rest and the line endings', () => {
    const text = 'a\nb\nc\nd\n';
    assert.equal(replaceLines(text, 2, 3, 'B\nC\nX\n'), 'a\nB\nC\nX\nd\n');
    assert.equal(replaceLines('a\r\nb\r\nc', 2, 2, 'x\ny'), 'a\r\nx\r\ny\r\nc');
    assert.equal(replaceLines('only', 1, 1, 'new'), 'new');
  });

  it('reads lines back exactly as a selection holds them', () => {
    assert.equal(linesOf('a\r\nb\r\nc', 2, 3), 'b\r\nc');
    const text = 'x\ny\nz';
    assert.equal(replaceLines(text, 2, 2, linesOf(text, 2, 2)), text);
  });

  it('pads a problem range with context lines, clamped to the document', () => {
    assert.deepEqual(padLines(2, 2, 10, 3), { startLine: 1, endLine: 5 });
    assert.deepEqual(padLines(9, 9, 10, 3), { startLine: 6, endLine: 10 });
  });

  it('recognises the codeFix shape', () => {
    assert.ok(isCodeFix({ explanation: 'off by one', code: 'i < n' }));
    assert.ok(!isCodeFix({ explanation: 'x', code: '' }));
    assert.ok(!isCodeFix('code'));
    assert.ok(!isCodeFix(null));
  });

  it('cites context items once each and skips malformed ones', () => {
    const context = [
      { path: 'a.ts', startLine: 1, endLine: 4, text: '', score: 1 },
      { path: 'a.ts', startLine: 1, endLine: 4, text: '', score: 0.5 },
      { path: 'b.ts', text: 'no lines' },
      'junk',
    ];
    assert.deepEqual(citationsOf(context), [{ path: 'a.ts', startLine: 1, endLine: 4 }]);
    assert.deepEqual(citationsOf(undefined), []);
  });

  it('builds the chat markdown from an answer or a fix, with notices', () => {
    assert.equal(resultMarkdown({ answer: 'It parses.' }, ['lexical only']), 'It parses.\n\n> lexical only');
    assert.equal(resultMarkdown({ fix: { explanation: 'Use <', code: 'i < n\n' } }, [], 'ts'), 'Use <\n\n```ts\ni < n\n```');
  });

  it('fences code so backticks inside cannot close the block', () => {
    assert.equal(codeBlock('a ```` b'), '`````\na ```` b\n`````');
  });

  it('maps a fence info string to a language id', () => {
    assert.equal(fenceLanguage('Here:\n```ts\nx\n```'), 'typescript');
    assert.equal(fenceLanguage('```python\nx\n```'), 'python');
    assert.equal(fenceLanguage('no code'), undefined);
  });

  it('keeps server paths inside the workspace', () => {
    assert.equal(toRelative('/ws', '/ws/src/a.ts'), 'src/a.ts');
    assert.equal(toRelative('/ws', '/other/a.ts'), undefined);
    assert.equal(resolveInside('/ws', 'src/a.ts'), '/ws/src/a.ts');
    assert.equal(resolveInside('/ws', '.'), '/ws');
    assert.equal(resolveInside('/ws', '../etc/passwd'), undefined);
    assert.equal(resolveInside('/ws', '/etc/passwd'), undefined);
  });

  it('routes run progress by runId and forgets finished runs', () => {
    const router = new RunProgressRouter();
    const seen: string[] = [];
    const stop = router.listen('r1', (p) => seen.push(p.kind));
    assert.ok(router.dispatch({ runId: 'r1', kind: 'token', text: 'x' }));
    assert.ok(!router.dispatch({ runId: 'r2', kind: 'token', text: 'y' }));
    stop();
    assert.ok(!router.dispatch({ runId: 'r1', kind: 'notice', message: 'late' }));
    assert.deepEqual(seen, ['token']);
    assert.equal(router.activeRuns, 0);
  });
});
