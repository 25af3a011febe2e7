import Redis from 'ioredis';
import { PrivateRedis } from '../support/private-services';
import { eventually, sleep } from '../support/processes';
import { Stack } from '../support/stack';
import { UploadClient, randomFile } from '../support/upload-client';
import { WebhookReceiver, newWebhookSecret } from '../support/webhook-receiver';

const CHUNK = 256 * 1024;

async function uploadFile(client: UploadClient): Promise<string> {
  const file = randomFile(CHUNK + 1000);
  const { uploadId } = await client.create(file, { chunkSize: CHUNK });
  for (const index of [0, 1]) {
    const response = await client.putChunk(uploadId, file, index, CHUNK);
    if (response.status !== 200) throw new Error(`chunk ${index}: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return uploadId;
}

async function outboxEmpty(stack: Stack): Promise<true | undefined> {
  const { rows } = await stack.db.query<{ count: string }>('SELECT count(*) FROM webhook_events');
  return Number(rows[0].count) === 0 ? true : undefined;
}

/**
 * Events live in Postgres, written with the status change: a worker killed in the middle of an
 * attempt, or a Redis that lost everything, delays a delivery but never loses it.
 */
describe('webhook delivery through faults', () => {
  let receiver: WebhookReceiver;
  let redis: PrivateRedis;
  let stack: Stack;
  let client: UploadClient;

  beforeAll(async () => {
    const secret = newWebhookSecret();
    receiver = await WebhookReceiver.start(secret);
    redis = await PrivateRedis.start();
    stack = await Stack.start({ redisUrl: redis.url, env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret, MAINTENANCE_INTERVAL: '1s' } });
    client = new UploadClient(stack);
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
    await receiver?.stop();
  });

  it('delivers an event whose worker was killed mid-attempt once a new worker starts', async () => {
    let killed: Promise<unknown> = Promise.resolve();
    receiver.answer = (_, attempt) => {
      if (attempt > 1) return { status: 204 };
      // The attempt is open on the receiver: kill its worker now.
      killed = Promise.all(stack.workers.map((worker) => worker.stop('SIGKILL')));
      return 'hang';
    };
    const uploadId = await uploadFile(client);
    const [first] = await receiver.waitFor(uploadId);
    await killed;
    expect(stack.workers.every((worker) => !worker.running)).toBe(true);
    await sleep(1_000);
    expect(receiver.deliveriesOf(uploadId)).toHaveLength(1);

    const restartedAt = Date.now();
    await stack.startWorker();
    // The dead worker's claim lapses within seconds of its last renewal.
    const [, second] = await receiver.waitFor(uploadId, 2, 20_000);
    expect(second).toMatchObject({ id: first.id, body: first.body, verified: true });
    expect(second.receivedAt - restartedAt).toBeLessThan(10_000);
    await eventually(outboxEmpty.bind(null, stack), 'the event to leave the outbox');
    expect([...receiver.overlapping]).toEqual([]);
  });

  it('delivers an event after Redis lost all its data between the status change and the delivery', async () => {
    // The first attempt is refused, so the event waits for its retry while Redis is emptied.
    let flushed: Promise<unknown> = Promise.resolve();
    receiver.answer = (_, attempt) => {
      if (attempt > 1) return { status: 204 };
      const admin = new Redis(redis.url);
      flushed = admin.flushall().finally(() => admin.disconnect());
      return { status: 500 };
    };
    const uploadId = await uploadFile(client);
    const [first] = await receiver.waitFor(uploadId);
    await flushed;
    const [, second] = await receiver.waitFor(uploadId, 2, 20_000);

    expect(second).toMatchObject({ id: first.id, body: first.body, verified: true });
    expect(JSON.parse(second.body)).toMatchObject({ type: 'upload.completed', data: { uploadId, status: 'completed' } });
    await eventually(outboxEmpty.bind(null, stack), 'the event to leave the outbox');
  });
});
