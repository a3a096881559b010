// A small, randomly initialised bag-of-embeddings model in the transformers.js folder layout.
// It exercises loading, tokenising, pooling and batching for real; it says nothing of quality.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeBagOfEmbeddingsModel } from '../../train/onnxExport';
import { seededRandom } from './seededRandom';

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'];

function wordsUnder(dir: string, into: Set<string>): void {
  for (const name of readdirSync(dir)) {
    if (name === '.baton' || name === 'node_modules') continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) wordsUnder(full, into);
    else if (statSync(full).size < 200_000) {
      const text = readFileSync(full, 'utf8').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
      for (const w of text.match(/[a-z]{2,}/g) ?? []) into.add(w);
    }
  }
}

export async function writeTinyModel(dir: string, corpusDirs: string[] = [], dimensions = 32): Promise<void> {
  const words = new Set<string>();
  for (const d of corpusDirs) wordsUnder(d, words);
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');
  const vocab = [...SPECIAL, ...letters, ...letters.map((c) => `##${c}`), ...[...words].sort()];
  const random = seededRandom(42);
  const embeddings = new Float32Array(vocab.length * dimensions).map(() => random() * 2 - 1);
  writeBagOfEmbeddingsModel(dir, { vocab, maxLength: 256 }, { dimensions, embeddings }, { quantize: false, fp32: true });
}
