import { createHash, randomBytes } from 'node:crypto';
import { digestStream } from './stream-digests';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function* piecesOf(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

describe(digestStream.name, () => {
  const file = randomBytes(10_000 + 77);
  const grid = { fileSize: file.length, chunkSize: 1000 };
  const expected = Array.from({ length: 11 }, (_, index) => sha256(file.subarray(index * 1000, (index + 1) * 1000)));

  it.each([1, 333, 1000, 4096, 20_000])('gives the file and each chunk its SHA-256 whatever the piece size (%d)', async (size) => {
    expect(await digestStream(piecesOf(file, size), grid)).toEqual({ sha256: sha256(file), chunkDigests: expected });
  });

  it('gives a short stream fewer chunk digests than the grid', async () => {
    const short = file.subarray(0, 2500);
    expect(await digestStream(piecesOf(short, 700), grid)).toEqual({ sha256: sha256(short), chunkDigests: expected.slice(0, 2) });
  });

  it('digests an empty file', async () => {
    expect(await digestStream(piecesOf(Buffer.alloc(0), 1), { fileSize: 0, chunkSize: 1000 })).toEqual({ sha256: sha256(Buffer.alloc(0)), chunkDigests: [] });
  });
});
