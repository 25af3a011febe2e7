import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Logger } from '@nestjs/common';
import { ALIVE_UNTIL, FromLivenessThread, GENERATION, LIVENESS_STATE_BYTES, LivenessThreadData, ToLivenessThread, holderOf } from './replica-liveness.thread';

// Compiled builds have the thread's .js beside this file; a run from the TypeScript sources
// (Jest) starts the .ts, which Node loads by stripping its types.
const THREAD_SCRIPT = [join(__dirname, 'replica-liveness.thread.js'), join(__dirname, 'replica-liveness.thread.ts')].find((file) => existsSync(file)) as string;
/** How long stop() waits for the thread to delete the key before ending it anyway. */
const STOP_WAIT_MS = 2_000;

/**
 * This process's sign of life in Redis: a key under a holder id that lives only while the
 * process keeps refreshing it. Chunk leases name their holder, so a replica that died (kill -9,
 * lost host) loses its leases as soon as this key lapses instead of after a whole lease TTL.
 *
 * The key is refreshed from a thread of its own with its own Redis connection, so a busy event
 * loop does not let a live replica's key lapse; a process killed or stopped (SIGSTOP stops every
 * thread) still loses it within the TTL. The thread and the main thread share the holder's
 * generation and until when its key surely exists, so the main thread answers `isAlive` at once.
 *
 * A process that was only paused (GC, SIGSTOP) past the key's TTL may have been taken for dead
 * and had its leases taken over. It must not go on writing under them: `isAlive(holder)` turns
 * false locally the moment the key may have lapsed, and once that happened the process never
 * again answers for the old holder id; it takes a new one.
 */
export class ReplicaLiveness {
  private readonly logger = new Logger(ReplicaLiveness.name);
  private readonly base = randomBytes(12).toString('base64url');
  private readonly shared = new SharedArrayBuffer(LIVENESS_STATE_BYTES);
  private readonly state = new BigInt64Array(this.shared);
  private thread: Worker | undefined;
  private started = false;
  private nextRequest = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  constructor(
    private readonly redisUrl: string,
    private readonly prefix: string,
    readonly ttlMs: number,
    private readonly connectionName = 'liveness',
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
    if (this.started) return;
    this.started = true;
    this.send({ start: true });
  }

  /** The holder id to take leases under, refreshing the key first if it may have lapsed. */
  async currentHolder(): Promise<string> {
    const alive = this.aliveHolder();
    if (alive) return alive;
    await this.refreshNow();
    return this.aliveHolder() ?? this.holder(Atomics.load(this.state, GENERATION));
  }

  /** Whether leases taken under `holder` are still surely this process's. */
  isAlive(holder: string): boolean {
    return this.aliveHolder() === holder;
  }

  /** Stops refreshing and deletes the key, so every lease still held here is free at once. */
  async stop(): Promise<void> {
    this.started = false;
    Atomics.store(this.state, ALIVE_UNTIL, 0n);
    const thread = this.thread;
    if (!thread) {
      Atomics.add(this.state, GENERATION, 1n);
      return;
    }
    this.thread = undefined;
    let timeout: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, STOP_WAIT_MS);
      thread.on('message', (message: FromLivenessThread) => 'stopped' in message && resolve());
      thread.once('exit', () => resolve());
      thread.postMessage({ stop: true } satisfies ToLivenessThread);
    });
    clearTimeout(timeout);
    await thread.terminate();
  }

  /** The holder whose key surely exists now, if any. */
  private aliveHolder(): string | undefined {
    // The thread zeroes the deadline before it moves to a new generation: a generation read
    // the same before and after the deadline belongs with it.
    const generation = Atomics.load(this.state, GENERATION);
    const aliveUntil = Atomics.load(this.state, ALIVE_UNTIL);
    if (Atomics.load(this.state, GENERATION) !== generation || Date.now() >= Number(aliveUntil)) return undefined;
    return this.holder(generation);
  }

  private holder(generation: bigint): string {
    return holderOf(this.base, generation);
  }

  private refreshNow(): Promise<void> {
    const id = this.nextRequest++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.send({ refresh: id });
    });
  }

  private send(message: ToLivenessThread): void {
    (this.thread ??= this.startThread()).postMessage(message);
  }

  private startThread(): Worker {
    const workerData: LivenessThreadData = {
      replicaLiveness: true,
      redisUrl: this.redisUrl,
      connectionName: this.connectionName,
      keyPrefix: this.keyPrefix,
      base: this.base,
      ttlMs: this.ttlMs,
      state: this.shared,
    };
    const thread = new Worker(THREAD_SCRIPT, {
      workerData,
      name: 'replica-liveness',
      // It holds one Redis connection and a timer: a small heap keeps the thread's RSS down.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
      // Node loads the .ts as a module by its syntax and would say so on every start.
      execArgv: THREAD_SCRIPT.endsWith('.ts') ? ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON'] : [],
    });
    // The thread never keeps the process alive; it ends with it.
    thread.unref();
    thread.on('message', (message: FromLivenessThread) => {
      if ('warn' in message) this.logger.warn(message.warn);
      else if ('refreshed' in message) {
        const waiter = this.waiting.get(message.refreshed);
        this.waiting.delete(message.refreshed);
        if (message.error === undefined) waiter?.resolve();
        else waiter?.reject(new Error(message.error));
      }
    });
    thread.on('error', (error) => this.logger.error(`The replica liveness thread failed: ${error.message}`));
    thread.on('exit', () => {
      if (this.thread !== thread) return;
      // Unexpected: its key lapses on its own (isAlive turns false with it); a new thread takes over.
      this.thread = undefined;
      for (const waiter of this.waiting.values()) waiter.reject(new Error('The replica liveness thread ended'));
      this.waiting.clear();
      if (this.started) setTimeout(() => this.started && !this.thread && this.send({ start: true }), Math.floor(this.ttlMs / 4)).unref();
    });
    return thread;
  }
}
