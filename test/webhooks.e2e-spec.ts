import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually, freePort, sleep } from './support/processes';
import { Stack } from './support/stack';
import { UploadClient, randomFile, sha256 } from './support/upload-client';
import { WebhookReceiver, newWebhookSecret } from './support/webhook-receiver';

const CHUNK = 256 * 1024;
const CLI = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');

/** Runs the CLI to the end; its stdout is not a terminal, so it prints JSON lines. */
async function cli(args: string[], env: Record<string, string>): Promise<Record<string, any>[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env } });
  return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}
const PUBLIC_BASE_URL = 'https://uploads.example.com';

/** Uploads a two-chunk file; the last chunk starts its assembly. */
async function uploadFile(client: UploadClient, options: { sha256?: string } = {}): Promise<string> {
  const file = randomFile(CHUNK + 1000);
  const { uploadId } = await client.create(file, { chunkSize: CHUNK, sha256: options.sha256 });
  for (const index of [0, 1]) {
    const response = await client.putChunk(uploadId, file, index, CHUNK);
    if (response.status !== 200) throw new Error(`chunk ${index}: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return uploadId;
}

async function storedEvents(stack: Stack, uploadId?: string): Promise<number> {
  const { rows } = await stack.db.query<{ count: string }>(`SELECT count(*) FROM webhook_events ${uploadId ? 'WHERE upload_id = $1' : ''}`, uploadId ? [uploadId] : []);
  return Number(rows[0].count);
}

describe('webhooks', () => {
  let receiver: WebhookReceiver;
  let stack: Stack;
  let client: UploadClient;

  beforeAll(async () => {
    const secret = newWebhookSecret();
    receiver = await WebhookReceiver.start(secret);
    stack = await Stack.start({ env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret, PUBLIC_BASE_URL } });
    client = new UploadClient(stack);
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });
  beforeEach(() => {
    receiver.answer = () => ({ status: 204 });
  });

  it('delivers a completed upload once, signed, with its status body as data', async () => {
    const uploadId = await uploadFile(client);
    const status = await client.waitForStatus(uploadId, ['completed']);
    const [delivery] = await receiver.waitFor(uploadId);

    expect(delivery.verified).toBe(true);
    expect(delivery.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(Math.abs(Number(delivery.timestamp) - delivery.receivedAt / 1000)).toBeLessThan(5);
    expect(delivery.event).toEqual({ type: 'upload.completed', timestamp: status.updatedAt, data: status });
    expect(delivery.event.data.downloadUrl).toBe(`${PUBLIC_BASE_URL}/resumable-upload/uploads/${uploadId}/file`);
    await eventually(async () => ((await storedEvents(stack, uploadId)) === 0 ? true : undefined), 'the delivered event to leave the outbox');
    await sleep(2_000);
    expect(receiver.deliveriesOf(uploadId)).toHaveLength(1);
  });

  it('sends the same webhook-id again after a 500, and no third time after a 204', async () => {
    receiver.answer = (_, attempt) => ({ status: attempt === 1 ? 500 : 204 });
    const uploadId = await uploadFile(client);
    const [first, second] = await receiver.waitFor(uploadId, 2);

    expect(second.id).toBe(first.id);
    expect(second.body).toBe(first.body);
    expect([first.verified, second.verified]).toEqual([true, true]);
    // The first retry comes within 10 s.
    expect(second.receivedAt - first.receivedAt).toBeLessThan(10_000);
    await sleep(6_000);
    expect(receiver.deliveriesOf(uploadId)).toHaveLength(2);
    expect(await storedEvents(stack, uploadId)).toBe(0);
  });

  it('waits as long as Retry-After says on a 429', async () => {
    // Longer than any first backoff (at most 5 s), so only Retry-After explains the wait.
    receiver.answer = (_, attempt) => (attempt === 1 ? { status: 429, headers: { 'retry-after': '8' } } : { status: 204 });
    const uploadId = await uploadFile(client);
    const [first, second] = await receiver.waitFor(uploadId, 2);

    expect(second.id).toBe(first.id);
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(8_000);
    expect(second.receivedAt - first.receivedAt).toBeLessThan(11_000);
  });

  it('sends upload.failed with its error code when the declared SHA-256 differs', async () => {
    const uploadId = await uploadFile(client, { sha256: sha256(Buffer.from('another file')) });
    const status = await client.waitForStatus(uploadId, ['failed', 'completed']);
    expect(status.status).toBe('failed');
    const [delivery] = await receiver.waitFor(uploadId);

    expect(delivery.verified).toBe(true);
    expect(delivery.event.type).toBe('upload.failed');
    expect(delivery.event.data).toEqual(status);
    expect(delivery.event.data.error).toEqual(expect.objectContaining({ code: 'CHECKSUM_MISMATCH' }));
  });

  it('sends upload.failed for an upload the API failed because its stored bytes were lost', async () => {
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await client.create(file, { chunkSize: CHUNK });
    await rm(join(stack.storageDir, 'tmp', `${uploadId}.part`));
    expect((await client.putChunk(uploadId, file, 0, CHUNK)).body.code).toBe('UPLOAD_NOT_ACCEPTING');
    const [delivery] = await receiver.waitFor(uploadId);

    expect(delivery.verified).toBe(true);
    expect(delivery.event).toMatchObject({ type: 'upload.failed', data: { uploadId, status: 'failed', error: { code: 'STORAGE_LOST' } } });
    expect(delivery.event.data).toEqual((await client.status(uploadId)).body);
  });

  it('cuts an attempt that gets no answer at 15 s and tries again', async () => {
    receiver.answer = (_, attempt) => (attempt === 1 ? 'hang' : { status: 204 });
    const uploadId = await uploadFile(client);
    const [hung, retried] = await receiver.waitFor(uploadId, 2, 40_000);

    expect(hung.cutAt).toBeDefined();
    expect(hung.cutAt! - hung.receivedAt).toBeGreaterThanOrEqual(14_500);
    expect(hung.cutAt! - hung.receivedAt).toBeLessThan(17_000);
    expect(retried.id).toBe(hung.id);
    expect(retried.verified).toBe(true);
    await eventually(async () => ((await storedEvents(stack, uploadId)) === 0 ? true : undefined), 'the delivered event to leave the outbox');
  });
});

describe('dead webhook events', () => {
  const OWNER = 'owner-key-0123456789';
  const STRANGER = 'stranger-key-0123456789';
  let receiver: WebhookReceiver;
  let stack: Stack;
  let metricsPort: number;

  beforeAll(async () => {
    const secret = newWebhookSecret();
    receiver = await WebhookReceiver.start(secret);
    metricsPort = await freePort();
    stack = await Stack.start({
      env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret, WEBHOOK_RETRY_FOR: '3s', API_KEYS: `${OWNER},${STRANGER}`, METRICS_PORT: String(metricsPort) },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  const workerMetric = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const line = text.split('\n').find((row) => row.startsWith(`${name} `) || row.startsWith(`${name}{`));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };

  it('marks an event dead after WEBHOOK_RETRY_FOR, lists it for its owner only, and sends it again on request', async () => {
    receiver.answer = () => ({ status: 500 });
    const owner = new UploadClient(stack, { authorization: `Bearer ${OWNER}` });
    const stranger = new UploadClient(stack, { authorization: `Bearer ${STRANGER}` });
    const uploadId = await uploadFile(owner);

    const dead = await eventually(async () => {
      const response = await owner.call('GET', `/resumable-upload/uploads/${uploadId}/events`);
      return response.body.events?.[0]?.state === 'dead' ? response.body : undefined;
    }, 'the event to be marked dead', 20_000, 200);
    expect(dead.events).toEqual([
      { id: expect.stringMatching(/^msg_/), type: 'upload.completed', state: 'dead', attempts: expect.any(Number), occurredAt: expect.any(String), nextAttemptAt: null, lastError: 'the receiver answered HTTP 500' },
    ]);
    const attempts = receiver.deliveriesOf(uploadId);
    expect(attempts.length).toBe(dead.events[0].attempts);
    expect(new Set(attempts.map((attempt) => attempt.id))).toEqual(new Set([dead.events[0].id]));
    await sleep(3_000);
    expect(receiver.deliveriesOf(uploadId)).toHaveLength(attempts.length);

    expect(await workerMetric('resumable_upload_webhook_dead_events_total')).toBe(1);
    expect(await workerMetric('resumable_upload_webhook_dead_events')).toBe(1);
    expect(await workerMetric('resumable_upload_webhook_oldest_pending_age_seconds')).toBe(0);
    expect(await workerMetric('resumable_upload_webhook_retries_total')).toBe(attempts.length - 1);

    for (const [method, path] of [['GET', 'events'], ['POST', 'events/redeliver']]) {
      const response = await stranger.call(method, `/resumable-upload/uploads/${uploadId}/${path}`);
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('UPLOAD_NOT_FOUND');
    }

    const cliEnv = { RESUMABLE_UPLOAD_ENDPOINT: stack.baseUrl, RESUMABLE_UPLOAD_API_KEY: OWNER };
    expect(await cli(['events', uploadId], cliEnv)).toEqual([{ uploadId, ...dead.events[0] }]);

    receiver.answer = () => ({ status: 200 });
    const redelivered = await cli(['redeliver', uploadId], cliEnv);
    expect(redelivered).toEqual([expect.objectContaining({ uploadId, id: dead.events[0].id, state: 'pending' })]);
    const again = await owner.call('POST', `/resumable-upload/uploads/${uploadId}/events/redeliver`);
    expect(again).toMatchObject({ status: 200, body: { uploadId, events: [] } });
    const deliveries = await receiver.waitFor(uploadId, attempts.length + 1);
    expect(deliveries.at(-1)).toMatchObject({ id: dead.events[0].id, verified: true });
    await eventually(async () => {
      const response = await owner.call('GET', `/resumable-upload/uploads/${uploadId}/events`);
      return response.body.events.length === 0 ? true : undefined;
    }, 'the re-sent event to be delivered');
    expect(await workerMetric('resumable_upload_webhook_dead_events')).toBe(0);
    expect(await workerMetric('resumable_upload_webhook_deliveries_total{outcome="delivered"}')).toBe(1);
  });
});

describe('webhooks with two workers', () => {
  let receiver: WebhookReceiver;
  let stack: Stack;

  beforeAll(async () => {
    const secret = newWebhookSecret();
    receiver = await WebhookReceiver.start(secret);
    stack = await Stack.start({ workers: 2, env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret } });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  it('delivers every event, none twice at once, each exactly as often as the answers ask', async () => {
    // Slow answers keep attempts open while the other worker polls; every other event is refused once.
    const refusedOnce = new Set<string>();
    receiver.answer = async (delivery, attempt) => {
      await sleep(300);
      if (attempt === 1 && parseInt(delivery.id.slice(-1), 16) % 2 === 0) {
        refusedOnce.add(delivery.id);
        return { status: 503, headers: { 'retry-after': '1' } };
      }
      return { status: 204 };
    };
    const client = new UploadClient(stack);
    const uploadIds = await Promise.all(Array.from({ length: 12 }, () => uploadFile(client)));
    await Promise.all(uploadIds.map((uploadId) => client.waitForStatus(uploadId, ['completed'])));
    await eventually(async () => ((await storedEvents(stack)) === 0 ? true : undefined), 'every event to be delivered', 30_000, 200);
    await sleep(2_000);

    expect([...receiver.overlapping]).toEqual([]);
    for (const uploadId of uploadIds) {
      const deliveries = receiver.deliveriesOf(uploadId);
      const [id] = new Set(deliveries.map((delivery) => delivery.id));
      expect({ uploadId, ids: new Set(deliveries.map((delivery) => delivery.id)).size, attempts: deliveries.length }).toEqual({ uploadId, ids: 1, attempts: refusedOnce.has(id) ? 2 : 1 });
      expect(deliveries.every((delivery) => delivery.verified)).toBe(true);
    }
    const workersThatDelivered = stack.workers.filter((worker) => /delivered on attempt/.test(worker.log));
    expect(workersThatDelivered.length).toBeGreaterThanOrEqual(1);
  });
});

describe('without WEBHOOK_URL', () => {
  let receiver: WebhookReceiver;
  let stack: Stack;

  beforeAll(async () => {
    const secret = newWebhookSecret();
    receiver = await WebhookReceiver.start(secret);
    // The secret alone does not turn webhooks on.
    stack = await Stack.start({ env: { WEBHOOK_SECRET: secret } });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  it('sends nothing and records no event', async () => {
    const client = new UploadClient(stack);
    const completed = await uploadFile(client);
    const failed = await uploadFile(client, { sha256: sha256(Buffer.from('another file')) });
    await client.waitForStatus(completed, ['completed']);
    await client.waitForStatus(failed, ['failed']);
    await sleep(2_000);

    expect(receiver.received).toEqual([]);
    expect(await storedEvents(stack)).toBe(0);
    const listed = await client.call('GET', `/resumable-upload/uploads/${completed}/events`);
    expect(listed).toMatchObject({ status: 200, body: { uploadId: completed, events: [] } });
  });
});
