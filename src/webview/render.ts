// DOM rendering of the message list. Long conversations stay cheap: only the last `windowSize`
// messages have nodes (a "Show earlier" button grows the window), and an update touches only the
// messages that changed, so streaming re-renders one message, not the list.
import type { ChatMessageDto } from '../protocol';
import { citationLabel, findCitations, isValidCitation } from '../base/common/citations';
import { citationChip, renderMarkdown } from './markdown';

export const PAGE_SIZE = 50;

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function sourcesNode(message: ChatMessageDto): HTMLElement | null {
  const seen = new Set<string>();
  const verified = new Set(message.citations ?? []);
  // A source the text already shows as a chip is not listed again (each source once).
  for (const m of findCitations(message.text)) if (verified.has(citationLabel(m.citation))) seen.add(citationLabel(m.citation));
  const chips = (message.sources ?? []).filter(isValidCitation).filter((c) => {
    const key = citationLabel(c);
    return verified.has(key) && !seen.has(key) && seen.add(key);
  });
  if (chips.length === 0) return null;
  const box = element('div', 'baton-sources');
  box.setAttribute('aria-label', 'Sources');
  const list = element('span', 'baton-sources-list');
  // citationChip escapes every attribute and the label (see markdown.ts).
  list.innerHTML = chips.map(citationChip).join(' ');
  box.append(element('span', 'baton-sources-label', 'Sources:'), list);
  return box;
}

function fill(node: HTMLElement, m: ChatMessageDto): void {
  node.dataset.role = m.role;
  node.toggleAttribute('data-pending', Boolean(m.pending));
  // The list is a live region: screen readers announce the answer once it is complete, not every token.
  node.setAttribute('aria-busy', String(Boolean(m.pending)));
  const body = element('div', 'baton-message-body');
  if (m.role === 'user') body.textContent = m.text;
  else if (m.pending && !m.text) body.append(element('span', 'baton-thinking', m.waiting ?? 'Thinking…'));
  // html:false markdown: escaped (markdown.ts). Citations become chips only once the extension has
  // checked them against the workspace (m.citations); until then, and for files that do not exist,
  // they stay plain text.
  else body.innerHTML = renderMarkdown(m.text, new Set(m.pending ? [] : m.citations ?? []), Boolean(m.excerpts));
  const parts: HTMLElement[] = [element('div', 'baton-message-role', m.role === 'user' ? 'You' : 'Baton'), body];
  // Waiting after some text (a later step's model call): below the text, which stays as it is.
  if (m.pending && m.text && m.waiting) parts.push(element('div', 'baton-message-waiting', m.waiting));
  if (m.note) parts.push(element('div', 'baton-message-note', m.note));
  if (m.error) {
    const error = element('div', 'baton-message-error', m.error);
    error.setAttribute('role', 'alert');
    parts.push(error);
  }
  const sources = sourcesNode(m);
  if (sources) parts.push(sources);
  node.replaceChildren(...parts);
}

function messageNode(m: ChatMessageDto): HTMLElement {
  const node = element('article', 'baton-message');
  node.dataset.id = m.id;
  fill(node, m);
  return node;
}

export class MessageList {
  private readonly nodes = new Map<string, HTMLElement>();
  private readonly earlier: HTMLButtonElement;
  private windowSize = PAGE_SIZE;
  private messages: readonly ChatMessageDto[] = [];

  constructor(private readonly container: HTMLElement) {
    this.earlier = element('button', 'baton-earlier', 'Show earlier messages');
    this.earlier.type = 'button';
    this.earlier.id = 'baton-earlier';
    this.earlier.setAttribute('aria-label', 'Show earlier messages');
    this.earlier.addEventListener('click', () => {
      this.windowSize += PAGE_SIZE;
      this.renderAll();
    });
  }

  /** Replaces the whole list (another conversation, or the restored state). */
  reset(messages: readonly ChatMessageDto[]): void {
    this.messages = messages;
    this.windowSize = PAGE_SIZE;
    this.renderAll();
  }

  /** Re-renders the messages named in `changed`, appending new ones and sliding the window. */
  update(messages: readonly ChatMessageDto[], changed: ReadonlySet<string>): void {
    this.messages = messages;
    for (const m of messages.slice(-this.windowSize)) {
      if (!changed.has(m.id)) continue;
      const existing = this.nodes.get(m.id);
      if (existing) fill(existing, m);
      else this.append(m);
    }
    while (this.nodes.size > this.windowSize) {
      const [oldestId, oldest] = this.nodes.entries().next().value as [string, HTMLElement];
      oldest.remove();
      this.nodes.delete(oldestId);
    }
    this.updateEarlier();
  }

  private append(m: ChatMessageDto): void {
    const node = messageNode(m);
    this.nodes.set(m.id, node);
    this.container.append(node);
  }

  private renderAll(): void {
    this.nodes.clear();
    this.container.replaceChildren(this.earlier);
    for (const m of this.messages.slice(-this.windowSize)) this.append(m);
    this.updateEarlier();
  }

  private updateEarlier(): void {
    const hidden = this.messages.length - this.nodes.size;
    this.earlier.hidden = hidden <= 0;
    this.earlier.textContent = `Show earlier messages (${hidden})`;
  }
}
