// Pure text formatting for the extension's UI (status bar, progress, search items). No vscode
// import, so the wording is unit-tested with plain mocha.
import type { IndexStatus, RunProgress, SearchHit } from '../protocol';

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** "~12 s", "~3 min", "~1.5 h": a rough estimate reads better rounded. */
export function formatEta(seconds: number): string {
  if (seconds < 90) return `~${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `~${Math.round(seconds / 60)} min`;
  return `~${(seconds / 3600).toFixed(1)} h`;
}

export interface StatusPresentation {
  /** Status bar text, with a codicon. */
  text: string;
  tooltip: string;
  error: boolean;
}

/** One line per fact, for the tooltip and the "Show Index Status" message. */
export function indexStatusDetails(s: IndexStatus): string[] {
  const lines = [`State: ${s.state}${s.phase ? ` (${s.phase})` : ''}`, `Files: ${formatCount(s.files)}`, `Chunks: ${formatCount(s.chunks)}`];
  if (s.state === 'indexing' && s.chunksToEmbed > 0) lines.push(`Embedded: ${formatCount(s.chunksEmbedded)}/${formatCount(s.chunksToEmbed)}`);
  lines.push(`Embedder: ${s.embedder ?? 'none (lexical search only)'}`);
  if (s.updatedAt) lines.push(`Last indexed: ${s.updatedAt}`);
  if (s.message) lines.push(s.message);
  return lines;
}

export function presentIndexStatus(s: IndexStatus): StatusPresentation {
  const tooltip = [...indexStatusDetails(s), 'Click for details'].join('\n');
  switch (s.state) {
    case 'starting':
      return { text: '$(sync~spin) Baton: starting', tooltip, error: false };
    case 'indexing': {
      const eta = s.etaSeconds !== undefined ? `, ${formatEta(s.etaSeconds)}` : '';
      const progress = s.phase === 'embed' || s.chunksToEmbed > 0
        ? `${formatCount(s.chunksEmbedded)}/${formatCount(s.chunksToEmbed)} chunks`
        : `${formatCount(s.files)} files`;
      return { text: `$(sync~spin) Baton: indexing ${progress}${eta}`, tooltip, error: false };
    }
    case 'indexed':
      return { text: `$(database) Baton: ${formatCount(s.chunks)} chunks`, tooltip, error: false };
    case 'error':
      return { text: '$(warning) Baton: index error', tooltip, error: true };
  }
}

/** A progress notification's message for a streamed run event; undefined keeps the current one. */
export function describeRunProgress(p: RunProgress): string | undefined {
  switch (p.kind) {
    case 'token':
      return 'writing…';
    case 'reset':
      return `retrying: ${p.reason}`;
    case 'tool':
      return `${p.name}: ${p.status}${p.detail ? ` (${p.detail})` : ''}`;
    case 'notice':
      return p.message;
    case 'waiting':
      return p.done ? undefined : p.message;
  }
}

/** The first non-blank line of a hit, trimmed and shortened, as a one-line preview. */
export function previewLine(text: string, max = 120): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '')?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export interface HitPresentation {
  label: string;
  description: string;
  detail: string;
}

export function presentSearchHit(hit: SearchHit): HitPresentation {
  return {
    label: `${hit.path}:${hit.startLine}`,
    description: [hit.symbol, hit.sources.join('+')].filter(Boolean).join(' · '),
    detail: previewLine(hit.text),
  };
}
