import { readdir } from 'node:fs/promises';
import { expectError } from './support/expect-error';
import { S3TestStore, describeInStorageModes, smallChunk } from './support/test-store';
import { useStack, contentDigest, randomFile, recordedChunks, sha256 } from './support/upload-client';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 256 * KiB;

// The three suites before `the upload flow` run on disk only: they test settings of the apps
// (PUBLIC_BASE_URL, STORAGE_DIRECT_IO, COMPLETE_WAIT), not the store.
describe('behind a proxy', () => {
  const ctx = useStack({ env: { PUBLIC_BASE_URL: 'https://uploads.example.com/' } });

  it('builds every URL from PUBLIC_BASE_URL', async () => {
    const file = randomFile(CHUNK);
    const response = await ctx.client.initiate({ fileName: 'a.bin', fileSize: file.length, chunkSize: CHUNK });
    const { uploadId } = response.body;
    expect(response.body.uploadUrl).toBe(`https://uploads.example.com/resumable-upload/chunk?uploadId=${uploadId}`);
    expect(response.headers.get('location')).toBe(`https://uploads.example.com/resumable-upload/uploads/${uploadId}`);
    expect((await ctx.client.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);
    const done = await ctx.client.waitForStatus(uploadId, ['completed']);
    expect(done.downloadUrl).toBe(`https://uploads.example.com/resumable-upload/uploads/${uploadId}/file`);
  });
});

/** Sends every chunk of `file`, waits for completed and checks the download byte for byte. */
async function uploadAndCheck(ctx: ReturnType<typeof useStack>, file: Buffer, chunkSize: number): Promise<void> {
  const { uploadId, totalChunks } = await ctx.client.create(file, { chunkSize });
  for (let index = 0; index < totalChunks; index++) expect((await ctx.client.putChunk(uploadId, file, index, chunkSize)).status).toBe(200);
  expect(await ctx.client.waitForStatus(uploadId, ['completed', 'failed'])).toMatchObject({ status: 'completed', sha256: sha256(file) });
  expect(sha256((await ctx.client.download(uploadId)).data)).toBe(sha256(file));
}

describe('part files in the page cache (STORAGE_DIRECT_IO=false)', () => {
  const ctx = useStack({ env: { STORAGE_DIRECT_IO: 'false' } });

  it('says so at start-up and delivers the exact file', async () => {
    for (const app of [ctx.stack.api, ...ctx.stack.workers]) expect(app.log).toContain('go through the page cache (STORAGE_DIRECT_IO=false)');
    await uploadAndCheck(ctx, randomFile(5 * CHUNK + 777), CHUNK);
  });
});

describe('complete while the file is assembled', () => {
  // No worker until the complete below is under way: the assembly can finish only while it waits.
  const ctx = useStack({ workers: 0, env: { COMPLETE_WAIT: '30s' } });

  it('waits for the assembly and answers 200 completed as soon as it is done, with nothing left to poll', async () => {
    const file = randomFile(3 * CHUNK);
    const { uploadId } = await ctx.client.uploadAll(file, { chunkSize: CHUNK });
    const askedAt = Date.now();
    const completion = ctx.client.complete(uploadId);
    await ctx.stack.startWorker();
    const done = await completion;
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'completed', sha256: sha256(file) });
    expect(Date.now() - askedAt).toBeLessThan(30_000);
  });
});

