// Writes a bag-of-embeddings text encoder in the folder layout transformers.js loads offline:
//   <dir>/config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx, onnx/model_quantized.onnx
// The ONNX graph is a table lookup: last_hidden_state[b, s, :] = table[input_ids[b, s]] * attention_mask[b, s].
// transformers.js' feature-extraction pipeline with {pooling: 'mean', normalize: true} then yields
// normalize(sum_i w_i * e_i): the mean's divisor cancels out in the L2 normalisation.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';

export interface TokenizerSpec {
  /** WordPiece vocab, index = id; must contain [PAD] (id 0), [UNK], [CLS], [SEP]. Continuation pieces start with '##'. */
  vocab: string[];
  /** Tokens kept per text, [CLS] and [SEP] included. */
  maxLength: number;
}

export interface BagOfEmbeddingsWeights {
  dimensions: number;
  /** vocab.length x dimensions, row-major. */
  embeddings: Float32Array;
  /** Optional per-token scalar applied before pooling (e.g. an IDF-like weight). */
  tokenWeights?: Float32Array;
  /**
   * Sub-linear term frequency: a token that occurs c times in a text contributes c^tfPower times
   * its row instead of c times (each occurrence is scaled by c^(tfPower-1) inside the graph, so
   * mean pooling still works). 1 (default) is the plain bag; 0.5 is a square-root tf, like BM25's
   * saturation.
   */
  tfPower?: number;
}

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'] as const;
/** Special tokens whose rows are zeroed: they carry no content and must not pull every vector together. */
const SILENT_TOKENS = new Set(['[PAD]', '[CLS]', '[SEP]', '[MASK]']);

/**
 * Code-aware normalisation, in the HF tokenizers JSON schema. Normalizers run before pre-tokenizers,
 * so the identifier boundaries must be materialised as spaces BEFORE lowercasing:
 *   lower->Upper (parseHttp|Request) and Upper->Upper+lower (HTTP|Server).
 * Zero-width lookarounds with a literal " " replacement: no capture-group substitution needed
 * (the Rust tokenizers' Replace treats content literally, so "$1 $2" would not be portable).
 */
export const CAMEL_BOUNDARY_REGEX = '(?<=\\p{Ll})(?=\\p{Lu})|(?<=\\p{Lu})(?=\\p{Lu}\\p{Ll})';
/** Pre-tokenizer: keep letter runs and digit runs; whitespace, '_' and punctuation are dropped. */
export const WORD_REGEX = '\\p{L}+|\\p{N}+';

function checkVocab(spec: TokenizerSpec): Map<string, number> {
  const ids = new Map<string, number>();
  spec.vocab.forEach((token, id) => {
    if (typeof token !== 'string' || token.length === 0) throw new Error(`vocab[${id}] is empty`);
    if (ids.has(token)) throw new Error(`vocab has "${token}" twice (ids ${ids.get(token)} and ${id})`);
    ids.set(token, id);
  });
  if (spec.vocab[0] !== '[PAD]') throw new Error('vocab[0] must be [PAD]');
  for (const t of SPECIAL_TOKENS) if (!ids.has(t)) throw new Error(`vocab lacks ${t}`);
  if (!Number.isInteger(spec.maxLength) || spec.maxLength < 3) throw new Error('maxLength must be an integer >= 3');
  return ids;
}

export function tokenizerJson(spec: TokenizerSpec): object {
  const ids = checkVocab(spec);
  const specials = [...SPECIAL_TOKENS, ...(ids.has('[MASK]') ? ['[MASK]'] : [])];
  const cls = ids.get('[CLS]')!;
  const sep = ids.get('[SEP]')!;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content) => ({
      id: ids.get(content)!, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Replace', pattern: { Regex: CAMEL_BOUNDARY_REGEX }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: { type: 'Split', pattern: { Regex: WORD_REGEX }, behavior: 'Removed', invert: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [cls], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [sep], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(spec.vocab.map((t, i) => [t, i])),
    },
  };
}

