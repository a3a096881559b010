// A one-line progress display on a TTY (stderr, so stdout stays scriptable); silent otherwise.
import type { IndexProgress } from '../core/index/indexer';

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
