import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Chunk sizes a session may use; the contract fixes these bounds. */
export const MIN_CHUNK_SIZE = 256 * KiB;
export const MAX_CHUNK_SIZE = 64 * MiB;
/** Chunk indexes are 32-bit in the database: at the smallest chunk size, this is the largest file (512 TiB − 256 KiB). */
export const MAX_FILE_SIZE_LIMIT = (2 ** 31 - 1) * MIN_CHUNK_SIZE;
/** S3 refuses multipart parts under 5 MiB (but the last) and more than 10,000 parts; a chunk is a part. */
export const S3_MIN_PART_SIZE = 5 * MiB;
export const S3_MAX_PARTS = 10_000;

export type StorageBackend = 'disk' | 's3';

/** Where the s3 backend keeps uploads; credentials and region come from the standard AWS chain. */
export interface S3Settings {
  bucket: string;
  /** Null for AWS itself; the URL of any other S3-compatible store. */
  endpoint: string | null;
  /** `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`. */
  forcePathStyle: boolean;
  /** Prepended to every key this service writes (`uploads/`); may be empty. */
  prefix: string;
  /** Send each part's SHA-256 for the store to check (`x-amz-checksum-sha256`); only for stores with flexible checksums. */
  checksums: boolean;
}

/** The chunk sizes initiate may accept, and how many chunks a file may have (null: no limit). */
export interface ChunkSizeBounds {
  minChunkSize: number;
  maxChunkSize: number;
  maxChunks: number | null;
}

/**
 * Every setting the service reads, parsed and checked once at start-up.
 * Nothing else in the code base reads `process.env`.
 */
export interface AppConfig {
  databaseUrl: string;
  redisUrl: string;
  /** Prefix of every Redis key this deployment owns (leases and queues). */
  redisPrefix: string;
  storageDir: string;
  /** Part files are written and read around the page cache (O_DIRECT) where the filesystem allows it. */
  storageDirectIo: boolean;
  port: number;
  publicBaseUrl: string | null;
  maxFileSize: number;
  defaultChunkSize: number;
  /** How long a session may sit without a new chunk before it expires. */
  uploadTtlMs: number;
  apiKeys: string[];
  workerConcurrency: number;
  /** Lifetime of a chunk lease; it is renewed while the body streams. */
  chunkLeaseTtlMs: number;
  /**
   * How long an API replica counts as alive after its last sign of life in Redis: a replica
   * silent for longer is taken for dead and its chunk leases are free for others.
   */
  replicaLivenessTtlMs: number;
  /** How often a worker expires idle sessions and re-enqueues assemblies that lost their job. */
  maintenanceIntervalMs: number;
  /** How long a worker may go silent before its job counts as stalled and another worker takes it over. */
  workerLockDurationMs: number;
  /**
   * How long a chunk body may go without a byte before it is answered 408 and its lease freed;
   * shorter than the lease by default, so the retry need not wait for the lease to lapse.
   */
  bodyIdleTimeoutMs: number;
  /** Browser origins allowed to call the API (CORS); empty means none. */
  corsOrigins: string[];
  /** Which proxies' X-Forwarded-* headers to believe: Express's `trust proxy` setting, or false. */
  trustProxy: TrustProxy;
  /** Initiates allowed per API key (or client address without keys) per window; null turns the limit off. */
  initiateRateLimit: RateLimit | null;
  /** Port of the worker's own /metrics endpoint; null turns it off. The API serves /metrics on PORT. */
  metricsPort: number | null;
  /** How long complete waits for an assembly under way to finish before it answers 202; 0 answers at once. */
  completeWaitMs: number;
  /** How long a stopping process lets in-flight requests and jobs finish before it exits anyway. */
  shutdownTimeoutMs: number;
  /** The least severe log level written. */
  logLevel: LogLevel;
  /** Where completion events are posted (WEBHOOK_URL); null turns events off, and none are recorded. */
  webhook: WebhookConfig | null;
  /** `disk`: STORAGE_DIR, shared by every replica; `s3`: an S3-compatible bucket. */
  storageBackend: StorageBackend;
  /** Set when `storageBackend` is `s3`, null otherwise. */
  s3: S3Settings | null;
}

/** The chunk size rules of initiate: an S3 part has a floor and a count limit that a disk does not. */
export function chunkSizeBounds(config: Pick<AppConfig, 'storageBackend'>): ChunkSizeBounds {
  return config.storageBackend === 's3'
    ? { minChunkSize: S3_MIN_PART_SIZE, maxChunkSize: MAX_CHUNK_SIZE, maxChunks: S3_MAX_PARTS }
    : { minChunkSize: MIN_CHUNK_SIZE, maxChunkSize: MAX_CHUNK_SIZE, maxChunks: null };
}

