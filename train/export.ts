// Exports the trained encoder (train/data/model.*) to models/baton-code-search/ with
// train/onnxExport.ts (int8 table, per-row scales), then loads it back with transformers.js offline,
// checks the vectors against the float model, and measures embedding speed.
//   node out/train/export.js [--out models/baton-code-search] [--from train/data/model]
import { copyFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadTransformers, writeBagOfEmbeddingsModel } from './onnxExport';
import { DOCUMENT_HEAD_REPEAT } from '../src/core/embed/documentText';

const ROOT = resolve(__dirname, '../..');
const TOK = join(ROOT, 'train/data/tok');
const MAX_LENGTH = 512;

function f32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function folderBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    n += st.isDirectory() ? folderBytes(p) : st.size;
  }
  return n;
}

async function main(): Promise<void> {
  const outArg = process.argv.indexOf('--out');
  const out = resolve(outArg > 0 ? process.argv[outArg + 1] : join(ROOT, 'models/baton-code-search'));
  const vocab = readFileSync(join(TOK, 'vocab.txt'), 'utf8').split('\n').filter((l) => l.length > 0);
  // --from PREFIX: another train.py output (PREFIX.json, PREFIX.embeddings.f32, PREFIX.weights.f32).
  const fromArg = process.argv.indexOf('--from');
  const prefix = resolve(fromArg > 0 ? process.argv[fromArg + 1] : join(ROOT, 'train/data/model'));
  const meta = JSON.parse(readFileSync(`${prefix}.json`, 'utf8'));
  const dims: number = meta.args.dims;
  const embeddings = f32(`${prefix}.embeddings.f32`);
  const tokenWeights = f32(`${prefix}.weights.f32`);
  const tfPower: number = meta.args.tf_power ?? 1;
  writeBagOfEmbeddingsModel(out, { vocab, maxLength: MAX_LENGTH }, { dimensions: dims, embeddings, tokenWeights, tfPower }, { quantize: true, documentHeadRepeat: DOCUMENT_HEAD_REPEAT });
  // Attribution travels with the weights: every package the training pairs came from, with its licence.
  copyFileSync(join(ROOT, 'train/SOURCES.tsv'), join(out, 'DATA_SOURCES.tsv'));
  console.log(`wrote ${out}: ${(folderBytes(out) / 1e6).toFixed(2)} MB (vocab ${vocab.length}, dims ${dims})`);

  // Load it back exactly as Baton does: offline, quantised, mean pooling + L2 normalisation.
  const tf = await loadTransformers();
  tf.env.allowRemoteModels = false;
  const pipe = await tf.pipeline('feature-extraction', out, { local_files_only: true, dtype: 'q8' });
  const texts = [
    'Returns the number of milliseconds elapsed since the epoch.',
    'function parseHttpRequest(buffer) {\n  const lines = buffer.toString().split("\\r\\n");\n  return lines.map((l) => l.trim());\n}',
  ];
  const got = await pipe(texts, { pooling: 'mean', normalize: true });
  const vecs = got.tolist() as number[][];
  // Reference: the float model on the same token ids.
  const tokenizer = pipe.tokenizer;
  for (let i = 0; i < texts.length; i++) {
    const ids = tokenizer.encode(texts[i]).slice(0, MAX_LENGTH);
    const ref = new Float64Array(dims);
    const count = new Map<number, number>();
    for (const id of ids) count.set(id, (count.get(id) ?? 0) + 1);
    for (const [id, c] of count) {
      if (id === 0 || id === 2 || id === 3) continue;
      for (let d = 0; d < dims; d++) ref[d] += c ** tfPower * tokenWeights[id] * embeddings[id * dims + d];
    }
    const norm = Math.hypot(...ref);
    let cos = 0;
    for (let d = 0; d < dims; d++) cos += (ref[d] / norm) * vecs[i][d];
    console.log(`text ${i}: ${ids.length} tokens, dims ${vecs[i].length}, cosine(int8 onnx, float) = ${cos.toFixed(5)}`);
    if (!(cos > 0.99)) throw new Error('exported model disagrees with the trained one');
  }
  const sim = vecs[0].reduce((s, x, d) => s + x * vecs[1][d], 0);
  console.log(`query·code similarity of the two samples: ${sim.toFixed(4)}`);

  // Speed on 40-line code chunks from this repository's own sources.
  const src = readFileSync(join(ROOT, 'train/onnxExport.ts'), 'utf8').split('\n');
  const chunks: string[] = [];
  for (let k = 0; chunks.length < 200; k = (k + 40) % Math.max(1, src.length - 40)) chunks.push(src.slice(k, k + 40).join('\n'));
  for (const batch of [1, 16]) {
    const t0 = performance.now();
    for (let i = 0; i < chunks.length; i += batch) await pipe(chunks.slice(i, i + batch), { pooling: 'mean', normalize: true });
    const s = (performance.now() - t0) / 1000;
    console.log(`speed: ${(chunks.length / s).toFixed(0)} chunks/s at batch ${batch} (40-line chunks)`);
  }
  await pipe.dispose();
}

if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