describeInStorageModes('the upload flow', (mode) => {
  const CHUNK = smallChunk(mode);
  // In s3 mode, room for a file too large for 10,000 parts of the default chunk size.
  const ctx = useStack({ storage: mode, env: mode === 's3' ? { MAX_FILE_SIZE: '200g' } : {} });

  /** Neither unpublished nor published bytes: no part file or file; no open multipart upload (ListMultipartUploads) or object (ListObjectsV2). */
  async function expectNothingStored(uploadId: string): Promise<void> {
    expect(await ctx.stack.store.holdsUnpublished(uploadId)).toBe(false);
    expect(await ctx.stack.store.holdsPublished(uploadId)).toBe(false);
  }

  if (mode === 'disk') {
    it('writes and verifies part files with direct I/O on this disk, chunks off the 4 KiB grid included', async () => {
      for (const app of [ctx.stack.api, ...ctx.stack.workers]) expect(app.log).toContain('use direct I/O');
      // Every chunk after the first starts off the 4 KiB block grid, so it goes through the page cache.
      await uploadAndCheck(ctx, randomFile(3 * (CHUNK + 1000) + 5), CHUNK + 1000);
      await uploadAndCheck(ctx, randomFile(4 * CHUNK + 4096 + 3), CHUNK);
    });
  }

  if (mode === 's3') {
    it('sends chunks of any size from 5 MiB as parts, each process with a private STORAGE_DIR', async () => {
      const store = ctx.stack.store as S3TestStore;
      const apps = [ctx.stack.api, ...ctx.stack.workers];
      for (const app of apps) expect(app.log).toContain(`Uploads go to bucket ${store.bucket} under uploads/`);
      expect(new Set(store.privateDirs).size).toBe(apps.length);
      await uploadAndCheck(ctx, randomFile(2 * (CHUNK + 1000) + 5), CHUNK + 1000);
      // Nothing went through a local directory: the bucket is all the processes share.
      for (const dir of store.privateDirs) expect(await readdir(dir)).toEqual([]);
    });

    it('refuses a chunk size under 5 MiB, the smallest part S3 takes, naming it', async () => {
      const response = await ctx.client.initiate({ fileName: 'a.bin', fileSize: 20 * MiB, chunkSize: 5 * MiB - 1 });
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toEqual([{ field: 'chunkSize', message: expect.stringContaining('5242880 (5 MiB)') }]);
    });

    it('picks a chunk size that fits the file in 10,000 parts when the client names none', async () => {
      const fileSize = 100 * 1024 * MiB + 7;
      const response = await ctx.client.initiate({ fileName: 'big.iso', fileSize });
      expect(response.status).toBe(201);
      const { chunkSize, totalChunks } = response.body;
      expect(chunkSize).toBeGreaterThan(8 * MiB);
      expect(chunkSize % MiB).toBe(0);
      expect(totalChunks).toBe(Math.ceil(fileSize / chunkSize));
      expect(totalChunks).toBeLessThanOrEqual(10_000);
      // A file that fits at the default keeps it.
      expect((await ctx.client.initiate({ fileName: 'small.iso', fileSize: 10 * 1024 * MiB })).body.chunkSize).toBe(8 * MiB);
    });
  }

  it('assembles chunks sent out of order and in parallel into the exact file', async () => {
    const file = randomFile(10 * CHUNK + 12_345);
    const { uploadId, totalChunks } = await ctx.client.create(file, { chunkSize: CHUNK, contentType: 'video/mp4', fileName: 'clip one.mp4' });
    expect(totalChunks).toBe(11);

    const order = [7, 2, 10, 0, 5, 9, 1, 3, 8, 4, 6];
    const responses = await Promise.all(order.map((index) => ctx.client.putChunk(uploadId, file, index, CHUNK, { 'content-digest': contentDigest(file.subarray(index * CHUNK, (index + 1) * CHUNK)) })));
    expect(responses.map((response) => response.status)).toEqual(order.map(() => 200));
    // Exactly one response, the one that completed the set, already says assembling.
    expect(responses.filter((response) => response.body.status === 'assembling')).toHaveLength(1);
    expect(responses.find((response) => response.body.chunkIndex === 10)?.body).toMatchObject({ uploadId, chunkIndex: 10, totalChunks: 11 });

    const done = await ctx.client.waitForStatus(uploadId, ['completed', 'failed']);
    expect(done).toMatchObject({ status: 'completed', receivedChunks: 11, receivedBytes: file.length, sha256: sha256(file), missingChunks: [], error: null });
    expect(done.downloadUrl).toBe(ctx.stack.url(`/resumable-upload/uploads/${uploadId}/file`));
    expect(await recordedChunks(ctx.stack, uploadId)).toEqual([...Array(11).keys()]);

    const download = await ctx.client.download(uploadId);
    expect(download.status).toBe(200);
    expect(sha256(download.data)).toBe(sha256(file));
    expect(download.headers.get('content-length')).toBe(String(file.length));
    expect(download.headers.get('content-type')).toBe('video/mp4');
    expect(download.headers.get('etag')).toBe(`"${sha256(file)}"`);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="clip one.mp4"; filename*=UTF-8''clip%20one.mp4`);

    // Published (files/<id>; the object), and the unpublished bytes (the part file; the multipart upload) are gone.
    expect(await ctx.stack.store.holdsPublished(uploadId)).toBe(true);
    expect(await ctx.stack.store.holdsUnpublished(uploadId)).toBe(false);
  });

  it('answers initiate with the session, its URLs and a Location header', async () => {
    const response = await ctx.client.initiate({ fileName: 'a.txt', fileSize: 1_000_000 });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ chunkSize: 8 * 1024 * KiB, totalChunks: 1 });
    expect(response.body.uploadId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(response.body.uploadUrl).toBe(ctx.stack.url(`/resumable-upload/chunk?uploadId=${response.body.uploadId}`));
    expect(response.headers.get('location')).toBe(response.body.statusUrl);
    expect(new Date(response.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    expect(await ctx.stack.store.holdsUnpublished(response.body.uploadId)).toBe(true);
  });

  it('reports progress with missing chunks and merged missing ranges', async () => {
    const file = randomFile(5 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    expect((await ctx.client.putChunk(uploadId, file, 2, CHUNK)).status).toBe(200);
    const status = await ctx.client.status(uploadId);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      uploadId,
      fileName: 'file.bin',
      fileSize: 5 * CHUNK,
      chunkSize: CHUNK,
      totalChunks: 5,
      status: 'uploading',
      receivedChunks: 1,
      receivedBytes: CHUNK,
      missingChunks: [0, 1, 3, 4],
      missingRanges: [`bytes 0-${2 * CHUNK - 1}/${5 * CHUNK}`, `bytes ${3 * CHUNK}-${5 * CHUNK - 1}/${5 * CHUNK}`],
      sha256: null,
      error: null,
      completedAt: null,
      downloadUrl: null,
    });
  });

  it('accepts the upload id in the Upload-Id header', async () => {
    const file = randomFile(CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    const response = await ctx.client.call('PUT', '/resumable-upload/chunk', { raw: file, headers: { 'upload-id': uploadId, 'content-range': `bytes 0-${CHUNK - 1}/${CHUNK}` } });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ chunkIndex: 0, receivedChunks: 1, status: 'assembling' });
  });

  it('returns the same session for a repeated initiate with the same Idempotency-Key', async () => {
    const body = { fileName: 'same.bin', fileSize: 3 * CHUNK, chunkSize: CHUNK };
    const first = await ctx.client.initiate(body, { 'idempotency-key': 'key-123' });
    const second = await ctx.client.initiate(body, { 'idempotency-key': 'key-123' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.uploadId).toBe(first.body.uploadId);

    const other = await ctx.client.initiate({ ...body, fileSize: 4 * CHUNK }, { 'idempotency-key': 'key-123' });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const { rows } = await ctx.stack.db.query(`SELECT count(*)::int AS n FROM uploads WHERE idempotency_key = 'key-123'`);
    expect(rows[0].n).toBe(1);
  });

  it('completes a zero-byte file through complete, which waits for the assembly and answers 200', async () => {
    const { uploadId, totalChunks } = await ctx.client.create(Buffer.alloc(0), { chunkSize: CHUNK });
    expect(totalChunks).toBe(0);
    const completion = await ctx.client.complete(uploadId);
    expect(completion.status).toBe(200);
    expect(completion.body).toMatchObject({ status: 'completed', sha256: sha256(Buffer.alloc(0)) });
    const download = await ctx.client.download(uploadId);
    expect(download.status).toBe(200);
    expect(download.data.length).toBe(0);
  });

  it('is idempotent on complete: 202 while assembling, 200 once completed', async () => {
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await ctx.client.uploadAll(file, { chunkSize: CHUNK });
    await ctx.client.waitForStatus(uploadId, ['completed']);
    const again = await ctx.client.complete(uploadId, { sha256: sha256(file) });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'completed', sha256: sha256(file) });

    const wrong = await ctx.client.complete(uploadId, { sha256: 'a'.repeat(64) });
    expect(wrong.status).toBe(422);
    expect(wrong.body.code).toBe('CHECKSUM_MISMATCH');
  });

  it('ends failed when the whole file does not match the declared sha256', async () => {
    const file = randomFile(3 * CHUNK);
    const { uploadId, totalChunks } = await ctx.client.create(file, { chunkSize: CHUNK, sha256: sha256(randomFile(10)) });
    for (let index = 0; index < totalChunks; index++) expect((await ctx.client.putChunk(uploadId, file, index, CHUNK)).status).toBe(200);
    const done = await ctx.client.waitForStatus(uploadId, ['completed', 'failed']);
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(done.error.message).toContain(sha256(file));
    expect(await ctx.stack.store.holdsUnpublished(uploadId)).toBe(false);
    expect((await ctx.client.download(uploadId)).status).toBe(409);
    const completion = await ctx.client.complete(uploadId);
    expect(completion.status).toBe(409);
    expect(completion.body.code).toBe('UPLOAD_NOT_ACCEPTING');
  });

  it('verifies the sha256 sent with complete', async () => {
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    expect((await ctx.client.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);
    const early = await ctx.client.complete(uploadId, { sha256: sha256(file) });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'UPLOAD_INCOMPLETE', missingChunks: [1] });
    expect((await ctx.client.status(uploadId)).body.sha256).toBe(sha256(file));
    expect((await ctx.client.putChunk(uploadId, file, 1, CHUNK)).status).toBe(200);
    expect((await ctx.client.waitForStatus(uploadId, ['completed', 'failed'])).status).toBe('completed');
  });

  it('serves byte ranges of the assembled file', async () => {
    const file = randomFile(3 * CHUNK + 100);
    const { uploadId } = await ctx.client.uploadAll(file, { chunkSize: CHUNK });
    await ctx.client.waitForStatus(uploadId, ['completed']);

    const middle = await ctx.client.download(uploadId, { range: 'bytes=1000-299999' });
    expect(middle.status).toBe(206);
    expect(middle.headers.get('content-range')).toBe(`bytes 1000-299999/${file.length}`);
    expect(middle.data.equals(file.subarray(1000, 300_000))).toBe(true);

    const tail = await ctx.client.download(uploadId, { range: 'bytes=-100' });
    expect(tail.status).toBe(206);
    expect(tail.data.equals(file.subarray(file.length - 100))).toBe(true);

    const open = await ctx.client.download(uploadId, { range: `bytes=${3 * CHUNK}-` });
    expect(open.data.equals(file.subarray(3 * CHUNK))).toBe(true);

    const outside = await ctx.client.download(uploadId, { range: `bytes=${file.length}-` });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${file.length}`);
    expect(JSON.parse(outside.data.toString()).code).toBe('RANGE_NOT_SATISFIABLE');
    expect(outside.headers.get('content-type')).toMatch(/^application\/json/);
    expect(outside.headers.get('content-disposition')).toBeNull();

    const cached = await ctx.client.download(uploadId, { 'if-none-match': `"${sha256(file)}"` });
    expect(cached.status).toBe(304);
  });

  it('answers a download whose stored file was lost with an error before any file header, not a cut connection', async () => {
    const file = randomFile(CHUNK);
    const { uploadId } = await ctx.client.uploadAll(file, { chunkSize: CHUNK });
    await ctx.client.waitForStatus(uploadId, ['completed']);
    await ctx.stack.store.losePublished(uploadId);
    for (const range of [undefined, 'bytes=0-99']) {
      const download = await ctx.client.download(uploadId, range ? { range } : {});
      expect(download.status).toBe(500);
      expect(download.headers.get('content-type')).toMatch(/^application\/json/);
      expect(download.headers.get('content-disposition')).toBeNull();
      expect(download.headers.get('content-range')).toBeNull();
      expect(JSON.parse(download.data.toString())).toMatchObject({ statusCode: 500, code: 'INTERNAL_ERROR' });
    }
  });

  it('refuses to download before completion', async () => {
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    const download = await ctx.client.download(uploadId);
    expect(download.status).toBe(409);
    expect(JSON.parse(download.data.toString())).toMatchObject({ statusCode: 409, code: 'UPLOAD_NOT_COMPLETED' });
  });

  it('aborts a session: bytes removed, later chunks refused with 410', async () => {
    const file = randomFile(3 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    expect((await ctx.client.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);
    expect(await ctx.stack.store.holdsUnpublished(uploadId)).toBe(true);

    const abort = await ctx.client.abort(uploadId);
    expect(abort.status).toBe(204);
    await expectNothingStored(uploadId);
    expect((await ctx.client.status(uploadId)).body.status).toBe('aborted');
    expect((await ctx.client.abort(uploadId)).status).toBe(204);

    const late = await ctx.client.putChunk(uploadId, file, 1, CHUNK);
    expect(late.status).toBe(410);
    expect(late.body.code).toBe('UPLOAD_ABORTED');
    expect((await ctx.client.complete(uploadId)).body.code).toBe('UPLOAD_ABORTED');
    expect(await recordedChunks(ctx.stack, uploadId)).toEqual([0]);
  });

  it('aborting a completed upload deletes its file', async () => {
    const file = randomFile(CHUNK);
    const { uploadId } = await ctx.client.uploadAll(file, { chunkSize: CHUNK });
    await ctx.client.waitForStatus(uploadId, ['completed']);
    expect((await ctx.client.abort(uploadId)).status).toBe(204);
    await expectNothingStored(uploadId);
    expect((await ctx.client.download(uploadId)).status).toBe(410);
  });

  it('lists at most the first 1,000 missing chunks', async () => {
    // A large session costs no storage until chunks land (a sparse part file; an empty multipart upload).
    const response = await ctx.client.initiate({ fileName: 'big.bin', fileSize: 1500 * CHUNK, chunkSize: CHUNK });
    const status = await ctx.client.status(response.body.uploadId);
    expect(status.body.totalChunks).toBe(1500);
    expect(status.body.missingChunks).toHaveLength(1000);
    expect(status.body.missingChunks[999]).toBe(999);
    expect(status.body.missingRanges).toEqual([`bytes 0-${1000 * CHUNK - 1}/${1500 * CHUNK}`]);
  });

  it('reports health', async () => {
    expect((await ctx.client.call('GET', '/health/live')).body).toEqual({ status: 'ok' });
    const ready = await ctx.client.call('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { postgres: 'up', redis: 'up', storage: 'up' } });
  });
});
