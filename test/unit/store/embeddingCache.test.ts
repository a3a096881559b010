import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddingCache } from '../../../src/core/store/embeddingCache';
import { contentHash } from '../../../src/base/node/hash';

function vec(seed: number, dims: number): Float32Array {
  return Float32Array.from({ length: dims }, (_, i) => Math.sin(seed * 31 + i));
}

describe('EmbeddingCache', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'baton-')), '.baton');
  });
  afterEach(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

  const hashes = Array.from({ length: 50 }, (_, i) => contentHash(`chunk ${i}`));

  it('round-trips vectors through close and reopen', async () => {
    const cache = await EmbeddingCache.open(dir, 'model-a/384', 12);
    assert.equal(cache.size, 0);
    await cache.putMany(hashes.slice(0, 30).map((hash, i) => ({ hash, vector: vec(i, 12) })));
    await cache.putMany(hashes.slice(30).map((hash, i) => ({ hash, vector: vec(30 + i, 12) })));
    assert.deepEqual(cache.get(hashes[3]), vec(3, 12));
    assert.equal(cache.get(contentHash('unknown')), undefined);
    await cache.close();
    assert.equal(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8'), '*\n');

    const again = await EmbeddingCache.open(dir, 'model-a/384', 12);
    assert.equal(again.size, 50);
    hashes.forEach((h, i) => assert.deepEqual(again.get(h), vec(i, 12)));
    await again.close();
  });

  it('keeps one file per embedder id', async () => {
    const a = await EmbeddingCache.open(dir, 'model-a', 4);
    await a.putMany([{ hash: hashes[0], vector: vec(1, 4) }]);
    await a.close();
    const b = await EmbeddingCache.open(dir, 'model-b', 4);
    assert.equal(b.get(hashes[0]), undefined);
    await b.putMany([{ hash: hashes[0], vector: vec(2, 4) }]);
    await b.close();
    const a2 = await EmbeddingCache.open(dir, 'model-a', 4);
    assert.deepEqual(a2.get(hashes[0]), vec(1, 4));
    await a2.close();
    assert.equal(fs.readdirSync(path.join(dir, 'embeddings')).length, 2);
  });

  it('does not append a vector it already holds, and a newer vector wins', async () => {
    const cache = await EmbeddingCache.open(dir, 'm', 4);
    await cache.putMany([{ hash: hashes[0], vector: vec(1, 4) }]);
    const size = fs.statSync(cache.file).size;
    await cache.putMany([{ hash: hashes[0], vector: vec(1, 4) }]);
    assert.equal(fs.statSync(cache.file).size, size);
    await cache.putMany([{ hash: hashes[0], vector: vec(9, 4) }]);
    assert.equal(cache.fileRecords, 2);
    await cache.close();
    const again = await EmbeddingCache.open(dir, 'm', 4);
    assert.deepEqual(again.get(hashes[0]), vec(9, 4));
    assert.equal(again.size, 1);
    await again.close();
  });

  it('ignores a torn last record and appends cleanly after it', async () => {
    const cache = await EmbeddingCache.open(dir, 'm', 8);
    await cache.putMany(hashes.slice(0, 10).map((hash, i) => ({ hash, vector: vec(i, 8) })));
    await cache.close();
    const record = 16 + 8 * 4;
    fs.truncateSync(cache.file, fs.statSync(cache.file).size - record + 5); // kill mid-append

    const torn = await EmbeddingCache.open(dir, 'm', 8);
    assert.equal(torn.size, 9);
    assert.equal(torn.get(hashes[9]), undefined);
    await torn.putMany([{ hash: hashes[9], vector: vec(99, 8) }]);
    await torn.close();
    const again = await EmbeddingCache.open(dir, 'm', 8);
    assert.equal(again.size, 10);
    assert.deepEqual(again.get(hashes[8]), vec(8, 8));
    assert.deepEqual(again.get(hashes[9]), vec(99, 8));
    await again.close();
  });

  it('starts over when the file is not a cache of this embedder', async () => {
    const cache = await EmbeddingCache.open(dir, 'm', 4);
    await cache.putMany([{ hash: hashes[0], vector: vec(1, 4) }]);
    await cache.close();
    fs.writeFileSync(cache.file, 'garbage that is no header');
    const again = await EmbeddingCache.open(dir, 'm', 4);
    assert.equal(again.size, 0);
    await again.putMany([{ hash: hashes[1], vector: vec(2, 4) }]);
    await again.close();
    const third = await EmbeddingCache.open(dir, 'm', 4);
    assert.deepEqual(third.get(hashes[1]), vec(2, 4));
    await third.close();
  });

  it('compact keeps the selected entries, once each, atomically', async () => {
    const cache = await EmbeddingCache.open(dir, 'm', 4);
    await cache.putMany(hashes.map((hash, i) => ({ hash, vector: vec(i, 4) })));
    await cache.putMany([{ hash: hashes[0], vector: vec(100, 4) }]);
    const live = new Set(hashes.slice(0, 10));
    await cache.compact((h) => live.has(h));
    assert.equal(cache.size, 10);
    assert.equal(cache.fileRecords, 10);
    await cache.putMany([{ hash: hashes[20], vector: vec(20, 4) }]); // appends after a compaction
    await cache.close();
    assert.deepEqual(fs.readdirSync(path.join(dir, 'embeddings')), [path.basename(cache.file)]);

    const again = await EmbeddingCache.open(dir, 'm', 4);
    assert.equal(again.size, 11);
    assert.equal(again.fileRecords, 11);
    assert.deepEqual(again.get(hashes[0]), vec(100, 4));
    assert.deepEqual(again.get(hashes[9]), vec(9, 4));
    assert.deepEqual(again.get(hashes[20]), vec(20, 4));
    assert.equal(again.get(hashes[30]), undefined);
    await again.close();
  });

  it('rejects bad hashes and vectors of the wrong size', async () => {
    const cache = await EmbeddingCache.open(dir, 'm', 4);
    await assert.rejects(cache.putMany([{ hash: 'xyz', vector: vec(1, 4) }]), /bad hash/);
    await assert.rejects(cache.putMany([{ hash: hashes[0], vector: vec(1, 5) }]), /5 dimensions, expected 4/);
    assert.equal(cache.size, 0);
    await cache.close();
  });
});
