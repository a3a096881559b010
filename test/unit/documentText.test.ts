// Document preprocessing is a property of the model: applied only when its config.json declares it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { documentText } from '../../src/core/embed/documentText';
import { TransformersEmbedder } from '../../src/core/embed/transformersEmbedder';
import { writeTinyModel } from '../helpers/tinyModel';
import { FIXTURE_WORKSPACE } from '../helpers/workspace';

const CHUNK = '\n  export function signSessionToken(session, secret) {\n  return hmac(secret, session);\n}';

describe('document preprocessing declared by a model', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-doctext-'));
    await writeTinyModel(join(dir, 'plain'), [FIXTURE_WORKSPACE]);
    await writeTinyModel(join(dir, 'head'), [FIXTURE_WORKSPACE]);
    const configFile = join(dir, 'head', 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    writeFileSync(configFile, JSON.stringify({ ...config, baton: { ...config.baton, documentHeadRepeat: 3 } }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('repeats the first non-blank line, trimmed of indentation', () => {
    const head = 'export function signSessionToken(session, secret) {\n';
    assert.equal(documentText({ text: CHUNK }, 2), head + head + CHUNK);
    assert.equal(documentText({ text: CHUNK }, 0), CHUNK);
    assert.equal(documentText({ text: '   \n' }, 4), '   \n');
  });

  it('applies to documents only, and only for models that declare it', async () => {
    const plain = new TransformersEmbedder({ kind: 'transformers', model: join(dir, 'plain'), quantized: false });
    const head = new TransformersEmbedder({ kind: 'transformers', model: join(dir, 'head'), quantized: false });
    try {
      await Promise.all([plain.init(), head.init()]);
      assert.match(head.id, /:head=3$/);
      assert.doesNotMatch(plain.id, /head=/);
      const [withHead] = await head.embed([CHUNK], 'document');
      const [manual] = await plain.embed([documentText({ text: CHUNK }, 3)], 'document');
      const [unchanged] = await plain.embed([CHUNK], 'document');
      assert.deepEqual([...withHead], [...manual]);
      assert.notDeepEqual([...withHead], [...unchanged]);
      const [query] = await head.embed([CHUNK], 'query');
      assert.deepEqual([...query], [...unchanged]);
    } finally {
      await Promise.all([plain.dispose(), head.dispose()]);
    }
  });
});
