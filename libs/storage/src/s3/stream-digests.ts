import { createHash, Hash } from 'node:crypto';
import { ChunkGrid, StoredDigests, chunkLength, totalChunks } from '@app/core';

/**
 * The whole file's SHA-256 and each grid chunk's, in one pass over its bytes in pieces of any
 * size. A short stream yields fewer chunk digests than the grid has chunks.
 */
export async function digestStream(body: AsyncIterable<Uint8Array>, grid: ChunkGrid): Promise<StoredDigests> {
  const whole = createHash('sha256');
  const total = totalChunks(grid);
  const chunkDigests: string[] = [];
  let chunk: Hash = createHash('sha256');
  let remaining = total > 0 ? chunkLength(grid, 0) : 0;
  for await (const bytes of body) {
    whole.update(bytes);
    let offset = 0;
    while (offset < bytes.length && chunkDigests.length < total) {
      const take = Math.min(remaining, bytes.length - offset);
      chunk.update(bytes.subarray(offset, offset + take));
      offset += take;
      remaining -= take;
      if (remaining === 0) {
        chunkDigests.push(chunk.digest('hex'));
        chunk = createHash('sha256');
        if (chunkDigests.length < total) remaining = chunkLength(grid, chunkDigests.length);
      }
    }
  }
  return { sha256: whole.digest('hex'), chunkDigests };
}
