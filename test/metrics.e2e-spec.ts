import { Server, createServer } from 'node:net';
import { eventually, freePort } from './support/processes';
import { Stack } from './support/stack';
import { UploadClient, rawPut, randomFile } from './support/upload-client';

const KiB = 1024;
const CHUNK = 256 * KiB;
const QUEUE_STATES = ['waiting', 'active', 'failed', 'delayed'];

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format into samples; comment lines are skipped. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`Not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[name] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with exactly these labels, or undefined if there is none. */
function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${wanted}`);
  return found[0]?.value;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string | null; text: string; samples: Sample[] }> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), text, samples: response.ok ? parseMetrics(text) : [] };
}

/** Scrapes until `probe` finds what it waits for: shared-store gauges are cached for a few seconds. */
function scrapeUntil<T>(url: string, probe: (samples: Sample[]) => T | undefined, what: string): Promise<T> {
  return eventually(async () => probe((await scrape(url)).samples), what, 15_000, 250);
}

describe('metrics after an upload', () => {
  let stack: Stack;
  let client: UploadClient;
  let workerMetricsUrl: string;

  beforeAll(async () => {
    const metricsPort = await freePort();
    workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    // A short maintenance interval, so the maintenance counters move within the test.
    stack = await Stack.start({ env: { METRICS_PORT: String(metricsPort), MAINTENANCE_INTERVAL: '1s' } });
    client = new UploadClient(stack);
  });
  afterAll(() => stack?.stop());

  it('counts chunks by outcome, their bytes and latency, and the uploads by status', async () => {
    const file = randomFile(2 * CHUNK + 100 * KiB);
    const { uploadId } = await client.create(file, { chunkSize: CHUNK });
    expect((await client.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);
    expect((await client.putChunk(uploadId, file, 1, CHUNK)).status).toBe(200);
    const wrongTotal = await client.call('PUT', `/resumable-upload/chunk?uploadId=${uploadId}`, {
      raw: file.subarray(0, CHUNK),
      headers: { 'content-range': `bytes 0-${CHUNK - 1}/${file.length + 1}` },
    });
    expect(wrongTotal.status).toBe(416);

    // A body cut off mid-way, on another upload that stays uploading: counted though never answered.
    const other = randomFile(CHUNK);
    const { uploadId: cutId } = await client.create(other, { chunkSize: CHUNK });
    const cut = rawPut(stack, cutId, { 'content-range': `bytes 0-${CHUNK - 1}/${CHUNK}`, 'content-length': String(CHUNK) });
    cut.write(other.subarray(0, CHUNK / 2));
    await eventually(async () => ((await stack.redis.exists(`${stack.prefix}:lease:${cutId}:0`)) === 1 ? true : undefined), 'the cut chunk to take its lease');
    cut.cut();

    expect((await client.putChunk(uploadId, file, 2, CHUNK)).status).toBe(200);
    await client.waitForStatus(uploadId, ['completed']);

    const url = stack.url('/metrics');
    const api = await scrapeUntil(url, (samples) => (sample(samples, 'resumable_upload_chunk_requests_total', { outcome: 'CLIENT_CLOSED' }) === 1 ? samples : undefined), 'the cut chunk to be counted');
    const outcomes = api.filter((s) => s.name === 'resumable_upload_chunk_requests_total');
    expect(Object.fromEntries(outcomes.map((s) => [s.labels.outcome, s.value]))).toEqual({ ok: 3, RANGE_NOT_SATISFIABLE: 1, CLIENT_CLOSED: 1 });
    expect(sample(api, 'resumable_upload_chunk_received_bytes_total')).toBe(file.length);
    expect(sample(api, 'resumable_upload_chunk_duration_seconds_count')).toBe(5);
    expect(sample(api, 'resumable_upload_chunk_duration_seconds_bucket', { le: '+Inf' })).toBe(5);
    expect(sample(api, 'resumable_upload_chunk_duration_seconds_sum')).toBeGreaterThan(0);

    const byStatus = await scrapeUntil(
      url,
      (samples) => (sample(samples, 'resumable_upload_uploads', { status: 'completed' }) === 1 ? samples : undefined),
      'the completed upload to be counted',
    );
    expect(Object.fromEntries(byStatus.filter((s) => s.name === 'resumable_upload_uploads').map((s) => [s.labels.status, s.value]))).toEqual({
      uploading: 1,
      assembling: 0,
      completed: 1,
      failed: 0,
      aborted: 0,
      expired: 0,
    });
    expect(sample(byStatus, 'resumable_upload_stuck_assemblies')).toBe(0);
  });

  it('reports the depth of both queues in every state, and the process metrics', async () => {
    const { status, contentType, text, samples } = await scrape(stack.url('/metrics'));
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const queue of ['assembly', 'maintenance']) {
      for (const state of QUEUE_STATES) expect(sample(samples, 'resumable_upload_queue_depth', { queue, state })).toBeGreaterThanOrEqual(0);
    }
    expect(sample(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    // Gauges read from the shared stores say so, since every replica reports them.
    expect(text).toMatch(/# HELP resumable_upload_uploads .*every API replica reports the same value/);
    expect(text).toMatch(/# HELP resumable_upload_queue_depth .*every API replica and worker reports the same value/);
  });

  it("serves the worker's own metrics on METRICS_PORT: the assembly, its duration and bytes", async () => {
    const samples = await scrapeUntil(
      workerMetricsUrl,
      (found) => (sample(found, 'resumable_upload_assemblies_total', { outcome: 'completed' }) === 1 ? found : undefined),
      'the worker to count the completed assembly',
    );
    for (const outcome of ['chunks-returned', 'checksum-mismatch', 'failed', 'error']) expect(sample(samples, 'resumable_upload_assemblies_total', { outcome })).toBe(0);
    expect(sample(samples, 'resumable_upload_assembly_duration_seconds_count', { outcome: 'completed' })).toBe(1);
    expect(sample(samples, 'resumable_upload_assembly_duration_seconds_sum', { outcome: 'completed' })).toBeGreaterThan(0);
    expect(sample(samples, 'resumable_upload_assembled_bytes_total')).toBe(2 * CHUNK + 100 * KiB);
    for (const state of QUEUE_STATES) expect(sample(samples, 'resumable_upload_queue_depth', { queue: 'assembly', state })).toBeGreaterThanOrEqual(0);
    expect(sample(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    const maintenance = await scrapeUntil(
      workerMetricsUrl,
      (found) => (sample(found, 'resumable_upload_maintenance_runs_total', { job: 'requeue-stuck-assemblies', outcome: 'ok' }) ?? 0) >= 1 ? found : undefined,
      'a maintenance run to be counted',
    );
    expect(sample(maintenance, 'resumable_upload_expired_sessions_total')).toBe(0);
    expect(sample(maintenance, 'resumable_upload_maintenance_runs_total', { job: 'requeue-stuck-assemblies', outcome: 'error' })).toBeUndefined();

    const elsewhere = await fetch(workerMetricsUrl.replace('/metrics', '/health'));
    expect(elsewhere.status).toBe(404);
    const posted = await fetch(workerMetricsUrl, { method: 'POST' });
    expect(posted.status).toBe(404);
  });
});

describe('metrics with API keys', () => {
  const KEY = 'metrics-test-key-0123456789';
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start({ env: { API_KEYS: KEY }, workers: 0 });
  });
  afterAll(() => stack?.stop());

  it('serves /metrics without a key, and counts chunk PUTs refused before their body is read', async () => {
    // The keys are enforced: the same request elsewhere is refused.
    expect((await fetch(stack.url('/resumable-upload/uploads/AAAAAAAAAAAAAAAAAAAAAA'))).status).toBe(401);
    const body = Buffer.alloc(CHUNK);
    const noKey = await fetch(stack.url('/resumable-upload/chunk?uploadId=AAAAAAAAAAAAAAAAAAAAAA'), { method: 'PUT', headers: { 'content-range': `bytes 0-${CHUNK - 1}/${CHUNK}` }, body });
    expect(noKey.status).toBe(401);
    const badId = await fetch(stack.url('/resumable-upload/chunk?uploadId=not-an-id'), {
      method: 'PUT',
      headers: { authorization: `Bearer ${KEY}`, 'content-range': `bytes 0-${CHUNK - 1}/${CHUNK}` },
      body,
    });
    expect(badId.status).toBe(400);

    const { status, samples } = await scrape(stack.url('/metrics'));
    expect(status).toBe(200);
    const outcomes = samples.filter((s) => s.name === 'resumable_upload_chunk_requests_total');
    expect(Object.fromEntries(outcomes.map((s) => [s.labels.outcome, s.value]))).toEqual({ ok: 0, UNAUTHORIZED: 1, INVALID_UPLOAD_ID: 1 });
    expect(sample(samples, 'resumable_upload_chunk_duration_seconds_count')).toBe(2);
    expect(sample(samples, 'resumable_upload_chunk_received_bytes_total')).toBe(0);
  });
});

describe('stuck assemblies', () => {
  let stack: Stack;
  let client: UploadClient;

  beforeAll(async () => {
    // No worker, so nothing moves the uploads this test puts in assembling.
    stack = await Stack.start({ env: { WORKER_LOCK_DURATION: '1h' }, workers: 0 });
    client = new UploadClient(stack);
  });
  afterAll(() => stack?.stop());

  it('counts the uploads assembling for longer than WORKER_LOCK_DURATION, and not the recent ones', async () => {
    const file = randomFile(CHUNK);
    const { uploadId: longAgo } = await client.create(file, { chunkSize: CHUNK });
    const { uploadId: recent } = await client.create(file, { chunkSize: CHUNK });
    await stack.db.query(`UPDATE uploads SET status = 'assembling', updated_at = now() - interval '2 hours' WHERE id = $1`, [longAgo]);
    await stack.db.query(`UPDATE uploads SET status = 'assembling', updated_at = now() WHERE id = $1`, [recent]);

    const samples = await scrapeUntil(
      stack.url('/metrics'),
      (found) => (sample(found, 'resumable_upload_uploads', { status: 'assembling' }) === 2 ? found : undefined),
      'both assembling uploads to be counted',
    );
    expect(sample(samples, 'resumable_upload_stuck_assemblies')).toBe(1);
  });
});

describe('a worker whose METRICS_PORT is taken', () => {
  let blocker: Server;
  let stack: Stack;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '0.0.0.0', resolve));
    stack = await Stack.start({ env: { METRICS_PORT: String(port) } });
  });
  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolve) => blocker?.close(resolve));
  });

  it('warns and keeps assembling', async () => {
    const [worker] = stack.workers;
    expect(worker.log).toMatch(new RegExp(`METRICS_PORT ${port} cannot be bound \\(it is in use\\)`));
    const client = new UploadClient(stack);
    const { uploadId } = await client.uploadAll(randomFile(CHUNK), { chunkSize: CHUNK });
    await client.waitForStatus(uploadId, ['completed']);
    expect(worker.running).toBe(true);
  });
});
