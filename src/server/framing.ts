// Guards the LSP byte stream (stdin) before vscode-jsonrpc reads it. The library's reader cannot
// find its way back from bad framing: after a Content-Length that is not a number, or one that does
// not match its body, it reads what follows as headers, fails on every later chunk and answers
// nothing more. This stream passes well-framed messages through byte for byte; on anything else it
// reports one error, skips to the next `Content-Length:` header and carries on.
//   - a header block that is not `Name: value` lines with a numeric Content-Length (or garbage
//     between messages): skipped up to the next Content-Length header;
//   - a body that is not JSON once its Content-Length bytes are in (the length was too short):
//     dropped, and what follows it skipped up to the next header;
//   - a Content-Length too long for its body: noticed when the next message's header arrives
//     right after a complete JSON value; the message is dropped and reading resumes at that header.
// A dropped request cannot be answered (its id is in the part that did not parse), but every
// later one is.
import { Transform, type TransformCallback } from 'node:stream';
import { errorMessage } from '../base/common/errors';

/** A header block longer than this is garbage. */
export const MAX_HEADER_BYTES = 8 * 1024;
/** A message longer than this is refused (a whole large file synchronised is well below it). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const HEADER_END = Buffer.from('\r\n\r\n');
const MARKERS = [Buffer.from('Content-Length:'), Buffer.from('content-length:')];
const MARKER_BYTES = MARKERS[0].length;
const EMPTY = Buffer.alloc(0);
/** Prefixes of one body tried as JSON while looking for a too-long Content-Length. */
const MAX_PREFIX_CHECKS = 8;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/;

interface PendingBody {
  header: Buffer;
  length: number;
  chunks: Buffer[];
  have: number;
  /** The body's last bytes seen, so a marker split across chunks is still found. */
  tail: Buffer;
  /** Body offset up to which markers have been considered. */
  checked: number;
  prefixChecks: number;
}

export class FramingGuard extends Transform {
  private head: Buffer = EMPTY;
  private body: PendingBody | null = null;
  /** Recovering from bad framing: the problem was reported once, the skipping that follows is not. */
  private skipping = false;

  constructor(private readonly report: (problem: string) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      let rest = chunk;
      while (rest.length > 0) rest = this.body ? this.fillBody(rest) : this.readHeader(rest);
    } catch (err) {
      // A bug here must not end the stream (and with it the server): start over at the next header.
      this.head = EMPTY;
      this.body = null;
      this.problem(`unexpected error while reading (${errorMessage(err)})`);
    }
    done();
  }

  /** Header mode: the bytes after a complete, valid header block (the body's start), else EMPTY. */
  private readHeader(data: Buffer): Buffer {
    const buf = this.head.length ? Buffer.concat([this.head, data]) : data;
    this.head = EMPTY;
    let from = 0;
    for (;;) {
      const end = buf.indexOf(HEADER_END, from);
      const size = (end < 0 ? buf.length : end) - from;
      if (end < 0 && size <= MAX_HEADER_BYTES) {
        this.head = buf.subarray(from);
        return EMPTY;
      }
      const length = size > MAX_HEADER_BYTES ? `a header block of more than ${MAX_HEADER_BYTES} bytes` : parseHeader(buf.toString('latin1', from, end));
      if (typeof length === 'number') {
        this.body = { header: buf.subarray(from, end + HEADER_END.length), length, chunks: [], have: 0, tail: EMPTY, checked: 0, prefixChecks: 0 };
        return buf.subarray(end + HEADER_END.length);
      }
      this.problem(`${length}`);
      const next = findMarker(buf, from + 1);
      if (next < 0) {
        this.head = buf.subarray(Math.max(from + 1, buf.length - (MARKER_BYTES - 1)));
        return EMPTY;
      }
      from = next;
    }
  }

  /** Body mode: collects the body; returns the bytes after it (or after a dropped message). */
  private fillBody(data: Buffer): Buffer {
    const body = this.body!;
    const part = data.length > body.length - body.have ? data.subarray(0, body.length - body.have) : data;
    const rest = data.subarray(part.length);
    const start = body.have;
    body.chunks.push(part);
    body.have += part.length;
    const early = this.tooLong(body, part, start);
    if (early >= 0) {
      const bytes = Buffer.concat(body.chunks);
      this.body = null;
      this.problem(`Content-Length ${body.length} is longer than its message`);
      return Buffer.concat([bytes.subarray(early), rest]);
    }
    if (body.have < body.length) return EMPTY;
    const bytes = body.chunks.length === 1 ? body.chunks[0] : Buffer.concat(body.chunks);
    this.body = null;
    if (isJson(bytes, bytes.length)) {
      this.skipping = false;
      this.push(Buffer.concat([body.header, bytes]));
      return rest;
    }
    this.problem(`a message body is not the JSON its Content-Length (${body.length} bytes) announced`);
    const next = findMarker(bytes, 0);
    return next < 0 ? rest : Buffer.concat([bytes.subarray(next), rest]);
  }

  /** Where the next message's header starts inside this body, when a complete JSON value ends
   * right before it (so the Content-Length was too long); -1 otherwise. */
  private tooLong(body: PendingBody, part: Buffer, start: number): number {
    const window = body.tail.length ? Buffer.concat([body.tail, part]) : part;
    const base = start - body.tail.length;
    body.tail = window.subarray(Math.max(0, window.length - (MARKER_BYTES - 1)));
    for (let at = findMarker(window, 0); at >= 0; at = findMarker(window, at + 1)) {
      const offset = base + at;
      if (offset <= body.checked) continue;
      body.checked = offset;
      if (offset === 0 || body.prefixChecks >= MAX_PREFIX_CHECKS) continue;
      body.prefixChecks++;
      if (isJson(Buffer.concat(body.chunks), offset)) return offset;
    }
    return -1;
  }

  private problem(what: string): void {
    if (!this.skipping) this.report(`bad message framing from the client: ${what}; skipped to the next message`);
    this.skipping = true;
  }
}

/** The Content-Length of a header block, or what is wrong with it. */
function parseHeader(block: string): number | string {
  let length: number | string = 'no Content-Length header';
  for (const line of block.split('\r\n')) {
    const m = HEADER_LINE.exec(line);
    if (!m) return `a header line that is not "Name: value" (${JSON.stringify(line.slice(0, 40))})`;
    if (m[1].toLowerCase() !== 'content-length') continue;
    if (!/^\d{1,10}$/.test(m[2])) return `Content-Length is not a number (${JSON.stringify(m[2].slice(0, 40))})`;
    length = Number(m[2]);
    if (length > MAX_MESSAGE_BYTES) return `Content-Length ${length} is over the ${MAX_MESSAGE_BYTES}-byte limit`;
  }
  return length;
}

function findMarker(buf: Buffer, from: number): number {
  const found = MARKERS.map((m) => buf.indexOf(m, from)).filter((i) => i >= 0);
  return found.length ? Math.min(...found) : -1;
}

function isJson(bytes: Buffer, end: number): boolean {
  try {
    JSON.parse(bytes.toString('utf8', 0, end));
    return true;
  } catch {
    return false;
  }
}
