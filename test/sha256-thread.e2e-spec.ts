import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { RunningSha256 } from '../libs/core/src/verification/running-sha256';

// The built module: only compiled code has the thread's script beside it (from TypeScript
// sources the hash runs on the main thread).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startSha256 } = require(join(__dirname, '..', 'dist/libs/core/src/verification/running-sha256.js')) as { startSha256: () => RunningSha256 };

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Feeds `bytes` in pieces of the given sizes (cycling), waiting whenever the hash is behind. */
async function feed(hash: RunningSha256, bytes: Buffer, pieceSizes: number[]): Promise<void> {
  for (let start = 0, turn = 0; start < bytes.length; turn++) {
    const end = Math.min(bytes.length, start + pieceSizes[turn % pieceSizes.length]);
    const piece = Buffer.from(bytes.subarray(start, end));
    const behind = hash.update(piece);
    if (behind) await behind;
    // The piece is the caller's again once update is done with it.
    piece.fill(0);
    start = end;
  }
}

describe('SHA-256 on the hashing thread (built code)', () => {
  it('runs on the thread: an update larger than its shared memory has to wait for it', async () => {
    const hash = startSha256();
    const bytes = randomBytes(8 * MiB);
    const behind = hash.update(bytes);
    expect(behind).toBeInstanceOf(Promise);
    await behind;
    expect(await hash.digest()).toBe(sha256(bytes));
  });

  it.each([
    ['nothing', 0, [1]],
    ['one byte', 1, [1]],
    ['one block exactly', MiB, [64 * 1024]],
    ['pieces that straddle blocks', 3 * MiB + 7, [65_536, 1, 333_333, 0]],
    ['pieces larger than all its memory', 9 * MiB + 1, [5 * MiB]],
  ])('digests %s as node:crypto does', async (_, size, pieceSizes) => {
    const bytes = randomBytes(size);
    const hash = startSha256();
    await feed(hash, bytes, pieceSizes.map((pieceSize) => pieceSize || 1));
    expect(await hash.digest()).toBe(sha256(bytes));
  });

  it('keeps many hashes at once apart, more than run on the thread', async () => {
    const files = Array.from({ length: 20 }, (_, n) => randomBytes(MiB + n * 4099));
    const digests = await Promise.all(
      files.map(async (bytes, n) => {
        const hash = startSha256();
        await feed(hash, bytes, [16_384 + n * 1000]);
        return hash.digest();
      }),
    );
    expect(digests).toEqual(files.map(sha256));
  });

  it('refuses bytes after it ended, and a discarded hash leaves the next ones intact', async () => {
    const abandoned = startSha256();
    await feed(abandoned, randomBytes(3 * MiB), [MiB]);
    abandoned.discard();
    await expect(abandoned.update(Buffer.from('late')) ?? Promise.resolve()).rejects.toThrow(/ended/);

    // Its memory goes to the next hashes; what the abandoned one was given must not leak in.
    const files = Array.from({ length: 10 }, () => randomBytes(2 * MiB + 5));
    const digests = await Promise.all(
      files.map(async (bytes) => {
        const hash = startSha256();
        await feed(hash, bytes, [300_000]);
        return hash.digest();
      }),
    );
    expect(digests).toEqual(files.map(sha256));
  });
});
