import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, sleep } from '../support/processes';
import { Stack } from '../support/stack';
import { randomFile, rawPut, recordedChunks, sha256, useStack } from '../support/upload-client';
import { expectDelivered, putUntilAccepted } from '../support/faults';

const CHUNK = 256 * 1024;

function leaseKey(stack: Stack, uploadId: string, index: number): string {
  return `${stack.prefix}:lease:${uploadId}:${index}`;
}

/** The fence of the newest claim on chunk 0, or null when there is none. */
async function claimFence(stack: Stack, uploadId: string): Promise<string | null> {
  const { rows } = await stack.db.query<{ fence: string }>('SELECT fence::text AS fence FROM chunk_claims WHERE upload_id = $1 AND chunk_index = 0', [uploadId]);
  return rows[0]?.fence ?? null;
}

/**
 * Starts a PUT of chunk 0 with `data`, sends its first 1,000 bytes, and waits until the server
 * has taken the lease and a claim newer than any before; the caller sends the rest.
 */
async function startWriter(stack: Stack, uploadId: string, fileSize: number, data: Buffer, through: Pick<Stack, 'url'> = stack) {
  const before = await claimFence(stack, uploadId);
  const put = rawPut(through, uploadId, { 'content-range': `bytes 0-${CHUNK - 1}/${fileSize}`, 'content-length': String(CHUNK) });
  put.write(data.subarray(0, 1000));
  await eventually(async () => {
    const fence = await claimFence(stack, uploadId);
    return fence !== null && fence !== before ? true : undefined;
  }, 'the writer to claim the chunk');
  return { finish: () => put.finish(data.subarray(1000)) };
}

describe('a writer paused past its lease (short lease TTL)', () => {
  const ctx = useStack({ env: { CHUNK_LEASE_TTL: '1s' } });

  it('loses the chunk to a retry and is refused when it wakes', async () => {
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    const stale = Buffer.from(file.subarray(0, CHUNK)).fill(7, 1000);
    const sleeper = await startWriter(ctx.stack, uploadId, file.length, stale);
    await sleep(2500);

    const retry = await ctx.client.putChunk(uploadId, file, 0, CHUNK);
    expect(retry.status).toBe(200);
    const woken = await sleeper.finish();
    expect(woken?.status).toBe(409);
    expect(woken?.body.code).toBe('CHUNK_IN_PROGRESS');

    const part = await readFile(join(ctx.stack.storageDir, 'tmp', `${uploadId}.part`));
    expect(part.subarray(0, CHUNK).equals(file.subarray(0, CHUNK))).toBe(true);
    expect((await ctx.client.putChunk(uploadId, file, 1, CHUNK)).status).toBe(200);
    await expectDelivered(ctx.stack, ctx.client, uploadId, file, CHUNK);
  });
});

/**
 * A replica that is only paused (a long GC, SIGSTOP) past its liveness TTL is taken for dead: its
 * lease goes to another replica's retry within seconds, though the lease TTL is 30 s. When it
 * resumes it must not write another byte under that lease.
 */
describe('an API replica paused past its liveness (SIGSTOP), lease TTL at its default', () => {
  const ctx = useStack();

  it('loses the chunk to a retry on another replica within seconds and is refused when it resumes', async () => {
    const paused = await ctx.stack.startReplica();
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    const stale = Buffer.from(file.subarray(0, CHUNK)).fill(7, 1000);
    const sleeper = await startWriter(ctx.stack, uploadId, file.length, stale, paused);

    paused.process.child.kill('SIGSTOP');
    let woken: Promise<Awaited<ReturnType<typeof sleeper.finish>>>;
    try {
      const pausedAt = Date.now();
      expect((await putUntilAccepted(ctx.client, uploadId, file, 0, CHUNK)).status).toBe(200);
      expect(Date.now() - pausedAt).toBeLessThan(5_000);
      // The rest of the stale body waits in the socket buffers until the replica resumes.
      woken = sleeper.finish();
    } finally {
      paused.process.child.kill('SIGCONT');
    }
    const answer = await woken!;
    expect(answer?.status).toBe(409);
    expect(answer?.body.code).toBe('CHUNK_IN_PROGRESS');

    const part = await readFile(join(ctx.stack.storageDir, 'tmp', `${uploadId}.part`));
    expect(part.subarray(0, CHUNK).equals(file.subarray(0, CHUNK))).toBe(true);
    expect((await ctx.client.putChunk(uploadId, file, 1, CHUNK)).status).toBe(200);
    await expectDelivered(ctx.stack, ctx.client, uploadId, file, CHUNK);
  });
});