export interface WebhookConfig {
  /** Operator configuration only: never taken from a client. */
  url: string;
  /** The signing key: the bytes of WEBHOOK_SECRET after `whsec_`. */
  secret: Buffer;
  /** How long an event is retried before it is marked dead. */
  retryForMs: number;
}

/** Standard Webhooks keys are 24 to 64 bytes, written as `whsec_` and their base64. */
const WEBHOOK_SECRET_BYTES = { min: 24, max: 64 } as const;

/** The key's bytes from a `whsec_<base64>` secret, or null when it is not one. */
export function parseWebhookSecret(secret: string): Buffer | null {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!match || match[1].replace(/=+$/, '').length % 4 === 1) return null;
  const key = Buffer.from(match[1], 'base64');
  return key.length >= WEBHOOK_SECRET_BYTES.min && key.length <= WEBHOOK_SECRET_BYTES.max ? key : null;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `true` trusts every proxy, a number that many hops, a list those addresses or subnets. */
export type TrustProxy = false | true | number | string[];

export interface RateLimit {
  points: number;
  windowMs: number;
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates the whole configuration; reports every bad variable at once. */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const config: AppConfig = {
    databaseUrl: read.url('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/resumable_upload', ['postgres:', 'postgresql:']),
    redisUrl: read.url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    redisPrefix: read.pattern('REDIS_PREFIX', 'resumable-upload', /^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits, _ . : - (at most 64)'),
    storageDir: read.path('STORAGE_DIR', './data'),
    storageDirectIo: read.boolean('STORAGE_DIRECT_IO', true),
    port: read.integer('PORT', 3000, 0, 65535),
    publicBaseUrl: read.optionalUrl('PUBLIC_BASE_URL', ['http:', 'https:']),
    maxFileSize: read.size('MAX_FILE_SIZE', 10 * GiB, 0, MAX_FILE_SIZE_LIMIT),
    defaultChunkSize: read.size('DEFAULT_CHUNK_SIZE', 8 * MiB, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
    uploadTtlMs: read.duration('UPLOAD_TTL', 24 * 3600 * 1000, 1000),
    apiKeys: read.list('API_KEYS'),
    workerConcurrency: read.integer('WORKER_CONCURRENCY', 2, 1, 64),
    chunkLeaseTtlMs: read.duration('CHUNK_LEASE_TTL', 30_000, 100),
    replicaLivenessTtlMs: read.duration('REPLICA_LIVENESS_TTL', 1_500, 200),
    maintenanceIntervalMs: read.duration('MAINTENANCE_INTERVAL', 60_000, 100),
    workerLockDurationMs: read.duration('WORKER_LOCK_DURATION', 4_000, 500),
    bodyIdleTimeoutMs: read.duration('BODY_IDLE_TIMEOUT', 20_000, 100),
    corsOrigins: read.origins('CORS_ORIGINS'),
    trustProxy: read.trustProxy('TRUST_PROXY'),
    initiateRateLimit: read.rateLimit('INITIATE_RATE_LIMIT', { points: 120, windowMs: 60_000 }),
    metricsPort: read.optionalPort('METRICS_PORT', 9464),
    completeWaitMs: read.duration('COMPLETE_WAIT', 3_000, 0),
    shutdownTimeoutMs: read.duration('SHUTDOWN_TIMEOUT', 30_000, 0),
    logLevel: read.pattern('LOG_LEVEL', 'info', new RegExp(`^(${LOG_LEVELS.join('|')})$`), LOG_LEVELS.join(', ')) as LogLevel,
    webhook: read.webhook(),
    storageBackend: read.pattern('STORAGE_BACKEND', 'disk', /^(disk|s3)$/, 'disk or s3') as StorageBackend,
    s3: null,
  };

  if (config.storageBackend === 's3') {
    config.s3 = readS3Settings(read);
    if (config.defaultChunkSize < S3_MIN_PART_SIZE) {
      problems.push(`DEFAULT_CHUNK_SIZE=${JSON.stringify(env.DEFAULT_CHUNK_SIZE?.trim())} is not valid with STORAGE_BACKEND=s3: S3 refuses parts under 5 MiB, so chunks must be at least 5m`);
    }
    if (config.maxFileSize > S3_MAX_PARTS * MAX_CHUNK_SIZE) {
      problems.push(`MAX_FILE_SIZE=${JSON.stringify(env.MAX_FILE_SIZE?.trim())} is not valid with STORAGE_BACKEND=s3: at most ${S3_MAX_PARTS * MAX_CHUNK_SIZE} bytes (10,000 parts of 64 MiB)`);
    }
  }

  if (problems.length > 0) throw new ConfigValidationError(problems);
  return config;
}

/** Bucket names as S3 allows them for new buckets: 3–63 lowercase letters, digits, dots and hyphens. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Key prefixes of safe characters only (AWS's list), without a leading slash. */
const KEY_PREFIX = /^(?!\/)[A-Za-z0-9!_.*'()/-]{0,512}$/;

function readS3Settings(read: EnvReader): S3Settings {
  const endpoint = read.optionalUrl('S3_ENDPOINT', ['http:', 'https:']);
  const bucket = read.required('S3_BUCKET', 'with STORAGE_BACKEND=s3: the name of an existing bucket');
  return {
    bucket: bucket === null ? '' : read.check('S3_BUCKET', bucket, BUCKET_NAME, 'a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens', ''),
    endpoint,
    // Stores other than AWS mostly serve buckets by path only.
    forcePathStyle: read.boolean('S3_FORCE_PATH_STYLE', endpoint !== null),
    prefix: read.pattern('S3_PREFIX', '', KEY_PREFIX, "letters, digits and ! _ . * ' ( ) / - (at most 512, not starting with /), such as uploads/"),
    checksums: read.boolean('S3_CHECKSUMS', false),
  };
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: KiB, kb: KiB, kib: KiB, m: MiB, mb: MiB, mib: MiB, g: GiB, gb: GiB, gib: GiB, t: 1024 * GiB, tb: 1024 * GiB, tib: 1024 * GiB };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An address, a subnet in CIDR form, or one of Express's names for address ranges. */
function isProxyAddress(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  private fail<T>(name: string, value: string, expected: string, fallback: T): T {
    this.problems.push(`${name}=${JSON.stringify(value)} is not valid: expected ${expected}`);
    return fallback;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const value = this.raw(name) ?? fallback;
    return this.checkUrl(name, value, protocols) ? value : fallback;
  }

  optionalUrl(name: string, protocols: string[]): string | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    return this.checkUrl(name, value, protocols) ? value.replace(/\/+$/, '') : null;
  }

  private checkUrl(name: string, value: string, protocols: string[]): boolean {
    try {
      if (protocols.includes(new URL(value).protocol)) return true;
    } catch {
      // reported below
    }
    this.fail(name, value, `a URL starting with ${protocols.map((protocol) => `${protocol}//`).join(' or ')}`, null);
    return false;
  }

  /** The value, or null after reporting that it is missing. */
  required(name: string, when: string): string | null {
    const value = this.raw(name);
    if (value === undefined) this.problems.push(`${name} is required ${when}`);
    return value ?? null;
  }

  check<T>(name: string, value: string, pattern: RegExp, expected: string, fallback: T): string | T {
    return pattern.test(value) ? value : this.fail(name, value, expected, fallback);
  }

  pattern(name: string, fallback: string, pattern: RegExp, expected: string): string {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    return pattern.test(value) ? value : this.fail(name, value, expected, fallback);
  }

  path(name: string, fallback: string): string {
    const value = this.raw(name) ?? fallback;
    return isAbsolute(value) ? value : resolve(value);
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = /^\d+$/.test(value) ? Number(value) : NaN;
    if (Number.isSafeInteger(parsed) && parsed >= min && parsed <= max) return parsed;
    return this.fail(name, value, `a whole number from ${min} to ${max}`, fallback);
  }

  /** `true`/`on`/`1` or `false`/`off`/`0`. */
  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', 'on', '1'].includes(value)) return true;
    if (['false', 'off', '0'].includes(value)) return false;
    return this.fail(name, value, 'true or false (on/off and 1/0 work too)', fallback);
  }

  /** A port, or `off` for none. */
  optionalPort(name: string, fallback: number): number | null {
    const value = this.raw(name);
    if (value?.toLowerCase() === 'off') return null;
    return this.integer(name, fallback, 1, 65535);
  }

  /** Byte sizes: a plain number of bytes or a number with a unit (`512k`, `8MiB`, `10GB`, binary units). */
  size(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = /^(\d+)\s*([a-z]*)$/i.exec(value);
    const unit = match ? SIZE_UNITS[match[2].toLowerCase()] : undefined;
    const parsed = match && unit ? Number(match[1]) * unit : NaN;
    if (Number.isSafeInteger(parsed) && parsed >= min && parsed <= max) return parsed;
    return this.fail(name, value, `a size in bytes from ${min} to ${max} (units k, m, g, t are binary: 8m = 8 MiB)`, fallback);
  }

  /** Durations: seconds, or a number with ms/s/m/h/d (`90s`, `24h`). */
  duration(name: string, fallback: number, minMs: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = /^(\d+)\s*(ms|s|m|h|d|)$/i.exec(value);
    const parsed = match ? Number(match[1]) * DURATION_UNITS[match[2].toLowerCase()] : NaN;
    if (Number.isSafeInteger(parsed) && parsed >= minMs) return parsed;
    return this.fail(name, value, `a duration of at least ${minMs} ms, in seconds or with a unit (500ms, 90s, 30m, 24h, 7d)`, fallback);
  }

  /** Comma-separated origins (`https://app.example.com`), or `*` for any. */
  origins(name: string): string[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    if (value === '*') return ['*'];
    const origins = value.split(',').map((item) => item.trim().replace(/\/+$/, ''));
    const bad = origins.find((origin) => !isOrigin(origin));
    return bad === undefined ? origins : this.fail(name, value, 'comma-separated origins such as https://app.example.com (scheme, host and optional port, no path), or *', []);
  }

  /** `true`/`false`, a hop count, or comma-separated addresses, subnets or Express's names (loopback, linklocal, uniquelocal). */
  trustProxy(name: string): TrustProxy {
    const value = this.raw(name);
    if (value === undefined || value.toLowerCase() === 'false') return false;
    if (value.toLowerCase() === 'true') return true;
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value.split(',').map((item) => item.trim());
    if (entries.every(isProxyAddress)) return entries;
    return this.fail(name, value, 'true, false, a number of proxy hops, or comma-separated addresses/subnets (10.0.0.0/8, loopback)', false);
  }

  /** `<count>/<window>` such as `120/1m`; `off` or `0` turns the limit off. */
  rateLimit(name: string, fallback: RateLimit): RateLimit | null {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (value.toLowerCase() === 'off' || value === '0') return null;
    const match = /^(\d+)\s*\/\s*(\d+)\s*(ms|s|m|h|d|)$/i.exec(value);
    const points = match ? Number(match[1]) : NaN;
    const windowMs = match ? Number(match[2]) * DURATION_UNITS[match[3].toLowerCase()] : NaN;
    if (Number.isSafeInteger(points) && points > 0 && Number.isSafeInteger(windowMs) && windowMs >= 1000) return { points, windowMs };
    return this.fail(name, value, 'a count per window such as 120/1m (window at least 1s), or off', fallback);
  }

  /** WEBHOOK_URL, with the WEBHOOK_SECRET it needs and WEBHOOK_RETRY_FOR; null without a URL. */
  webhook(): WebhookConfig | null {
    const retryForMs = this.duration('WEBHOOK_RETRY_FOR', 24 * 3_600_000, 1000);
    const rawUrl = this.raw('WEBHOOK_URL');
    // Taken as written: a trailing slash may matter to the receiver.
    const url = rawUrl !== undefined && this.checkUrl('WEBHOOK_URL', rawUrl, ['http:', 'https:']) ? rawUrl : null;
    const secret = this.raw('WEBHOOK_SECRET');
    const key = secret === undefined ? null : parseWebhookSecret(secret);
    // Never echo key material into logs.
    const expected = `whsec_ followed by the base64 of ${WEBHOOK_SECRET_BYTES.min} to ${WEBHOOK_SECRET_BYTES.max} random bytes, e.g. whsec_$(openssl rand -base64 32)`;
    if (secret !== undefined && key === null) this.problems.push(`WEBHOOK_SECRET is not valid: expected ${expected}`);
    if (rawUrl === undefined) return null;
    if (secret === undefined) this.problems.push(`WEBHOOK_SECRET is required when WEBHOOK_URL is set: ${expected}`);
    return url === null || key === null ? null : { url, secret: key, retryForMs };
  }

  list(name: string): string[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    const items = value.split(',').map((item) => item.trim());
    if (items.some((item) => item.length < 16 || /\s/.test(item))) {
      // Never echo key material into logs.
      this.problems.push(`${name} is not valid: expected comma-separated keys of at least 16 characters each, without spaces`);
      return [];
    }
    return items;
  }
}
