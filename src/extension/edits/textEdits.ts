// Pure text helpers behind the editor commands: line ranges, replacing a selection's lines in a
// whole file, and reading workflow outputs (codeFix, context citations, code blocks).
import type { Citation } from '../../protocol';

/** The fix workflow's structured output (core/workflow/outputSchemas.ts `codeFix`). */
export interface CodeFix {
  explanation: string;
  code: string;
}

export function isCodeFix(value: unknown): value is CodeFix {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.explanation === 'string' && typeof v.code === 'string' && v.code !== '';
}

function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** 1-based inclusive line range, widened by `pad` lines each side and clamped to the document. */
export function padLines(startLine: number, endLine: number, lineCount: number, pad: number): { startLine: number; endLine: number } {
  return { startLine: Math.max(1, startLine - pad), endLine: Math.min(Math.max(1, lineCount), endLine + pad) };
}

/** Lines startLine..endLine (1-based inclusive), joined with the text's own line ending. */
export function linesOf(text: string, startLine: number, endLine: number): string {
  return text.split(/\r?\n/).slice(startLine - 1, endLine).join(eolOf(text));
}

/**
 * Replaces lines startLine..endLine (1-based inclusive) with `replacement`, keeping the file's line
 * ending. A model's answer usually ends with a newline; the replaced lines did not include theirs.
 */
export function replaceLines(text: string, startLine: number, endLine: number, replacement: string): string {
  const eol = eolOf(text);
  const lines = text.split(/\r?\n/);
  const body = replacement.replace(/\r?\n$/, '').split(/\r?\n/);
  lines.splice(startLine - 1, endLine - startLine + 1, ...body);
  return lines.join(eol);
}

/** Citations of a workflow's `context` output (retrieved items), deduplicated, in order. */
export function citationsOf(context: unknown): Citation[] {
  if (!Array.isArray(context)) return [];
  const seen = new Set<string>();
  const out: Citation[] = [];
  for (const item of context as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { path, startLine, endLine } = item as Record<string, unknown>;
    if (typeof path !== 'string' || typeof startLine !== 'number' || typeof endLine !== 'number') continue;
    const key = `${path}:${startLine}-${endLine}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, startLine, endLine });
  }
  return out;
}

/** A fenced Markdown block whose fence cannot be closed by backticks inside the code. */
export function codeBlock(code: string, language = ''): string {
  const longest = Math.max(2, ...(code.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${code.replace(/\n$/, '')}\n${fence}`;
}

/** The Markdown a workflow result shows in the chat: its answer, or a fix's explanation and code. */
export function resultMarkdown(outputs: Record<string, unknown>, notices: string[], language?: string): string {
  const parts: string[] = [];
  if (typeof outputs.answer === 'string' && outputs.answer.trim() !== '') parts.push(outputs.answer);
  else if (isCodeFix(outputs.fix)) parts.push(outputs.fix.explanation, codeBlock(outputs.fix.code, language));
  else if (typeof outputs.code === 'string') parts.push(codeBlock(outputs.code, language));
  else parts.push('_The workflow produced no answer._');
  for (const notice of notices) parts.push(`> ${notice}`);
  return parts.join('\n\n');
}

const FENCE_LANGUAGES: Record<string, string> = {
  ts: 'typescript', tsx: 'typescriptreact', js: 'javascript', jsx: 'javascriptreact', py: 'python', rb: 'ruby',
  rs: 'rust', sh: 'shellscript', bash: 'shellscript', cs: 'csharp', 'c++': 'cpp', md: 'markdown', yml: 'yaml',
};

/** The VS Code language id of the first fenced block's info string, if it names one. */
export function fenceLanguage(markdown: string): string | undefined {
  const info = /^\s*(`{3,}|~{3,})\s*([\w+#.-]+)/m.exec(markdown)?.[2]?.toLowerCase();
  return info ? FENCE_LANGUAGES[info] ?? info : undefined;
}
