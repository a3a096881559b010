import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadTransformers, quantizeRows, tokenizeForTraining, writeBagOfEmbeddingsModel, writeTokenizer,
} from '../../../train/onnxExport';
import { seededRandom } from '../../helpers/seededRandom';

const VOCAB = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', 'parse', 'http', 'request', 'server', 'get', 'user', 'name', '##s',
  'utf', '8', 'decode', 'x', 'to', 'json', 'read', 'file', 'sync',
];
const DIMS = 6;

function randomWeights(seed: number) {
  const r = seededRandom(seed);
  return {
    dimensions: DIMS,
    embeddings: new Float32Array(VOCAB.length * DIMS).map(() => r() * 2 - 1),
    tokenWeights: new Float32Array(VOCAB.length).map(() => 0.25 + r() * 2),
  };
}

/** The reference: normalize(sum of weight x row) over non-special tokens, computed in plain JS. */
function manualVector(tokens: string[], w: ReturnType<typeof randomWeights>): number[] {
  const v = new Array<number>(DIMS).fill(0);
  for (const t of tokens) {
    const id = VOCAB.indexOf(t);
    assert.ok(id >= 0, `test token ${t} not in vocab`);
    for (let d = 0; d < DIMS; d++) v[d] += w.embeddings[id * DIMS + d] * w.tokenWeights[id];
  }
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

describe('onnxExport', function () {
  this.timeout(60_000);
  let root: string;
  before(() => { root = mkdtempSync(join(tmpdir(), 'baton-onnx-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('writes the transformers.js folder layout', () => {
    const dir = join(root, 'layout');
    writeBagOfEmbeddingsModel(dir, { vocab: VOCAB, maxLength: 16 }, randomWeights(1), { quantize: true, fp32: true });
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx']) {
      assert.ok(existsSync(join(dir, f)), `${f} missing`);
    }
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(config.hidden_size, DIMS);
    assert.equal(config.vocab_size, VOCAB.length);
    const tokCfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    assert.equal(tokCfg.model_max_length, 16);
  });

  it('writes only the quantised graph when fp32 is not asked for', () => {
    const dir = join(root, 'qonly');
    writeBagOfEmbeddingsModel(dir, { vocab: VOCAB, maxLength: 16 }, randomWeights(2), { quantize: true });
    assert.ok(existsSync(join(dir, 'onnx/model_quantized.onnx')));
    assert.ok(!existsSync(join(dir, 'onnx/model.onnx')));
  });

  it('rejects a malformed vocab or weight table', () => {
    assert.throws(() => writeTokenizer(join(root, 'bad1'), { vocab: ['[UNK]', '[PAD]', '[CLS]', '[SEP]'], maxLength: 8 }), /vocab\[0\] must be \[PAD\]/);
    assert.throws(() => writeTokenizer(join(root, 'bad2'), { vocab: ['[PAD]', '[UNK]', '[CLS]'], maxLength: 8 }), /lacks \[SEP\]/);
    assert.throws(() => writeTokenizer(join(root, 'bad3'), { vocab: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'a', 'a'], maxLength: 8 }), /twice/);
    assert.throws(
      () => writeBagOfEmbeddingsModel(join(root, 'bad4'), { vocab: VOCAB, maxLength: 8 }, { dimensions: 4, embeddings: new Float32Array(5) }, { quantize: false }),
      /expected vocab 21 x dims 4/,
    );
  });

  it('tokenises code identifiers in transformers.js: camelCase, acronyms, snake_case, digits, punctuation', async () => {
    const dir = join(root, 'tok');
    writeTokenizer(dir, { vocab: VOCAB, maxLength: 8 });
    const texts = ['parseHTTPRequest', 'get_user_names(x)', 'utf8Decode toJSON', 'HTTPServer', 'readFileSync();', ''];
    const ids = await tokenizeForTraining(dir, texts);
    const tokens = ids.map((row) => row.map((id) => VOCAB[id]));
    assert.deepEqual(tokens, [
      ['[CLS]', 'parse', 'http', 'request', '[SEP]'],
      ['[CLS]', 'get', 'user', 'name', '##s', 'x', '[SEP]'],
      ['[CLS]', 'utf', '8', 'decode', 'to', 'json', '[SEP]'],
      ['[CLS]', 'http', 'server', '[SEP]'],
      ['[CLS]', 'read', 'file', 'sync', '[SEP]'],
      ['[CLS]', '[SEP]'],
    ]);
    // Truncated to maxLength exactly as the pipeline truncates (the tail, [SEP] included, is cut).
    const [long] = await tokenizeForTraining(dir, ['a b c d e f g h i j']);
    assert.equal(long.length, 8);
    assert.equal(long[0], VOCAB.indexOf('[CLS]'));
    assert.ok(long.slice(1).every((id) => id === VOCAB.indexOf('[UNK]')));
  });

  it('feature-extraction with mean pooling + normalize equals the weighted mean (fp32 exact, int8 close)', async () => {
    const dir = join(root, 'e2e');
    const w = randomWeights(3);
    writeBagOfEmbeddingsModel(dir, { vocab: VOCAB, maxLength: 32 }, w, { quantize: true, fp32: true });
    const tf = await loadTransformers(); // offline through local_files_only: env is process-wide
    const texts = ['parseHTTPRequest', 'get_user_names(x)', 'readFileSync(utf8)'];
    const expected = [
      manualVector(['parse', 'http', 'request'], w),
      manualVector(['get', 'user', 'name', '##s', 'x'], w),
      manualVector(['read', 'file', 'sync', 'utf', '8'], w),
    ];
    for (const [dtype, tol] of [['fp32', 1e-5], ['q8', 0.03]] as const) {
      const pipe = await tf.pipeline('feature-extraction', dir, { dtype, local_files_only: true });
      try {
        // Batched with padding: padded positions must not change the result.
        const out = await pipe(texts, { pooling: 'mean', normalize: true });
        assert.deepEqual(out.dims, [texts.length, DIMS]);
        const data = out.data as Float32Array;
        texts.forEach((_, i) => assertClose(data.subarray(i * DIMS, (i + 1) * DIMS), expected[i], tol, `${dtype} text ${i}`));
        // Unpooled: the graph's per-token rows, [batch, seq, dims], special tokens zeroed.
        const raw = await pipe('parse', { pooling: 'none' });
        assert.deepEqual(raw.dims, [1, 3, DIMS]);
        const rows = raw.data as Float32Array;
        const id = VOCAB.indexOf('parse');
        const want = Array.from(w.embeddings.subarray(id * DIMS, (id + 1) * DIMS), (x) => x * w.tokenWeights[id]);
        assertClose(rows.subarray(DIMS, 2 * DIMS), want, dtype === 'fp32' ? 1e-6 : 0.02, `${dtype} row`);
        assertClose(rows.subarray(0, DIMS), new Array(DIMS).fill(0), 0, `${dtype} [CLS] row`);
      } finally {
        await pipe.dispose();
      }
    }
  });

  it('quantizes rows symmetrically with a per-row scale', () => {
    const table = new Float32Array([0, 0, 0, 1, -0.6, 0.25, -2, 1, 0.01]);
    const { q, scales } = quantizeRows(table, 3);
    assert.equal(scales[0], 0);
    assert.deepEqual(Array.from(q.subarray(0, 3)), [0, 0, 0]);
    assert.deepEqual(Array.from(q.subarray(3, 6)), [127, -76, 32]);
    assert.equal(q[6], -127);
    for (let i = 3; i < 9; i++) {
      const row = Math.floor(i / 3);
      assert.ok(Math.abs(q[i] * scales[row] - table[i]) <= scales[row] / 2 + 1e-7);
    }
  });
});
