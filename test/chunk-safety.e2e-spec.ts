import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, sleep } from './support/processes';
import { describeInStorageModes, smallChunk } from './support/test-store';
import { useStack, randomFile, rawPut, recordedChunks, sha256 } from './support/upload-client';

const CHUNK = 256 * 1024;

function rangeHeaders(file: Buffer, index: number, chunkSize = CHUNK) {
  const start = index * chunkSize;
  const end = Math.min(start + chunkSize, file.length) - 1;
  return { 'content-range': `bytes ${start}-${end}/${file.length}`, data: file.subarray(start, end + 1) };
}

describeInStorageModes('chunk safety', (mode) => {
  const CHUNK = smallChunk(mode);
  const ctx = useStack({ storage: mode });

  async function leaseHeld(uploadId: string, index: number): Promise<boolean> {
    return (await ctx.stack.redis.exists(`${ctx.stack.prefix}:lease:${uploadId}:${index}`)) === 1;
  }

  it('counts nothing for a chunk cut off mid-body, frees its lease, and takes a retry', async () => {
    const file = randomFile(3 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    const { data, ...headers } = rangeHeaders(file, 1, CHUNK);
    const put = rawPut(ctx.stack, uploadId, { ...headers, 'content-length': String(CHUNK) });
    put.write(data.subarray(0, CHUNK / 2));
    await eventually(async () => ((await leaseHeld(uploadId, 1)) ? true : undefined), 'the lease to be taken');
    put.cut();

    await eventually(async () => ((await leaseHeld(uploadId, 1)) ? undefined : true), 'the lease to be released');
    const status = await ctx.client.status(uploadId);
    expect(status.body).toMatchObject({ receivedChunks: 0, receivedBytes: 0, missingChunks: [0, 1, 2] });
    expect(await recordedChunks(ctx.stack, uploadId)).toEqual([]);

    for (const index of [0, 1, 2]) expect((await ctx.client.putChunk(uploadId, file, index, CHUNK)).status).toBe(200);
    await ctx.client.waitForStatus(uploadId, ['completed']);
    expect(sha256((await ctx.client.download(uploadId)).data)).toBe(sha256(file));
  });

  it('takes the same chunk twice as a no-op and refuses other bytes with 409, keeping the first', async () => {
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    const first = await ctx.client.putChunk(uploadId, file, 0, CHUNK);
    const again = await ctx.client.putChunk(uploadId, file, 0, CHUNK);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ chunkIndex: 0, receivedChunks: 1, receivedBytes: CHUNK, status: 'uploading' });

    const tampered = Buffer.from(file);
    tampered[10] ^= 0xff;
    const conflict = await ctx.client.putChunk(uploadId, tampered, 0, CHUNK);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ statusCode: 409, code: 'CHUNK_CONFLICT', chunkIndex: 0 });

    if (mode === 'disk') {
      const part = await readFile(join(ctx.stack.storageDir, 'tmp', `${uploadId}.part`));
      expect(part.subarray(0, CHUNK).equals(file.subarray(0, CHUNK))).toBe(true);
    }
    expect((await ctx.client.status(uploadId)).body.receivedChunks).toBe(1);

    expect((await ctx.client.putChunk(uploadId, file, 1, CHUNK)).status).toBe(200);
    await ctx.client.waitForStatus(uploadId, ['completed']);
    expect(sha256((await ctx.client.download(uploadId)).data)).toBe(sha256(file));
  });

  it('lets one of two concurrent writers of a chunk win and tells the other to retry', async () => {
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    const { data, ...headers } = rangeHeaders(file, 0, CHUNK);
    const slow = rawPut(ctx.stack, uploadId, { ...headers, 'content-length': String(CHUNK) });
    slow.write(data.subarray(0, 1000));
    await eventually(async () => ((await leaseHeld(uploadId, 0)) ? true : undefined), 'the first writer to take the lease');

    const second = await ctx.client.putChunk(uploadId, file, 0, CHUNK);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'CHUNK_IN_PROGRESS', chunkIndex: 0 });
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const first = await slow.finish(data.subarray(1000));
    expect(first?.status).toBe(200);
    expect(first?.body).toMatchObject({ chunkIndex: 0, receivedChunks: 1 });
    expect(await recordedChunks(ctx.stack, uploadId)).toEqual([0]);
    // The loser's retry is now a no-op.
    expect((await ctx.client.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);
  });

  it('refuses complete while chunks are missing and lists them', async () => {
    const file = randomFile(4 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    expect((await ctx.client.putChunk(uploadId, file, 1, CHUNK)).status).toBe(200);
    const completion = await ctx.client.complete(uploadId);
    expect(completion.status).toBe(409);
    expect(completion.body).toMatchObject({
      statusCode: 409,
      code: 'UPLOAD_INCOMPLETE',
      missingChunks: [0, 2, 3],
      missingRanges: [`bytes 0-${CHUNK - 1}/${4 * CHUNK}`, `bytes ${2 * CHUNK}-${4 * CHUNK - 1}/${4 * CHUNK}`],
    });
    expect((await ctx.client.status(uploadId)).body.status).toBe('uploading');
  });

  it('sends a chunk whose stored bytes were damaged back to missing, then completes after the re-send', async () => {
    const file = randomFile(4 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    for (const index of [0, 1, 3]) expect((await ctx.client.putChunk(uploadId, file, index, CHUNK)).status).toBe(200);

    // Damage chunk 1 where it is stored, as a lapsed lease's stale writer or a bad disk could, before
    // the last chunk arrives. On disk the verification read finds it corrupt; in S3 the overwritten
    // part no longer has its recorded ETag, so CompleteMultipartUpload refuses it as lost.
    await ctx.stack.store.damageChunk(uploadId, { index: 1, start: CHUNK, bytes: file.subarray(CHUNK, 2 * CHUNK) }, 5);
    expect((await ctx.client.putChunk(uploadId, file, 2, CHUNK)).body.status).toBe('assembling');

    const returned = await ctx.client.waitForStatus(uploadId, ['uploading', 'completed', 'failed']);
    const code = mode === 'disk' ? 'CHUNKS_CORRUPT' : 'CHUNKS_LOST';
    expect(returned).toMatchObject({ status: 'uploading', receivedChunks: 3, missingChunks: [1], error: { code, chunks: [1] } });
    expect(await recordedChunks(ctx.stack, uploadId)).toEqual([0, 2, 3]);

    expect((await ctx.client.putChunk(uploadId, file, 1, CHUNK)).body.status).toBe('assembling');
    const done = await ctx.client.waitForStatus(uploadId, ['completed', 'failed']);
    expect(done).toMatchObject({ status: 'completed', sha256: sha256(file), error: null });
    expect(sha256((await ctx.client.download(uploadId)).data)).toBe(sha256(file));
  });

  // Disk only: the second thread hashes the part file, and the test damages the last chunk's bytes
  // after they were written, which an S3 part would show as a new ETag (the case above).
  if (mode === 'disk') it('verifies a file too large for one thread the same way: damaged chunks, the short last one included, go back to missing', async () => {
    // Past THREADED_HASH_FROM_BYTES, a second thread hashes the chunks while the first hashes the file.
    const big = 8 * 1024 * 1024;
    const file = randomFile(8 * big + 3 * 1024 * 1024);
    const { uploadId } = await ctx.client.create(file, { chunkSize: big });
    for (let index = 0; index < 8; index++) expect((await ctx.client.putChunk(uploadId, file, index, big)).status).toBe(200);

    const part = await open(join(ctx.stack.storageDir, 'tmp', `${uploadId}.part`), 'r+');
    try {
      // The first byte of chunk 4 and, once written, the last byte of the file (chunk 8).
      await part.write(Buffer.from([file[4 * big] ^ 0xff]), 0, 1, 4 * big);
      expect((await ctx.client.putChunk(uploadId, file, 8, big)).body.status).toBe('assembling');
      // Chunk 4 alone went back; the last chunk was intact at that point.
      expect(await ctx.client.waitForStatus(uploadId, ['uploading', 'completed', 'failed'])).toMatchObject({ status: 'uploading', missingChunks: [4], error: { code: 'CHUNKS_CORRUPT', chunks: [4] } });

      await part.write(Buffer.from([file[file.length - 1] ^ 0xff]), 0, 1, file.length - 1);
      expect((await ctx.client.putChunk(uploadId, file, 4, big)).body.status).toBe('assembling');
      const returned = await ctx.client.waitForStatus(uploadId, ['uploading', 'completed', 'failed']);
      expect(returned).toMatchObject({ status: 'uploading', missingChunks: [8], error: { code: 'CHUNKS_CORRUPT', chunks: [8] } });
    } finally {
      await part.close();
    }

    expect((await ctx.client.putChunk(uploadId, file, 8, big)).body.status).toBe('assembling');
    expect(await ctx.client.waitForStatus(uploadId, ['completed', 'failed'])).toMatchObject({ status: 'completed', sha256: sha256(file) });
    expect(sha256((await ctx.client.download(uploadId)).data)).toBe(sha256(file));
  });

  it('fails an upload whose unpublished bytes vanished from storage (the part file; the multipart upload), and records nothing', async () => {
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    await ctx.stack.store.loseUnpublished(uploadId);
    const response = await ctx.client.putChunk(uploadId, file, 0, CHUNK);
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('UPLOAD_NOT_ACCEPTING');
    expect(await recordedChunks(ctx.stack, uploadId)).toEqual([]);
    expect((await ctx.client.status(uploadId)).body).toMatchObject({ status: 'failed', error: { code: 'STORAGE_LOST' } });
  });

  it('streams a chunked body (no Content-Length) and counts it exactly', async () => {
    const file = randomFile(CHUNK + 1000);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    for (const index of [0, 1]) {
      const { data, ...headers } = rangeHeaders(file, index, CHUNK);
      const put = rawPut(ctx.stack, uploadId, { ...headers, 'transfer-encoding': 'chunked' });
      for (let offset = 0; offset < data.length; offset += 10_000) {
        put.write(data.subarray(offset, offset + 10_000));
        await sleep(1);
      }
      expect((await put.finish())?.status).toBe(200);
    }
    await ctx.client.waitForStatus(uploadId, ['completed']);
    expect(sha256((await ctx.client.download(uploadId)).data)).toBe(sha256(file));
  });
});