/** Writes tokenizer.json + tokenizer_config.json into `dir`. */
export function writeTokenizer(dir: string, spec: TokenizerSpec): void {
  const json = tokenizerJson(spec);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  const config = {
    // PreTrainedTokenizer: no class-specific behaviour; everything lives in tokenizer.json.
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: spec.maxLength,
    clean_up_tokenization_spaces: true,
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    ...(spec.vocab.includes('[MASK]') ? { mask_token: '[MASK]' } : {}),
  };
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2));
}

// ---- ONNX graph -----------------------------------------------------------------------------------

const OPSET = 13; // Unsqueeze takes its axes as an input from 13 on
const IR_VERSION = 7;
const { FLOAT, INT8, INT64 } = onnx.TensorProto.DataType;

function bytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function tensor(name: string, dataType: number, dims: number[], data: ArrayBufferView): onnx.ITensorProto {
  return { name, dataType, dims, rawData: bytes(data) };
}

function node(opType: string, inputs: string[], outputs: string[], attrs: onnx.IAttributeProto[] = []): onnx.INodeProto {
  return { opType, input: inputs, output: outputs, name: `${opType}_${outputs[0]}`, attribute: attrs };
}

function intAttr(name: string, i: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Effective rows: embeddings x token weight, silent special tokens zeroed. */
function effectiveTable(tokenizer: TokenizerSpec, w: BagOfEmbeddingsWeights): Float32Array {
  const V = tokenizer.vocab.length;
  const D = w.dimensions;
  if (!Number.isInteger(D) || D < 1) throw new Error('dimensions must be a positive integer');
  if (w.embeddings.length !== V * D) {
    throw new Error(`embeddings has ${w.embeddings.length} values, expected vocab ${V} x dims ${D} = ${V * D}`);
  }
  if (w.tokenWeights && w.tokenWeights.length !== V) {
    throw new Error(`tokenWeights has ${w.tokenWeights.length} values, expected ${V}`);
  }
  const table = new Float32Array(w.embeddings);
  for (let v = 0; v < V; v++) {
    const scale = SILENT_TOKENS.has(tokenizer.vocab[v]) ? 0 : (w.tokenWeights ? w.tokenWeights[v] : 1);
    for (let d = v * D; d < (v + 1) * D; d++) {
      const x = table[d] * scale;
      if (!Number.isFinite(x)) throw new Error(`non-finite weight for token ${v} ("${tokenizer.vocab[v]}")`);
      table[d] = x;
    }
  }
  return table;
}

/** Symmetric per-row int8: row ~= q * scale, scale = max|row| / 127. */
export function quantizeRows(table: Float32Array, dims: number): { q: Int8Array; scales: Float32Array } {
  const rows = table.length / dims;
  const q = new Int8Array(table.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let d = r * dims; d < (r + 1) * dims; d++) max = Math.max(max, Math.abs(table[d]));
    const scale = max / 127;
    scales[r] = scale;
    if (scale === 0) continue;
    for (let d = r * dims; d < (r + 1) * dims; d++) q[d] = Math.max(-127, Math.min(127, Math.round(table[d] / scale)));
  }
  return { q, scales };
}

function constant(name: string, dataType: number, value: ArrayBufferView): onnx.INodeProto {
  return node('Constant', [], [name], [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: tensor(`${name}_value`, dataType, [1], value) }]);
}

/**
 * mask3f [B, S, 1]: the attention mask as float, times c^(tfPower-1) where c is how often the
 * position's token occurs among the unmasked positions of its text (sub-linear tf).
 */
