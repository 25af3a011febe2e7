import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { TestProcess, eventually, freePort } from './processes';
import { TestS3Server } from './s3-server';
import { DiskTestStore, StorageMode, TestStore, createTestStore } from './test-store';

const ROOT = join(__dirname, '..', '..');
// The apps run with the flags `npm start` gives them, from the start scripts' own (plain JS) list.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { appNodeFlags: APP_NODE_FLAGS } = require(join(ROOT, 'scripts/app-entries.js')) as { appNodeFlags: string[] };

export interface StackOptions {
  /** Extra environment for both apps (e.g. API_KEYS, UPLOAD_TTL). */
  env?: Record<string, string>;
  /** Overrides of the Postgres / Redis the apps use (private instances in fault tests). */
  databaseUrl?: string;
  redisUrl?: string;
  /** Disk (the default) or s3: a bucket of its own, and a private STORAGE_DIR for every process. */
  storage?: StorageMode;
  /** On disk: this directory instead of a new temporary one (kept at the end). */
  storageDir?: string;
  /** In s3 mode: this server instead of the run's shared one (a test that stops radosgw). */
  s3Server?: TestS3Server;
  workers?: number;
}

export interface ApiReplica {
  process: TestProcess;
  baseUrl: string;
  url(path: string): string;
}

async function waitUntilLive(api: TestProcess, baseUrl: string): Promise<void> {
  await eventually(
    async () => {
      if (!api.running) throw new Error(`the API exited:\n${api.log}`);
      const response = await fetch(`${baseUrl}/health/live`);
      return response.ok ? true : undefined;
    },
    'the API to answer',
    30_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${api.log}`);
  });
}

/**
 * One API process and its workers, started from the built apps exactly as `npm run start:api`
 * and `start:worker` would, with their own database, Redis key prefix and storage (a directory
 * they share, or a bucket and a private directory each).
 */
export class Stack {
  api!: TestProcess;
  workers: TestProcess[] = [];
  replicas: TestProcess[] = [];
  baseUrl = '';
  /** Direct connections for checking what the apps really recorded. */
  db!: Client;
  redis!: Redis;

  private constructor(
    /** What every process gets but its STORAGE_DIR (see `processEnv`). */
    readonly env: NodeJS.ProcessEnv,
    /** Where the upload bytes are, to check or break them behind the service's back. */
    readonly store: TestStore,
  ) {}

  get storageMode(): StorageMode {
    return this.store.mode;
  }

  /** The directory every process shares, on disk; s3 mode has none to share, by design. */
  get storageDir(): string {
    if (!(this.store instanceof DiskTestStore)) throw new Error('in s3 mode each process has a private STORAGE_DIR: check the bucket through stack.store');
    return this.store.dir;
  }

  /** The one place that decides a process's environment: the stack's, and a STORAGE_DIR from the store. */
  async processEnv(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
    return { ...this.env, STORAGE_DIR: await this.store.storageDirForProcess(), ...extra };
  }

  static async start(options: StackOptions = {}): Promise<Stack> {
    const runId = process.env.E2E_RUN_ID;
    if (!runId) throw new Error('E2E_RUN_ID is not set: run the e2e tests through jest (globalSetup)');
    // Random, not a counter: Jest runs many test files in one process, each with fresh module
    // state, so a counter would hand two files the same database and Redis prefix.
    const n = randomBytes(6).toString('hex');
    const store = await createTestStore(options.storage ?? 'disk', options);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: options.databaseUrl ?? `${process.env.E2E_POSTGRES_URL}/ru_e2e_${runId}_${n}`,
      REDIS_URL: options.redisUrl ?? process.env.E2E_REDIS_URL,
      REDIS_PREFIX: `ru-e2e-${runId}-${n}`,
      ...store.env,
      PORT: String(port),
      // Many workers share this machine: a test that reads worker metrics gives a free port.
      METRICS_PORT: 'off',
      NO_COLOR: '1',
      ...options.env,
    };
    const stack = new Stack(env, store);
    stack.baseUrl = `http://127.0.0.1:${port}`;
    await stack.startApi();
    for (let i = 0; i < (options.workers ?? 1); i++) await stack.startWorker();
    await stack.reconnectDb();
    stack.redis = new Redis(env.REDIS_URL as string, { maxRetriesPerRequest: 1 });
    stack.redis.on('error', () => undefined);
    return stack;
  }

  /** (Re)opens the inspection connection, e.g. after the test restarted Postgres. */
  async reconnectDb(): Promise<void> {
    await this.db?.end().catch(() => undefined);
    this.db = new Client({ connectionString: this.env.DATABASE_URL });
    // A test that stops Postgres breaks this connection on purpose.
    this.db.on('error', () => undefined);
    await this.db.connect();
  }

  async startApi(): Promise<TestProcess> {
    this.api = new TestProcess('api', process.execPath, [...APP_NODE_FLAGS, join(ROOT, 'dist/apps/api/src/main.js')], await this.processEnv());
    await waitUntilLive(this.api, this.baseUrl);
    return this.api;
  }

  async startWorker(): Promise<TestProcess> {
    const worker = new TestProcess(`worker-${this.workers.length + 1}`, process.execPath, [...APP_NODE_FLAGS, join(ROOT, 'dist/apps/worker/src/main.js')], await this.processEnv());
    this.workers.push(worker);
    await worker.waitForOutput(/Worker ready/);
    return worker;
  }

  /**
   * Another API process on the same database, Redis and storage, on its own port: a replica
   * a test can kill while the first one keeps serving.
   */
  async startReplica(): Promise<ApiReplica> {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const replica = new TestProcess(`api-${port}`, process.execPath, [...APP_NODE_FLAGS, join(ROOT, 'dist/apps/api/src/main.js')], await this.processEnv({ PORT: String(port) }));
    this.replicas.push(replica);
    await waitUntilLive(replica, baseUrl);
    return { process: replica, baseUrl, url: (path) => `${baseUrl}${path}` };
  }

  get prefix(): string {
    return this.env.REDIS_PREFIX as string;
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /** Stops every process, closes the inspection connections and removes the storage (directories, bucket). */
  async stop(): Promise<void> {
    await Promise.all([this.api?.stop(), ...this.replicas.map((replica) => replica.stop()), ...this.workers.map((worker) => worker.stop())]);
    await this.db?.end().catch(() => undefined);
    this.redis?.disconnect();
    await this.store.destroy();
  }
}
