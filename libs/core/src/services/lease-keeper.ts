import { Logger } from '@nestjs/common';
import { UploadError } from '../errors';
import { HeldLease } from '../ports/chunk-lease';

/**
 * Keeps a chunk lease while its body makes progress, and stops the request from writing once
 * the lease may have passed to someone else. A body that goes silent is not renewed, so a
 * client's retry can take the chunk over after one lease TTL instead of waiting for the socket
 * to time out; if the silent body wakes up later, it is refused before it writes again. Until
 * the body is first asked for, the server is the one waiting (for its turn to write, under
 * load), so that time keeps the lease too.
 */
export class LeaseKeeper {
  private readonly logger = new Logger(LeaseKeeper.name);
  private readonly timer: NodeJS.Timeout;
  /** Until when the lease is surely ours: the last successful renewal (or acquisition) + TTL. */
  private heldUntil: number;
  private lost = false;
  private progressed = false;
  /** A body is being watched that nobody has asked for yet. */
  private bodyNotYetRead = false;

  constructor(
    private readonly lease: HeldLease,
    private readonly ttlMs: number,
    private readonly label: string,
  ) {
    this.heldUntil = Date.now() + ttlMs;
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if ((!this.progressed && !this.bodyNotYetRead) || this.lost) return;
    this.progressed = false;
    const startedAt = Date.now();
    try {
      if (await this.lease.renew()) this.heldUntil = startedAt + this.ttlMs;
      else this.lost = true;
    } catch (error) {
      // Unrenewed, the lease runs out at heldUntil; the request is refused from then on.
      this.logger.warn(`Could not renew the lease on ${this.label}: ${(error as Error).message}`);
    }
  }

  /** Passes `body` through, refusing to go on once the lease may be gone. */
  watch(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    this.bodyNotYetRead = true;
    return this.passThrough(body);
  }

  private async *passThrough(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    // A generator's code runs from its first `next`: the body has been asked for.
    this.bodyNotYetRead = false;
    for await (const piece of body) {
      this.assertHeld();
      this.progressed = true;
      yield piece;
    }
  }

  /**
   * Counts as progress without a piece of this chunk's body: a chunk written but not yet
   * recorded keeps its lease while the rest of its request still arrives.
   */
  touch(): void {
    this.progressed = true;
  }

  /** Throws unless the lease is still surely ours and this process surely still taken for alive. */
  assertHeld(): void {
    if (this.lost || Date.now() >= this.heldUntil || !this.lease.holderAlive()) {
      throw new UploadError('CHUNK_IN_PROGRESS', 'This request stalled and lost its claim on the chunk to another request; nothing was recorded. Retry it.', {}, 1);
    }
  }

  /** Stops renewing and gives the lease back. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.lease.release();
  }
}
