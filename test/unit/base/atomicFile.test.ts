import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBatonDir, isTempFile, writeFileAtomic } from '../../../src/base/node/atomicFile';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates and replaces a file, leaving no temp files', async () => {
    const file = path.join(dir, 'a.json');
    await writeFileAtomic(file, 'first');
    assert.equal(fs.readFileSync(file, 'utf8'), 'first');
    await writeFileAtomic(file, new Uint8Array([104, 105]));
    assert.equal(fs.readFileSync(file, 'utf8'), 'hi');
    assert.deepEqual(fs.readdirSync(dir), ['a.json']);
  });

  it('concurrent writers leave exactly one complete version', async () => {
    const file = path.join(dir, 'race.txt');
    const versions = Array.from({ length: 8 }, (_, i) => String(i).repeat(100_000));
    await Promise.all(versions.map((v) => writeFileAtomic(file, v)));
    assert.ok(versions.includes(fs.readFileSync(file, 'utf8')));
    assert.deepEqual(fs.readdirSync(dir), ['race.txt']);
  });

  it('keeps the old content and removes its temp file when the rename fails', async () => {
    const target = path.join(dir, 'occupied');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'inside'), 'x');
    await assert.rejects(writeFileAtomic(target, 'data'));
    assert.deepEqual(fs.readdirSync(dir), ['occupied']);
    assert.equal(fs.readFileSync(path.join(target, 'inside'), 'utf8'), 'x');
  });

  it('names temp files so leftovers can be recognised', async () => {
    assert.ok(isTempFile('.manifest.json.123.abcd.tmp'));
    assert.ok(!isTempFile('manifest.json'));
  });

  it('ensureBatonDir creates the directory with a .gitignore of *', async () => {
    const baton = path.join(dir, 'ws', '.baton');
    await ensureBatonDir(baton);
    assert.equal(fs.readFileSync(path.join(baton, '.gitignore'), 'utf8'), '*\n');
    fs.writeFileSync(path.join(baton, '.gitignore'), '*\n!keep\n');
    await ensureBatonDir(baton); // an existing .gitignore is the user's: left alone
    assert.equal(fs.readFileSync(path.join(baton, '.gitignore'), 'utf8'), '*\n!keep\n');
  });
});
