import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32, crc32Portable } from '../../../src/base/node/crc32';

describe('crc32', () => {
  it('gives the standard CRC-32 check value, natively and in the table version alike', () => {
    const check = Buffer.from('123456789');
    assert.equal(crc32(check), 0xcbf43926);
    assert.equal(crc32Portable(check), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
    for (const size of [1, 3, 1000, 65_537]) {
      const data = randomBytes(size);
      assert.equal(crc32Portable(data), crc32(data), `size ${size}`);
    }
  });
});
