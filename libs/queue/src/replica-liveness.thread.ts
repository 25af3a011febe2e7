// The body of the thread that keeps this replica's liveness key in Redis. It refreshes the key on
// its own connection and event loop, so a main thread busy with requests (or a long queue of
// commands on the main connection) does not make a live replica look dead; a process that is
// killed or stopped stops this thread too, and its key lapses within the TTL.
//
// Self-contained on purpose (only Node and ioredis): run from the TypeScript sources, Node
// loads this file as it is, without the path aliases or the build.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import Redis from 'ioredis';

/**
 * What both threads see at once, in a SharedArrayBuffer of `LIVENESS_STATE_BYTES`, read and
 * written only through Atomics: the holder's generation (the holder id is derived from it) and
 * until when its key surely exists (ms since the epoch, 0 when it may not).
 */
export const GENERATION = 0;
export const ALIVE_UNTIL = 1;
export const LIVENESS_STATE_BYTES = 2 * BigInt64Array.BYTES_PER_ELEMENT;

export interface LivenessThreadData {
  replicaLiveness: true;
  redisUrl: string;
  connectionName: string;
  keyPrefix: string;
  /** Random, URL-safe and free of ':' (which separates the holder from the token in a lease's value). */
  base: string;
  ttlMs: number;
  state: SharedArrayBuffer;
}

/** From the main thread: keep refreshing, refresh once now, or delete the key and end. */
export type ToLivenessThread = { start: true } | { refresh: number } | { stop: true };
/** To the main thread: a refresh done (or failed), something to log, or the end. */
export type FromLivenessThread = { refreshed: number; error?: string } | { warn: string } | { stopped: true };

/** The holder id of one generation: a lapsed key is never extended, its replica takes the next. */
export function holderOf(base: string, generation: bigint | number): string {
  return `${base}.${generation.toString(36)}`;
}

if (!isMainThread && parentPort && (workerData as Partial<LivenessThreadData> | undefined)?.replicaLiveness) {
  run(parentPort, workerData as LivenessThreadData);
}

function run(port: NonNullable<typeof parentPort>, data: LivenessThreadData): void {
  const state = new BigInt64Array(data.state);
  const warn = (message: string) => port.postMessage({ warn: message } satisfies FromLivenessThread);
  const redis = new Redis(data.redisUrl, {
    connectionName: data.connectionName,
    // A refresh waits for the connection (at start, after an outage), but never longer than
    // the TTL: its deadline counts from before it was queued, and the next one is due soon.
    maxRetriesPerRequest: 1,
    commandTimeout: data.ttlMs,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let lastError = '';
  redis.on('error', (error: Error) => {
    if (error.message !== lastError) warn(`Redis connection error (liveness): ${error.message}`);
    lastError = error.message;
  });
  redis.on('ready', () => (lastError = ''));

  const keyOf = (generation: bigint) => `${data.keyPrefix}${holderOf(data.base, generation)}`;
  let timer: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> | undefined;

  const refreshOnce = async (): Promise<void> => {
    const generation = Atomics.load(state, GENERATION);
    const sentAt = Date.now();
    // XX: only extend a key that never lapsed. A key that did lapse means others may already
    // have taken this holder's leases, so the replica comes back under a new holder id.
    if (Atomics.load(state, ALIVE_UNTIL) > 0n && (await redis.set(keyOf(generation), '1', 'PX', data.ttlMs, 'XX')) === 'OK') {
      // Compare-exchange: stop() may have zeroed it meanwhile, and then it stays zero.
      const current = Atomics.load(state, ALIVE_UNTIL);
      if (current > 0n) Atomics.compareExchange(state, ALIVE_UNTIL, current, BigInt(sentAt + data.ttlMs));
      return;
    }
    if (Atomics.load(state, ALIVE_UNTIL) > 0n) warn("This replica was out of touch with Redis for longer than its liveness TTL: its chunk leases are given up");
    // Zeroed before the generation moves, so no reader pairs the old holder with a new deadline.
    Atomics.store(state, ALIVE_UNTIL, 0n);
    const next = Atomics.add(state, GENERATION, 1n) + 1n;
    // The new key lives from this send on, not from the failed refresh's (which may have waited out an outage).
    const createdAt = Date.now();
    await redis.set(keyOf(next), '1', 'PX', data.ttlMs, 'NX');
    if (Atomics.load(state, GENERATION) === next) Atomics.store(state, ALIVE_UNTIL, BigInt(createdAt + data.ttlMs));
  };
  const refresh = (): Promise<void> => {
    refreshing ??= refreshOnce().finally(() => (refreshing = undefined));
    return refreshing;
  };

  port.on('message', (message: ToLivenessThread) => {
    if ('start' in message) {
      timer ??= setInterval(() => refresh().catch((error: Error) => warn(`Could not refresh this replica's liveness: ${error.message}`)), Math.max(50, Math.floor(data.ttlMs / 4)));
      void refresh().catch(() => undefined);
    } else if ('refresh' in message) {
      refresh().then(
        () => port.postMessage({ refreshed: message.refresh } satisfies FromLivenessThread),
        (error: Error) => port.postMessage({ refreshed: message.refresh, error: error.message } satisfies FromLivenessThread),
      );
    } else {
      clearInterval(timer);
      void stop();
    }
  });

  async function stop(): Promise<void> {
    await refreshing?.catch(() => undefined);
    Atomics.store(state, ALIVE_UNTIL, 0n);
    const generation = Atomics.load(state, GENERATION);
    Atomics.add(state, GENERATION, 1n);
    await redis.del(keyOf(generation)).catch(() => undefined);
    redis.disconnect();
    port.postMessage({ stopped: true } satisfies FromLivenessThread);
    port.close();
  }
}
