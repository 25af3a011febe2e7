import { Stack } from './support/stack';
import { UploadClient, contentDigest, randomFile, rawPut, recordedChunks } from './support/upload-client';
import { expectError } from './support/expect-error';
import { describeInStorageModes, smallChunk } from './support/test-store';

const CHUNK = 256 * 1024;
const MiB = 1024 * 1024;

describeInStorageModes('errors of the contract', (mode) => {
  const CHUNK = smallChunk(mode);
  let stack: Stack;
  let client: UploadClient;
  const file = randomFile(2 * CHUNK + 1000);
  let uploadId: string;

  beforeAll(async () => {
    stack = await Stack.start({ storage: mode });
    client = new UploadClient(stack);
  });
  beforeEach(async () => {
    ({ uploadId } = await client.create(file, { chunkSize: CHUNK }));
  });
  afterEach(async () => {
    // Whatever was rejected, nothing may have been recorded.
    if (expect.getState().currentTestName?.includes('(records nothing)')) {
      expect(await recordedChunks(stack, uploadId)).toEqual([]);
      expect((await client.status(uploadId)).body).toMatchObject({ receivedChunks: 0, receivedBytes: 0 });
    }
  });
  afterAll(() => stack?.stop());

  function put(headers: Record<string, string>, body: Buffer | string = file.subarray(0, CHUNK), id = uploadId) {
    return client.call('PUT', `/resumable-upload/chunk?uploadId=${encodeURIComponent(id)}`, { raw: body, headers });
  }

  describe('initiate', () => {
    it('rejects malformed JSON with VALIDATION_FAILED', async () => {
      const response = await client.call('POST', '/resumable-upload/initiate', { raw: '{"fileName": ', headers: { 'content-type': 'application/json' } });
      expectError(response, 400, 'VALIDATION_FAILED');
    });

    it('lists each bad field', async () => {
      const response = await client.initiate({ fileName: 'a/b', fileSize: -1, chunkSize: 1000, sha256: 'xyz', metadata: { a: 1 }, color: 'red' });
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors.map((error: { field: string }) => error.field).sort()).toEqual(['chunkSize', 'color', 'fileName', 'fileSize', 'metadata', 'sha256']);
    });

    it.each([
      ['a missing file name', { fileSize: 10 }],
      ['an empty file name', { fileName: '', fileSize: 10 }],
      ['"..", a path', { fileName: '..', fileSize: 10 }],
      ['a NUL in the name', { fileName: 'a\u0000b', fileSize: 10 }],
      ['a control character in the name', { fileName: 'a\u0007b', fileSize: 10 }],
      ['a name over 255 bytes', { fileName: 'é'.repeat(128), fileSize: 10 }],
      ['a fractional size', { fileName: 'a', fileSize: 1.5 }],
      ['a size given as a string', { fileName: 'a', fileSize: '10' }],
      ['a chunk size above 64 MiB', { fileName: 'a', fileSize: 10, chunkSize: 65 * MiB }],
      ['metadata over 4 KiB', { fileName: 'a', fileSize: 10, metadata: { big: 'x'.repeat(5000) } }],
      ['a content type with a newline', { fileName: 'a', fileSize: 10, contentType: 'text/plain\r\nX: y' }],
    ])('rejects %s', async (_, body) => {
      expectError(await client.initiate(body), 400, 'VALIDATION_FAILED');
    });

    it('rejects a body that is not an object, or not JSON', async () => {
      expectError(await client.call('POST', '/resumable-upload/initiate', { raw: '[1,2]', headers: { 'content-type': 'application/json' } }), 400, 'VALIDATION_FAILED');
      expectError(await client.call('POST', '/resumable-upload/initiate', { raw: 'fileName=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 400, 'VALIDATION_FAILED');
      expectError(await client.call('POST', '/resumable-upload/initiate', { raw: JSON.stringify({ fileName: 'x'.repeat(100_000), fileSize: 1 }), headers: { 'content-type': 'application/json' } }), 400, 'VALIDATION_FAILED');
    });

    it('rejects a file over MAX_FILE_SIZE with FILE_TOO_LARGE', async () => {
      const response = await client.initiate({ fileName: 'huge.iso', fileSize: 11 * 1024 * MiB });
      expectError(response, 413, 'FILE_TOO_LARGE');
      expect(response.body.message).toContain(String(10 * 1024 * MiB));
    });
  });

  describe('chunk requests', () => {
    it.each([
      ['missing', undefined],
      ['in another unit', `items 0-${CHUNK - 1}/${2 * CHUNK + 1000}`],
      ['with a leading zero', `bytes 00-${CHUNK - 1}/${2 * CHUNK + 1000}`],
      ['with a sign', `bytes +0-${CHUNK - 1}/${2 * CHUNK + 1000}`],
      ['with spaces', `bytes 0 - ${CHUNK - 1}/${2 * CHUNK + 1000}`],
      ['with an unknown length', `bytes 0-${CHUNK - 1}/*`],
      ['as bytes */N', `bytes */${2 * CHUNK + 1000}`],
      ['with the last byte before the first', `bytes ${CHUNK - 1}-0/${2 * CHUNK + 1000}`],
      ['above 2^53-1', `bytes 0-9007199254740993/9007199254740994`],
    ])('rejects a Content-Range %s with INVALID_CONTENT_RANGE (records nothing)', async (_, range) => {
      expectError(await put(range === undefined ? {} : { 'content-range': range }), 400, 'INVALID_CONTENT_RANGE');
    });

    it('rejects a total other than the file size with RANGE_NOT_SATISFIABLE (records nothing)', async () => {
      const response = await put({ 'content-range': `bytes 0-${CHUNK - 1}/${3 * CHUNK}` });
      expectError(response, 416, 'RANGE_NOT_SATISFIABLE');
      expect(response.body.message).toContain(String(2 * CHUNK + 1000));
      expect(response.body).toMatchObject({ fileSize: 2 * CHUNK + 1000, expectedRange: `bytes 0-${CHUNK - 1}/${2 * CHUNK + 1000}` });
    });

    it('rejects a range that is not one grid chunk, naming the expected one (records nothing)', async () => {
      const response = await put({ 'content-range': `bytes 0-${CHUNK - 2}/${file.length}` }, file.subarray(0, CHUNK - 1));
      expectError(response, 416, 'RANGE_NOT_SATISFIABLE');
      expect(response.body.message).toContain(`bytes 0-${CHUNK - 1}/${file.length}`);
      expectError(await put({ 'content-range': `bytes 10-${CHUNK + 9}/${file.length}` }), 416, 'RANGE_NOT_SATISFIABLE');
    });

    it('rejects a range outside the file (records nothing)', async () => {
      expectError(await put({ 'content-range': `bytes ${file.length}-${file.length + CHUNK - 1}/${file.length}` }), 416, 'RANGE_NOT_SATISFIABLE');
    });

    it('rejects a Content-Length that differs from the range with LENGTH_MISMATCH (records nothing)', async () => {
      const response = await put({ 'content-range': `bytes 0-${CHUNK - 1}/${file.length}` }, file.subarray(0, CHUNK - 10));
      expectError(response, 400, 'LENGTH_MISMATCH');
    });

    it('rejects a chunked body that ends short of the range (records nothing)', async () => {
      const request = rawPut(stack, uploadId, { 'content-range': `bytes 0-${CHUNK - 1}/${file.length}`, 'transfer-encoding': 'chunked' });
      expectError(await request.finish(file.subarray(0, CHUNK - 1)), 400, 'LENGTH_MISMATCH');
    });

    it('rejects a chunked body longer than the last, short chunk (records nothing)', async () => {
      const request = rawPut(stack, uploadId, { 'content-range': `bytes ${2 * CHUNK}-${file.length - 1}/${file.length}`, 'transfer-encoding': 'chunked' });
      expectError(await request.finish(randomFile(2000)), 400, 'LENGTH_MISMATCH');
    });

    it('rejects a chunked body over the chunk size with CHUNK_TOO_LARGE (records nothing)', async () => {
      const request = rawPut(stack, uploadId, { 'content-range': `bytes 0-${CHUNK - 1}/${file.length}`, 'transfer-encoding': 'chunked' });
      expectError(await request.finish(randomFile(CHUNK + 1)), 413, 'CHUNK_TOO_LARGE');
    });

    it.each([
      ['malformed', 'sha-256=abc'],
      ['of the wrong length', 'sha-256=:AAAA:'],
      ['in an unsupported algorithm only', `md5=:${Buffer.alloc(16).toString('base64')}:`],
      ['with two different sha-256 values', `sha-256=:${Buffer.alloc(32).toString('base64')}:, sha-256=:${Buffer.alloc(32, 1).toString('base64')}:`],
    ])('rejects a Content-Digest %s with INVALID_DIGEST (records nothing)', async (_, digest) => {
      expectError(await put({ 'content-range': `bytes 0-${CHUNK - 1}/${file.length}`, 'content-digest': digest }), 400, 'INVALID_DIGEST');
    });

    it('rejects a body that does not match its Content-Digest with CHECKSUM_MISMATCH (records nothing)', async () => {
      const response = await put({ 'content-range': `bytes 0-${CHUNK - 1}/${file.length}`, 'content-digest': contentDigest(file.subarray(1, CHUNK + 1)) });
      expectError(response, 422, 'CHECKSUM_MISMATCH');
    });

    it('accepts a matching digest listed beside another algorithm', async () => {
      const digest = `sha-512=:${Buffer.alloc(64).toString('base64')}:, ${contentDigest(file.subarray(0, CHUNK))}`;
      expect((await put({ 'content-range': `bytes 0-${CHUNK - 1}/${file.length}`, 'content-digest': digest })).status).toBe(200);
    });

    it.each([
      ['missing', ''],
      ['a path', '../../etc/passwd'],
      ['encoded dots', '%2e%2e%2f%2e%2e'],
      ['with a NUL', 'aaaaaaaaaaaaaaaaaaaaa\u0000'],
      ['5,000 characters long', 'a'.repeat(5000)],
    ])('rejects an upload id that is %s with INVALID_UPLOAD_ID (records nothing)', async (_, id) => {
      expectError(await put({ 'content-range': `bytes 0-${CHUNK - 1}/${file.length}` }, file.subarray(0, CHUNK), id), 400, 'INVALID_UPLOAD_ID');
    });

    it('rejects a malformed id on the session routes too', async () => {
      expectError(await client.status('not-an-id'), 400, 'INVALID_UPLOAD_ID');
      expectError(await client.complete('not-an-id'), 400, 'INVALID_UPLOAD_ID');
    });

    it('answers UPLOAD_NOT_FOUND for an unknown id (records nothing)', async () => {
      expectError(await put({ 'content-range': `bytes 0-${CHUNK - 1}/${file.length}` }, file.subarray(0, CHUNK), 'AAAAAAAAAAAAAAAAAAAAAA'), 404, 'UPLOAD_NOT_FOUND');
      expectError(await client.status('AAAAAAAAAAAAAAAAAAAAAA'), 404, 'UPLOAD_NOT_FOUND');
    });

    it('refuses chunks of an aborted upload with UPLOAD_ABORTED', async () => {
      expect((await client.abort(uploadId)).status).toBe(204);
      expectError(await client.putChunk(uploadId, file, 0, CHUNK), 410, 'UPLOAD_ABORTED');
      expect(await recordedChunks(stack, uploadId)).toEqual([]);
    });

    it('refuses chunks with UPLOAD_ABORTED after an abort that came between two chunks', async () => {
      // The API has taken a chunk of this session, so it knows the session's shape and leaves the status to the claim.
      expect((await client.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);
      expect((await client.abort(uploadId)).status).toBe(204);
      expectError(await client.putChunk(uploadId, file, 1, CHUNK), 410, 'UPLOAD_ABORTED');
      expectError(await client.putChunk(uploadId, file, 0, CHUNK), 410, 'UPLOAD_ABORTED');
    });

    it('refuses chunks once the upload is assembling or completed with UPLOAD_NOT_ACCEPTING', async () => {
      for (const index of [0, 1, 2]) expect((await client.putChunk(uploadId, file, index, CHUNK)).status).toBe(200);
      expectError(await client.putChunk(uploadId, file, 1, CHUNK), 409, 'UPLOAD_NOT_ACCEPTING');
      await client.waitForStatus(uploadId, ['completed']);
      expectError(await client.putChunk(uploadId, file, 1, CHUNK), 409, 'UPLOAD_NOT_ACCEPTING');
    });
  });
});

describe('API keys', () => {
  const keys = ['k'.repeat(32), 'z'.repeat(32)];
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start({ env: { API_KEYS: keys.join(',') } });
  });
  afterAll(() => stack?.stop());

  it('requires a valid key on every upload route, and none on health', async () => {
    const anonymous = new UploadClient(stack);
    expectError(await anonymous.initiate({ fileName: 'a', fileSize: 1 }), 401, 'UNAUTHORIZED');
    expectError(await new UploadClient(stack, { authorization: `Bearer ${'x'.repeat(32)}` }).initiate({ fileName: 'a', fileSize: 1 }), 401, 'UNAUTHORIZED');
    expectError(await new UploadClient(stack, { authorization: keys[0] }).initiate({ fileName: 'a', fileSize: 1 }), 401, 'UNAUTHORIZED');
    expect((await anonymous.call('GET', '/health/ready')).status).toBe(200);
  });

  it('shows a session only to the key that created it (others get 404) and records nothing for them', async () => {
    const owner = new UploadClient(stack, { authorization: `Bearer ${keys[0]}` });
    const stranger = new UploadClient(stack, { authorization: `Bearer ${keys[1]}` });
    const file = randomFile(CHUNK);
    const { uploadId } = await owner.create(file, { chunkSize: CHUNK });

    expectError(await stranger.status(uploadId), 404, 'UPLOAD_NOT_FOUND');
    expectError(await stranger.putChunk(uploadId, file, 0, CHUNK), 404, 'UPLOAD_NOT_FOUND');
    expectError(await stranger.abort(uploadId), 404, 'UPLOAD_NOT_FOUND');
    expectError(await new UploadClient(stack).putChunk(uploadId, file, 0, CHUNK), 401, 'UNAUTHORIZED');
    expect(await recordedChunks(stack, uploadId)).toEqual([]);

    expect((await owner.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);
    // Also once the API knows the session from the owner's chunk.
    expectError(await stranger.putChunk(uploadId, file, 0, CHUNK), 404, 'UPLOAD_NOT_FOUND');
    expect((await owner.waitForStatus(uploadId, ['completed'])).status).toBe('completed');
    expect((await stranger.download(uploadId)).status).toBe(404);
    expect((await owner.download(uploadId)).status).toBe(200);
  });
});
