import { createHash, Hash } from 'node:crypto';
import { ChunkGrid, chunkLength, totalChunks } from '../rules/chunk-grid';

/**
 * SHA-256 of every chunk of a file, fed the file's bytes in order in pieces of any size.
 * Plain code with relative imports only: the chunk-hash thread runs it too.
 */
export class GridHasher {
  private readonly total: number;
  private readonly digests: string[] = [];
  private hash: Hash = createHash('sha256');
  private remaining: number;

  constructor(private readonly grid: ChunkGrid) {
    this.total = totalChunks(grid);
    this.remaining = this.total > 0 ? chunkLength(grid, 0) : 0;
  }

  update(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length && this.digests.length < this.total) {
      const take = Math.min(this.remaining, bytes.length - offset);
      this.hash.update(bytes.subarray(offset, offset + take));
      offset += take;
      this.remaining -= take;
      if (this.remaining === 0) this.finishChunk();
    }
  }

  /** One digest per chunk fully read, in chunk order: a truncated file has fewer than the grid. */
  finish(): string[] {
    return this.digests;
  }

  private finishChunk(): void {
    this.digests.push(this.hash.digest('hex'));
    this.hash = createHash('sha256');
    if (this.digests.length < this.total) this.remaining = chunkLength(this.grid, this.digests.length);
  }
}