function maskNodes(tfPower: number): onnx.INodeProto[] {
  const plain = [
    constant('axis2', INT64, new BigInt64Array([2n])),
    node('Unsqueeze', ['attention_mask', 'axis2'], ['mask3']),
  ];
  if (tfPower === 1) return [...plain, node('Cast', ['mask3'], ['mask3f'], [intAttr('to', FLOAT)])];
  return [
    ...plain,
    node('Cast', ['mask3'], ['mask3f_plain'], [intAttr('to', FLOAT)]),
    constant('axis1', INT64, new BigInt64Array([1n])),
    constant('one', FLOAT, new Float32Array([1])),
    constant('tf_exponent', FLOAT, new Float32Array([tfPower - 1])),
    node('Unsqueeze', ['input_ids', 'axis2'], ['ids_col']), // [B, S, 1]
    node('Unsqueeze', ['input_ids', 'axis1'], ['ids_row']), // [B, 1, S]
    node('Equal', ['ids_col', 'ids_row'], ['same_token']), // [B, S, S]
    node('Cast', ['same_token'], ['same_token_f'], [intAttr('to', FLOAT)]),
    node('Unsqueeze', ['attention_mask', 'axis1'], ['mask_row']),
    node('Cast', ['mask_row'], ['mask_row_f'], [intAttr('to', FLOAT)]),
    node('Mul', ['same_token_f', 'mask_row_f'], ['same_token_masked']),
    node('ReduceSum', ['same_token_masked', 'axis2'], ['token_count'], [intAttr('keepdims', 1)]), // [B, S, 1]
    node('Max', ['token_count', 'one'], ['token_count_1']), // padding positions count 0
    node('Pow', ['token_count_1', 'tf_exponent'], ['tf_scale']),
    node('Mul', ['mask3f_plain', 'tf_scale'], ['mask3f']),
  ];
}

