import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type * as StoredFileHash from '../libs/storage/src/stored-file-hash';

// The built module: only compiled code has the chunk-hash thread's script beside it (from
// TypeScript sources the whole pass runs on one thread).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { hashStoredFile, THREADED_HASH_FROM_BYTES } = require(join(__dirname, '..', 'dist/libs/storage/src/stored-file-hash.js')) as typeof StoredFileHash;

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function chunkDigests(file: Buffer, chunkSize: number): string[] {
  const digests: string[] = [];
  for (let start = 0; start < file.length; start += chunkSize) digests.push(sha256(file.subarray(start, start + chunkSize)));
  return digests;
}

/** Serves `file` from memory; with `failAt`, the read that reaches that position fails. */
function memoryReader(file: Buffer, failAt = Infinity): StoredFileHash.StoredFileReader {
  return {
    async read(into, position) {
      if (position + into.length > failAt) throw new Error('read failed');
      return file.copy(into, 0, Math.min(position, file.length), Math.min(position + into.length, file.length));
    },
    async close() {},
  };
}

describe('verification on two threads (built code)', () => {
  const file = randomBytes(THREADED_HASH_FROM_BYTES + 3 * MiB + 5);
  const grid = { fileSize: file.length, chunkSize: 8 * MiB };
  const expected = { sha256: sha256(file), chunkDigests: chunkDigests(file, grid.chunkSize), size: file.length };

  it('digests file after file on the thread it keeps, and two files at once apart', async () => {
    expect(await hashStoredFile(memoryReader(file), grid)).toEqual(expected);
    expect(await hashStoredFile(memoryReader(file), grid)).toEqual(expected);

    const other = randomBytes(THREADED_HASH_FROM_BYTES + 1);
    const [first, second] = await Promise.all([hashStoredFile(memoryReader(file), grid), hashStoredFile(memoryReader(other), { fileSize: other.length, chunkSize: 8 * MiB })]);
    expect(first).toEqual(expected);
    expect(second).toEqual({ sha256: sha256(other), chunkDigests: chunkDigests(other, 8 * MiB), size: other.length });
  });

  it('fails a pass whose read fails, and the next file still gets its own digests', async () => {
    await expect(hashStoredFile(memoryReader(file, 20 * MiB), grid)).rejects.toThrow('read failed');
    expect(await hashStoredFile(memoryReader(file), grid)).toEqual(expected);
  });
});
