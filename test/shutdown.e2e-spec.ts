import { get } from 'node:http';
import { eventually } from './support/processes';
import { Stack } from './support/stack';
import { UploadClient, randomFile, rawPut, recordedChunks } from './support/upload-client';

const CHUNK = 256 * 1024;

/** Resolves once the API is handling the chunk: it holds the chunk's lease. */
function handling(stack: Stack, uploadId: string): Promise<boolean> {
  return eventually(async () => ((await stack.redis.exists(`${stack.prefix}:lease:${uploadId}:0`)) === 1 ? true : undefined), 'the API to take the chunk');
}

describe('an API replica stopped with SIGTERM', () => {
  let stack: Stack;
  afterEach(() => stack?.stop());

  it('takes no new connections but lets a chunk in flight finish and be recorded', async () => {
    stack = await Stack.start({ env: { SHUTDOWN_TIMEOUT: '30s' } });
    const client = new UploadClient(stack);
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await client.create(file, { chunkSize: CHUNK });
    const put = rawPut(stack, uploadId, { 'content-range': `bytes 0-${CHUNK - 1}/${file.length}`, 'content-length': String(CHUNK) });
    put.write(file.subarray(0, CHUNK / 2));
    await handling(stack, uploadId);

    stack.api.child.kill('SIGTERM');
    await stack.api.waitForOutput(/SIGTERM: taking no new connections/);
    // The listener closes right after that line is written.
    await eventually(() => fetch(stack.url('/health/live')).then(() => undefined, () => true), 'new connections to be refused');

    const answer = await put.finish(file.subarray(CHUNK / 2, CHUNK));
    expect(answer).toMatchObject({ status: 200, body: { chunkIndex: 0, receivedChunks: 1 } });
    // The connection is not kept alive for more requests to a replica on its way out.
    expect(answer?.headers.get('connection')).toBe('close');
    await stack.api.wait();
    expect(await recordedChunks(stack, uploadId)).toEqual([0]);
  });

  it('closes a request still in flight after SHUTDOWN_TIMEOUT, records nothing from it, and exits', async () => {
    stack = await Stack.start({ env: { SHUTDOWN_TIMEOUT: '1s', BODY_IDLE_TIMEOUT: '1m' } });
    const client = new UploadClient(stack);
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await client.create(file, { chunkSize: CHUNK });
    const put = rawPut(stack, uploadId, { 'content-range': `bytes 0-${CHUNK - 1}/${file.length}`, 'content-length': String(CHUNK) });
    put.write(file.subarray(0, 1000));
    await handling(stack, uploadId);

    const stoppedAt = Date.now();
    stack.api.child.kill('SIGTERM');
    await stack.api.wait();
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(stack.api.log).toMatch(/still in flight after 1 s/);
    expect(await put.finish()).toBeNull();
    expect(await recordedChunks(stack, uploadId)).toEqual([]);
  });
});

describe('an API replica between requests', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start();
  });
  afterAll(() => stack?.stop());

  it('keeps an idle connection for longer than clients and proxies do, and says how long', async () => {
    // Clients drop an idle connection a little before the Keep-Alive hint; proxies after their
    // own timeout (nginx's here: 4 s). The server closing it first would fail the request sent on it.
    const keepAlive = await new Promise<string | string[] | undefined>((resolve, reject) => {
      get(stack.url('/health/live'), (response) => {
        response.resume();
        response.on('end', () => resolve(response.headers['keep-alive']));
      }).on('error', reject);
    });
    expect(keepAlive).toBe('timeout=65');
  });
});