/**
 * The lease vanishes while its writer still believes it holds it (a Redis failover that lost
 * the key, a clock jump): the writer's own checks pass, so only the fence and the worker's
 * re-verification stand between its late bytes and the file.
 */
describe('a writer whose lease was lost without its knowing', () => {
  const ctx = useStack({ env: { CHUNK_LEASE_TTL: '60s' } });

  it('cannot record the chunk over the newer writer that claimed it (fencing)', async () => {
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    const staleBytes = randomFile(CHUNK);

    const stale = await startWriter(ctx.stack, uploadId, file.length, staleBytes);
    await ctx.stack.redis.del(leaseKey(ctx.stack, uploadId, 0));
    const newer = await startWriter(ctx.stack, uploadId, file.length, file.subarray(0, CHUNK));

    // The stale writer finishes first: its bytes reach the disk, but its record is refused.
    const refused = await stale.finish();
    expect(refused?.status).toBe(409);
    expect(refused?.body).toMatchObject({ code: 'CHUNK_IN_PROGRESS', chunkIndex: 0, message: expect.stringMatching(/taken over by a newer request/) });
    expect(await recordedChunks(ctx.stack, uploadId)).toEqual([]);

    const accepted = await newer.finish();
    expect(accepted?.status).toBe(200);
    expect(await recordedChunks(ctx.stack, uploadId)).toEqual([0]);
    expect((await ctx.client.putChunk(uploadId, file, 1, CHUNK)).status).toBe(200);
    await expectDelivered(ctx.stack, ctx.client, uploadId, file, CHUNK);
  });

  it('has its late bytes over a recorded chunk noticed: the chunk goes back to missing', async () => {
    const file = randomFile(4 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    const staleBytes = randomFile(CHUNK);

    const stale = await startWriter(ctx.stack, uploadId, file.length, staleBytes);
    await ctx.stack.redis.del(leaseKey(ctx.stack, uploadId, 0));
    expect((await ctx.client.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);

    // Too late to record, but its bytes land over the recorded chunk, which is then forgotten.
    const refused = await stale.finish();
    expect(refused?.status).toBe(409);
    expect(refused?.body).toMatchObject({ code: 'CHUNK_CONFLICT', chunkIndex: 0, message: expect.stringMatching(/missing again: re-send/) });
    const part = await readFile(join(ctx.stack.storageDir, 'tmp', `${uploadId}.part`));
    expect(part.subarray(0, CHUNK).equals(staleBytes)).toBe(true);
    expect(await recordedChunks(ctx.stack, uploadId)).toEqual([]);
    expect((await ctx.client.status(uploadId)).body).toMatchObject({ status: 'uploading', receivedChunks: 0, missingChunks: [0, 1, 2, 3] });

    for (const index of [0, 1, 2, 3]) expect((await ctx.client.putChunk(uploadId, file, index, CHUNK)).status).toBe(200);
    await expectDelivered(ctx.stack, ctx.client, uploadId, file, CHUNK);
  });

  it('has late bytes that land once the upload is assembling caught by verification, which sends back only that chunk', async () => {
    const file = randomFile(4 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    const staleBytes = randomFile(CHUNK);
    const [worker] = ctx.stack.workers;

    const stale = await startWriter(ctx.stack, uploadId, file.length, staleBytes);
    await ctx.stack.redis.del(leaseKey(ctx.stack, uploadId, 0));
    // Hold the worker, so the late bytes land between the last chunk and verification.
    worker.child.kill('SIGSTOP');
    try {
      for (const index of [0, 1, 2, 3]) expect((await ctx.client.putChunk(uploadId, file, index, CHUNK)).status).toBe(200);
      const refused = await stale.finish();
      expect(refused?.status).toBe(409);
      expect(refused?.body.code).toBe('UPLOAD_NOT_ACCEPTING');
      const part = await readFile(join(ctx.stack.storageDir, 'tmp', `${uploadId}.part`));
      expect(part.subarray(0, CHUNK).equals(staleBytes)).toBe(true);
    } finally {
      worker.child.kill('SIGCONT');
    }

    const returned = await ctx.client.waitForStatus(uploadId, ['uploading', 'completed', 'failed']);
    expect(returned).toMatchObject({ status: 'uploading', missingChunks: [0], receivedChunks: 3, error: { code: 'CHUNKS_CORRUPT', chunks: [0] } });
    expect((await ctx.client.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);
    await expectDelivered(ctx.stack, ctx.client, uploadId, file, CHUNK);
    expect(sha256((await ctx.client.download(uploadId)).data)).toBe(sha256(file));
  });
});
