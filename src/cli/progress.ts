// Progress on stderr, so stdout stays scriptable: the indexer's one-line display (TTY only), and
// what a silent model call is waiting for (every surface: a log needs it most).
import type { IndexProgress } from '../core/indexing/indexer';
import { describeWait, type LlmWait } from '../core/llm/waiting';
import { inertLine } from '../base/common/inert';

export class ProgressLine {
  private lastDraw = 0;
  private drawn = false;
  /** When embedding began: the rate (and so the ETA) covers the embedding phase only. */
  private embedStarted = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  get enabled(): boolean {
    return Boolean(this.stream.isTTY);
  }

  update(p: IndexProgress): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (p.phase === 'embed' && !this.embedStarted) this.embedStarted = now;
    if (now - this.lastDraw < 100) return; // ~10 fps is plenty and keeps the terminal cheap
    this.lastDraw = now;
    this.draw(render(p, now - this.embedStarted, this.stream.columns || 80));
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }

  private draw(line: string): void {
    this.stream.write('\r\x1b[2K' + line);
    this.drawn = true;
  }
}

function render(p: IndexProgress, elapsedMs: number, columns: number): string {
  if (p.phase === 'scan') {
    return `Scanning: ${p.filesScanned.toLocaleString('en')} files, ${p.filesChanged.toLocaleString('en')} changed`.slice(0, columns - 1);
  }
  const total = Math.max(p.chunksToEmbed, 1);
  const ratio = Math.min(p.chunksEmbedded / total, 1);
  const width = Math.max(10, Math.min(30, columns - 50));
  const filled = Math.round(ratio * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const rate = p.chunksEmbedded / Math.max(elapsedMs / 1000, 0.001);
  const eta = rate > 0 && p.chunksEmbedded > 0 ? ` ETA ${formatSeconds((p.chunksToEmbed - p.chunksEmbedded) / rate)}` : '';
  return `Embedding ${bar} ${p.chunksEmbedded}/${p.chunksToEmbed} chunks${eta}`.slice(0, columns - 1);
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/**
 * "baton: waiting for <model> at <url>… 10 s" while a model call is silent: rewritten in place on a
 * TTY and cleared when the reply begins; one line per update otherwise (a log, a CI job).
 */
export class WaitLine {
  private drawn = false;

  /** `midLine`: the terminal's cursor is after streamed text, so a drawn line needs a line of its own. */
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly midLine: () => boolean = () => false) {}

  update(wait: LlmWait): void {
    if (wait.done) return this.clear();
    // The model name may come from a server's model list: shown inert like any untrusted text.
    const line = `baton: ${inertLine(describeWait(wait))}`;
    if (!this.stream.isTTY) {
      this.stream.write(`${line}\n`);
      return;
    }
    if (!this.drawn && this.midLine()) this.stream.write('\n');
    this.stream.write('\r\x1b[2K' + line.slice(0, (this.stream.columns || 80) - 1));
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
