// The body of the thread that hashes chunks while the assembly's own thread hashes the whole
// file. The file's bytes arrive in the shared ring, block by block, in file order; each block
// is handed back as soon as it is hashed.
import { parentPort, workerData } from 'node:worker_threads';
import { ChunkGrid } from '../rules/chunk-grid';
import { GridHasher } from './grid-hasher';

export interface ChunkHashThreadData {
  grid: ChunkGrid;
  ring: SharedArrayBuffer;
  blockBytes: number;
}

/** From the assembly: one block to hash, or the end of the file. */
export type ToChunkHasher = { block: number; length: number } | { end: true };
/** To the assembly: a block it may reuse, or every chunk's digest. */
export type FromChunkHasher = { free: number } | { digests: string[] };

if (parentPort) {
  const port = parentPort;
  const { grid, ring, blockBytes } = workerData as ChunkHashThreadData;
  const hasher = new GridHasher(grid);
  port.on('message', (message: ToChunkHasher) => {
    if ('end' in message) {
      port.postMessage({ digests: hasher.finish() } satisfies FromChunkHasher);
      return;
    }
    hasher.update(new Uint8Array(ring, message.block * blockBytes, message.length));
    port.postMessage({ free: message.block } satisfies FromChunkHasher);
  });
}
