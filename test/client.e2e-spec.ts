import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { JsonFileFingerprintStore, MemoryFingerprintStore, SourceChangedError, UploadFailedError, upload } from '../libs/client/src/node';
import { expectDelivered } from './support/faults';
import { UploadClient, randomFile, sha256, useStack } from './support/upload-client';

const CHUNK = 256 * 1024;
const FAST_RETRY = { attempts: 8, baseDelayMs: 50, maxDelayMs: 500 };

interface SentChunk {
  range: string;
  digest: string;
  uploadId: string;
}

/**
 * Wraps the global fetch to see what the SDK sends: every chunk PUT, how many run at once.
 * `route` may send a request elsewhere; `beforePut` runs before each PUT goes out.
 */
function watchingFetch(options: { route?: (url: string) => string; beforePut?: (chunk: SentChunk, count: number) => Promise<void> | void; afterPut?: (status: number, count: number) => void } = {}) {
  const puts: SentChunk[] = [];
  const calls: string[] = [];
  const initiated: Record<string, any>[] = [];
  // In order: 'PUT <range>' and 'declare <sha256>' for a complete that declares one.
  const order: string[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const fetchImpl = (async (input: string, init: RequestInit = {}) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    calls.push(`${init.method} ${input}`);
    if (input.endsWith('/initiate')) initiated.push(JSON.parse(init.body as string));
    if (input.endsWith('/complete') && JSON.parse(init.body as string).sha256) order.push(`declare ${JSON.parse(init.body as string).sha256}`);
    if (init.method !== 'PUT') return fetch(options.route?.(input) ?? input, init);
    const chunk = { range: headers['content-range'], digest: headers['content-digest'], uploadId: new URL(input).searchParams.get('uploadId') ?? '' };
    puts.push(chunk);
    order.push(`PUT ${chunk.range}`);
    await options.beforePut?.(chunk, puts.length);
    mostInFlight = Math.max(mostInFlight, ++inFlight);
    try {
      const response = await fetch(options.route?.(input) ?? input, init);
      options.afterPut?.(response.status, puts.length);
      return response;
    } finally {
      inFlight--;
    }
  }) as typeof fetch;
  return { fetchImpl, puts, calls, initiated, order, mostInFlight: () => mostInFlight };
}

function rangeOf(file: Buffer, index: number): string {
  return `bytes ${index * CHUNK}-${Math.min((index + 1) * CHUNK, file.length) - 1}/${file.length}`;
}

