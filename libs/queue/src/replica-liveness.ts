import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';

/**
 * This process's sign of life in Redis: a key under a random holder id that lives only while the
 * process keeps refreshing it. Chunk leases name their holder, so a replica that died (kill -9,
 * lost host) loses its leases as soon as this key lapses instead of after a whole lease TTL.
 *
 * A process that was only paused (GC, SIGSTOP) past the key's TTL may have been taken for dead
 * and had its leases taken over. It must not go on writing under them: `isAlive(holder)` turns
 * false locally the moment the key may have lapsed, and once that happened the process never
 * again answers for the old holder id; it takes a new one.
 */
export class ReplicaLiveness {
  private readonly logger = new Logger(ReplicaLiveness.name);
  private holder = newHolderId();
  /** Until when the key surely exists: the send time of the last successful refresh + TTL. */
  private aliveUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<string> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly ttlMs: number,
  ) {}

  /** The Redis key that says `holder` is alive. */
  keyOf(holder: string): string {
    return `${this.keyPrefix}${holder}`;
  }

  get keyPrefix(): string {
    return `${this.prefix}:replica:`;
  }

  /** Starts refreshing the key in the background, several times per TTL. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.refresh().catch((error: Error) => this.logger.warn(`Could not refresh this replica's liveness: ${error.message}`));
    }, Math.max(50, Math.floor(this.ttlMs / 4)));
    this.timer.unref();
    void this.refresh().catch(() => undefined);
  }

  /** The holder id to take leases under, refreshing the key first if it may have lapsed. */
  async currentHolder(): Promise<string> {
    return Date.now() < this.aliveUntil ? this.holder : this.refresh();
  }

  /** Whether leases taken under `holder` are still surely this process's. */
  isAlive(holder: string): boolean {
    return holder === this.holder && Date.now() < this.aliveUntil;
  }

  /** Stops refreshing and deletes the key, so every lease still held here is free at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const holder = this.holder;
    this.aliveUntil = 0;
    this.holder = newHolderId();
    await this.redis.del(this.keyOf(holder)).catch(() => undefined);
  }

  private refresh(): Promise<string> {
    this.refreshing ??= this.refreshOnce().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async refreshOnce(): Promise<string> {
    const sentAt = Date.now();
    // XX: only extend a key that never lapsed. A key that did lapse means others may already
    // have taken this holder's leases, so the process comes back under a new holder id.
    if (this.aliveUntil > 0 && (await this.redis.set(this.keyOf(this.holder), '1', 'PX', this.ttlMs, 'XX')) === 'OK') {
      this.aliveUntil = sentAt + this.ttlMs;
      return this.holder;
    }
    if (this.aliveUntil > 0) this.logger.warn('This replica was out of touch with Redis for longer than its liveness TTL: its chunk leases are given up');
    const holder = newHolderId();
    this.holder = holder;
    this.aliveUntil = 0;
    // The new key lives from this send on, not from the failed refresh's (which may have waited out an outage).
    const createdAt = Date.now();
    await this.redis.set(this.keyOf(holder), '1', 'PX', this.ttlMs, 'NX');
    if (this.holder === holder) this.aliveUntil = createdAt + this.ttlMs;
    return holder;
  }
}

/** URL-safe and free of ':', which separates the holder from the token in a lease's value. */
function newHolderId(): string {
  return randomBytes(12).toString('base64url');
}
