import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { ChunkLease, HeldLease } from '@app/core';

// Only the holder's token may extend or drop a lease.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** Chunk leases as Redis keys: `SET NX PX` with a random token, compare-and-set renew and release. */
export class RedisChunkLease implements ChunkLease {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async acquire(uploadId: string, index: number, ttlMs: number): Promise<HeldLease | null> {
    const key = `${this.prefix}:lease:${uploadId}:${index}`;
    const token = randomBytes(16).toString('hex');
    const taken = await this.redis.set(key, token, 'PX', ttlMs, 'NX');
    if (taken !== 'OK') return null;
    return {
      renew: async () => (await this.redis.eval(RENEW, 1, key, token, ttlMs)) === 1,
      release: async () => {
        // A lease we cannot release simply lapses after its TTL.
        await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
      },
    };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }
}