// On disk only, here and below: what they test (the lock order of the records, the lease in Redis)
// does not depend on the store, and 5 MiB chunks would make these runs slow for nothing.
describe('chunks recorded in parallel', () => {
  const ctx = useStack({ env: { INITIATE_RATE_LIMIT: 'off' } });

  // Records and claims of one session contend for its row: a lock order that deadlocks shows
  // here as a 500 (Postgres breaks the deadlock by failing one of the statements).
  it('are all accepted, 8 at a time per upload, for several uploads at once', async () => {
    const files = Array.from({ length: 4 }, () => randomFile(48 * CHUNK));
    const uploads = await Promise.all(files.map((file) => ctx.client.uploadAll(file, { chunkSize: CHUNK, parallel: 8 })));
    for (const [i, { uploadId }] of uploads.entries()) {
      expect(await ctx.client.waitForStatus(uploadId, ['completed', 'failed'])).toMatchObject({ status: 'completed', sha256: sha256(files[i]) });
    }
  });
});

describe('the chunk lease', () => {
  const ctx = useStack({ env: { CHUNK_LEASE_TTL: '300ms' } });

  it('is renewed while a slow body keeps sending, so a second writer stays out long past the TTL', async () => {
    const file = randomFile(CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    const { data, ...headers } = rangeHeaders(file, 0);
    const slow = rawPut(ctx.stack, uploadId, { ...headers, 'content-length': String(CHUNK) });
    for (let offset = 0; offset < 15_000; offset += 1000) {
      slow.write(data.subarray(offset, offset + 1000));
      await sleep(100);
    }
    const intruder = await ctx.client.putChunk(uploadId, file, 0, CHUNK);
    expect(intruder.status).toBe(409);
    expect(intruder.body.code).toBe('CHUNK_IN_PROGRESS');
    expect((await slow.finish(data.subarray(15_000)))?.status).toBe(200);
    expect(await ctx.stack.redis.exists(`${ctx.stack.prefix}:lease:${uploadId}:0`)).toBe(0);
  });
});
