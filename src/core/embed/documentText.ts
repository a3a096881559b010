// What the embedder sees for a chunk. The vector is cached by the chunk's content hash, so this
// must depend on the chunk's text only — never on its path — or a rename would serve a stale
// vector. Kept in one place so indexing, benchmarks and training agree.
import type { Chunk } from '../index/types';

export function documentText(chunk: Pick<Chunk, 'text'>): string {
  return chunk.text;
}
