import assert from 'node:assert/strict';
import { backoffDelay, classify, decide, DEFAULT_RETRY_POLICY, parseRetryAfter, sleep, type Failure, type RetryPolicy } from '../../../src/core/llm/retry';
import { seededRandom } from '../../helpers/seededRandom';

const POLICY: RetryPolicy = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 10_000, maxSilentMs: 60_000 };
const http = (status: number, retryAfterMs?: number): Failure => ({ kind: 'http', status, message: `status ${status}`, retryAfterMs });

describe('llm retry policy', () => {
  it('parses Retry-After as seconds, fractional seconds, an HTTP-date, and retry-after-ms', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter({ retryAfter: '2' }, now), 2000);
    assert.equal(parseRetryAfter({ retryAfter: ' 0.25 ' }, now), 250);
    assert.equal(parseRetryAfter({ retryAfter: 'Wed, 01 Jan 2025 00:00:07 GMT' }, now), 7000);
    assert.equal(parseRetryAfter({ retryAfter: 'Tue, 31 Dec 2024 23:59:00 GMT' }, now), 0, 'a past date means now');
    assert.equal(parseRetryAfter({ retryAfter: '3', retryAfterMs: '150' }, now), 150, 'retry-after-ms is more precise');
    assert.equal(parseRetryAfter({ retryAfter: 'soon' }, now), undefined);
    assert.equal(parseRetryAfter({ retryAfter: '-1' }, now), undefined);
    assert.equal(parseRetryAfter({ retryAfter: null }, now), undefined);
    assert.equal(parseRetryAfter({}, now), undefined);
  });

  it('backs off exponentially with equal jitter, capped', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, POLICY, () => 0)), [50, 100, 200, 400, 500, 500]);
    assert.deepEqual([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, POLICY, () => 1)), [100, 200, 400, 800, 1000, 1000]);
    const random = seededRandom(3);
    for (let n = 0; n < 6; n++) {
      const step = Math.min(POLICY.maxDelayMs, POLICY.baseDelayMs * 2 ** n);
      const d = backoffDelay(n, POLICY, random);
      assert.ok(d >= step / 2 && d <= step, `retry ${n}: ${d} outside [${step / 2}, ${step}]`);
    }
    // A broken random source cannot produce negative or huge waits.
    assert.equal(backoffDelay(0, POLICY, () => -5), 50);
    assert.equal(backoffDelay(0, POLICY, () => 7), 100);
  });

  it('classifies failures into retry, fallback and fatal', () => {
    for (const s of [408, 409, 429, 500, 502, 503, 504, 529]) assert.equal(classify(http(s)), 'retry', String(s));
    for (const s of [401, 403, 404]) assert.equal(classify(http(s)), 'fallback', String(s));
    for (const s of [400, 413, 415, 422]) assert.equal(classify(http(s)), 'fatal', String(s));
    for (const kind of ['timeout', 'connection', 'stream-cut', 'invalid-reply'] as const) assert.equal(classify({ kind, message: '' }), 'retry', kind);
    assert.equal(classify({ kind: 'not-openai', message: '' }), 'fallback', 'another protocol: asking again cannot help');
    assert.equal(classify({ kind: 'cancelled', message: '' }), 'fatal');
  });

  it('decides: Retry-After when given, backoff otherwise, fallback when retries run out or the wait is too long', () => {
    assert.deepEqual(decide(http(429, 1500), 0, POLICY, () => 0), { verdict: 'retry', delayMs: 1500, delaySource: 'retry-after' });
    assert.deepEqual(decide(http(503), 1, POLICY, () => 0), { verdict: 'retry', delayMs: 100, delaySource: 'backoff' });
    assert.deepEqual(decide({ kind: 'timeout', message: '' }, 2, POLICY, () => 1), { verdict: 'retry', delayMs: 400, delaySource: 'backoff' });
    assert.equal(decide(http(503), 3, POLICY).verdict, 'fallback');
    const tooLong = decide(http(429, 60_000), 0, POLICY);
    assert.equal(tooLong.verdict, 'fallback');
    assert.match(tooLong.note!, /Retry-After 60000 ms exceeds 10000 ms/);
    assert.deepEqual(decide(http(400), 0, POLICY), { verdict: 'fatal', delayMs: 0 });
    assert.deepEqual(decide(http(401), 0, POLICY), { verdict: 'fallback', delayMs: 0 });
    assert.equal(decide(http(503), 0, { ...POLICY, maxRetries: 0 }).verdict, 'fallback');
    assert.ok(DEFAULT_RETRY_POLICY.maxRetries >= 1);
  });

  it('sleep resolves, and rejects as soon as its signal aborts', async () => {
    await sleep(1);
    const controller = new AbortController();
    const p = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await assert.rejects(p, /stop/);
    await assert.rejects(sleep(10, AbortSignal.abort(new Error('already'))), /already/);
  });
});