describe('the client SDK', () => {
  const ctx = useStack();
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'ru-client-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('uploads a Buffer byte for byte, declaring its SHA-256 and a digest on every chunk', async () => {
    const file = randomFile(3 * CHUNK + 1234);
    const watch = watchingFetch();
    const progress: number[] = [];
    const result = await upload(file, { endpoint: ctx.stack.baseUrl, fileName: 'buffer.bin', chunkSize: CHUNK, fetch: watch.fetchImpl, onProgress: (p) => progress.push(p.bytesSent) });

    expect(result).toEqual({ uploadId: expect.any(String), sha256: sha256(file), status: 'completed' });
    await expectDelivered(ctx.stack, ctx.client, result.uploadId, file, CHUNK);
    expect(watch.puts.map((put) => put.range).sort()).toEqual([0, 1, 2, 3].map((i) => rangeOf(file, i)).sort());
    for (const put of watch.puts) expect(put.digest).toMatch(/^sha-256=:[A-Za-z0-9+/]{43}=:$/);
    expect(progress.at(-1)).toBe(file.length);
    // In memory, so hashed first and declared: the server checks the file against it.
    expect(watch.initiated).toEqual([{ fileName: 'buffer.bin', fileSize: file.length, chunkSize: CHUNK, sha256: sha256(file) }]);
  });

  it('uploads a File (name and type from the File) and a file path', async () => {
    const file = randomFile(2 * CHUNK + 7);
    const blobWatch = watchingFetch();
    const blobResult = await upload(new File([file], 'photo.jpg', { type: 'image/jpeg' }), { endpoint: ctx.stack.baseUrl, chunkSize: CHUNK, fetch: blobWatch.fetchImpl });
    // A Blob is hashed while it is sent, and checked against the server's hash at the end.
    expect(blobWatch.initiated).toEqual([{ fileName: 'photo.jpg', fileSize: file.length, chunkSize: CHUNK, contentType: 'image/jpeg' }]);
    expect(blobResult.sha256).toBe(sha256(file));
    await expectDelivered(ctx.stack, ctx.client, blobResult.uploadId, file, CHUNK);
    const download = await ctx.client.download(blobResult.uploadId);
    expect(download.headers.get('content-type')).toMatch(/^image\/jpeg/);
    expect(download.headers.get('content-disposition')).toContain('photo.jpg');

    const path = join(dir, 'on-disk.bin');
    await writeFile(path, file);
    const pathWatch = watchingFetch();
    const pathResult = await upload(path, { endpoint: ctx.stack.baseUrl, chunkSize: CHUNK, metadata: { origin: 'e2e' }, fetch: pathWatch.fetchImpl });
    // A file is hashed from the reads that send it: the SHA-256 is declared once it has all
    // been read, before the chunk that completes the set, so the server verifies against it.
    expect(pathWatch.initiated).toEqual([{ fileName: 'on-disk.bin', fileSize: file.length, chunkSize: CHUNK, metadata: { origin: 'e2e' } }]);
    expect(pathWatch.order.indexOf(`declare ${sha256(file)}`)).toBe(2);
    expect(pathWatch.order.slice(0, 4).filter((entry) => entry.startsWith('PUT'))).toHaveLength(3);
    expect(pathResult.sha256).toBe(sha256(file));
    await expectDelivered(ctx.stack, ctx.client, pathResult.uploadId, file, CHUNK);
    expect((await ctx.client.download(pathResult.uploadId)).headers.get('content-disposition')).toContain('on-disk.bin');
  });

  it('uploads an empty file', async () => {
    const result = await upload(new Uint8Array(0), { endpoint: ctx.stack.baseUrl, fileName: 'empty.txt' });
    expect(result.sha256).toBe(sha256(Buffer.alloc(0)));
    expect((await ctx.client.download(result.uploadId)).data.length).toBe(0);
  });

  it('sends `parallel` chunks at once, and never more', async () => {
    const file = randomFile(12 * CHUNK);
    const watch = watchingFetch();
    const result = await upload(new Blob([file]), { endpoint: ctx.stack.baseUrl, fileName: 'parallel.bin', chunkSize: CHUNK, parallel: 4, fetch: watch.fetchImpl });
    await expectDelivered(ctx.stack, ctx.client, result.uploadId, file, CHUNK);
    expect(watch.puts).toHaveLength(12);
    expect(watch.mostInFlight()).toBe(4);
  });

  it('resumes after an abort, sending only the chunks still missing', async () => {
    const file = randomFile(16 * CHUNK);
    const source = new File([file], 'resume.bin', { lastModified: 1_700_000_000_000 });
    const store = new MemoryFingerprintStore();
    const controller = new AbortController();
    const first = watchingFetch({ afterPut: (status, count) => count >= 6 && controller.abort() });
    const aborted = await upload(source, { endpoint: ctx.stack.baseUrl, chunkSize: CHUNK, parallel: 2, fingerprintStore: store, signal: controller.signal, fetch: first.fetchImpl }).catch((e: unknown) => e);
    expect(aborted).toMatchObject({ name: 'AbortError' });

    // The abort cancels the client's side only: a chunk whose body was already sent may still be
    // recorded a moment later, so the server's count can grow once more after this read.
    const uploadId = first.puts[0].uploadId;
    const before = await ctx.client.status(uploadId);
    expect(before.body.status).toBe('uploading');
    expect(before.body.receivedChunks).toBeGreaterThanOrEqual(4);
    expect(before.body.receivedChunks).toBeLessThan(16);

    const second = watchingFetch();
    const progress: number[] = [];
    const result = await upload(source, { endpoint: ctx.stack.baseUrl, chunkSize: CHUNK, fingerprintStore: store, fetch: second.fetchImpl, onProgress: (p) => progress.push(p.chunksDone) });
    expect(result.uploadId).toBe(uploadId);
    expect(second.calls.filter((call) => call.includes('/initiate'))).toEqual([]);
    // It sends exactly the chunks the server lacked when it resumed: each one once, none it had.
    const resumedFrom = progress[0];
    expect(resumedFrom).toBeGreaterThanOrEqual(before.body.receivedChunks);
    const sent = second.puts.map((put) => put.range);
    expect(new Set(sent).size).toBe(sent.length);
    expect(sent).toHaveLength(16 - resumedFrom);
    const missingBefore = new Set(before.body.missingChunks.map((i: number) => rangeOf(file, i)));
    for (const range of sent) expect(missingBefore.has(range)).toBe(true);
    // The chunks it skipped were still read and hashed: the whole file's SHA-256 is declared
    // once, before the chunk that completes the set.
    expect(second.order.filter((entry) => entry.startsWith('declare'))).toEqual([`declare ${sha256(file)}`]);
    expect(second.order.at(-2)).toBe(`declare ${sha256(file)}`);
    await expectDelivered(ctx.stack, ctx.client, uploadId, file, CHUNK);

    // Done: the store forgot it, so the same file again is a new upload.
    const again = await upload(source, { endpoint: ctx.stack.baseUrl, chunkSize: CHUNK, fingerprintStore: store });
    expect(again.uploadId).not.toBe(uploadId);
  });

  it('starts a new session when the stored one was aborted on the server', async () => {
    const file = randomFile(2 * CHUNK);
    const store = new MemoryFingerprintStore();
    const controller = new AbortController();
    const first = watchingFetch({ beforePut: () => controller.abort() });
    await expect(upload(file, { endpoint: ctx.stack.baseUrl, fileName: 'x.bin', chunkSize: CHUNK, fingerprintStore: store, signal: controller.signal, fetch: first.fetchImpl })).rejects.toMatchObject({ name: 'AbortError' });
    const oldId = first.puts[0].uploadId;
    expect((await ctx.client.abort(oldId)).status).toBe(204);

    const result = await upload(file, { endpoint: ctx.stack.baseUrl, fileName: 'x.bin', chunkSize: CHUNK, fingerprintStore: store });
    expect(result.uploadId).not.toBe(oldId);
    await expectDelivered(ctx.stack, ctx.client, result.uploadId, file, CHUNK);
  });

  it('retries requests that got no answer or a 5xx', async () => {
    const file = randomFile(4 * CHUNK);
    let failures = 0;
    const flaky = watchingFetch({
      beforePut: (_chunk, count) => {
        if (count === 2 || count === 3) {
          failures++;
          throw new TypeError('fetch failed');
        }
      },
    });
    const answering503 = (async (input: string, init: RequestInit) => {
      if (init.method === 'PUT' && failures === 2) {
        failures++;
        return new Response(JSON.stringify({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', message: 'try again' }), { status: 503 });
      }
      return flaky.fetchImpl(input, init);
    }) as typeof fetch;
    const result = await upload(file, { endpoint: ctx.stack.baseUrl, fileName: 'flaky.bin', chunkSize: CHUNK, parallel: 1, fetch: answering503, retry: FAST_RETRY });
    expect(failures).toBe(3);
    await expectDelivered(ctx.stack, ctx.client, result.uploadId, file, CHUNK);
  });

  it('re-sends only the chunk verification found corrupt on disk', async () => {
    const file = randomFile(4 * CHUNK);
    const partPath = (uploadId: string) => join(ctx.stack.storageDir, 'tmp', `${uploadId}.part`);
    const watch = watchingFetch({
      // Before the last chunk goes out, damage chunk 1's stored bytes as a bad disk could.
      beforePut: async (chunk, count) => {
        if (count !== 4) return;
        const part = await readFile(partPath(chunk.uploadId));
        part[CHUNK + 5] ^= 0xff;
        await writeFile(partPath(chunk.uploadId), part);
      },
    });
    const result = await upload(file, { endpoint: ctx.stack.baseUrl, fileName: 'corrupt.bin', chunkSize: CHUNK, parallel: 1, fetch: watch.fetchImpl, pollIntervalMs: 100 });
    expect(watch.puts.map((put) => put.range)).toEqual([0, 1, 2, 3, 1].map((i) => rangeOf(file, i)));
    await expectDelivered(ctx.stack, ctx.client, result.uploadId, file, CHUNK);
  });

  it('gives up a file written to while it is sent: the last chunk is never sent and the session is aborted', async () => {
    const file = randomFile(6 * CHUNK);
    const path = join(dir, 'written-meanwhile.bin');
    await writeFile(path, file);
    const store = new JsonFileFingerprintStore(join(dir, 'written-meanwhile.json'));
    const watch = watchingFetch({
      beforePut: async (_chunk, count) => {
        if (count !== 2) return;
        // Same size, other bytes, later than the coarse tick a kernel stamps modification times with.
        await sleep(20);
        await writeFile(path, randomFile(6 * CHUNK));
      },
    });
    const error = await upload(path, { endpoint: ctx.stack.baseUrl, chunkSize: CHUNK, parallel: 1, fingerprintStore: store, fetch: watch.fetchImpl }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceChangedError);
    expect((error as Error).message).toMatch(/written-meanwhile\.bin changed while being uploaded/);
    expect(watch.puts).toHaveLength(5);
    expect(watch.order.some((entry) => entry.startsWith('declare'))).toBe(false);
    expect((await ctx.client.status(watch.puts[0].uploadId)).body.status).toBe('aborted');
    expect(JSON.parse(await readFile(join(dir, 'written-meanwhile.json'), 'utf8'))).toEqual({});
  });

  it('throws UploadFailedError with the contract code on a 4xx, without retrying it', async () => {
    const watch = watchingFetch();
    const error = await upload(randomFile(1000), { endpoint: ctx.stack.baseUrl, fileName: 'small-chunks.bin', chunkSize: 1000, fetch: watch.fetchImpl }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadFailedError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    expect((error as Error).message).toMatch(/chunkSize/);
    expect(watch.calls).toHaveLength(1);
  });

  it('works from the browser entry (built, @noble/hashes for the whole-file hash)', async () => {
    const script = `
      const { upload } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'libs', 'client', 'src', 'index.js'))});
      const bytes = new Uint8Array(${CHUNK + 99}).map((_, i) => (i * 31) % 256);
      upload(new File([bytes], 'from-browser-entry.bin'), { endpoint: process.argv[1], chunkSize: ${CHUNK} })
        .then((result) => console.log(JSON.stringify(result)), (error) => { console.error(error); process.exit(1); });`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, ctx.stack.baseUrl]);
    const result = JSON.parse(stdout);
    const expected = Buffer.from(new Uint8Array(CHUNK + 99).map((_, i) => (i * 31) % 256));
    expect(result.sha256).toBe(sha256(expected));
    await expectDelivered(ctx.stack, ctx.client, result.uploadId, expected, CHUNK);
  });
});

