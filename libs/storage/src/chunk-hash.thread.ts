// The body of the thread that hashes chunks while the assembly's own thread hashes the whole
// file. The thread outlives one file: each verification starts with the file's grid and the
// shared ring its bytes arrive in, block by block, in file order; each block is handed back
// as soon as it is hashed, and the chunks' digests end the file.
import { parentPort } from 'node:worker_threads';
// Relative imports of plain modules, not '@app/core': the thread must not load the whole core
// (Nest and the services) under its small heap.
import type { ChunkGrid } from '../../core/src/rules/chunk-grid';
import { GridHasher } from '../../core/src/verification/grid-hasher';

/** From the assembly: a new file, one block of it to hash, or its end. */
export type ToChunkHasher = { start: { grid: ChunkGrid; ring: SharedArrayBuffer; blockBytes: number } } | { block: number; length: number } | { end: true };
/** To the assembly: a block it may reuse, or every chunk's digest. */
export type FromChunkHasher = { free: number } | { digests: string[] };

if (parentPort) {
  const port = parentPort;
  let file: { hasher: GridHasher; ring: SharedArrayBuffer; blockBytes: number } | null = null;
  port.on('message', (message: ToChunkHasher) => {
    if ('start' in message) {
      const { grid, ring, blockBytes } = message.start;
      file = { hasher: new GridHasher(grid), ring, blockBytes };
    } else if (!file) {
      throw new Error('A block arrived before its file did');
    } else if ('end' in message) {
      port.postMessage({ digests: file.hasher.finish() } satisfies FromChunkHasher);
      file = null;
    } else {
      file.hasher.update(new Uint8Array(file.ring, message.block * file.blockBytes, message.length));
      port.postMessage({ free: message.block } satisfies FromChunkHasher);
    }
  });
}
