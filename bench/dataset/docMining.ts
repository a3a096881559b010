// Finds documented functions in JS/TS sources with the TypeScript parser, and blanks the doc
// comments out while keeping every line and column, so a benchmark query's line range still points
// at the function and the answer text is no longer sitting next to the code.
// Shared by the benchmark builder (bench/dataset/build.ts) and the training miner (train/mine.ts).
import * as ts from 'typescript';

export interface DocFunction {
  symbol: string;
  /** 1-based inclusive line range: declaration (after its comments) to closing brace. */
  startLine: number;
  endLine: number;
  /** Character offsets of the same range in the file. */
  start: number;
  end: number;
  /** Cleaned description (tags dropped), whole. */
  doc: string;
  /** Cleaned first sentence, '' when none. */
  firstSentence: string;
  /** @param descriptions and @returns text, cleaned (extra training signal). */
  tagText: string;
}

export interface MinedFile {
  /** The file with all doc comments replaced by spaces (newlines kept). */
  stripped: string;
  functions: DocFunction[];
}

export const CODE_EXT = /\.(js|mjs|cjs|jsx|ts|mts|cts|tsx)$/;
export const DECLARATION = /\.d\.[cm]?ts$/;

function scriptKind(fileName: string): ts.ScriptKind {
  if (/\.tsx$/.test(fileName)) return ts.ScriptKind.TSX;
  if (/\.[cm]?ts$/.test(fileName)) return ts.ScriptKind.TS;
  if (/\.jsx$/.test(fileName)) return ts.ScriptKind.JSX;
  return ts.ScriptKind.JS;
}

/** True when an expression is, or wraps (call arguments, parentheses, casts, object literal
 * members), a function — `add = _curry2(function add(){})`, `return typed(name, {...})`. */
function containsFunction(e: ts.Node | undefined, depth = 0): boolean {
  if (!e || depth > 4) return false;
  if (ts.isFunctionExpression(e) || ts.isArrowFunction(e) || ts.isClassExpression(e)) return true;
  if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isTypeAssertionExpression(e) ||
      ts.isSatisfiesExpression(e) || ts.isNonNullExpression(e)) return containsFunction(e.expression, depth + 1);
  if (ts.isCallExpression(e)) return e.arguments.some((a) => containsFunction(a, depth + 1));
  if (ts.isObjectLiteralExpression(e)) {
    return e.properties.some((p) => ts.isMethodDeclaration(p) ||
      (ts.isPropertyAssignment(p) && containsFunction(p.initializer, depth + 1)));
  }
  return false;
}

function nameText(n: ts.Node | undefined): string {
  if (!n) return '';
  if (ts.isIdentifier(n) || ts.isPrivateIdentifier(n) || ts.isStringLiteral(n) || ts.isNumericLiteral(n)) return n.text;
  if (ts.isPropertyAccessExpression(n)) return n.name.text;
  if (ts.isElementAccessExpression(n)) return nameText(n.argumentExpression);
  if (ts.isComputedPropertyName(n)) return nameText(n.expression);
  return '';
}

/** The node's symbol name when it is a function-like target, otherwise undefined. */
function targetName(n: ts.Node): string | undefined {
  if (ts.isFunctionDeclaration(n)) return n.name?.text ?? 'default';
  if (ts.isMethodDeclaration(n) || ts.isGetAccessorDeclaration(n) || ts.isSetAccessorDeclaration(n)) {
    return n.body ? nameText(n.name) : undefined;
  }
  if (ts.isConstructorDeclaration(n)) return n.body ? 'constructor' : undefined;
  if (ts.isPropertyDeclaration(n) || ts.isPropertyAssignment(n)) {
    return containsFunction(n.initializer) && !ts.isClassExpression(n.initializer!) ? nameText(n.name) : undefined;
  }
  if (ts.isVariableStatement(n)) {
    const d = n.declarationList.declarations;
    return d.length === 1 && containsFunction(d[0].initializer) && !ts.isClassExpression(d[0].initializer!)
      ? nameText(d[0].name) : undefined;
  }
  if (ts.isExpressionStatement(n) && ts.isBinaryExpression(n.expression) &&
      n.expression.operatorToken.kind === ts.SyntaxKind.EqualsToken && containsFunction(n.expression.right) &&
      !ts.isClassExpression(n.expression.right)) {
    const left = nameText(n.expression.left);
    const right = n.expression.right;
    if (left === 'exports' && (ts.isFunctionExpression(right)) && right.name) return right.name.text;
    return left || undefined;
  }
  if (ts.isReturnStatement(n) && containsFunction(n.expression)) return '';
  if (ts.isExportAssignment(n) && containsFunction(n.expression)) return 'default';
  return undefined;
}