describe('the client SDK with a replica killed mid-upload', () => {
  // A dead writer's lease must lapse quickly for the retry of its chunk to be taken.
  const ctx = useStack({ env: { CHUNK_LEASE_TTL: '1s', BODY_IDLE_TIMEOUT: '500ms' } });

  it('retries through the surviving API and delivers the file', async () => {
    const replica = await ctx.stack.startReplica();
    const file = randomFile(16 * CHUNK);
    let killed = false;
    const watch = watchingFetch({
      // A balancer's view: send to the replica while it lives, else to the first API.
      route: (url) => (replica.process.running ? url.replace(ctx.stack.baseUrl, replica.baseUrl) : url),
      beforePut: (_chunk, count) => {
        if (count === 6 && !killed) {
          killed = true;
          // While chunks are in flight to it.
          setTimeout(() => replica.process.child.kill('SIGKILL'), 5);
        }
      },
    });
    const result = await upload(file, { endpoint: ctx.stack.baseUrl, fileName: 'failover.bin', chunkSize: CHUNK, parallel: 4, fetch: watch.fetchImpl, retry: FAST_RETRY });
    expect(killed).toBe(true);
    expect(replica.process.running).toBe(false);
    expect(watch.puts.length).toBeGreaterThan(16);
    await expectDelivered(ctx.stack, ctx.client, result.uploadId, file, CHUNK);
  });
});

describe('the client SDK with API keys', () => {
  const key = 'client-sdk-key-0123456789';
  const ctx = useStack({ env: { API_KEYS: key } });

  it('sends the key as a bearer token, and surfaces UNAUTHORIZED without one', async () => {
    const file = randomFile(CHUNK + 1);
    const result = await upload(file, { endpoint: ctx.stack.baseUrl, apiKey: key, fileName: 'keyed.bin', chunkSize: CHUNK });
    await expectDelivered(ctx.stack, new UploadClient(ctx.stack, { authorization: `Bearer ${key}` }), result.uploadId, file, CHUNK);

    await expect(upload(file, { endpoint: ctx.stack.baseUrl, fileName: 'keyed.bin', chunkSize: CHUNK })).rejects.toMatchObject({ name: 'UploadFailedError', code: 'UNAUTHORIZED', status: 401 });
  });
});
