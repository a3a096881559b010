// FramingGuard on its own: well-framed bytes pass through unchanged however they are chunked;
// bad framing is reported once and reading resumes at the next message.
import assert from 'node:assert/strict';
import { FramingGuard, MAX_MESSAGE_BYTES } from '../../src/server/framing';
import { frame } from '../helpers/rawLsp';

/** What the guard passes on and reports for `input` written in chunks of `chunk` bytes. */
async function run(input: Buffer, chunk = input.length): Promise<{ out: Buffer; problems: string[] }> {
  const problems: string[] = [];
  const guard = new FramingGuard((p) => problems.push(p));
  const parts: Buffer[] = [];
  guard.on('data', (d: Buffer) => parts.push(d));
  const ended = new Promise((resolve) => guard.on('end', resolve));
  for (let i = 0; i < input.length; i += chunk) guard.write(input.subarray(i, i + chunk));
  guard.end();
  await ended;
  return { out: Buffer.concat(parts), problems };
}

const message = (id: number, text = 'hello') => frame({ jsonrpc: '2.0', id, method: 'baton/ask', params: { runId: `r${id}`, question: text } });
const body = (framed: Buffer) => framed.subarray(framed.indexOf('\r\n\r\n') + 4);

describe('FramingGuard', () => {
  it('passes well-framed messages through byte for byte, in any chunking', async () => {
    const input = Buffer.concat([
      message(1, 'Content-Length: 12 inside a string is just text'),
      Buffer.concat([Buffer.from('Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n'), message(2, 'ünïcödé 😀')]),
      message(3, 'x'.repeat(100_000)),
    ]);
    for (const chunk of [1, 7, 64, 4096, input.length]) {
      const { out, problems } = await run(input, chunk);
      assert.deepEqual(problems, [], `chunks of ${chunk}`);
      assert.ok(out.equals(input), `chunks of ${chunk}`);
    }
  });

  it('drops a badly framed message with one report and resumes at the next header', async () => {
    const next = message(9);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['not a number', Buffer.concat([Buffer.from('Content-Length: 1e3\r\n\r\n'), body(message(1))]), /Content-Length is not a number \("1e3"\)/],
      ['too short', Buffer.concat([Buffer.from(`Content-Length: ${body(message(1)).length - 3}\r\n\r\n`), body(message(1))]), /not the JSON its Content-Length \(\d+ bytes\) announced/],
      ['too long', Buffer.concat([Buffer.from(`Content-Length: ${body(message(1)).length + 40}\r\n\r\n`), body(message(1))]), /Content-Length \d+ is longer than its message/],
      ['garbage', Buffer.from('\u0000\u00ffnot a header at all\r\n\r\n{}\n'), /a header line that is not "Name: value"/],
      ['no Content-Length', Buffer.from('Content-Type: text/plain\r\n\r\n'), /no Content-Length header/],
      ['too big', Buffer.from(`Content-Length: ${MAX_MESSAGE_BYTES + 1}\r\n\r\n`), /over the \d+-byte limit/],
      ['an endless header', Buffer.from('X'.repeat(20_000)), /a header block of more than/],
    ];
    for (const [what, bad, problem] of cases) {
      for (const chunk of [1, 13, 100_000]) {
        const { out, problems } = await run(Buffer.concat([message(0), bad, next]), chunk);
        assert.equal(problems.length, 1, `${what} in chunks of ${chunk}: ${JSON.stringify(problems)}`);
        assert.match(problems[0], problem, what);
        assert.match(problems[0], /skipped to the next message$/);
        assert.ok(out.equals(Buffer.concat([message(0), next])), `${what} in chunks of ${chunk}: ${out.toString().slice(0, 300)}`);
      }
    }
  });

  it('reports each separate incident, once', async () => {
    const bad = Buffer.from('garbage\r\n\r\n');
    const { out, problems } = await run(Buffer.concat([bad, bad, message(1), bad, message(2)]));
    assert.equal(problems.length, 2, JSON.stringify(problems));
    assert.ok(out.equals(Buffer.concat([message(1), message(2)])));
  });
});
