export const CHUNK_LEASE = Symbol('CHUNK_LEASE');

/** The index that stands for a whole upload rather than one chunk: a tus PATCH holds it while it runs. */
export const WHOLE_UPLOAD = -1;

/** A held lease: renew it while working, release it when done. */
export interface HeldLease {
  /** Extends the lease; resolves false if it was lost (expired and taken by someone else). */
  renew(): Promise<boolean>;
  /** Gives the lease up if it is still ours (compare-and-delete). Never throws. */
  release(): Promise<void>;
  /**
   * False once this process may have been taken for dead by the others (a pause longer than its
   * liveness), so the lease may have passed to another replica. Synchronous: checked before
   * every write.
   */
  holderAlive(): boolean;
}

/**
 * Short-lived exclusive claims on one chunk of one upload, so two requests never write
 * the same region at once. A lease can lapse under a long pause, so it is a courtesy,
 * not the safety guard: the unique chunk record and the worker's re-verification are.
 */
export interface ChunkLease {
  /**
   * Claims the chunk for `ttlMs`, or resolves null when a live holder has it. A lease whose
   * holder died is taken over at once.
   */
  acquire(uploadId: string, index: number, ttlMs: number): Promise<HeldLease | null>;

  /** Confirms the lease store answers. */
  ping(): Promise<void>;
}
