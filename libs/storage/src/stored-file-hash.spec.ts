import { createHash, randomBytes } from 'node:crypto';
import { GridHasher } from '@app/core';
import { StoredFileReader, hashStoredFile } from './stored-file-hash';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function memoryReader(file: Buffer): StoredFileReader & { closed: boolean } {
  return {
    closed: false,
    async read(into, position) {
      return file.copy(into, 0, Math.min(position, file.length), Math.min(position + into.length, file.length));
    },
    async close() {
      this.closed = true;
    },
  };
}

function chunkDigests(file: Buffer, chunkSize: number): string[] {
  const digests: string[] = [];
  for (let start = 0; start < file.length; start += chunkSize) digests.push(sha256(file.subarray(start, start + chunkSize)));
  return digests;
}

describe('GridHasher', () => {
  it.each([
    ['pieces smaller than a chunk', 1000, 7],
    ['pieces spanning several chunks', 100, 333],
    ['pieces equal to the chunk size', 256, 256],
  ])('hashes each chunk whatever the piece size: %s', (_, chunkSize, pieceSize) => {
    const file = randomBytes(10 * chunkSize + 17);
    const hasher = new GridHasher({ fileSize: file.length, chunkSize });
    for (let start = 0; start < file.length; start += pieceSize) hasher.update(file.subarray(start, start + pieceSize));
    expect(hasher.finish()).toEqual(chunkDigests(file, chunkSize));
  });

  it('leaves out chunks a short file never completed, and ignores bytes past the grid', () => {
    const file = randomBytes(1000);
    const short = new GridHasher({ fileSize: 1000, chunkSize: 300 });
    short.update(file.subarray(0, 700));
    expect(short.finish()).toEqual(chunkDigests(file.subarray(0, 600), 300));

    const long = new GridHasher({ fileSize: 1000, chunkSize: 300 });
    long.update(Buffer.concat([file, randomBytes(50)]));
    expect(long.finish()).toEqual(chunkDigests(file, 300));
  });

  it('has no chunks for an empty file', () => {
    expect(new GridHasher({ fileSize: 0, chunkSize: 8 }).finish()).toEqual([]);
  });
});

describe('hashStoredFile', () => {
  it('reads the file once into the whole-file and per-chunk digests', async () => {
    const file = randomBytes(5 * 1024 * 1024 + 3);
    const digests = await hashStoredFile(memoryReader(file), { fileSize: file.length, chunkSize: 1024 * 1024 });
    expect(digests).toEqual({ sha256: sha256(file), chunkDigests: chunkDigests(file, 1024 * 1024), size: file.length });
  });

  it('reports the bytes it found when the file is shorter than the session', async () => {
    const file = randomBytes(2500);
    const digests = await hashStoredFile(memoryReader(file), { fileSize: 4000, chunkSize: 1000 });
    expect(digests).toEqual({ sha256: sha256(file), chunkDigests: chunkDigests(file.subarray(0, 2000), 1000), size: 2500 });
  });

  it('hashes an empty file', async () => {
    expect(await hashStoredFile(memoryReader(Buffer.alloc(0)), { fileSize: 0, chunkSize: 1000 })).toEqual({ sha256: sha256(Buffer.alloc(0)), chunkDigests: [], size: 0 });
  });
});
