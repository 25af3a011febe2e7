import { randomFile, useStack } from './support/upload-client';
import { eventually } from './support/processes';

const CHUNK = 256 * 1024;
const KEY = 'log-test-key-0123456789abcdef';

interface LogLine {
  level: number;
  msg: string;
  uploadId?: string;
  req?: { id: string; method: string; url: string };
  res?: { statusCode: number };
  responseTime?: number;
}

describe('request logs', () => {
  const ctx = useStack({ env: { API_KEYS: KEY } });
  const headers = { authorization: `Bearer ${KEY}` };

  function logLines(): LogLine[] {
    return ctx.stack.api.log
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  }

  it('are JSON, one line per request, with request id, upload id, status and duration, and no keys or bytes', async () => {
    const file = randomFile(CHUNK);
    const initiated = await ctx.client.initiate({ fileName: 'a.bin', fileSize: file.length, chunkSize: CHUNK }, headers);
    const { uploadId } = initiated.body;
    const put = await ctx.client.putChunk(uploadId, file, 0, CHUNK, { ...headers, 'x-request-id': 'client-chosen-id-1' });
    expect(put.status).toBe(200);
    expect(put.headers.get('x-request-id')).toBe('client-chosen-id-1');
    const refused = await ctx.client.status(uploadId);
    expect(refused.status).toBe(401);

    const [chunkLine] = await eventually(async () => {
      const lines = logLines().filter((line) => line.req?.id === 'client-chosen-id-1' && line.res);
      return lines.length > 0 ? lines : undefined;
    }, 'the chunk request to be logged');
    expect(chunkLine).toMatchObject({ uploadId, req: { method: 'PUT' }, res: { statusCode: 200 }, responseTime: expect.any(Number) });
    expect(logLines().filter((line) => line.req?.id === 'client-chosen-id-1' && line.res)).toHaveLength(1);

    // Requests without an id get a fresh one, sent back to the client.
    const generated = initiated.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(logLines().find((line) => line.req?.id === generated && line.res)).toMatchObject({ req: { method: 'POST', url: '/resumable-upload/initiate' }, res: { statusCode: 201 } });
    // The line is written as the answer goes out, so it may trail the answer a little.
    await eventually(async () => logLines().find((line) => line.uploadId === uploadId && line.res?.statusCode === 401), 'the refused status request to be logged');

    const everything = ctx.stack.api.log;
    expect(everything).not.toContain(KEY);
    expect(everything).not.toContain(file.subarray(0, 16).toString('base64'));
    expect(everything).not.toContain(file.subarray(0, 16).toString('hex'));
  });

  it('replace a client request id that is not a plain token', async () => {
    const response = await ctx.client.call('GET', '/health/live', { headers: { 'x-request-id': 'bad id with spaces\u00e9' } });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
