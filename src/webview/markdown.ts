// Markdown -> HTML for assistant messages. The output is assigned with innerHTML, so it must be safe:
// markdown-it with `html: false` escapes all raw HTML, links and images are rendered inert (the
// webview never navigates), and the only interactive elements produced are citation chips and
// code-block action buttons, whose attributes are escaped here. Pure: no DOM, so it runs in Node tests.
import MarkdownIt from 'markdown-it';
import type { Citation } from '../protocol';
import { citationLabel, findCitations, parseCitation } from '../base/common/citations';

const md = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: false });
type RenderRule = NonNullable<typeof md.renderer.rules.text>;
const escape = md.utils.escapeHtml;

/** The chip the webview turns into an `openCitation` message (see chat.ts). */
export function citationChip(c: Citation): string {
  const label = citationLabel(c);
  return `<button type="button" class="baton-citation" data-path="${escape(c.path)}" data-start="${c.startLine}"`
    + ` data-end="${c.endLine}" title="Open ${escape(label)}" aria-label="Open ${escape(label)}">${escape(label)}</button>`;
}

/** Which citations may become chips: those checked against the workspace (their labels), or all. */
export type ChipFilter = ReadonlySet<string> | undefined;

function chipAllowed(c: Citation, verified: ChipFilter): boolean {
  return verified === undefined || verified.has(citationLabel(c));
}

/** Escapes text, turning every `path:line` citation inside it that `verified` allows into a chip. */
export function textWithCitations(text: string, verified?: ChipFilter): string {
  let html = '';
  let at = 0;
  for (const m of findCitations(text)) {
    if (!chipAllowed(m.citation, verified)) continue;
    html += escape(text.slice(at, m.start)) + citationChip(m.citation);
    at = m.end;
  }
  return html + escape(text.slice(at));
}

/** A language tag safe to echo into a class name and a message (the fence info is model-written). */
export function codeLanguage(info: string): string {
  const first = info.trim().split(/\s+/)[0] ?? '';
  return /^[\w+#.-]{1,50}$/.test(first) ? first : '';
}

const ACTIONS: ReadonlyArray<[action: string, label: string, aria: string]> = [
  ['copy', 'Copy', 'Copy code'],
  ['insert', 'Insert', 'Insert code at cursor'],
  ['apply', 'Apply', 'Apply code to the editor as a diff'],
];

function codeBlock(code: string, language: string, excerpt: boolean): string {
  const buttons = ACTIONS.filter(([action]) => !(excerpt && action === 'apply')).map(([action, label, aria]) =>
    `<button type="button" data-action="${action}" aria-label="${aria}" title="${aria}">${label}</button>`).join('');
  const langClass = language ? ` class="language-${escape(language)}"` : '';
  return `<div class="baton-code" data-lang="${escape(language)}">`
    + `<div class="baton-code-actions" role="toolbar" aria-label="Code actions">${buttons}</div>`
    + `<pre><code${langClass}>${escape(code)}</code></pre></div>\n`;
}

const rules = md.renderer.rules;
/** What renderMarkdown passes to the rules through markdown-it's env. */
type RenderOptions = { verified?: ChipFilter; excerpts?: boolean };
const optionsIn = (env: unknown): RenderOptions => (env as RenderOptions | undefined) ?? {};
const verifiedIn = (env: unknown): ChipFilter => optionsIn(env).verified;

rules.text = ((tokens, idx, _options, env) => textWithCitations(tokens[idx].content, verifiedIn(env))) satisfies RenderRule;
rules.code_inline = ((tokens, idx, _options, env) => {
  const cited = parseCitation(tokens[idx].content);
  return cited && chipAllowed(cited, verifiedIn(env)) ? citationChip(cited) : `<code>${escape(tokens[idx].content)}</code>`;
}) satisfies RenderRule;
rules.fence = ((tokens, idx, _options, env) => codeBlock(tokens[idx].content, codeLanguage(tokens[idx].info), Boolean(optionsIn(env).excerpts))) satisfies RenderRule;
rules.code_block = ((tokens, idx, _options, env) => codeBlock(tokens[idx].content, '', Boolean(optionsIn(env).excerpts))) satisfies RenderRule;
// Links keep their text and show the target as a tooltip; nothing navigates.
rules.link_open = ((tokens, idx) =>
  `<span class="baton-link" title="${escape(String(tokens[idx].attrGet('href') ?? ''))}">`) satisfies RenderRule;
rules.link_close = (() => '</span>') satisfies RenderRule;
// Images would fetch (CSP blocks most anyway); show their alt text instead.
rules.image = ((tokens, idx) => `<span class="baton-image-alt">${escape(tokens[idx].content)}</span>`) satisfies RenderRule;

/** Renders an answer. With `verified`, only the citations it names (checked against the workspace
 *  by the extension) become chips; the rest stay plain text. `excerpts`: code blocks quote the
 *  index, so they offer Copy and Insert but not Apply. */
export function renderMarkdown(text: string, verified?: ChipFilter, excerpts = false): string {
  const options: RenderOptions = { verified, excerpts };
  return md.render(text, options);
}
