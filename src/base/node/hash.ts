import { createHash } from 'node:crypto';

/** Content hash used as cache key for files and chunks: hex sha256, first 32 chars (128 bits). */
export function contentHash(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 32);
}
