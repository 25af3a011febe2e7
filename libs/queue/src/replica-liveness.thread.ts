// The body of the thread that keeps this replica's liveness key in Redis. It refreshes the key on
// its own connection and event loop, so a main thread busy with requests (or a long queue of
// commands on the main connection) does not make a live replica look dead; a process that is
// killed or stopped stops this thread too, and its key lapses within the TTL.
//
// Self-contained on purpose (only Node): run from the TypeScript sources, Node loads this file
// as it is, without the path aliases or the build. It speaks Redis itself rather than load a
// client library into a second V8 isolate: the thread sends three commands, and ioredis there
// cost the API about 7 MiB of resident memory.
import { connect as connectTcp, Socket } from 'node:net';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

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

function run(port: NonNullable<typeof parentPort>, data: LivenessThreadData): void {
  const state = new BigInt64Array(data.state);
  const warn = (message: string) => port.postMessage({ warn: message } satisfies FromLivenessThread);
  let lastError = '';
  // A refresh waits for the connection (at start, after an outage), but never longer than the
  // TTL: its deadline counts from before it was queued, and the next one is due soon.
  const redis = new RedisConnection(data.redisUrl, data.connectionName, data.ttlMs, (error) => {
    if (error.message !== lastError) warn(`Redis connection error (liveness): ${error.message}`);
    lastError = error.message;
  });
  redis.onReady = () => (lastError = '');

  const keyOf = (generation: bigint) => `${data.keyPrefix}${holderOf(data.base, generation)}`;
  let timer: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> | undefined;

  const refreshOnce = async (): Promise<void> => {
    const generation = Atomics.load(state, GENERATION);
    const sentAt = Date.now();
    // XX: only extend a key that never lapsed. A key that did lapse means others may already
    // have taken this holder's leases, so the replica comes back under a new holder id.
    if (Atomics.load(state, ALIVE_UNTIL) > 0n && (await redis.send('SET', keyOf(generation), '1', 'PX', data.ttlMs, 'XX')) === 'OK') {
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
    await redis.send('SET', keyOf(next), '1', 'PX', data.ttlMs, 'NX');
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
    await redis.send('DEL', keyOf(generation)).catch(() => undefined);
    redis.close();
    port.postMessage({ stopped: true } satisfies FromLivenessThread);
    port.close();
  }
}

type Reply = string | number | null;

interface PendingCommand {
  bytes: string;
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One Redis connection (`redis://` or `rediss://`, with the URL's user, password and database),
 * speaking just enough of the protocol for commands answered by a status, an integer or a
 * string. It reconnects on its own, backing off up to 2 s. Commands sent while it is down wait
 * for it; each one fails after `timeoutMs` however far it got, and one that timed out on the
 * wire closes the connection, since the replies after it could no longer be paired.
 */
export class RedisConnection {
  onReady: () => void = () => undefined;
  private readonly url: URL;
  private readonly name: string;
  private readonly timeoutMs: number;
  private readonly onError: (error: Error) => void;
  private socket: Socket | null = null;
  private ready = false;
  private closed = false;
  private attempts = 0;
  private received: Buffer = Buffer.alloc(0);
  /** Sent, waiting for their replies in order. */
  private readonly inFlight: PendingCommand[] = [];
  /** Waiting for the connection. */
  private readonly queued: PendingCommand[] = [];

  constructor(url: string, name: string, timeoutMs: number, onError: (error: Error) => void) {
    this.url = new URL(url);
    this.name = name;
    this.timeoutMs = timeoutMs;
    this.onError = onError;
    this.open();
  }

  send(...args: (string | number)[]): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('Connection is closed'));
    return new Promise<Reply>((resolve, reject) => {
      const command = this.command(args, resolve, reject);
      if (this.ready && this.socket) this.write(command);
      else this.queued.push(command);
    });
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.failAll(new Error('Connection is closed'));
  }

  private open(): void {
    const host = this.url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(this.url.port || 6379);
    const tls = this.url.protocol === 'rediss:';
    // The TLS module is loaded only for a rediss:// URL, to keep the thread small.
    const socket = tls ? process.getBuiltinModule('node:tls').connect({ host, port, servername: host }) : connectTcp({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.once(tls ? 'secureConnect' : 'connect', () => this.handshake());
    socket.on('data', (bytes: Buffer) => this.receive(bytes));
    socket.on('error', (error) => this.onError(error));
    socket.on('close', () => this.lost(socket));
  }

  /** AUTH and SELECT (as the URL asks) and CLIENT SETNAME go first; queued commands follow once each answered. */
  private handshake(): void {
    const user = decodeURIComponent(this.url.username);
    const password = decodeURIComponent(this.url.password);
    const database = Number(this.url.pathname.slice(1) || 0);
    const steps: (string | number)[][] = [];
    if (password) steps.push(user ? ['AUTH', user, password] : ['AUTH', password]);
    if (database) steps.push(['SELECT', database]);
    steps.push(['CLIENT', 'SETNAME', this.name]);
    let left = steps.length;
    const answered = () => {
      left -= 1;
      if (left > 0 || !this.socket) return;
      this.ready = true;
      this.attempts = 0;
      this.onReady();
      for (const command of this.queued.splice(0)) this.write(command);
    };
    // A refused step is told, then the connection is tried again as if it was lost.
    const refused = (error: Error) => {
      this.onError(error);
      this.socket?.destroy();
    };
    for (const step of steps) this.write(this.command(step, answered, refused));
  }

  private command(args: (string | number)[], resolve: (reply: Reply) => void, reject: (error: Error) => void): PendingCommand {
    const bytes = `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(String(arg))}\r\n${arg}\r\n`).join('')}`;
    const command: PendingCommand = { bytes, resolve, reject, timer: setTimeout(() => this.timeOut(command), this.timeoutMs) };
    return command;
  }

  private write(command: PendingCommand): void {
    this.inFlight.push(command);
    this.socket?.write(command.bytes);
  }

  private receive(bytes: Buffer): void {
    this.received = this.received.length === 0 ? bytes : Buffer.concat([this.received, bytes]);
    for (;;) {
      const end = this.received.indexOf('\r\n');
      if (end < 0) return;
      const line = this.received.toString('utf8', 1, end);
      let reply: Reply | Error;
      let used = end + 2;
      switch (this.received[0]) {
        case 0x24: {
          // $: a string of that many bytes, or null for -1.
          const length = Number(line);
          if (length < 0) reply = null;
          else {
            if (this.received.length < used + length + 2) return;
            reply = this.received.toString('utf8', used, used + length);
            used += length + 2;
          }
          break;
        }
        case 0x2d: // -: an error
          reply = new Error(line);
          break;
        case 0x3a: // :: an integer
          reply = Number(line);
          break;
        default: // +: a status
          reply = line;
      }
      this.received = this.received.subarray(used);
      const command = this.inFlight.shift();
      if (!command) continue;
      clearTimeout(command.timer);
      if (reply instanceof Error) command.reject(reply);
      else command.resolve(reply);
    }
  }

  private timeOut(command: PendingCommand): void {
    const waiting = this.queued.indexOf(command);
    if (waiting >= 0) this.queued.splice(waiting, 1);
    else this.socket?.destroy();
    command.reject(new Error('Command timed out'));
  }

  private lost(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.ready = false;
    this.received = Buffer.alloc(0);
    for (const command of this.inFlight.splice(0)) {
      clearTimeout(command.timer);
      command.reject(new Error('Connection lost'));
    }
    if (this.closed) return;
    this.attempts += 1;
    setTimeout(() => this.closed || this.open(), Math.min(this.attempts * 200, 2_000));
  }

  private failAll(error: Error): void {
    for (const command of [...this.inFlight.splice(0), ...this.queued.splice(0)]) {
      clearTimeout(command.timer);
      command.reject(error);
    }
  }
}

// Last, once everything above is defined.
if (!isMainThread && parentPort && (workerData as Partial<LivenessThreadData> | undefined)?.replicaLiveness) {
  run(parentPort, workerData as LivenessThreadData);
}
