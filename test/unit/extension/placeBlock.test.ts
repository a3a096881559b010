// Apply on a chat code block: a fragment must land where it belongs or be refused, never replace
// the whole file (a 3-line usage example once emptied a 19-line file in the review).
import assert from 'node:assert/strict';
import { placeBlock } from '../../../src/extension/edits/placeBlock';

const FILE = [
  "import { delay } from './delay';",
  '',
  'export interface RetryOptions {',
  '  attempts: number;',
  '  baseDelayMs: number;',
  '}',
  '',
  'export async function retry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {',
  '  let last: unknown;',
  '  for (let attempt = 0; attempt < options.attempts; attempt++) {',
  '    try {',
  '      return await fn();',
  '    } catch (err) {',
  '      last = err;',
  '      await delay(options.baseDelayMs * 2 ** attempt);',
  '    }',
  '  }',
  '  throw last;',
  '}',
  '',
].join('\n');

const apply = (doc: string, block: string, selection?: { start: number; end: number }) => {
  const place = placeBlock(doc, block, selection);
  return place.kind === 'replace' ? { why: place.why, text: doc.slice(0, place.start) + block.replace(place.why === 'matched lines' ? /\n$/ : /$^/, '') + doc.slice(place.end) } : place;
};

describe('Apply: where a chat code block goes', () => {
  it('refuses a usage example that matches no place, instead of replacing the file', () => {
    const usage = "const value = await retry(() => fetchUser(id), { attempts: 3, baseDelayMs: 100 });\nconsole.log(value);\n";
    const place = placeBlock(FILE, usage);
    assert.equal(place.kind, 'refuse');
    assert.match(place.kind === 'refuse' ? place.reason : '', /Select the lines it should replace/);
  });

  it('puts an edited function over the function it edits (first and last lines matched once each)', () => {
    const edited = [
      'export async function retry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {',
      '  let last: unknown;',
      '  for (let attempt = 0; attempt < options.attempts; attempt++) {',
      '    try {',
      '      return await fn();',
      '    } catch (err) {',
      '      last = err;',
      '      if (attempt + 1 < options.attempts) await delay(options.baseDelayMs * 2 ** attempt);',
      '    }',
      '  }',
      '  throw last;',
      '}',
      '',
    ].join('\n');
    const result = apply(FILE, edited);
    assert.ok('text' in result);
    assert.equal(result.why, 'matched lines');
    assert.ok(result.text.startsWith("import { delay } from './delay';\n\nexport interface RetryOptions {"), 'the rest of the file is kept');
    assert.match(result.text, /if \(attempt \+ 1 < options.attempts\)/);
    assert.equal(result.text.split('\n').length, FILE.split('\n').length, 'one line changed, none lost');
  });

  it('replaces the whole file when the block is plainly a new version of it', () => {
    const whole = FILE.replace('throw last;', 'throw new Error(String(last));');
    const place = placeBlock(FILE, whole);
    assert.deepEqual(place, { kind: 'replace', start: 0, end: FILE.length, why: 'whole file' });
  });

  it('uses the selection when there is one', () => {
    assert.deepEqual(placeBlock(FILE, 'x', { start: 3, end: 9 }), { kind: 'replace', start: 3, end: 9, why: 'selection' });
  });

  it('refuses when the first line occurs more than once (no guess)', () => {
    const doc = '{\n  a: 1,\n}\n{\n  b: 2,\n}\n';
    assert.equal(placeBlock(doc + doc.repeat(3), '{\n  c: 3,\n}\n').kind, 'refuse');
  });

  it('keeps a CRLF file\'s line ending after the matched region', () => {
    const doc = 'a\r\nfunction f() {\r\n  return 1;\r\n}\r\nb\r\nc\r\nd\r\ne\r\n';
    const place = placeBlock(doc, 'function f() {\n  return 2;\n}\n');
    assert.equal(place.kind, 'replace');
    if (place.kind === 'replace') assert.equal(doc.slice(place.end, place.end + 2), '\r\n');
  });
});
