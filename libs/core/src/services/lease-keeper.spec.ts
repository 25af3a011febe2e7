import { setTimeout as sleep } from 'node:timers/promises';
import { InMemoryChunkLease } from '../testing/in-memory-chunk-lease';
import { LeaseKeeper } from './lease-keeper';

const TTL_MS = 90;

async function* pieces(count: number, pauseBeforeLastMs = 0): AsyncGenerator<Buffer> {
  for (let piece = 0; piece < count; piece++) {
    if (piece === count - 1) await sleep(pauseBeforeLastMs);
    yield Buffer.alloc(16, piece);
  }
}

async function keeperOfChunk(leases: InMemoryChunkLease): Promise<LeaseKeeper> {
  const lease = await leases.acquire('upload', 0, TTL_MS);
  if (!lease) throw new Error('the lease should be free');
  return new LeaseKeeper(lease, TTL_MS, 'chunk 0 of upload');
}

describe('LeaseKeeper', () => {
  it('keeps the lease while the body waits for the server to ask for it (its turn to write)', async () => {
    const leases = new InMemoryChunkLease();
    const keeper = await keeperOfChunk(leases);
    try {
      const body = keeper.watch(pieces(3));
      await sleep(4 * TTL_MS);
      expect(leases.isHeld('upload', 0)).toBe(true);
      expect(await leases.otherReplica().acquire('upload', 0, TTL_MS)).toBeNull();
      let read = 0;
      for await (const piece of body) read += piece.length;
      expect(read).toBe(48);
    } finally {
      await keeper.release();
    }
  });

  it('lets a body that goes silent once it was asked for lose the lease, and refuses its next piece', async () => {
    const leases = new InMemoryChunkLease();
    const keeper = await keeperOfChunk(leases);
    try {
      const read = async () => {
        for await (const piece of keeper.watch(pieces(3, 4 * TTL_MS))) void piece;
      };
      await expect(read()).rejects.toMatchObject({ code: 'CHUNK_IN_PROGRESS' });
      expect(leases.isHeld('upload', 0)).toBe(false);
    } finally {
      await keeper.release();
    }
  });
});
