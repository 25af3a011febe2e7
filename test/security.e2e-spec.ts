import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateRedis } from './support/private-services';
import { TestProcess, eventually, freePort } from './support/processes';
import { Stack } from './support/stack';
import { UploadClient, randomFile, recordedChunks, useStack } from './support/upload-client';
import { expectError } from './support/expect-error';

const CHUNK = 256 * 1024;
const API_MAIN = join(__dirname, '..', 'dist', 'apps', 'api', 'src', 'main.js');
const APP_ORIGIN = 'https://app.example.com';
const ADMIN_ORIGIN = 'https://admin.example.com';
const CONTRACT_REQUEST_HEADERS = ['Content-Type', 'Content-Range', 'Content-Digest', 'Upload-Id', 'Idempotency-Key', 'Authorization', 'X-Request-Id', 'Range', 'If-Range', 'If-None-Match'];
const EXPOSED_RESPONSE_HEADERS = ['Location', 'Retry-After', 'ETag', 'Content-Range', 'Content-Disposition', 'Content-Length', 'Accept-Ranges'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'];

/** A comma-separated response header as lower-case items, for order- and case-insensitive checks. */
function headerItems(headers: Headers, name: string): string[] {
  return (headers.get(name) ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '');
}

function corsHeaderNames(headers: Headers): string[] {
  return [...headers.keys()].filter((name) => name.startsWith('access-control-'));
}

/** What a browser sends before a cross-origin request that is not "simple". */
function preflight(stack: Stack, path: string, origin: string, method: string, requestHeaders: string[]): Promise<Response> {
  return fetch(stack.url(path), {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': requestHeaders.join(', ').toLowerCase() },
  });
}

function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

function digestOf(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

const smallUpload = (name = 'a.bin') => ({ fileName: name, fileSize: 2 * CHUNK, chunkSize: CHUNK });

describe('CORS', () => {
  describe('by default', () => {
    const context = useStack({ workers: 0 });

    it('sends no CORS headers, on preflights or on requests from any origin', async () => {
      const { stack, client } = context;
      const answer = await preflight(stack, '/resumable-upload/initiate', APP_ORIGIN, 'POST', ['Content-Type']);
      expect(answer.status).not.toBe(204);
      expect(corsHeaderNames(answer.headers)).toEqual([]);

      const initiated = await client.initiate(smallUpload(), { origin: APP_ORIGIN });
      expect(initiated.status).toBe(201);
      expect(corsHeaderNames(initiated.headers)).toEqual([]);
    });
  });

  describe('with CORS_ORIGINS and API_KEYS set', () => {
    const key = 'cors-key-0123456789abcdef';
    const context = useStack({ workers: 0, env: { CORS_ORIGINS: `${APP_ORIGIN},${ADMIN_ORIGIN}`, API_KEYS: key } });

    it.each([
      ['POST', '/resumable-upload/initiate', ['Content-Type', 'Idempotency-Key', 'Authorization', 'X-Request-Id']],
      ['PUT', '/resumable-upload/chunk', ['Content-Type', 'Content-Range', 'Content-Digest', 'Upload-Id', 'Authorization']],
      ['DELETE', '/resumable-upload/uploads/AAAAAAAAAAAAAAAAAAAAAA', ['Authorization']],
      ['GET', '/resumable-upload/uploads/AAAAAAAAAAAAAAAAAAAAAA/file', ['Authorization', 'Range', 'If-None-Match']],
    ])('answers the preflight of %s %s from an allowed origin without an API key', async (method, path, requestHeaders) => {
      const answer = await preflight(context.stack, path, APP_ORIGIN, method, requestHeaders);
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(headerItems(answer.headers, 'vary')).toContain('origin');
      expect(headerItems(answer.headers, 'access-control-allow-methods')).toEqual(expect.arrayContaining(METHODS.map((name) => name.toLowerCase())));
      expect(headerItems(answer.headers, 'access-control-allow-headers')).toEqual(expect.arrayContaining(CONTRACT_REQUEST_HEADERS.map((name) => name.toLowerCase())));
      expect(Number(answer.headers.get('access-control-max-age'))).toBeGreaterThan(0);
      // Keys travel in Authorization, never in cookies.
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    });

    it('lets an allowed origin read the answer and the headers the contract sends', async () => {
      const client = new UploadClient(context.stack, { ...bearer(key), origin: ADMIN_ORIGIN });
      const initiated = await client.initiate(smallUpload());
      expect(initiated.status).toBe(201);
      expect(initiated.headers.get('access-control-allow-origin')).toBe(ADMIN_ORIGIN);
      expect(headerItems(initiated.headers, 'access-control-expose-headers')).toEqual(expect.arrayContaining(EXPOSED_RESPONSE_HEADERS.map((name) => name.toLowerCase())));
      expect(initiated.headers.get('location')).toBe(initiated.body.statusUrl);
    });

    it('lets an allowed origin read an error too, such as a missing key', async () => {
      const rejected = await new UploadClient(context.stack, { origin: APP_ORIGIN }).initiate(smallUpload());
      expectError(rejected, 401, 'UNAUTHORIZED');
      expect(rejected.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    });

    it.each([
      ['an unlisted origin', 'https://evil.example.net'],
      ['a listed host with another scheme', 'http://app.example.com'],
      ['a listed host with another port', 'https://app.example.com:8443'],
      ['a listed host as a prefix of another', 'https://app.example.com.evil.net'],
      ['a subdomain of a listed host', 'https://x.app.example.com'],
      ['"null"', 'null'],
    ])('gives %s no Access-Control-Allow-Origin', async (_, origin) => {
      const answer = await preflight(context.stack, '/resumable-upload/initiate', origin, 'POST', ['Content-Type', 'Authorization']);
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();

      const initiated = await new UploadClient(context.stack, { ...bearer(key), origin }).initiate(smallUpload());
      // Without this header the browser withholds the answer, whatever else is listed.
      expect(initiated.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('with CORS_ORIGINS=*', () => {
    const context = useStack({ workers: 0, env: { CORS_ORIGINS: '*' } });

    it('allows any origin, without credentials', async () => {
      const answer = await preflight(context.stack, '/resumable-upload/chunk', 'https://anyone.example', 'PUT', ['Content-Range', 'Content-Digest']);
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
      const initiated = await context.client.initiate(smallUpload(), { origin: 'https://anyone.example' });
      expect(initiated.headers.get('access-control-allow-origin')).toBe('*');
    });
  });
});

describe('X-Forwarded-* headers', () => {
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'uploads.example.com' };

  describe('without TRUST_PROXY', () => {
    const context = useStack({ workers: 0 });

    it('are ignored: URLs name the host the request reached', async () => {
      const initiated = await context.client.initiate(smallUpload(), forwarded);
      expect(initiated.status).toBe(201);
      expect(initiated.body.uploadUrl).toBe(`${context.stack.baseUrl}/resumable-upload/chunk?uploadId=${initiated.body.uploadId}`);
      expect(initiated.headers.get('location')).toBe(`${context.stack.baseUrl}/resumable-upload/uploads/${initiated.body.uploadId}`);
    });
  });

  describe('with TRUST_PROXY naming other proxies', () => {
    const context = useStack({ workers: 0, env: { TRUST_PROXY: '10.0.0.0/8,192.168.0.0/16' } });

    it('are ignored from a sender that is not one of them', async () => {
      const initiated = await context.client.initiate(smallUpload(), forwarded);
      expect(initiated.body.statusUrl).toBe(`${context.stack.baseUrl}/resumable-upload/uploads/${initiated.body.uploadId}`);
    });
  });

  describe('with TRUST_PROXY=true', () => {
    const context = useStack({ workers: 0, env: { TRUST_PROXY: 'true', INITIATE_RATE_LIMIT: '2/1m' } });
    let address = 0;
    // Every request through a proxy carries the client's address; each of these gets its own, so the limit stays out of the way.
    const viaProxy = (headers: Record<string, string>) => ({ 'x-forwarded-for': `198.51.100.${++address}`, ...headers });

    it('build URLs from the forwarded scheme and host', async () => {
      const initiated = await context.client.initiate(smallUpload(), viaProxy(forwarded));
      expect(initiated.status).toBe(201);
      const { uploadId } = initiated.body;
      expect(initiated.body.uploadUrl).toBe(`https://uploads.example.com/resumable-upload/chunk?uploadId=${uploadId}`);
      expect(initiated.body.statusUrl).toBe(`https://uploads.example.com/resumable-upload/uploads/${uploadId}`);
      expect(initiated.headers.get('location')).toBe(initiated.body.statusUrl);
    });

    it('take the first of several forwarded values, and only http or https as the scheme', async () => {
      const chained = await context.client.initiate(smallUpload(), viaProxy({ 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'edge.example.com, inner.local' }));
      expect(chained.body.statusUrl).toBe(`https://edge.example.com/resumable-upload/uploads/${chained.body.uploadId}`);
      const odd = await context.client.initiate(smallUpload(), viaProxy({ 'x-forwarded-proto': 'javascript', 'x-forwarded-host': 'edge.example.com' }));
      expect(odd.body.statusUrl).toBe(`http://edge.example.com/resumable-upload/uploads/${odd.body.uploadId}`);
    });

    it('limit initiates by the forwarded client address', async () => {
      const client = context.client;
      const from = (ip: string) => ({ 'x-forwarded-for': ip });
      expect((await client.initiate(smallUpload(), from('203.0.113.7'))).status).toBe(201);
      expect((await client.initiate(smallUpload(), from('203.0.113.7'))).status).toBe(201);
      expectError(await client.initiate(smallUpload(), from('203.0.113.7')), 429, 'RATE_LIMITED');
      expect((await client.initiate(smallUpload(), from('203.0.113.8'))).status).toBe(201);
    });
  });

  describe('with PUBLIC_BASE_URL and TRUST_PROXY=true', () => {
    const context = useStack({ workers: 0, env: { TRUST_PROXY: 'true', PUBLIC_BASE_URL: 'https://files.example.org/' } });

    it('use PUBLIC_BASE_URL, whatever the proxy forwards', async () => {
      const initiated = await context.client.initiate(smallUpload(), forwarded);
      expect(initiated.body.uploadUrl).toBe(`https://files.example.org/resumable-upload/chunk?uploadId=${initiated.body.uploadId}`);
      expect(initiated.headers.get('location')).toBe(`https://files.example.org/resumable-upload/uploads/${initiated.body.uploadId}`);
    });
  });
});

describe('initiate rate limit', () => {
  describe('per API key (INITIATE_RATE_LIMIT=3/1m)', () => {
    const keys = ['limited-key-0123456789', 'other-key-0123456789ab'];
    // No worker, and complete answers at once: uploads stay assembling.
    const context = useStack({ workers: 0, env: { API_KEYS: keys.join(','), INITIATE_RATE_LIMIT: '3/1m', COMPLETE_WAIT: '0' } });
    let secondApi: TestProcess | undefined;
    afterAll(() => secondApi?.stop());

    it('answers the 4th initiate of a key with 429 RATE_LIMITED and Retry-After, records nothing, and lets other keys through', async () => {
      const { stack } = context;
      const limited = new UploadClient(stack, bearer(keys[0]));
      for (let i = 0; i < 3; i++) expect((await limited.initiate(smallUpload(`f${i}.bin`))).status).toBe(201);

      const refused = await limited.initiate(smallUpload('f3.bin'));
      expectError(refused, 429, 'RATE_LIMITED');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
      expect(refused.body.message).toContain(`retry in ${retryAfter} second`);
      const { rows } = await stack.db.query<{ count: string }>('SELECT count(*) FROM uploads WHERE owner_key_hash = $1', [digestOf(keys[0])]);
      expect(Number(rows[0].count)).toBe(3);

      expect((await new UploadClient(stack, bearer(keys[1])).initiate(smallUpload())).status).toBe(201);
    });

    it('does not limit chunks, status, complete, downloads or abort of a limited key', async () => {
      const { stack } = context;
      const limited = new UploadClient(stack, bearer(keys[0]));
      expectError(await limited.initiate(smallUpload()), 429, 'RATE_LIMITED');
      const { rows } = await stack.db.query<{ id: string }>('SELECT id FROM uploads WHERE owner_key_hash = $1 ORDER BY created_at', [digestOf(keys[0])]);
      const [uploadId, other, toAbort] = rows.map((row) => row.id);
      const file = randomFile(2 * CHUNK);

      // Four chunks and a dozen reads, well past the three initiates the key was allowed.
      for (const id of [uploadId, other]) {
        for (const index of [0, 1]) expect((await limited.putChunk(id, file, index, CHUNK)).status).toBe(200);
      }
      expect(await recordedChunks(stack, uploadId)).toEqual([0, 1]);
      for (let i = 0; i < 4; i++) expect((await limited.status(uploadId)).status).toBe(200);
      for (let i = 0; i < 4; i++) expect((await limited.complete(uploadId)).status).toBe(202);
      for (let i = 0; i < 4; i++) expectError(await limited.call('GET', `/resumable-upload/uploads/${uploadId}/file`), 409, 'UPLOAD_NOT_COMPLETED');
      expect((await limited.abort(toAbort)).status).toBe(204);
    });

    it('shares the count between API replicas through Redis, under the deployment prefix', async () => {
      const { stack } = context;
      const port = await freePort();
      secondApi = new TestProcess('api-2', process.execPath, [API_MAIN], await stack.processEnv({ PORT: String(port) }));
      await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => null))?.ok ? true : undefined), 'the second API to answer');

      const initiate = (key: string) =>
        fetch(`http://127.0.0.1:${port}/resumable-upload/initiate`, { method: 'POST', headers: { ...bearer(key), 'content-type': 'application/json' }, body: JSON.stringify(smallUpload()) });
      expect((await initiate(keys[0])).status).toBe(429);
      expect((await initiate(keys[1])).status).toBe(201);

      // Under this deployment's prefix (other runs on the same Redis may count the same key under theirs).
      expect(await stack.redis.keys(`${stack.prefix}:*${digestOf(keys[0])}*`)).not.toEqual([]);
      expect(await stack.redis.keys(`initiate-limit*${digestOf(keys[0])}*`)).toEqual([]);
    });
  });

  describe('per client address without API keys (INITIATE_RATE_LIMIT=2/2s)', () => {
    const context = useStack({ workers: 0, env: { INITIATE_RATE_LIMIT: '2/2s' } });

    it('ignores a forged X-Forwarded-For, and lets the client in again after Retry-After', async () => {
      const { client } = context;
      expect((await client.initiate(smallUpload())).status).toBe(201);
      expect((await client.initiate(smallUpload())).status).toBe(201);
      const refused = await client.initiate(smallUpload(), { 'x-forwarded-for': '203.0.113.99' });
      expectError(refused, 429, 'RATE_LIMITED');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter >= 1 && retryAfter <= 2).toBe(true);

      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
      expect((await client.initiate(smallUpload())).status).toBe(201);
    });
  });

  describe('while Redis is unreachable', () => {
    let redis: PrivateRedis;
    let stack: Stack;
    beforeAll(async () => {
      redis = await PrivateRedis.start();
      stack = await Stack.start({ redisUrl: redis.url, workers: 0, env: { INITIATE_RATE_LIMIT: '2/1m' } });
    });
    afterAll(async () => {
      await stack?.stop();
      await redis?.stop();
    });

    it('still initiates, limited by each replica in memory', async () => {
      const client = new UploadClient(stack);
      expect((await client.initiate(smallUpload())).status).toBe(201);
      await redis.stop();

      expect((await client.initiate(smallUpload())).status).toBe(201);
      expect((await client.initiate(smallUpload())).status).toBe(201);
      const refused = await client.initiate(smallUpload());
      expectError(refused, 429, 'RATE_LIMITED');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });
});

describe('API keys', () => {
  const keys = ['owner-key-0123456789abcdef', 'stranger-key-0123456789abc'];
  const wrongKey = 'wrong-key-0123456789abcdef';
  // Off, so that more than the default 120 initiates a minute go through below.
  const context = useStack({ env: { API_KEYS: keys.join(','), INITIATE_RATE_LIMIT: 'off' } });
  const file = randomFile(2 * CHUNK);

  it('requires a valid key on every route but /health/*', async () => {
    const { stack } = context;
    const owner = new UploadClient(stack, bearer(keys[0]));
    const { uploadId } = await owner.create(file, { chunkSize: CHUNK });
    const routes: [string, string, Record<string, string>, Buffer?][] = [
      ['POST', '/resumable-upload/initiate', { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(smallUpload()))],
      ['GET', `/resumable-upload/uploads/${uploadId}`, {}],
      ['PUT', `/resumable-upload/chunk?uploadId=${uploadId}`, { 'content-range': `bytes 0-${CHUNK - 1}/${file.length}` }, file.subarray(0, CHUNK)],
      ['POST', `/resumable-upload/uploads/${uploadId}/complete`, {}],
      ['GET', `/resumable-upload/uploads/${uploadId}/file`, {}],
      ['HEAD', `/resumable-upload/uploads/${uploadId}/file`, {}],
      ['DELETE', `/resumable-upload/uploads/${uploadId}`, {}],
    ];
    const credentials = [{}, bearer(wrongKey), { authorization: keys[0] }, { authorization: `Basic ${Buffer.from(`user:${keys[0]}`).toString('base64')}` }, { authorization: `Bearer ${keys[0]}x` }];

    for (const presented of credentials) {
      for (const [method, path, headers, body] of routes) {
        const response = await fetch(stack.url(path), { method, headers: { ...headers, ...presented }, body });
        const text = await response.text();
        expect({ route: `${method} ${path}`, status: response.status }).toEqual({ route: `${method} ${path}`, status: 401 });
        if (method !== 'HEAD') expect(JSON.parse(text).code).toBe('UNAUTHORIZED');
      }
    }
    expect(await recordedChunks(stack, uploadId)).toEqual([]);
    expect((await owner.status(uploadId)).body).toMatchObject({ status: 'uploading', receivedChunks: 0 });

    const anonymous = new UploadClient(stack);
    expect((await anonymous.call('GET', '/health/live')).status).toBe(200);
    expect((await anonymous.call('GET', '/health/ready')).status).toBe(200);
  });

  it('accepts the Bearer scheme in any letter case', async () => {
    expect((await new UploadClient(context.stack, { authorization: `bearer ${keys[1]}` }).initiate(smallUpload())).status).toBe(201);
    expect((await new UploadClient(context.stack, { authorization: `BEARER ${keys[1]}` }).initiate(smallUpload())).status).toBe(201);
  });

  it('hides a session from other keys on every route, before and after completion, and their attempts change nothing', async () => {
    const { stack } = context;
    const owner = new UploadClient(stack, bearer(keys[0]));
    const stranger = new UploadClient(stack, bearer(keys[1]));
    const { uploadId } = await owner.create(file, { chunkSize: CHUNK });
    expect((await owner.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);
    const fileRoute = `/resumable-upload/uploads/${uploadId}/file`;

    // The owner would get 409 UPLOAD_INCOMPLETE and 409 UPLOAD_NOT_COMPLETED here: the stranger learns nothing.
    expectError(await stranger.complete(uploadId), 404, 'UPLOAD_NOT_FOUND');
    expectError(await stranger.call('GET', fileRoute), 404, 'UPLOAD_NOT_FOUND');
    expect((await fetch(stack.url(fileRoute), { method: 'HEAD', headers: bearer(keys[1]) })).status).toBe(404);
    expectError(await stranger.putChunk(uploadId, file, 1, CHUNK), 404, 'UPLOAD_NOT_FOUND');
    expectError(await stranger.abort(uploadId), 404, 'UPLOAD_NOT_FOUND');
    expect(await recordedChunks(stack, uploadId)).toEqual([0]);
    expect((await owner.status(uploadId)).body).toMatchObject({ status: 'uploading', receivedChunks: 1 });

    expect((await owner.putChunk(uploadId, file, 1, CHUNK)).status).toBe(200);
    await owner.waitForStatus(uploadId, ['completed']);
    expectError(await stranger.status(uploadId), 404, 'UPLOAD_NOT_FOUND');
    expectError(await stranger.complete(uploadId), 404, 'UPLOAD_NOT_FOUND');
    expectError(await stranger.call('GET', fileRoute), 404, 'UPLOAD_NOT_FOUND');
    expectError(await stranger.putChunk(uploadId, file, 0, CHUNK), 404, 'UPLOAD_NOT_FOUND');
    expectError(await stranger.abort(uploadId), 404, 'UPLOAD_NOT_FOUND');

    expect((await owner.status(uploadId)).body.status).toBe('completed');
    expect((await owner.download(uploadId)).data.equals(file)).toBe(true);
  });

  it('keeps Idempotency-Keys apart per API key', async () => {
    const owner = new UploadClient(context.stack, bearer(keys[0]));
    const stranger = new UploadClient(context.stack, bearer(keys[1]));
    const idempotency = { 'idempotency-key': 'same-idempotency-key' };
    const first = await owner.initiate(smallUpload(), idempotency);
    const other = await stranger.initiate(smallUpload(), idempotency);
    expect([first.status, other.status]).toEqual([201, 201]);
    expect(other.body.uploadId).not.toBe(first.body.uploadId);
    const again = await stranger.initiate(smallUpload(), idempotency);
    expect({ status: again.status, uploadId: again.body.uploadId }).toEqual({ status: 200, uploadId: other.body.uploadId });
  });

  it('with INITIATE_RATE_LIMIT=off, lets one key initiate more than the default 120 a minute', async () => {
    const owner = new UploadClient(context.stack, bearer(keys[1]));
    const statuses: number[] = [];
    for (let batch = 0; batch < 13; batch++) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => owner.initiate(smallUpload())));
      statuses.push(...answers.map((answer) => answer.status));
    }
    expect(statuses.filter((status) => status !== 201)).toEqual([]);
  });

  it('never writes a key to the logs', async () => {
    const { stack } = context;
    // Valid, wrong and malformed credentials on several routes, after everything above.
    for (const authorization of [`Bearer ${keys[0]}`, `Bearer ${wrongKey}`, wrongKey, `Token ${keys[1]}`]) {
      await new UploadClient(stack, { authorization }).initiate(smallUpload());
      await new UploadClient(stack, { authorization }).status('AAAAAAAAAAAAAAAAAAAAAA');
    }
    const logs = [stack.api.log, ...stack.workers.map((worker) => worker.log)];
    // The harness does capture the output, so an absent key means it was never written.
    expect(stack.api.log).toMatch(/Listening on port/);
    for (const log of logs) for (const key of [...keys, wrongKey]) expect(log).not.toContain(key);
  });

  it('never echoes a rejected API_KEYS value when refusing to start', async () => {
    const secret = 'short-secret-15';
    const storageDir = await mkdtemp(join(tmpdir(), 'ru-e2e-'));
    try {
      const api = new TestProcess('api-bad-keys', process.execPath, [API_MAIN], { ...context.stack.env, PORT: String(await freePort()), STORAGE_DIR: storageDir, API_KEYS: `${keys[0]},${secret}` });
      expect(await api.wait()).toBe(1);
      expect(api.log).toMatch(/API_KEYS is not valid/);
      expect(api.log).not.toContain(secret);
      expect(api.log).not.toContain(keys[0]);
    } finally {
      await rm(storageDir, { recursive: true, force: true });
    }
  });
});

describe('file names', () => {
  const ctx = useStack({ env: { INITIATE_RATE_LIMIT: 'off' } });

  it('never become storage paths: files are stored by upload id, and the name is sent back RFC 6266-encoded', async () => {
    const name = 'résumé (final); $(rm -rf) "quoted" 100%.pdf';
    const file = randomFile(1000);
    const { uploadId } = await ctx.client.create(file, { fileName: name });
    expect((await ctx.client.putChunk(uploadId, file, 0, 256 * 1024)).status).toBe(200);
    await ctx.client.waitForStatus(uploadId, ['completed']);

    expect(await readdir(join(ctx.stack.storageDir, 'files'))).toEqual([uploadId]);
    expect(await readdir(join(ctx.stack.storageDir, 'tmp'))).toEqual([]);
    const download = await ctx.client.download(uploadId);
    expect(download.data.equals(file)).toBe(true);
    expect(download.headers.get('content-disposition')).toBe(
      // The ASCII fallback drops accents and replaces quotes and %, which old clients mangle.
      `attachment; filename="resume (final); $(rm -rf) _quoted_ 100_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%28final%29%3B%20%24%28rm%20-rf%29%20%22quoted%22%20100%25.pdf`,
    );
  });
});
