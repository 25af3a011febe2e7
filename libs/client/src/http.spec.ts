import { NetworkError, UploadAbortedError, UploadFailedError } from './errors';
import { UploadApi } from './http';

type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

/** A fetch that answers from a script and records each call. */
function scriptedFetch(replies: Reply[]) {
  const calls: { url: string; init: RequestInit; at: number }[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    calls.push({ url, init, at: Date.now() });
    const reply = replies.shift() ?? { status: 500 };
    if (reply instanceof Error) throw reply;
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), { status: reply.status, headers: reply.headers });
  }) as typeof fetch;
  return { calls, fetchImpl };
}

function api(fetchImpl: typeof fetch, attempts = 4) {
  return new UploadApi({ endpoint: 'http://api.test/', apiKey: 'secret-key-1234567', fetch: fetchImpl, retry: { attempts, baseDelayMs: 1, maxDelayMs: 5 } });
}

const statusBody = { uploadId: 'u1', status: 'uploading', missingChunks: [] };

describe('UploadApi', () => {
  it('retries 503, 408 and CHUNK_IN_PROGRESS, then takes the answer', async () => {
    const { calls, fetchImpl } = scriptedFetch([
      { status: 503, body: { code: 'SERVICE_UNAVAILABLE' } },
      { status: 408, body: { code: 'REQUEST_TIMEOUT' } },
      { status: 409, body: { code: 'CHUNK_IN_PROGRESS' } },
      { status: 200, body: { chunkIndex: 0 } },
    ]);
    await expect(api(fetchImpl).putChunk('u1', 'bytes 0-2/3', 'sha-256=:x:', new Uint8Array(3))).resolves.toBe('stored');
    expect(calls).toHaveLength(4);
    expect(calls[0].url).toBe('http://api.test/resumable-upload/chunk?uploadId=u1');
    expect(calls[0].init.headers).toMatchObject({ 'content-range': 'bytes 0-2/3', 'content-digest': 'sha-256=:x:', authorization: 'Bearer secret-key-1234567' });
  });

  it('sends chunk bytes as they are, or as a new one-piece stream with their length on every attempt', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const plain = scriptedFetch([{ status: 200, body: {} }]);
    await api(plain.fetchImpl).putChunk('u1', 'bytes 0-2/3', 'd', bytes);
    expect(plain.calls[0].init.body).toBe(bytes);

    const streamed = scriptedFetch([{ status: 503, body: { code: 'SERVICE_UNAVAILABLE' } }, { status: 200, body: {} }, { status: 201, body: { uploadId: 'u2' } }]);
    const streaming = new UploadApi({ endpoint: 'http://api.test', fetch: streamed.fetchImpl, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 }, streamChunkBodies: true });
    await expect(streaming.putChunk('u1', 'bytes 0-2/3', 'd', bytes)).resolves.toBe('stored');
    const [first, second] = streamed.calls.map((call) => call.init as RequestInit & { duplex?: string });
    expect(first.body).toBeInstanceOf(ReadableStream);
    expect(second.body).not.toBe(first.body);
    expect(second).toMatchObject({ duplex: 'half', headers: { 'content-length': '3' } });
    expect(new Uint8Array(await new Response(second.body).arrayBuffer())).toEqual(bytes);
    // Other requests keep their JSON bodies.
    await streaming.initiate({ fileName: 'a.bin', fileSize: 3 }, 'key');
    expect(streamed.calls[2].init.body).toBe(JSON.stringify({ fileName: 'a.bin', fileSize: 3 }));
  });

  it('does not retry other 4xx, and throws the contract code', async () => {
    const { calls, fetchImpl } = scriptedFetch([{ status: 416, body: { statusCode: 416, code: 'RANGE_NOT_SATISFIABLE', message: 'Expected bytes 0-9/10.' } }]);
    const error = await api(fetchImpl).putChunk('u1', 'bytes 0-2/10', 'd', new Uint8Array(3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadFailedError);
    expect(error).toMatchObject({ code: 'RANGE_NOT_SATISFIABLE', status: 416, message: expect.stringContaining('Expected bytes 0-9/10.') });
    expect(calls).toHaveLength(1);
  });

  it('retries network errors, and gives up with a NetworkError after `attempts`', async () => {
    const { calls, fetchImpl } = scriptedFetch([new TypeError('fetch failed'), new TypeError('fetch failed'), new TypeError('fetch failed')]);
    await expect(api(fetchImpl, 3).status('u1')).rejects.toThrow(NetworkError);
    expect(calls).toHaveLength(3);
  });

  it('surfaces the last 5xx as an UploadFailedError once retries run out', async () => {
    const { calls, fetchImpl } = scriptedFetch([{ status: 503, body: { code: 'SERVICE_UNAVAILABLE', message: 'down' } }, { status: 503, body: { code: 'SERVICE_UNAVAILABLE', message: 'down' } }]);
    await expect(api(fetchImpl, 2).status('u1')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(calls).toHaveLength(2);
  });

  it('waits as long as Retry-After says before retrying', async () => {
    const { calls, fetchImpl } = scriptedFetch([{ status: 503, body: { code: 'SERVICE_UNAVAILABLE' }, headers: { 'retry-after': '1' } }, { status: 200, body: statusBody }]);
    await api(fetchImpl).status('u1');
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(990);
  });

  it('treats 404 on status as an unknown session, not an error', async () => {
    const { fetchImpl } = scriptedFetch([{ status: 404, body: { code: 'UPLOAD_NOT_FOUND' } }]);
    await expect(api(fetchImpl).status('gone')).resolves.toBeNull();
  });

  it('stops waiting for a retry as soon as the signal fires', async () => {
    const { fetchImpl } = scriptedFetch([{ status: 503, headers: { 'retry-after': '30' } }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const started = Date.now();
    await expect(api(fetchImpl).status('u1', controller.signal)).rejects.toThrow(UploadAbortedError);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