function modelBytes(dims: number, vocabSize: number, nodes: onnx.INodeProto[], initializers: onnx.ITensorProto[], doc: string, tfPower = 1): Uint8Array {
  const graph: onnx.IGraphProto = {
    name: 'bag_of_embeddings',
    docString: tfPower === 1 ? doc : `${doc} * count(token)^${tfPower - 1}`,
    node: [...maskNodes(tfPower), ...nodes],
    initializer: initializers,
    input: [valueInfo('input_ids', INT64, ['batch_size', 'sequence_length']), valueInfo('attention_mask', INT64, ['batch_size', 'sequence_length'])],
    output: [valueInfo('last_hidden_state', FLOAT, ['batch_size', 'sequence_length', dims])],
  };
  const model: onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'baton-onnx-export',
    producerVersion: '1',
    docString: `bag-of-embeddings encoder, vocab ${vocabSize}, dims ${dims}`,
    graph,
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

export function fp32ModelBytes(table: Float32Array, vocabSize: number, dims: number, tfPower = 1): Uint8Array {
  return modelBytes(dims, vocabSize, [
    node('Gather', ['embeddings', 'input_ids'], ['rows'], [intAttr('axis', 0)]),
    node('Mul', ['rows', 'mask3f'], ['last_hidden_state']),
  ], [tensor('embeddings', FLOAT, [vocabSize, dims], table)], 'rows = embeddings[input_ids] * mask', tfPower);
}

export function quantizedModelBytes(table: Float32Array, vocabSize: number, dims: number, tfPower = 1): Uint8Array {
  const { q, scales } = quantizeRows(table, dims);
  return modelBytes(dims, vocabSize, [
    node('Gather', ['embeddings_q', 'input_ids'], ['rows_q'], [intAttr('axis', 0)]),
    node('Cast', ['rows_q'], ['rows_f'], [intAttr('to', FLOAT)]),
    node('Gather', ['scales', 'input_ids'], ['row_scales'], [intAttr('axis', 0)]),
    node('Unsqueeze', ['row_scales', 'axis2'], ['row_scales3']),
    node('Mul', ['row_scales3', 'mask3f'], ['scale_mask']),
    node('Mul', ['rows_f', 'scale_mask'], ['last_hidden_state']),
  ], [tensor('embeddings_q', INT8, [vocabSize, dims], q), tensor('scales', FLOAT, [vocabSize], scales)],
  'rows = float(embeddings_q[input_ids]) * scales[input_ids] * mask', tfPower);
}

/**
 * Writes the whole model folder: tokenizer files, config.json, and onnx/model_quantized.onnx (when
 * `quantize`) and/or onnx/model.onnx (when `fp32`, default: whenever `quantize` is false).
 */
export function writeBagOfEmbeddingsModel(
  dir: string,
  tokenizer: TokenizerSpec,
  weights: BagOfEmbeddingsWeights,
  /** documentHeadRepeat: document preprocessing the model was trained with (src/core/embed/documentText.ts). */
  opts: { quantize: boolean; fp32?: boolean; documentHeadRepeat?: number },
): void {
  const writeFp32 = opts.fp32 ?? !opts.quantize;
  if (!writeFp32 && !opts.quantize) throw new Error('nothing to write: quantize and fp32 are both false');
  const table = effectiveTable(tokenizer, weights);
  const V = tokenizer.vocab.length;
  const D = weights.dimensions;
  const tfPower = weights.tfPower ?? 1;
  if (!(tfPower > 0 && tfPower <= 1)) throw new Error('tfPower must be in (0, 1]');
  writeTokenizer(dir, tokenizer);
  const config = {
    // 'bert' routes to transformers.js' BertModel: an encoder that feeds input_ids/attention_mask
    // (token_type_ids only if the graph declares it, which ours does not).
    model_type: 'bert',
    architectures: ['BagOfEmbeddings'],
    hidden_size: D,
    vocab_size: V,
    max_position_embeddings: tokenizer.maxLength,
    pad_token_id: 0,
    baton: {
      encoder: 'bag-of-embeddings', dimensions: D, tfPower, quantized: opts.quantize, fp32: writeFp32,
      ...(opts.documentHeadRepeat ? { documentHeadRepeat: opts.documentHeadRepeat } : {}),
    },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  if (writeFp32) writeFileSync(join(dir, 'onnx', 'model.onnx'), fp32ModelBytes(table, V, D, tfPower));
  if (opts.quantize) writeFileSync(join(dir, 'onnx', 'model_quantized.onnx'), quantizedModelBytes(table, V, D, tfPower));
}

// ---- tokenising exactly as at inference -------------------------------------------------------------

type TransformersModule = typeof import('@huggingface/transformers');

/** Loads transformers.js once; a dynamic import so the CJS build does not require() it eagerly. */
export async function loadTransformers(): Promise<TransformersModule> {
  return import('@huggingface/transformers');
}

type Tokenizer = Awaited<ReturnType<TransformersModule['AutoTokenizer']['from_pretrained']>>;
const tokenizers = new Map<string, Promise<Tokenizer>>();

/** Callers tokenise in many small calls: parse tokenizer.json once per version of the file. */
function cachedTokenizer(dir: string): Promise<Tokenizer> {
  const st = statSync(join(dir, 'tokenizer.json'));
  const key = `${dir}\0${st.mtimeMs}\0${st.size}`;
  let t = tokenizers.get(key);
  if (!t) {
    // local_files_only rather than env.allowRemoteModels: env is process-wide, the option is per call.
    t = loadTransformers().then((tf) => tf.AutoTokenizer.from_pretrained(dir, { local_files_only: true }));
    t.catch(() => tokenizers.delete(key));
    tokenizers.set(key, t);
  }
  return t;
}

/**
 * Token ids for each text ([CLS] ... [SEP], truncated to the tokenizer's maxLength), produced by
 * transformers.js' AutoTokenizer from `dir`: the very code path the embedder runs at inference.
 */
export async function tokenizeForTraining(dir: string, texts: string[]): Promise<number[][]> {
  const tokenizer = await cachedTokenizer(dir);
  const maxLength = tokenizer.model_max_length;
  return texts.map((text) => {
    const ids = tokenizer.encode(text);
    return ids.length > maxLength ? ids.slice(0, maxLength) : ids;
  });
}
