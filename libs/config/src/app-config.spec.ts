import { resolve } from 'node:path';
import { chunkSizeBounds, ConfigValidationError, loadConfig, MAX_CHUNK_SIZE, MAX_FILE_SIZE_LIMIT, MIN_CHUNK_SIZE } from './app-config';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

/** Runs loadConfig, expecting it to fail, and returns the problems it listed. */
function problemsFor(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  throw new Error(`expected loadConfig to reject ${JSON.stringify(env)}`);
}

describe(loadConfig.name, () => {
  it('uses the documented defaults when nothing is set', () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/resumable_upload',
      redisUrl: 'redis://127.0.0.1:6379',
      redisPrefix: 'resumable-upload',
      storageDir: resolve('data'),
      storageDirectIo: true,
      port: 3000,
      publicBaseUrl: null,
      maxFileSize: 10 * GiB,
      defaultChunkSize: 8 * MiB,
      uploadTtlMs: 24 * 3600 * 1000,
      apiKeys: [],
      workerConcurrency: 2,
      chunkLeaseTtlMs: 30_000,
      replicaLivenessTtlMs: 1_500,
      maintenanceIntervalMs: 60_000,
      workerLockDurationMs: 4_000,
      bodyIdleTimeoutMs: 20_000,
      corsOrigins: [],
      trustProxy: false,
      initiateRateLimit: { points: 120, windowMs: 60_000 },
      metricsPort: 9464,
      completeWaitMs: 3_000,
      shutdownTimeoutMs: 30_000,
      logLevel: 'info',
      webhook: null,
      storageBackend: 'disk',
      s3: null,
    });
  });

  it('treats empty and blank variables as unset', () => {
    expect(loadConfig({ PORT: '', MAX_FILE_SIZE: '   ', DATABASE_URL: '', API_KEYS: ' ', PUBLIC_BASE_URL: '' })).toEqual(loadConfig({}));
  });

  it('reads nothing but the variables it is given', () => {
    expect(loadConfig({ UNRELATED: 'x', port: '1' }).port).toBe(3000);
  });

  it('fixes the chunk size bounds of the contract', () => {
    expect([MIN_CHUNK_SIZE, MAX_CHUNK_SIZE]).toEqual([256 * KiB, 64 * MiB]);
  });

  describe('DATABASE_URL and REDIS_URL', () => {
    it.each(['postgres://user:secret@db:5432/uploads', 'postgresql://db/uploads?sslmode=require'])('accepts DATABASE_URL=%p', (value) => {
      expect(loadConfig({ DATABASE_URL: value }).databaseUrl).toBe(value);
    });

    it.each(['redis://cache:6379', 'rediss://:secret@cache:6380/2'])('accepts REDIS_URL=%p', (value) => {
      expect(loadConfig({ REDIS_URL: value }).redisUrl).toBe(value);
    });

    it.each([
      ['DATABASE_URL', 'mysql://db/uploads'],
      ['DATABASE_URL', 'not a url'],
      ['DATABASE_URL', 'db:5432'],
      ['REDIS_URL', 'http://cache:6379'],
      ['REDIS_URL', 'cache:6379'],
    ])('rejects %s=%p, naming the expected protocol', (name, value) => {
      const problems = problemsFor({ [name]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${name}=`));
      expect(problems[0]).toMatch(name === 'REDIS_URL' ? /redis:\/\/ or rediss:\/\// : /postgres:\/\/ or postgresql:\/\//);
    });
  });

  describe('REDIS_PREFIX', () => {
    it('accepts letters, digits and _ . : -', () => {
      expect(loadConfig({ REDIS_PREFIX: 'ru:test_1.a-b' }).redisPrefix).toBe('ru:test_1.a-b');
    });

    it.each(['has space', 'star*', 'x'.repeat(65), '{braces}'])('rejects REDIS_PREFIX=%p', (value) => {
      expect(problemsFor({ REDIS_PREFIX: value })).toEqual([expect.stringMatching(/^REDIS_PREFIX=/)]);
    });
  });

  describe('STORAGE_DIR', () => {
    it('keeps an absolute path', () => {
      expect(loadConfig({ STORAGE_DIR: '/var/lib/uploads' }).storageDir).toBe('/var/lib/uploads');
    });

    it('resolves a relative path against the working directory', () => {
      expect(loadConfig({ STORAGE_DIR: 'store/here' }).storageDir).toBe(resolve('store/here'));
    });
  });

  describe('STORAGE_BACKEND and S3_*', () => {
    const s3 = { STORAGE_BACKEND: 's3', S3_BUCKET: 'uploads' };

    it('reads the s3 settings with their defaults', () => {
      expect(loadConfig(s3)).toMatchObject({
        storageBackend: 's3',
        s3: { bucket: 'uploads', endpoint: null, forcePathStyle: false, prefix: '', checksums: false },
      });
    });

    it('reads every s3 setting given', () => {
      const config = loadConfig({ ...s3, S3_ENDPOINT: 'http://minio:9000/', S3_FORCE_PATH_STYLE: 'false', S3_PREFIX: 'team-a/uploads/', S3_CHECKSUMS: 'on' });
      expect(config.s3).toEqual({ bucket: 'uploads', endpoint: 'http://minio:9000', forcePathStyle: false, prefix: 'team-a/uploads/', checksums: true });
    });

    it('uses path-style requests by default with an S3_ENDPOINT', () => {
      expect(loadConfig({ ...s3, S3_ENDPOINT: 'http://127.0.0.1:7480' }).s3?.forcePathStyle).toBe(true);
    });

    it('ignores the S3 settings with the disk backend', () => {
      expect(loadConfig({ S3_BUCKET: 'Not A Bucket', S3_CHECKSUMS: 'maybe' })).toMatchObject({ storageBackend: 'disk', s3: null });
    });

    it('rejects an unknown backend', () => {
      expect(problemsFor({ STORAGE_BACKEND: 'gcs' })).toEqual([expect.stringMatching(/^STORAGE_BACKEND=.*disk or s3/)]);
    });

    it('requires S3_BUCKET with the s3 backend', () => {
      expect(problemsFor({ STORAGE_BACKEND: 's3' })).toEqual([expect.stringMatching(/^S3_BUCKET is required with STORAGE_BACKEND=s3/)]);
    });

    it.each(['Uploads', 'up', 'under_score', '-leading', 'x'.repeat(64)])('rejects S3_BUCKET=%p, saying what a bucket name is', (bucket) => {
      expect(problemsFor({ ...s3, S3_BUCKET: bucket })).toEqual([expect.stringMatching(/^S3_BUCKET=.*3 to 63 lowercase letters/)]);
    });

    it.each([
      ['S3_ENDPOINT', 'minio:9000', /http:\/\/ or https:\/\//],
      ['S3_FORCE_PATH_STYLE', 'yes', /true or false/],
      ['S3_CHECKSUMS', 'sha256', /true or false/],
      ['S3_PREFIX', '/uploads', /not starting with \//],
      ['S3_PREFIX', 'a b', /letters, digits/],
    ])('rejects %s=%p', (name, value, expected) => {
      const problems = problemsFor({ ...s3, [name]: value });
      expect(problems).toEqual([expect.stringMatching(new RegExp(`^${name}=`))]);
      expect(problems[0]).toMatch(expected);
    });

    it('refuses a DEFAULT_CHUNK_SIZE under 5 MiB with the s3 backend, and a MAX_FILE_SIZE over 10,000 parts of 64 MiB', () => {
      expect(problemsFor({ ...s3, DEFAULT_CHUNK_SIZE: '4m', MAX_FILE_SIZE: '1t' })).toEqual([
        expect.stringMatching(/^DEFAULT_CHUNK_SIZE="4m" .*5 MiB/),
        expect.stringMatching(/^MAX_FILE_SIZE="1t" .*10,000 parts/),
      ]);
      expect(loadConfig({ ...s3, DEFAULT_CHUNK_SIZE: '5m', MAX_FILE_SIZE: '625g' }).defaultChunkSize).toBe(5 * MiB);
    });

    it('reports every problem at once', () => {
      expect(problemsFor({ STORAGE_BACKEND: 's3', S3_ENDPOINT: 'nope', S3_CHECKSUMS: 'x' })).toHaveLength(3);
    });
  });

  describe(chunkSizeBounds.name, () => {
    it('keeps the contract bounds on disk', () => {
      expect(chunkSizeBounds({ storageBackend: 'disk' })).toEqual({ minChunkSize: MIN_CHUNK_SIZE, maxChunkSize: MAX_CHUNK_SIZE, maxChunks: null });
    });

    it('raises the floor to S3\'s 5 MiB part and caps a file at 10,000 chunks in s3 mode', () => {
      expect(chunkSizeBounds({ storageBackend: 's3' })).toEqual({ minChunkSize: 5 * MiB, maxChunkSize: MAX_CHUNK_SIZE, maxChunks: 10_000 });
    });
  });

  describe('STORAGE_DIRECT_IO', () => {
    it.each([
      ['false', false],
      ['OFF', false],
      ['0', false],
      ['true', true],
      ['on', true],
      ['1', true],
    ])('reads %s as %s', (value, expected) => {
      expect(loadConfig({ STORAGE_DIRECT_IO: value }).storageDirectIo).toBe(expected);
    });

    it('rejects anything else and says what it takes', () => {
      expect(problemsFor({ STORAGE_DIRECT_IO: 'sometimes' })).toEqual([expect.stringMatching(/^STORAGE_DIRECT_IO=.*true or false/)]);
    });
  });

  describe('PORT and WORKER_CONCURRENCY', () => {
    it.each([
      ['PORT', '8080', 'port', 8080],
      ['PORT', '0', 'port', 0],
      ['PORT', '65535', 'port', 65535],
      ['PORT', ' 3001 ', 'port', 3001],
      ['WORKER_CONCURRENCY', '1', 'workerConcurrency', 1],
      ['WORKER_CONCURRENCY', '64', 'workerConcurrency', 64],
    ] as const)('reads %s=%p', (name, value, key, expected) => {
      expect(loadConfig({ [name]: value })[key]).toBe(expected);
    });

    it.each([
      ['PORT', '65536'],
      ['PORT', '-1'],
      ['PORT', '3000.5'],
      ['PORT', '+3000'],
      ['PORT', '3e3'],
      ['PORT', '0x50'],
      ['PORT', 'http'],
      ['PORT', '99999999999999999999'],
      ['WORKER_CONCURRENCY', '0'],
      ['WORKER_CONCURRENCY', '65'],
      ['WORKER_CONCURRENCY', 'two'],
    ])('rejects %s=%p with its allowed range', (name, value) => {
      expect(problemsFor({ [name]: value })).toEqual([expect.stringMatching(new RegExp(`^${name}=.*a whole number from \\d+ to \\d+`))]);
    });
  });

  describe('PUBLIC_BASE_URL', () => {
    it.each([
      ['https://uploads.example.com', 'https://uploads.example.com'],
      ['https://uploads.example.com/', 'https://uploads.example.com'],
      ['http://proxy:8080/api/', 'http://proxy:8080/api'],
      ['http://proxy:8080/api//', 'http://proxy:8080/api'],
    ])('reads PUBLIC_BASE_URL=%p without trailing slashes', (value, expected) => {
      expect(loadConfig({ PUBLIC_BASE_URL: value }).publicBaseUrl).toBe(expected);
    });

    it.each(['ftp://files.example.com', 'uploads.example.com', '/relative/path'])('rejects PUBLIC_BASE_URL=%p', (value) => {
      expect(problemsFor({ PUBLIC_BASE_URL: value })).toEqual([expect.stringMatching(/^PUBLIC_BASE_URL=.*http:\/\/ or https:\/\//)]);
    });
  });

  describe('MAX_FILE_SIZE and DEFAULT_CHUNK_SIZE (sizes with units)', () => {
    it.each([
      ['1048576', MiB],
      ['0', 0],
      ['512b', 512],
      ['512k', 512 * KiB],
      ['512KB', 512 * KiB],
      ['512KiB', 512 * KiB],
      ['8m', 8 * MiB],
      ['8 MiB', 8 * MiB],
      ['10g', 10 * GiB],
      ['10GB', 10 * GiB],
      ['10gib', 10 * GiB],
      ['2t', 2 * TiB],
      ['2TiB', 2 * TiB],
      [String(MAX_FILE_SIZE_LIMIT), MAX_FILE_SIZE_LIMIT],
    ])('reads MAX_FILE_SIZE=%p as %d bytes', (value, bytes) => {
      expect(loadConfig({ MAX_FILE_SIZE: value }).maxFileSize).toBe(bytes);
    });

    it.each([
      ['256k', 256 * KiB],
      ['64m', 64 * MiB],
      ['1000000', 1_000_000],
    ])('reads DEFAULT_CHUNK_SIZE=%p as %d bytes', (value, bytes) => {
      expect(loadConfig({ DEFAULT_CHUNK_SIZE: value }).defaultChunkSize).toBe(bytes);
    });

    it.each([
      ['MAX_FILE_SIZE', '10x'],
      ['MAX_FILE_SIZE', '1.5g'],
      ['MAX_FILE_SIZE', '-1'],
      ['MAX_FILE_SIZE', '1e9'],
      ['MAX_FILE_SIZE', 'g'],
      ['MAX_FILE_SIZE', 'ten gigabytes'],
      ['MAX_FILE_SIZE', '9007199254740992'],
      ['MAX_FILE_SIZE', String(MAX_FILE_SIZE_LIMIT + 1)],
      ['MAX_FILE_SIZE', '513t'],
      ['MAX_FILE_SIZE', '9000000t'],
      ['DEFAULT_CHUNK_SIZE', '255k'],
      ['DEFAULT_CHUNK_SIZE', String(256 * KiB - 1)],
      ['DEFAULT_CHUNK_SIZE', '65m'],
      ['DEFAULT_CHUNK_SIZE', String(64 * MiB + 1)],
      ['DEFAULT_CHUNK_SIZE', '1g'],
      ['DEFAULT_CHUNK_SIZE', '8q'],
    ])('rejects %s=%p, explaining the units', (name, value) => {
      expect(problemsFor({ [name]: value })).toEqual([expect.stringMatching(new RegExp(`^${name}=.*a size in bytes from \\d+ to \\d+.*binary`))]);
    });
  });

  describe('durations', () => {
    it.each([
      ['90', 90_000],
      ['1', 1000],
      ['1000ms', 1000],
      ['90s', 90_000],
      ['30m', 30 * 60_000],
      ['30 M', 30 * 60_000],
      ['24h', 24 * 3_600_000],
      ['7d', 7 * 86_400_000],
      ['7D', 7 * 86_400_000],
    ])('reads UPLOAD_TTL=%p as %d ms', (value, ms) => {
      expect(loadConfig({ UPLOAD_TTL: value }).uploadTtlMs).toBe(ms);
    });

    it.each([
      ['CHUNK_LEASE_TTL', '100ms', 'chunkLeaseTtlMs', 100],
      ['REPLICA_LIVENESS_TTL', '500ms', 'replicaLivenessTtlMs', 500],
      ['MAINTENANCE_INTERVAL', '5m', 'maintenanceIntervalMs', 300_000],
      ['WORKER_LOCK_DURATION', '500ms', 'workerLockDurationMs', 500],
      ['BODY_IDLE_TIMEOUT', '2s', 'bodyIdleTimeoutMs', 2000],
    ] as const)('reads %s=%p', (name, value, key, ms) => {
      expect(loadConfig({ [name]: value })[key]).toBe(ms);
    });

    it.each([
      ['UPLOAD_TTL', '0'],
      ['UPLOAD_TTL', '999ms'],
      ['UPLOAD_TTL', '1.5h'],
      ['UPLOAD_TTL', '2w'],
      ['UPLOAD_TTL', '-1h'],
      ['UPLOAD_TTL', 'forever'],
      ['UPLOAD_TTL', 'h'],
      ['CHUNK_LEASE_TTL', '99ms'],
      ['REPLICA_LIVENESS_TTL', '199ms'],
      ['MAINTENANCE_INTERVAL', '0s'],
      ['WORKER_LOCK_DURATION', '499ms'],
    ])('rejects %s=%p with its minimum', (name, value) => {
      expect(problemsFor({ [name]: value })).toEqual([expect.stringMatching(new RegExp(`^${name}=.*a duration of at least \\d+ ms`))]);
    });
  });

  describe('API_KEYS', () => {
    const keyA = 'a'.repeat(16);
    const keyB = 'key-b-0123456789abcdef';

    it('reads a comma-separated list, trimming spaces around the commas', () => {
      expect(loadConfig({ API_KEYS: ` ${keyA} , ${keyB}` }).apiKeys).toEqual([keyA, keyB]);
    });

    it.each([
      ['a key shorter than 16 characters', `${keyA},short`],
      ['a key with a space inside', `${keyA},key with spaces inside`],
      ['an empty entry', `${keyA},,${keyB}`],
      ['a trailing comma', `${keyA},`],
    ])('rejects %s without echoing the keys', (_why, value) => {
      const problems = problemsFor({ API_KEYS: value });
      expect(problems).toEqual([expect.stringMatching(/^API_KEYS is not valid: .*at least 16 characters/)]);
      expect(problems[0]).not.toContain(keyA);
      expect(problems[0]).not.toContain('short');
    });
  });

  describe('CORS_ORIGINS', () => {
    it('reads origins, dropping a trailing slash', () => {
      expect(loadConfig({ CORS_ORIGINS: 'https://app.example.com/, http://localhost:5173' }).corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    });

    it('reads * as any origin', () => {
      expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    });

    it.each(['app.example.com', 'https://app.example.com/upload', 'ftp://x.example', 'https://a.example,*'])('rejects %p', (value) => {
      expect(problemsFor({ CORS_ORIGINS: value })).toEqual([expect.stringMatching(/^CORS_ORIGINS=.*comma-separated origins/)]);
    });
  });

  describe('TRUST_PROXY', () => {
    it.each([
      ['true', true],
      ['FALSE', false],
      ['1', 1],
      ['loopback, 10.0.0.0/8', ['loopback', '10.0.0.0/8']],
      ['::1', ['::1']],
      ['fd00::/8, 192.168.0.1', ['fd00::/8', '192.168.0.1']],
    ])('reads %p', (value, expected) => {
      expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
    });

    it.each(['yes', 'proxy.example.com', '10.0.0.0/8;rm', '10.0.0.0/99', 'cafe', '::1/129', '10.0.0.0/8/8', '300.1.1.1'])('rejects %p', (value) => {
      expect(problemsFor({ TRUST_PROXY: value })).toEqual([expect.stringMatching(/^TRUST_PROXY=/)]);
    });
  });

  describe('INITIATE_RATE_LIMIT', () => {
    it.each([
      ['10/1s', { points: 10, windowMs: 1000 }],
      ['600 / 1h', { points: 600, windowMs: 3_600_000 }],
      ['5/30', { points: 5, windowMs: 30_000 }],
    ])('reads %p', (value, expected) => {
      expect(loadConfig({ INITIATE_RATE_LIMIT: value }).initiateRateLimit).toEqual(expected);
    });

    it.each(['off', 'OFF', '0'])('turns the limit off with %p', (value) => {
      expect(loadConfig({ INITIATE_RATE_LIMIT: value }).initiateRateLimit).toBeNull();
    });

    it.each(['10', '10/500ms', '0/1m', 'ten/1m', '10/1w'])('rejects %p', (value) => {
      expect(problemsFor({ INITIATE_RATE_LIMIT: value })).toEqual([expect.stringMatching(/^INITIATE_RATE_LIMIT=.*120\/1m/)]);
    });
  });

  describe('METRICS_PORT, COMPLETE_WAIT, SHUTDOWN_TIMEOUT and LOG_LEVEL', () => {
    it('reads them', () => {
      expect(loadConfig({ METRICS_PORT: '9100', COMPLETE_WAIT: '500ms', SHUTDOWN_TIMEOUT: '10s', LOG_LEVEL: 'debug' })).toMatchObject({
        metricsPort: 9100,
        completeWaitMs: 500,
        shutdownTimeoutMs: 10_000,
        logLevel: 'debug',
      });
      expect(loadConfig({ COMPLETE_WAIT: '0' }).completeWaitMs).toBe(0);
    });

    it('turns the worker metrics off with METRICS_PORT=off', () => {
      expect(loadConfig({ METRICS_PORT: 'off' }).metricsPort).toBeNull();
    });

    it.each([
      ['METRICS_PORT', '0'],
      ['METRICS_PORT', '70000'],
      ['SHUTDOWN_TIMEOUT', 'soon'],
      ['COMPLETE_WAIT', '-1s'],
      ['LOG_LEVEL', 'verbose'],
    ])('rejects %s=%p', (name, value) => {
      expect(problemsFor({ [name]: value })).toEqual([expect.stringMatching(new RegExp(`^${name}=`))]);
    });
  });

  it('reports every bad variable at once, each by name, in one error', () => {
    const env = { DATABASE_URL: 'mysql://x', PORT: 'http', MAX_FILE_SIZE: '10x', UPLOAD_TTL: 'forever', WORKER_CONCURRENCY: '0', API_KEYS: 'short' };
    let caught: unknown;
    try {
      loadConfig(env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigValidationError);
    const error = caught as ConfigValidationError;
    expect(error.problems).toHaveLength(6);
    for (const name of Object.keys(env)) {
      expect(error.problems.filter((problem) => problem.startsWith(name))).toHaveLength(1);
      expect(error.message).toContain(name);
    }
    expect(error.message).toMatch(/^Invalid configuration:\n {2}- /);
  });

  it('quotes the bad value so invisible characters show', () => {
    expect(problemsFor({ PORT: '80\t80' })).toEqual([expect.stringContaining('PORT="80\\t80"')]);
  });

  describe('WEBHOOK_URL, WEBHOOK_SECRET and WEBHOOK_RETRY_FOR', () => {
    const key = Buffer.alloc(32, 7);
    const secret = `whsec_${key.toString('base64')}`;

    it('turns webhooks on with a URL and a secret, retrying for 24 h by default', () => {
      expect(loadConfig({ WEBHOOK_URL: 'https://hooks.example.com/uploads/', WEBHOOK_SECRET: secret }).webhook).toEqual({
        url: 'https://hooks.example.com/uploads/',
        secret: key,
        retryForMs: 24 * 3600 * 1000,
      });
    });

    it('reads WEBHOOK_RETRY_FOR as a duration', () => {
      expect(loadConfig({ WEBHOOK_URL: 'http://127.0.0.1:9000/hook', WEBHOOK_SECRET: secret, WEBHOOK_RETRY_FOR: '90s' }).webhook?.retryForMs).toBe(90_000);
    });

    it('accepts the spec’s published example secret', () => {
      expect(loadConfig({ WEBHOOK_URL: 'http://receiver/hook', WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }).webhook?.secret).toHaveLength(24);
    });

    it('leaves webhooks off without a URL, even with a secret', () => {
      expect(loadConfig({ WEBHOOK_SECRET: secret }).webhook).toBeNull();
    });

    it('requires a secret with a URL', () => {
      expect(problemsFor({ WEBHOOK_URL: 'https://hooks.example.com/' })).toEqual([expect.stringMatching(/^WEBHOOK_SECRET is required when WEBHOOK_URL is set: whsec_/)]);
    });

    it.each([
      ['no prefix', key.toString('base64')],
      ['not base64', 'whsec_not base64 at all!!!!!!!!!!!!!!!!!!!!!'],
      ['a key under 24 bytes', `whsec_${Buffer.alloc(16).toString('base64')}`],
      ['a key over 64 bytes', `whsec_${Buffer.alloc(65).toString('base64')}`],
      ['nothing after the prefix', 'whsec_'],
    ])('rejects a secret with %s, without echoing it', (_, value) => {
      const problems = problemsFor({ WEBHOOK_URL: 'https://hooks.example.com/', WEBHOOK_SECRET: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^WEBHOOK_SECRET is not valid: expected whsec_ followed by the base64 of 24 to 64 random bytes/);
      if (value.length > 'whsec_'.length) expect(problems[0]).not.toContain(value);
    });

    it.each(['ftp://hooks.example.com/', 'hooks.example.com/hook'])('rejects WEBHOOK_URL=%p', (value) => {
      expect(problemsFor({ WEBHOOK_URL: value, WEBHOOK_SECRET: secret })).toEqual([expect.stringMatching(/^WEBHOOK_URL="[^"]*" is not valid: expected a URL starting with http:\/\/ or https:\/\//)]);
    });

    it('rejects a WEBHOOK_RETRY_FOR under a second', () => {
      expect(problemsFor({ WEBHOOK_RETRY_FOR: '500ms' })).toEqual([expect.stringMatching(/^WEBHOOK_RETRY_FOR=/)]);
    });
  });
});