const DIRECTIVE = /^\s*(eslint|istanbul|jshint|jscs|global |prettier-ignore|@ts-|#__PURE__|@__PURE__|c8 |v8 |webpack|tslint|@flow|@jsx|@vite)/;
const LEGAL = /copyright|@license|licensed under|spdx-license/i;

/** Doc comment → plain text: markers, `*` gutters, inline tags, HTML and markdown links removed. */
export function cleanComment(raw: string): { description: string; tags: string } {
  let body: string;
  if (raw.startsWith('/*')) {
    body = raw.replace(/^\/\*+!?/, '').replace(/\*+\/$/, '');
    body = body.split('\n').map((l) => l.replace(/^\s*\*+ ?/, '')).join('\n');
  } else {
    body = raw.split('\n').map((l) => l.replace(/^\s*\/\/+\s?/, '')).join('\n');
  }
  const lines = body.split('\n');
  const desc: string[] = [];
  const tags: string[] = [];
  let inTag = '';
  for (const line of lines) {
    const tag = /^\s*@(\w+)\s*(.*)$/.exec(line);
    if (tag) {
      inTag = tag[1].toLowerCase();
      if (inTag === 'description' || inTag === 'summary') { desc.push(tag[2]); inTag = 'description'; continue; }
      if (inTag === 'param' || inTag === 'arg' || inTag === 'argument' || inTag === 'returns' || inTag === 'return') {
        // drop the {type} and the parameter name, keep the words
        let t = tag[2].replace(/^\{[^}]*\}\s*/, '');
        if (inTag !== 'returns' && inTag !== 'return') t = t.replace(/^\[?[\w$.]+(=[^\]]*)?\]?\s*(-\s*)?/, '');
        tags.push(t);
      }
      continue;
    }
    if (inTag === 'description' || inTag === '') desc.push(line);
    else if (['param', 'arg', 'argument', 'returns', 'return'].includes(inTag)) tags.push(line);
  }
  return { description: tidy(desc.join('\n')), tags: tidy(tags.join(' ')) };
}

function tidy(s: string): string {
  return s
    .replace(/\{@(?:link|linkcode|linkplain|code)\s+([^}|\s]+)(?:[\s|]+([^}]*))?\}/g, (_m, a, b) => (b || a))
    .replace(/<\/?[a-zA-Z][^>]*>/g, ' ')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/`+|\*\*|\\(?=\*)/g, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n /g, '\n')
    .trim();
}

/** First sentence of a cleaned description: up to the first '.', '!' or '?' followed by a space,
 * or the first blank line / example block. */
export function firstSentence(description: string): string {
  const para = description.split(/\n\s*\n|\n(?=\s*(?:example|e\.g\.|usage|```))/i)[0];
  const flat = para.replace(/\s*\n\s*/g, ' ').trim();
  const protectedText = flat.replace(/\b(e\.g|i\.e|etc|vs|cf|approx|incl|resp)\./gi, (m) => m.replace(/\./g, '\u0000'));
  const m = /[.!?:](\s|$)/.exec(protectedText);
  const cut = m ? protectedText.slice(0, m.index + (protectedText[m.index] === ':' ? 0 : 1)) : protectedText;
  // eslint-disable-next-line no-control-regex -- NUL stands in for the protected dots
  return cut.replace(/\u0000/g, '.').trim();
}

const BAD_QUERY = /\b(TODO|FIXME|XXX|HACK)\b|deprecated|eslint|istanbul|@ts-|^\s*[@{]|^(private|internal|ignore|api private|noop|no-op)\b|^(alias|see|same as)\b/i;

/** Benchmark/training filter: real sentences only. */
export function usableQuery(q: string): boolean {
  if (!q || q.length > 400 || BAD_QUERY.test(q)) return false;
  const words = q.split(/\s+/).filter((w) => /[a-zA-Z]{2,}/.test(w));
  if (words.length < 4) return false;
  // "pure type restatements": mostly identifiers / punctuation, e.g. "Promise<Array<string>> | null"
  const plain = words.filter((w) => /^[a-zA-Z][a-z]*[,.;:]?$/.test(w)).length;
  return plain >= 3;
}

export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function lineOf(starts: number[], pos: number): number {
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= pos) lo = mid; else hi = mid - 1;
  }
  return lo; // 0-based
}

