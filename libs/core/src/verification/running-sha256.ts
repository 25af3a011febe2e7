import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FromSha256Thread, ToSha256Thread } from './sha256.thread';

/** A SHA-256 fed in pieces, in order. */
export interface RunningSha256 {
  /**
   * Takes `bytes`. Undefined: they are copied or hashed already, and the caller may reuse them.
   * A promise: the hash is behind; wait for it before reusing them or giving it more.
   */
  update(bytes: Uint8Array): Promise<void> | undefined;
  /** The hex digest of everything given; nothing may be given after. */
  digest(): Promise<string>;
  /** Ends the hash without a digest (the body failed), giving back what it holds. */
  discard(): void;
}

const KiB = 1024;
/**
 * Bytes handed to the thread at a time. Each hand-off wakes the thread, which on a busy machine
 * is not cheap next to hashing the block itself: larger blocks mean fewer hand-offs per chunk,
 * and the ring (RING_BLOCKS of them) bounds the memory.
 */
const BLOCK_BYTES = 1024 * KiB;
/** Blocks of one hash's ring: some being hashed, one filling, so the main thread rarely waits. */
const RING_BLOCKS = 3;
/** Hashes running on the thread at once; more run on the main thread, bounding the shared memory to 8 × 3 MiB. */
const MAX_THREADED = 8;

// Compiled builds have the thread's .js beside this file; a run from TypeScript sources (Jest)
// does not, and hashes on the main thread.
const THREAD_SCRIPT = join(__dirname, 'sha256.thread.js');

/**
 * SHA-256 of chunk bodies on a second thread when one is available: the main thread only
 * copies each piece into shared memory and goes back to the socket, so reading the body,
 * writing it to disk and hashing it run side by side instead of one after the other.
 */
export function startSha256(): RunningSha256 {
  return sha256Thread?.tryStart() ?? new MainThreadSha256();
}

class MainThreadSha256 implements RunningSha256 {
  private readonly hash = createHash('sha256');

  update(bytes: Uint8Array): undefined {
    this.hash.update(bytes);
    return undefined;
  }

  digest(): Promise<string> {
    return Promise.resolve(this.hash.digest('hex'));
  }

  discard(): void {}
}

interface JobListener {
  freed(offset: number): void;
  digestOf(hex: string): void;
  fail(error: Error): void;
}

/** The one hashing thread of this process, started on first use, restarted if it dies. */
class Sha256Thread {
  private worker: Worker | null = null;
  private readonly jobs = new Map<number, JobListener>();
  private readonly spareRings: SharedArrayBuffer[] = [];
  private nextJob = 1;

  /** A hash on the thread, or null when MAX_THREADED already run there. */
  tryStart(): RunningSha256 | null {
    if (this.jobs.size >= MAX_THREADED) return null;
    const job = this.nextJob++;
    const ring = this.spareRings.pop() ?? new SharedArrayBuffer(RING_BLOCKS * BLOCK_BYTES);
    const hash = new ThreadedSha256(ring, (message) => this.post(message), () => this.close(job, ring), job);
    this.jobs.set(job, hash);
    this.post({ job, ring });
    // A hash under way keeps the process alive; an idle thread does not.
    if (this.jobs.size === 1) this.worker?.ref();
    return hash;
  }

  private close(job: number, ring: SharedArrayBuffer): void {
    if (!this.jobs.delete(job)) return;
    this.spareRings.push(ring);
    if (this.jobs.size === 0) this.worker?.unref();
  }

  private post(message: ToSha256Thread): void {
    this.thread().postMessage(message);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(THREAD_SCRIPT, {
      // It allocates next to nothing (the bytes live in the rings): a small heap keeps RSS down.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    });
    worker.on('message', (message: FromSha256Thread) => {
      const job = this.jobs.get(message.job);
      if (!job) return;
      if ('freed' in message) job.freed(message.freed);
      else job.digestOf(message.digest);
    });
    const failed = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = null;
      for (const job of this.jobs.values()) job.fail(error);
    };
    worker.once('error', failed);
    worker.once('exit', (code) => failed(new Error(`The SHA-256 thread stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}

class ThreadedSha256 implements RunningSha256, JobListener {
  private readonly memory: Uint8Array;
  private readonly free: number[] = [];
  /** Offset of the block being filled, or null before the next one is taken. */
  private filling: number | null = null;
  private filled = 0;
  private waitingForBlock: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private finished: { resolve: (hex: string) => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;
  private ended = false;

  constructor(
    ring: SharedArrayBuffer,
    private readonly send: (message: ToSha256Thread) => void,
    private readonly close: () => void,
    private readonly job: number,
  ) {
    this.memory = new Uint8Array(ring);
    for (let block = 0; block < RING_BLOCKS; block++) this.free.push(block * BLOCK_BYTES);
  }

  update(bytes: Uint8Array): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    // Once ended, the ring may already serve another hash.
    if (this.ended) return Promise.reject(new Error('This SHA-256 has ended'));
    for (let from = 0; from < bytes.length; ) {
      if (this.filling === null) {
        const block = this.free.pop();
        if (block === undefined) return this.afterFreeBlock(bytes.subarray(from));
        this.filling = block;
        this.filled = 0;
      }
      const taken = Math.min(BLOCK_BYTES - this.filled, bytes.length - from);
      this.memory.set(bytes.subarray(from, from + taken), this.filling + this.filled);
      this.filled += taken;
      from += taken;
      if (this.filled === BLOCK_BYTES) this.hand();
    }
    return undefined;
  }

  private async afterFreeBlock(rest: Uint8Array): Promise<void> {
    await new Promise<void>((resolve, reject) => (this.waitingForBlock = { resolve, reject }));
    await this.update(rest);
  }

  /** Sends the block being filled to the thread. */
  private hand(): void {
    if (this.filling === null || this.filled === 0) return;
    this.send({ job: this.job, offset: this.filling, length: this.filled });
    this.filling = null;
    this.filled = 0;
  }

  digest(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    this.hand();
    this.ended = true;
    const digest = new Promise<string>((resolve, reject) => (this.finished = { resolve, reject }));
    this.send({ job: this.job, end: true });
    return digest;
  }

  discard(): void {
    // The ring is reused only once the thread is done with it: the digest says so.
    if (!this.ended && !this.failure) this.digest().catch(() => undefined);
  }

  freed(offset: number): void {
    this.free.push(offset);
    const waiting = this.waitingForBlock;
    this.waitingForBlock = null;
    waiting?.resolve();
  }

  digestOf(hex: string): void {
    this.close();
    this.finished?.resolve(hex);
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.close();
    this.waitingForBlock?.reject(error);
    this.finished?.reject(error);
  }
}

const sha256Thread = existsSync(THREAD_SCRIPT) ? new Sha256Thread() : null;
