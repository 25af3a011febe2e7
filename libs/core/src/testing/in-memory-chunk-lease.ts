import { randomUUID } from 'node:crypto';
import { ServiceUnavailableError } from '../errors';
import { ChunkLease, HeldLease } from '../ports/chunk-lease';

interface Lease {
  holder: string;
  token: string;
  expiresAt: number;
}

/** What the replicas share, as they share one Redis. */
class LeaseTable {
  readonly leases = new Map<string, Lease>();
  /** Replicas the others take for dead (their liveness lapsed). */
  readonly dead = new Set<string>();
}

/**
 * The `ChunkLease` port in memory, as seen by one replica; `otherReplica()` gives another one
 * sharing its leases. As with the Redis adapter, a lease lapses after its TTL unless renewed,
 * a lease whose holder is taken for dead is taken over at once, and only the holder's token
 * renews or releases it.
 */
export class InMemoryChunkLease implements ChunkLease {
  /** While true, every call fails as a Redis that cannot be reached does. */
  unreachable = false;

  constructor(
    private readonly table = new LeaseTable(),
    readonly holder: string = randomUUID(),
  ) {}

  async acquire(uploadId: string, index: number, ttlMs: number): Promise<HeldLease | null> {
    this.reach();
    const key = leaseKey(uploadId, index);
    const current = this.table.leases.get(key);
    if (current && current.expiresAt > Date.now() && !this.table.dead.has(current.holder)) return null;
    const lease: Lease = { holder: this.holder, token: randomUUID(), expiresAt: Date.now() + ttlMs };
    this.table.leases.set(key, lease);
    const ours = () => this.table.leases.get(key)?.token === lease.token;
    return {
      renew: async () => {
        this.reach();
        if (!ours() || lease.expiresAt <= Date.now()) return false;
        lease.expiresAt = Date.now() + ttlMs;
        return true;
      },
      release: async () => {
        if (ours()) this.table.leases.delete(key);
      },
      holderAlive: () => !this.table.dead.has(this.holder),
    };
  }

  async ping(): Promise<void> {
    this.reach();
  }

  /** Another replica, sharing this one's leases. */
  otherReplica(): InMemoryChunkLease {
    return new InMemoryChunkLease(this.table);
  }

  /** The chunk's lease runs out now, as if its holder had stopped renewing it a TTL ago. */
  lapse(uploadId: string, index: number): void {
    const lease = this.table.leases.get(leaseKey(uploadId, index));
    if (lease) lease.expiresAt = Date.now();
  }

  /** The other replicas take this one for dead (a pause past its liveness): its leases are free to take. */
  pause(): void {
    this.table.dead.add(this.holder);
  }

  /** Whether anyone holds a live lease on the chunk. */
  isHeld(uploadId: string, index: number): boolean {
    const lease = this.table.leases.get(leaseKey(uploadId, index));
    return lease !== undefined && lease.expiresAt > Date.now() && !this.table.dead.has(lease.holder);
  }

  private reach(): void {
    if (this.unreachable) throw new ServiceUnavailableError('Redis');
  }
}

function leaseKey(uploadId: string, index: number): string {
  return `${uploadId}:${index}`;
}
