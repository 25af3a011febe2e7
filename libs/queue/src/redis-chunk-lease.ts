import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { ChunkLease, HeldLease } from '@app/core';
import { ReplicaLiveness } from './replica-liveness';

// A lease's value is "<holder>:<token>". It is taken when free, or when its holder's liveness
// key is gone (that replica died); a value naming no holder is never taken over.
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if current then
  local holder = string.match(current, '^([^:]+):')
  if not holder or redis.call('EXISTS', ARGV[3] .. holder) == 1 then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if current then return 2 end
return 1`;
// Only the holder's value may extend or drop a lease.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * Chunk leases as Redis keys holding "<holder>:<token>", with compare-and-set renew and release.
 * The holder is this replica's liveness id, so a dead replica's leases are free as soon as its
 * liveness key lapses, not after the lease TTL.
 */
export class RedisChunkLease implements ChunkLease {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly liveness: ReplicaLiveness,
  ) {}

  async acquire(uploadId: string, index: number, ttlMs: number): Promise<HeldLease | null> {
    const key = `${this.prefix}:lease:${uploadId}:${index}`;
    const holder = await this.liveness.currentHolder();
    const value = `${holder}:${randomBytes(16).toString('hex')}`;
    const taken = await this.redis.eval(ACQUIRE, 1, key, value, ttlMs, this.liveness.keyPrefix);
    if (taken === 0) return null;
    return {
      renew: async () => (await this.redis.eval(RENEW, 1, key, value, ttlMs)) === 1,
      release: async () => {
        // A lease we cannot release simply lapses after its TTL.
        await this.redis.eval(RELEASE, 1, key, value).catch(() => undefined);
      },
      holderAlive: () => this.liveness.isAlive(holder),
    };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }
}
