import { eventually } from '../support/processes';
import { PrivatePostgres, PrivateRedis } from '../support/private-services';
import { TestS3Server } from '../support/s3-server';
import { Stack } from '../support/stack';
import { UploadClient, randomFile, rawPut, recordedChunks } from '../support/upload-client';
import { expectDelivered, putUntilAccepted } from '../support/faults';
import { expectError } from '../support/expect-error';
import { STORAGE_MODES, smallChunk } from '../support/test-store';

const CHUNK = 256 * 1024;
const TOTAL = 8;

/** Sends chunks [from, to) and insists on 200. */
async function sendChunks(client: UploadClient, uploadId: string, file: Buffer, from: number, to: number, chunkSize = CHUNK): Promise<void> {
  for (let index = from; index < to; index++) expect((await client.putChunk(uploadId, file, index, chunkSize)).status).toBe(200);
}

describe('Redis stopped mid-upload and restarted empty', () => {
  let redis: PrivateRedis;
  let stack: Stack;
  let client: UploadClient;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    stack = await Stack.start({ redisUrl: redis.url, env: { MAINTENANCE_INTERVAL: '1s' } });
    client = new UploadClient(stack);
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it('answers 503 while it is down, records nothing, and completes the upload after it returns', async () => {
    const file = randomFile(TOTAL * CHUNK - 99);
    const { uploadId } = await client.create(file, { chunkSize: CHUNK });
    await sendChunks(client, uploadId, file, 0, 3);

    await redis.stop();
    for (let index = 3; index < TOTAL; index++) {
      const response = await client.putChunk(uploadId, file, index, CHUNK);
      expectError(response, 503, 'SERVICE_UNAVAILABLE');
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    expect(await recordedChunks(stack, uploadId)).toEqual([0, 1, 2]);
    // Progress lives in Postgres: a client can still see where to resume.
    expect((await client.status(uploadId)).body).toMatchObject({ status: 'uploading', missingChunks: [3, 4, 5, 6, 7] });
    expect((await client.call('GET', '/health/ready')).status).toBe(503);

    await redis.resume();
    for (let index = 3; index < TOTAL; index++) await putUntilAccepted(client, uploadId, file, index, CHUNK);
    await expectDelivered(stack, client, uploadId, file, CHUNK);
  });

  it('loses no assembly job when it comes back without its data: the reconciler re-enqueues it', async () => {
    const file = randomFile(TOTAL * CHUNK);
    const { uploadId } = await client.create(file, { chunkSize: CHUNK });
    // The replica may still be settling after the restart above: a retryable 409 is retried.
    for (let index = 0; index < TOTAL - 1; index++) await putUntilAccepted(client, uploadId, file, index, CHUNK);

    // Freeze the worker so the job is still waiting in Redis when Redis loses everything.
    const [worker] = stack.workers;
    worker.child.kill('SIGSTOP');
    try {
      expect((await client.putChunk(uploadId, file, TOTAL - 1, CHUNK)).body.status).toBe('assembling');
      await redis.stop();
      await redis.resume();
      // Nothing survived; the API's liveness key may already be back (its replica never stopped).
      expect((await stack.redis.keys(`${stack.prefix}:*`)).filter((key) => !key.startsWith(`${stack.prefix}:replica:`))).toEqual([]);
    } finally {
      worker.child.kill('SIGCONT');
    }
    await expectDelivered(stack, client, uploadId, file, CHUNK);
  });
});

describe('Postgres stopped mid-upload and restarted', () => {
  let postgres: PrivatePostgres;
  let stack: Stack;
  let client: UploadClient;

  beforeAll(async () => {
    postgres = await PrivatePostgres.start();
    stack = await Stack.start({ databaseUrl: `${postgres.url}/uploads`, env: { MAINTENANCE_INTERVAL: '1s' } });
    client = new UploadClient(stack);
  });
  afterAll(async () => {
    await stack?.stop();
    await postgres?.destroy();
  });

  it('answers 503 while it is down, records nothing, and completes the upload after it returns', async () => {
    const file = randomFile(TOTAL * CHUNK - 1);
    const { uploadId } = await client.create(file, { chunkSize: CHUNK });
    await sendChunks(client, uploadId, file, 0, 3);

    await postgres.stop();
    for (let index = 3; index < TOTAL; index++) expectError(await client.putChunk(uploadId, file, index, CHUNK), 503, 'SERVICE_UNAVAILABLE');
    expectError(await client.status(uploadId), 503, 'SERVICE_UNAVAILABLE');
    expectError(await client.initiate({ fileName: 'a', fileSize: 1 }), 503, 'SERVICE_UNAVAILABLE');
    // No lease outlives a refused request: the retry is not told the chunk is in progress.
    expect(await stack.redis.keys(`${stack.prefix}:lease:*`)).toEqual([]);

    await postgres.resume();
    await stack.reconnectDb();
    expect(await recordedChunks(stack, uploadId)).toEqual([0, 1, 2]);
    for (let index = 3; index < TOTAL; index++) await putUntilAccepted(client, uploadId, file, index, CHUNK);
    await expectDelivered(stack, client, uploadId, file, CHUNK);
  });

  it('loses no assembly when it goes down as the job starts', async () => {
    const file = randomFile(TOTAL * CHUNK);
    const { uploadId } = await client.create(file, { chunkSize: CHUNK });
    const [worker] = stack.workers.filter((candidate) => candidate.running);
    worker.child.kill('SIGSTOP');
    try {
      await sendChunks(client, uploadId, file, 0, TOTAL);
      await postgres.stop();
    } finally {
      // The worker wakes to a job it cannot run: the database is gone.
      worker.child.kill('SIGCONT');
    }
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await postgres.resume();
    await stack.reconnectDb();
    await expectDelivered(stack, client, uploadId, file, CHUNK);
  });
});

if (STORAGE_MODES.includes('s3')) describe('the S3 store (radosgw) stopped mid-upload and restarted', () => {
  const S3_CHUNK = smallChunk('s3');
  // Its own Ceph cluster: stopping the run's shared radosgw would break the other suites.
  let server: TestS3Server;
  let stack: Stack;
  let client: UploadClient;

  beforeAll(async () => {
    server = await TestS3Server.start();
    stack = await Stack.start({ storage: 's3', s3Server: server, env: { MAINTENANCE_INTERVAL: '1s' } });
    client = new UploadClient(stack);
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
    await server?.stop();
  });

  it('answers 503 while it is down, records nothing, and completes the upload byte-exact after it returns', async () => {
    const earlier = randomFile(1000);
    const done = await client.uploadAll(earlier, { chunkSize: S3_CHUNK });
    await client.waitForStatus(done.uploadId, ['completed']);
    const file = randomFile(TOTAL * S3_CHUNK - 99);
    const { uploadId } = await client.create(file, { chunkSize: S3_CHUNK });
    await sendChunks(client, uploadId, file, 0, 3, S3_CHUNK);

    // Chunk 3 is streaming to the store when radosgw dies.
    const chunk3 = file.subarray(3 * S3_CHUNK, 4 * S3_CHUNK);
    const inFlight = rawPut(stack, uploadId, { 'content-range': `bytes ${3 * S3_CHUNK}-${4 * S3_CHUNK - 1}/${file.length}`, 'content-length': String(S3_CHUNK) });
    inFlight.write(chunk3.subarray(0, S3_CHUNK / 2));
    await eventually(async () => ((await stack.redis.exists(`${stack.prefix}:lease:${uploadId}:3`)) === 1 ? true : undefined), 'the chunk 3 lease to be taken');
    await server.stopGateway();
    expectError(await inFlight.finish(chunk3.subarray(S3_CHUNK / 2)), 503, 'SERVICE_UNAVAILABLE');

    // A download is answered with a 503 before any file header, not cut after them.
    const download = await client.download(done.uploadId);
    expect(download.status).toBe(503);
    expect(JSON.parse(download.data.toString())).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    for (let index = 3; index < TOTAL; index++) {
      const response = await client.putChunk(uploadId, file, index, S3_CHUNK);
      expectError(response, 503, 'SERVICE_UNAVAILABLE');
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    expect(await recordedChunks(stack, uploadId)).toEqual([0, 1, 2]);
    expect((await client.status(uploadId)).body).toMatchObject({ status: 'uploading', missingChunks: [3, 4, 5, 6, 7] });
    expect((await client.call('GET', '/health/ready')).body).toMatchObject({ checks: { storage: 'down' } });
    // No lease outlives a refused request: the retry is not told the chunk is in progress.
    expect(await stack.redis.keys(`${stack.prefix}:lease:*`)).toEqual([]);

    await server.startGateway();
    for (let index = 3; index < TOTAL; index++) await putUntilAccepted(client, uploadId, file, index, S3_CHUNK);
    await expectDelivered(stack, client, uploadId, file, S3_CHUNK);
    expect((await client.download(done.uploadId)).data.equals(earlier)).toBe(true);
  });
});
