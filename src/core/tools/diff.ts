// Unified diff of two texts, for showing a proposed edit before the user approves it. Lines are
// compared whole (newline included, so a missing final newline shows as a change). Myers'
// O(ND) algorithm on what lies between the common prefix and suffix; past MAX_EDIT_DISTANCE
// differences the middle is shown as one delete-all/add-all hunk rather than spending memory on
// a minimal script nobody reads line by line anyway.

export interface DiffOptions {
  /** Shown in the ---/+++ header lines as a/PATH and b/PATH. */
  path?: string;
  /** Unchanged lines around each change. Default 3. */
  context?: number;
}

const MAX_EDIT_DISTANCE = 2000;

type Op = { t: ' ' | '-' | '+'; line: string };

/** The unified diff from `oldText` to `newText`, or '' when they are equal. */
export function unifiedDiff(oldText: string, newText: string, opts: DiffOptions = {}): string {
  if (oldText === newText) return '';
  const a = splitLines(oldText);
  const b = splitLines(newText);
  const context = Math.max(0, opts.context ?? 3);

  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const midA = a.slice(pre, a.length - suf);
  const midB = b.slice(pre, b.length - suf);
  const middle = myers(midA, midB) ?? [...midA.map((line): Op => ({ t: '-', line })), ...midB.map((line): Op => ({ t: '+', line }))];
  const ops: Op[] = [
    ...a.slice(0, pre).map((line): Op => ({ t: ' ', line })),
    ...middle,
    ...a.slice(a.length - suf).map((line): Op => ({ t: ' ', line })),
  ];

  const path = opts.path ?? 'file';
  const out = [`--- a/${path}`, `+++ b/${path}`];
  for (const hunk of hunks(ops, context)) out.push(hunk);
  return out.join('\n') + '\n';
}

/** Lines with their newline kept; the last may lack one. */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function hunks(ops: Op[], context: number): string[] {
  const out: string[] = [];
  // Old/new line numbers before each op.
  const oldNo: number[] = [];
  const newNo: number[] = [];
  let o = 0;
  let n = 0;
  for (const op of ops) {
    oldNo.push(o);
    newNo.push(n);
    if (op.t !== '+') o++;
    if (op.t !== '-') n++;
  }
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && ops[i].t === ' ') i++;
    if (i === ops.length) break;
    const start = Math.max(0, i - context);
    // Extend while the next change is close enough to share the hunk's context.
    let end = i;
    for (let j = i; j < ops.length; j++) {
      if (ops[j].t !== ' ') end = j;
      else if (j - end > 2 * context) break;
    }
    const stop = Math.min(ops.length, end + 1 + context);
    const slice = ops.slice(start, stop);
    const oldLen = slice.filter((op) => op.t !== '+').length;
    const newLen = slice.filter((op) => op.t !== '-').length;
    const oldStart = oldLen ? oldNo[start] + 1 : oldNo[start];
    const newStart = newLen ? newNo[start] + 1 : newNo[start];
    out.push(`@@ -${oldStart},${oldLen} +${newStart},${newLen} @@`);
    for (const op of slice) {
      out.push(op.t + op.line.replace(/\n$/, ''));
      if (!op.line.endsWith('\n')) out.push('\\ No newline at end of file');
    }
    i = stop;
  }
  return out;
}

/** Myers' shortest edit script, or null when it needs more than MAX_EDIT_DISTANCE edits. */
function myers(a: string[], b: string[]): Op[] | null {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const limit = Math.min(max, MAX_EDIT_DISTANCE);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d][k + d]: furthest x on diagonal k after d edits (only k with d's parity are meaningful).
  const trace: Int32Array[] = [];
  for (let d = 0; d <= limit; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) { x++; y++; }
      v[off + k] = x;
      if (x >= n && y >= m) {
        trace.push(v.slice(off - d, off + d + 1));
        return backtrack(a, b, trace);
      }
    }
    trace.push(v.slice(off - d, off + d + 1));
  }
  return null;
}

function backtrack(a: string[], b: string[], trace: Int32Array[]): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d > 0; d--) {
    const prev = trace[d - 1];
    const at = (k: number) => prev[k + d - 1];
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) { ops.push({ t: ' ', line: a[--x] }); y--; }
    if (prevK === k + 1) ops.push({ t: '+', line: b[prevY] });
    else ops.push({ t: '-', line: a[prevX] });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) { ops.push({ t: ' ', line: a[--x] }); y--; }
  return ops.reverse();
}

/** Applies a unified diff made by unifiedDiff to `oldText` (used by tests to check round trips). */
export function applyUnifiedDiff(oldText: string, diff: string): string {
  const a = splitLines(oldText);
  const out: string[] = [];
  let pos = 0;
  const lines = diff.split('\n');
  for (let i = 2; i < lines.length; i++) {
    const header = /^@@ -(\d+),(\d+) \+\d+,\d+ @@$/.exec(lines[i]);
    if (!header) continue;
    const oldStart = Number(header[2]) === 0 ? Number(header[1]) : Number(header[1]) - 1;
    while (pos < oldStart) out.push(a[pos++]);
    for (i++; i < lines.length && /^[ +-]/.test(lines[i]); i++) {
      const noEol = lines[i + 1] === '\\ No newline at end of file';
      const text = lines[i].slice(1) + (noEol ? '' : '\n');
      if (lines[i][0] !== '+') pos++;
      if (lines[i][0] !== '-') out.push(text);
      if (noEol) i++;
    }
    i--;
  }
  while (pos < a.length) out.push(a[pos++]);
  return out.join('');
}