export function mineSource(text: string, fileName: string): MinedFile {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, scriptKind(fileName));
  const starts = lineStarts(text);

  // Every comment in the file: leading trivia of each node/token plus trailing trivia.
  const comments = new Map<number, ts.CommentRange>();
  const visitAll = (node: ts.Node): void => {
    if (node.kind >= ts.SyntaxKind.FirstJSDocNode && node.kind <= ts.SyntaxKind.LastJSDocNode) return;
    for (const r of ts.getLeadingCommentRanges(text, node.pos) ?? []) comments.set(r.pos, r);
    for (const r of ts.getTrailingCommentRanges(text, node.end) ?? []) comments.set(r.pos, r);
    for (const c of node.getChildren(sf)) visitAll(c);
  };
  visitAll(sf);

  const strip = new Set<number>();
  for (const r of comments.values()) {
    const t = text.slice(r.pos, r.end);
    if (t.startsWith('/**') && !t.startsWith('/**/') && !LEGAL.test(t)) strip.add(r.pos);
  }

  const functions: DocFunction[] = [];
  const visit = (n: ts.Node, enclosing: string): void => {
    let name = targetName(n);
    let endNode: ts.Node = n;
    if (name !== undefined && ts.isFunctionDeclaration(n) && !n.body) {
      // TS overloads: the doc sits on the first signature; the range runs to the implementation.
      const siblings = (n.parent as ts.Block | ts.SourceFile).statements ?? [];
      const i = siblings.indexOf(n);
      const prev = siblings[i - 1];
      if (prev && ts.isFunctionDeclaration(prev) && prev.name?.text === n.name?.text) name = undefined;
      else {
        let j = i + 1;
        while (j < siblings.length && ts.isFunctionDeclaration(siblings[j]) &&
               (siblings[j] as ts.FunctionDeclaration).name?.text === n.name?.text &&
               !(siblings[j] as ts.FunctionDeclaration).body) j++;
        const impl = siblings[j];
        if (impl && ts.isFunctionDeclaration(impl) && impl.name?.text === n.name?.text && impl.body) endNode = impl;
        else name = undefined;
      }
    }
    if (name !== undefined) {
      const symbol = name || enclosing;
      const startPos = n.getStart(sf);
      const startLine = lineOf(starts, startPos);
      // The contiguous comment block directly above the declaration.
      const lead = ts.getLeadingCommentRanges(text, n.pos) ?? [];
      const block: ts.CommentRange[] = [];
      let nextLine = startLine;
      for (let k = lead.length - 1; k >= 0; k--) {
        const r = lead[k];
        const endL = lineOf(starts, r.end - 1);
        // JSDoc may stand one blank line above its declaration (mongoose, date-fns); others touch it.
        const gap = block.length === 0 && text.startsWith('/**', r.pos) ? 2 : 1;
        if (endL < nextLine - gap) break;
        block.unshift(r);
        nextLine = lineOf(starts, r.pos);
      }
      const docRanges = block.filter((r) => !LEGAL.test(text.slice(r.pos, r.end)));
      for (const r of docRanges) strip.add(r.pos);
      const jsdoc = [...docRanges].reverse().find((r) => text.startsWith('/**', r.pos));
      let raw = '';
      if (jsdoc) raw = text.slice(jsdoc.pos, jsdoc.end);
      else {
        const plain = docRanges.filter((r) => !DIRECTIVE.test(text.slice(r.pos + 2, r.end)));
        raw = plain.map((r) => text.slice(r.pos, r.end)).join('\n');
        if (raw.startsWith('/*') && plain.length > 1) raw = text.slice(plain[plain.length - 1].pos, plain[plain.length - 1].end);
      }
      if (raw) {
        const { description, tags } = cleanComment(raw);
        const end = endNode.end;
        functions.push({
          symbol, startLine: startLine + 1, endLine: lineOf(starts, end - 1) + 1, start: startPos, end,
          doc: description, firstSentence: firstSentence(description), tagText: tags,
        });
      }
    }
    const inner = name ? name : enclosing;
    ts.forEachChild(n, (c) => visit(c, inner));
  };
  visit(sf, '');

  // Blank stripped comments: every character but line breaks becomes a space.
  const chars = text.split('');
  for (const pos of strip) {
    const r = comments.get(pos);
    if (!r) continue;
    for (let i = r.pos; i < r.end; i++) if (chars[i] !== '\n' && chars[i] !== '\r') chars[i] = ' ';
  }
  functions.sort((a, b) => a.start - b.start);
  return { stripped: chars.join(''), functions };
}
