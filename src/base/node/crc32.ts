// CRC-32 (the zlib/PNG polynomial) of a buffer: the checksum the index records for each shard file
// so that a truncated or bit-flipped file is noticed before its content is trusted. node:zlib has
// a native crc32 from Node 20.15 (several GB/s); older Node 20 releases get the table version.
import * as zlib from 'node:zlib';

type Crc32 = (data: Uint8Array) => number;

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

let table: Uint32Array | undefined;

function tableCrc32(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Unsigned CRC-32 of `data`. */
export const crc32: Crc32 = native ? (data) => native(data) >>> 0 : tableCrc32;

/** The table implementation, exported so a test can check both agree. */
export const crc32Portable: Crc32 = tableCrc32;
