// Retrieval-only and lookup answers quote the index: whole functions when short, else the window
// that holds the question's words, never 3-4 lines cut off before the part asked about.
import assert from 'node:assert/strict';
import { excerpt, MAX_EXCERPT_LINES } from '../../../src/core/orchestration/excerpts';

const fn = (lines: string[]) => ({ path: 'src/retry.ts', startLine: 10, endLine: 10 + lines.length - 1, symbol: 'retry', language: 'typescript', text: lines.join('\n') + '\n' });

describe('excerpts of retrieved code', () => {
  it('quotes a short function whole, blank lines kept, under its exact range', () => {
    const hit = fn(['export function retry() {', '  const a = 1;', '', '  return a;', '}']);
    const lines = excerpt(hit, 'how does retry work', 'markdown');
    assert.deepEqual(lines, ['', 'src/retry.ts:10-14 `retry`', '', '```typescript', 'export function retry() {', '  const a = 1;', '', '  return a;', '}', '```']);
  });

  it('quotes the window of a long chunk that holds the question\'s words, with the lines it shows', () => {
    const body = Array.from({ length: 120 }, (_, i) => `  step${i}();`);
    body[90] = '  await delay(options.baseDelayMs * 2 ** attempt); // backoff';
    const hit = fn(['export async function retry() {', ...body, '}']);
    const lines = excerpt(hit, 'where is the backoff delay computed?', 'text');
    const shown = lines.slice(2);
    assert.equal(shown.length, MAX_EXCERPT_LINES);
    assert.ok(shown.some((l) => l.includes('baseDelayMs * 2 ** attempt')), 'the asked-about line is quoted');
    const [, heading] = lines;
    const m = /^src\/retry\.ts:(\d+)-(\d+)  retry \(lines \d+-\d+ of 10-131\)$/.exec(heading);
    assert.ok(m, heading);
    assert.equal(Number(m[2]) - Number(m[1]) + 1, MAX_EXCERPT_LINES);
    assert.equal(shown[Number(101) - Number(m[1])].trim(), hit.text.split('\n')[91].trim(), 'the range names the lines shown');
  });

  it('fences Markdown longer than any backtick run inside the code', () => {
    const lines = excerpt({ ...fn(['a ``` b']), language: 'md' }, 'a', 'markdown');
    assert.equal(lines[3], '````md');
    assert.equal(lines.at(-1), '````');
  });
});
