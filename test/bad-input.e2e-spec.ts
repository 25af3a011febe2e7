import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { eventually } from './support/processes';
import { JsonResponse, contentDigest, randomFile, rawPut, rawRequest, recordedChunks, sha256, useStack } from './support/upload-client';
import { expectError } from './support/expect-error';

/**
 * The bad-input matrix: every malformed header, id, body and name we could think of, beyond
 * errors.e2e-spec.ts. Each must get the contract's status and code, a message that helps, no
 * server internals, and must leave nothing recorded.
 */

const CHUNK = 256 * 1024;
const FILE_SIZE = 2 * CHUNK + 1000;
const LAST = 2;
const MiB = 1024 * 1024;
const WELL_FORMED_UNKNOWN_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const FIRST_RANGE = `bytes 0-${CHUNK - 1}/${FILE_SIZE}`;
const LAST_RANGE = `bytes ${2 * CHUNK}-${FILE_SIZE - 1}/${FILE_SIZE}`;

/** The field problems of a VALIDATION_FAILED answer, as `field: message`. */
function problems(response: JsonResponse): string[] {
  return (response.body.errors ?? []).map((problem: { field: string; message: string }) => `${problem.field}: ${problem.message}`);
}

function sha256Base64(data: Buffer): string {
  return createHash('sha256').update(data).digest('base64');
}

describe('bad input', () => {
  // The initiate rate limit would trip over this many sessions.
  const ctx = useStack({ env: { INITIATE_RATE_LIMIT: 'off' } });
  const file = randomFile(FILE_SIZE);
  const firstChunk = file.subarray(0, CHUNK);
  const lastChunk = file.subarray(2 * CHUNK);

  async function uploadCount(): Promise<number> {
    const { rows } = await ctx.stack.db.query<{ count: number }>('SELECT count(*)::int AS count FROM uploads');
    return rows[0].count;
  }

  function postJson(path: string, raw: Buffer | string, contentType: string | null = 'application/json') {
    return ctx.client.call('POST', path, { raw, headers: contentType === null ? {} : { 'content-type': contentType } });
  }

  /** Sessions that must stay exactly as created: nothing recorded, still uploading. */
  function expectUntouched(uploadId: () => string): void {
    afterEach(async () => {
      expect(await recordedChunks(ctx.stack, uploadId())).toEqual([]);
      const status = await ctx.client.status(uploadId());
      expect(status.body).toMatchObject({ status: 'uploading', receivedChunks: 0, receivedBytes: 0, missingChunks: [0, 1, LAST], sha256: null });
    });
  }

  describe('chunk requests (each records nothing)', () => {
    let uploadId: string;
    beforeEach(async () => {
      ({ uploadId } = await ctx.client.create(file, { chunkSize: CHUNK }));
    });
    expectUntouched(() => uploadId);

    function put(headers: Record<string, string>, body: Buffer | string = firstChunk) {
      return ctx.client.call('PUT', `/resumable-upload/chunk?uploadId=${uploadId}`, { raw: body, headers });
    }

    describe('Content-Range', () => {
      it.each([
        ['empty', ''],
        ['in octets', `octets 0-${CHUNK - 1}/${FILE_SIZE}`],
        ['in Range syntax with a total', `bytes=0-${CHUNK - 1}/${FILE_SIZE}`],
        ['in Range syntax', `bytes=0-${CHUNK - 1}`],
        ['with a plus sign on the last byte', `bytes 0-+${CHUNK - 1}/${FILE_SIZE}`],
        ['with a plus sign on the total', `bytes 0-${CHUNK - 1}/+${FILE_SIZE}`],
        ['with a leading zero on the last byte', `bytes 0-0${CHUNK - 1}/${FILE_SIZE}`],
        ['with a leading zero on the total', `bytes 0-${CHUNK - 1}/0${FILE_SIZE}`],
        ['with an exponent', `bytes 0e0-${CHUNK - 1}/${FILE_SIZE}`],
        ['with an exponent as in 1e3', `bytes 0-${CHUNK - 1}/${FILE_SIZE / 8}e3`],
        ['with a decimal point', `bytes 0-${CHUNK - 1}.0/${FILE_SIZE}`],
        ['in hexadecimal', `bytes 0x0-0x${(CHUNK - 1).toString(16)}/0x${FILE_SIZE.toString(16)}`],
        ['with a space before the slash', `bytes 0-${CHUNK - 1} /${FILE_SIZE}`],
        ['with a space after the slash', `bytes 0-${CHUNK - 1}/ ${FILE_SIZE}`],
        ['with a space inside a number', `bytes 0-262 143/${FILE_SIZE}`],
        ['with a tab after the unit', `bytes\t0-${CHUNK - 1}/${FILE_SIZE}`],
        ['with a tab before the slash', `bytes 0-${CHUNK - 1}\t/${FILE_SIZE}`],
        ['with a negative first byte', `bytes -1-${CHUNK - 1}/${FILE_SIZE}`],
        ['with a negative last byte', `bytes 0--${CHUNK - 1}/${FILE_SIZE}`],
        ['with a negative total', `bytes 0-${CHUNK - 1}/-${FILE_SIZE}`],
        ['with a total of 2^53', `bytes 0-${CHUNK - 1}/9007199254740992`],
        ['with a first byte of 2^53', `bytes 9007199254740992-9007199254741000/9007199254741001`],
        ['with a total of 30 digits', `bytes 0-${CHUNK - 1}/${'9'.repeat(30)}`],
        ['with the last byte one before the first', `bytes ${CHUNK}-${CHUNK - 1}/${FILE_SIZE}`],
        ['with two ranges', 'bytes 0-1,2-3/10'],
        ['with two grid chunks as two ranges', `bytes 0-${CHUNK - 1},${CHUNK}-${2 * CHUNK - 1}/${FILE_SIZE}`],
      ])('rejects one %s with INVALID_CONTENT_RANGE, showing the expected form', async (_, range) => {
        expectError(await put({ 'content-range': range }), 400, 'INVALID_CONTENT_RANGE', /bytes <first>-<last>\/<fileSize>/);
      });

      it('rejects two Content-Range lines, even identical ones, with INVALID_CONTENT_RANGE', async () => {
        const response = await rawRequest(ctx.stack, 'PUT', `/resumable-upload/chunk?uploadId=${uploadId}`, { headers: { 'content-range': [FIRST_RANGE, FIRST_RANGE] }, body: firstChunk });
        expectError(response, 400, 'INVALID_CONTENT_RANGE', /malformed/);
      });
    });

    describe('body length', () => {
      it.each([
        ['a body one byte longer than a full chunk', FIRST_RANGE, file.subarray(0, CHUNK + 1)],
        ['a body twice the chunk size (LENGTH_MISMATCH, not CHUNK_TOO_LARGE: it has a Content-Length)', FIRST_RANGE, file.subarray(0, 2 * CHUNK)],
        ['a body one byte longer than the short last chunk', LAST_RANGE, Buffer.concat([lastChunk, Buffer.from('x')])],
        ['a body one byte shorter than the short last chunk', LAST_RANGE, lastChunk.subarray(1)],
        ['an empty body', FIRST_RANGE, Buffer.alloc(0)],
      ])('rejects %s with LENGTH_MISMATCH, naming both lengths', async (_, range, body) => {
        const response = await put({ 'content-range': range }, body);
        expectError(response, 400, 'LENGTH_MISMATCH', new RegExp(`Content-Length is ${body.length} but the Content-Range covers`));
      });

      it.each([
        ['an empty chunked body', FIRST_RANGE, [Buffer.alloc(0)], 'LENGTH_MISMATCH', /ended after 0 of the 262144 bytes/],
        ['a chunked body one byte short of the last chunk', LAST_RANGE, [lastChunk.subarray(1)], 'LENGTH_MISMATCH', /ended after 999 of the 1000 bytes/],
        ['a chunked body one byte past the last chunk', LAST_RANGE, [lastChunk, Buffer.from('x')], 'LENGTH_MISMATCH', /longer than the 1000 bytes/],
        ['a chunked body twice the chunk size', FIRST_RANGE, [file.subarray(0, 2 * CHUNK)], 'CHUNK_TOO_LARGE', /larger than the session's chunk size \(262144 bytes\)/],
        ['a chunked body that runs past the chunk size over many small pieces', FIRST_RANGE, Array.from({ length: 300 }, () => randomFile(1024)), 'CHUNK_TOO_LARGE', /chunk size/],
      ])('rejects %s with %s', async (_, range, pieces, code, message) => {
        const request = rawPut(ctx.stack, uploadId, { 'content-range': range, 'transfer-encoding': 'chunked' });
        for (const piece of pieces.slice(0, -1)) request.write(piece);
        const response = await request.finish(pieces[pieces.length - 1]);
        expectError(response!, code === 'CHUNK_TOO_LARGE' ? 413 : 400, code, message);
      });
    });

    describe('Content-Digest', () => {
      const right = sha256Base64(firstChunk);
      const wrong = sha256Base64(file.subarray(1, CHUNK + 1));

      it.each([
        ['sha-512 only', `sha-512=:${createHash('sha512').update(firstChunk).digest('base64')}:`, /no supported algorithm/],
        ['an unknown algorithm only', 'crc32c=:AAAAAA==:', /no supported algorithm/],
        ['characters outside base64', 'sha-256=:!!!!:', /malformed/],
        ['base64url instead of base64', `sha-256=:${Buffer.alloc(32, 0xfb).toString('base64url')}:`, /malformed/],
        ['a space inside the value', `sha-256=:${right.slice(0, 10)} ${right.slice(10)}:`, /malformed/],
        ['no closing colon', `sha-256=:${right}`, /malformed/],
        ['the legacy Digest syntax', `SHA-256=${right}`, /malformed/],
        ['an empty header', '', /empty/],
        ['an empty value', 'sha-256=::', /not 32 bytes/],
        ['the hex digest instead of base64', `sha-256=:${sha256(firstChunk)}:`, /not 32 bytes/],
        ['31 bytes', `sha-256=:${Buffer.alloc(31, 7).toString('base64')}:`, /not 32 bytes/],
        ['33 bytes', `sha-256=:${Buffer.alloc(33, 7).toString('base64')}:`, /not 32 bytes/],
        ['a SHA-512-sized value', `sha-256=:${Buffer.alloc(64, 7).toString('base64')}:`, /not 32 bytes/],
        ['a malformed member beside the right digest', `sha-256=:${right}:, garbage`, /malformed/],
      ])('rejects a Content-Digest with %s with INVALID_DIGEST, showing the expected form', async (_, digest, message) => {
        const response = await put({ 'content-range': FIRST_RANGE, 'content-digest': digest });
        expectError(response, 400, 'INVALID_DIGEST', message);
        expect(response.body.message).toMatch(/sha-256=:<base64/);
      });

      it.each([
        ['two lines with different sha-256 values, one of them right', [`sha-256=:${right}:`, `sha-256=:${wrong}:`], /twice with different values/],
        ['a right line and a malformed one', [`sha-256=:${right}:`, 'sha-256=abc'], /malformed/],
      ])('rejects %s with INVALID_DIGEST', async (_, lines, message) => {
        const response = await rawRequest(ctx.stack, 'PUT', `/resumable-upload/chunk?uploadId=${uploadId}`, { headers: { 'content-range': FIRST_RANGE, 'content-digest': lines }, body: firstChunk });
        expectError(response, 400, 'INVALID_DIGEST', message);
      });
    });

    describe('upload id on the chunk route', () => {
      it.each([
        ['"../.." encoded as %2e%2e%2f%2e%2e', '%2e%2e%2f%2e%2e'],
        ['"../" in front of a real id', () => `..%2F${uploadId}`],
        ['broken percent-encoding', '%E0%A4%A'],
        ['a real id with a NUL after it', () => `${uploadId}%00`],
        ['a real id given twice', () => `${uploadId}&uploadId=${uploadId}`],
      ])('rejects an uploadId query parameter with %s with INVALID_UPLOAD_ID', async (_, id) => {
        const query = typeof id === 'function' ? id() : id;
        const response = await rawRequest(ctx.stack, 'PUT', `/resumable-upload/chunk?uploadId=${query}`, { headers: { 'content-range': FIRST_RANGE }, body: firstChunk });
        expectError(response, 400, 'INVALID_UPLOAD_ID', /not well-formed: use the uploadId returned by initiate/);
      });

      it.each([
        ['a path', '../../etc/passwd'],
        ['a path after a real id', () => `${uploadId}/../x`],
        ['encoded dots', '%2e%2e'],
        ['an encoded NUL', '%00'],
        ['5,000 characters', 'a'.repeat(5000)],
        ['broken percent-encoding', '%E0%A4%A'],
      ])('rejects an Upload-Id header with %s with INVALID_UPLOAD_ID', async (_, id) => {
        const header = typeof id === 'function' ? id() : id;
        const response = await ctx.client.call('PUT', '/resumable-upload/chunk', { raw: firstChunk, headers: { 'upload-id': header, 'content-range': FIRST_RANGE } });
        expectError(response, 400, 'INVALID_UPLOAD_ID', /not well-formed/);
      });

      it('rejects an empty Upload-Id header and no query parameter with INVALID_UPLOAD_ID, saying where the id goes', async () => {
        const response = await ctx.client.call('PUT', '/resumable-upload/chunk', { raw: firstChunk, headers: { 'upload-id': '', 'content-range': FIRST_RANGE } });
        expectError(response, 400, 'INVALID_UPLOAD_ID', /uploadId query parameter or the Upload-Id header/);
      });

      it('refuses a query parameter and an Upload-Id header that name different uploads', async () => {
        const response = await ctx.client.call('PUT', `/resumable-upload/chunk?uploadId=${uploadId}`, { raw: firstChunk, headers: { 'upload-id': WELL_FORMED_UNKNOWN_ID, 'content-range': FIRST_RANGE } });
        expectError(response, 400, 'INVALID_UPLOAD_ID', /different uploads: send only one of them/);
      });

      it('reads the Upload-Id header behind an empty uploadId query parameter', async () => {
        const response = await ctx.client.call('PUT', '/resumable-upload/chunk?uploadId=', { raw: firstChunk, headers: { 'upload-id': WELL_FORMED_UNKNOWN_ID, 'content-range': FIRST_RANGE } });
        expectError(response, 404, 'UPLOAD_NOT_FOUND');
      });

      it('answers UPLOAD_NOT_FOUND for a well-formed but unknown id in the Upload-Id header', async () => {
        const response = await ctx.client.call('PUT', '/resumable-upload/chunk', { raw: firstChunk, headers: { 'upload-id': WELL_FORMED_UNKNOWN_ID, 'content-range': FIRST_RANGE } });
        expectError(response, 404, 'UPLOAD_NOT_FOUND');
      });
    });

    describe('upload id in the path of the session routes', () => {
      const badIds: Array<[string, string]> = [
        ['".."', '..'],
        ['"../../etc/passwd", encoded', '..%2F..%2Fetc%2Fpasswd'],
        ['%2e%2e', '%2e%2e'],
        ['an encoded NUL', '%00'],
        ['5,000 characters', 'a'.repeat(5000)],
        ['broken percent-encoding', '%E0%A4%A'],
      ];
      const routes: Array<[string, (id: string) => string]> = [
        ['GET', (id) => `/resumable-upload/uploads/${id}`],
        ['GET', (id) => `/resumable-upload/uploads/${id}/file`],
        ['POST', (id) => `/resumable-upload/uploads/${id}/complete`],
        ['DELETE', (id) => `/resumable-upload/uploads/${id}`],
      ];
      const cases = badIds.flatMap(([why, id]) => routes.map(([method, path]) => [why, method, path(id)] as const));

      it.each(cases)('rejects an id that is %s on %s %s with INVALID_UPLOAD_ID', async (_, method, path) => {
        const sessions = await uploadCount();
        const response = await rawRequest(ctx.stack, method, path);
        expectError(response, 400, 'INVALID_UPLOAD_ID', /upload id .*not (well-formed|valid percent-encoding): use the uploadId returned by initiate/);
        expect(await uploadCount()).toBe(sessions);
      });

      it.each(routes.map(([method, path]) => [method, path(WELL_FORMED_UNKNOWN_ID)] as const))('answers UPLOAD_NOT_FOUND for a well-formed unknown id on %s %s', async (method, path) => {
        expectError(await rawRequest(ctx.stack, method, path), 404, 'UPLOAD_NOT_FOUND', /initiate a new upload/);
      });
    });
  });

  describe('initiate bodies (each records no session)', () => {
    let sessionsBefore: number;
    beforeEach(async () => {
      sessionsBefore = await uploadCount();
    });
    afterEach(async () => {
      expect(await uploadCount()).toBe(sessionsBefore);
    });

    const initiatePath = '/resumable-upload/initiate';
    const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

    it.each([
      ['null', 'null'],
      ['a number', '42'],
      ['a string', '"movie.mp4"'],
      ['true', 'true'],
      ['an array of a valid body', '[{"fileName":"a.txt","fileSize":1}]'],
      ['an array nested 1,000 deep', deepArray(1000)],
    ])('rejects %s as the body with VALIDATION_FAILED: the body must be an object', async (_, raw) => {
      const response = await postJson(initiatePath, raw);
      expectError(response, 400, 'VALIDATION_FAILED', /body must be a JSON object/);
      expect(problems(response)).toEqual(['body: must be a JSON object sent with Content-Type: application/json']);
    });

    it('rejects an object nested 1,000 deep with VALIDATION_FAILED, naming the unknown field', async () => {
      const response = await postJson(initiatePath, deepObject(1000));
      expectError(response, 400, 'VALIDATION_FAILED', /a is not a known field/);
    });

    it.each([
      ['fileName', (deep: string) => `{"fileName":${deep},"fileSize":1}`, /fileName is required and must be a string/],
      ['metadata', (deep: string) => `{"fileName":"a.txt","fileSize":1,"metadata":{"x":${deep}}}`, /metadata must be an object whose values are strings/],
    ])('rejects a value nested 1,000 deep in %s with VALIDATION_FAILED', async (_, body, message) => {
      expectError(await postJson(initiatePath, body(deepObject(1000))), 400, 'VALIDATION_FAILED', message);
      expectError(await postJson(initiatePath, body(deepArray(1000))), 400, 'VALIDATION_FAILED', message);
    });

    it.each([
      ['with a Content-Length', undefined],
      ['sent chunked', 'chunked'],
    ])('rejects a 10 MiB body %s quickly with VALIDATION_FAILED, naming the 64 KiB limit', async (_, transferEncoding) => {
      const body = Buffer.from(JSON.stringify({ fileName: 'a.txt', fileSize: 1, metadata: { x: 'y'.repeat(10 * MiB) } }));
      const started = Date.now();
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(transferEncoding ? { 'transfer-encoding': transferEncoding } : {}) };
      const response = await rawRequest(ctx.stack, 'POST', initiatePath, { headers, body });
      expectError(response, 400, 'VALIDATION_FAILED', /body must be at most 64 KiB of JSON/);
      expect(Date.now() - started).toBeLessThan(10_000);
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['multipart/form-data', 'multipart/form-data; boundary=x'],
      ['a look-alike of application/json', 'application/jsonp'],
      ['none', null],
    ])('rejects a JSON body sent as %s with VALIDATION_FAILED, asking for application/json', async (_, contentType) => {
      const response = await postJson(initiatePath, Buffer.from(JSON.stringify({ fileName: 'a.txt', fileSize: 1 })), contentType);
      expectError(response, 400, 'VALIDATION_FAILED', /Content-Type must be application\/json/);
    });

    it.each([
      ['a stray 0xFF byte', Buffer.from([0xff])],
      ['an overlong "/" (0xC0 0xAF)', Buffer.from([0xc0, 0xaf])],
      ['an encoded surrogate (0xED 0xA0 0x80)', Buffer.from([0xed, 0xa0, 0x80])],
      ['a truncated sequence', Buffer.from([0xe2, 0x82])],
    ])('rejects a file name with %s, invalid UTF-8, with VALIDATION_FAILED instead of storing U+FFFD', async (_, bytes) => {
      const body = Buffer.concat([Buffer.from('{"fileName":"a'), bytes, Buffer.from('b.txt","fileSize":1}')]);
      const response = await postJson(initiatePath, body);
      expectError(response, 400, 'VALIDATION_FAILED', /body is not valid UTF-8/);
    });

    it.each([
      ['an extra field', { fileName: 'a.txt', fileSize: 1, overwrite: true }, 'overwrite'],
      ['a misspelt field', { fileName: 'a.txt', fileSize: 1, chunksize: 262144 }, 'chunksize'],
      ['"__proto__"', JSON.parse('{"fileName":"a.txt","fileSize":1,"__proto__":{"admin":true}}'), '__proto__'],
      ['"constructor"', { fileName: 'a.txt', fileSize: 1, constructor: 'x' }, 'constructor'],
    ])('rejects %s with VALIDATION_FAILED naming it, rather than ignoring it', async (_, body, field) => {
      const response = await postJson(initiatePath, JSON.stringify(body));
      expectError(response, 400, 'VALIDATION_FAILED', new RegExp(`${field} is not a known field \\(allowed: fileName, fileSize`));
      expect(problems(response)).toEqual([`${field}: is not a known field (allowed: fileName, fileSize, chunkSize, sha256, contentType, metadata)`]);
    });

    describe('file names', () => {
      async function expectNameRejected(fileName: string, reason: RegExp): Promise<void> {
        const response = await ctx.client.initiate({ fileName, fileSize: 1 });
        expectError(response, 400, 'VALIDATION_FAILED', /fileName /);
        expect(response.body.errors).toHaveLength(1);
        expect(response.body.errors[0].field).toBe('fileName');
        expect(response.body.errors[0].message).toMatch(reason);
      }

      it.each([
        ['\\x01', 'a\u0001b.txt'],
        ['DEL', 'a\u007fb.txt'],
        ['NEL (\\u0085)', 'a\u0085b.txt'],
        ['a line separator (\\u2028)', 'a\u2028b.txt'],
      ])('rejects a control character, %s, saying why', async (_, fileName) => {
        await expectNameRejected(fileName, /must not contain control characters/);
      });

      it.each(['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'].map((character) => [`U+${character.charCodeAt(0).toString(16).toUpperCase()}`, character]))(
        'rejects the bidirectional control %s, saying it can disguise the extension',
        async (_, character) => {
          await expectNameRejected(`invoice${character}fdp.exe`, /bidirectional .*disguise the real extension: rename the file/);
        },
      );

      it.each([
        ['CON', 'CON'],
        ['PRN', 'PRN'],
        ['AUX', 'AUX'],
        ['NUL', 'NUL'],
        ['COM1', 'COM1'],
        ['COM9', 'COM9'],
        ['LPT1', 'LPT1'],
        ['LPT9', 'LPT9'],
        ['con.txt', 'CON'],
        ['Lpt1', 'LPT1'],
        ['nul.tar.gz', 'NUL'],
        ['aux .log', 'AUX'],
        ['com3.', 'COM3'],
      ])('rejects the Windows device name %j, telling the user to rename', async (fileName, device) => {
        await expectNameRejected(fileName, new RegExp(`reserved on Windows: "${device}" is a device name there, with or without an extension; rename the file`));
      });

      it.each([
        ['256 ASCII bytes', 'x'.repeat(252) + '.txt'],
        ['86 three-byte characters (258 bytes)', '日'.repeat(86)],
        ['64 emoji (256 bytes)', '🎉'.repeat(64)],
      ])('rejects a name of %s: over 255 bytes of UTF-8', async (_, fileName) => {
        await expectNameRejected(fileName, /must be 1 to 255 bytes of UTF-8/);
      });

      it.each([
        ['"."', '.', /must not be "\." or "\.\."/],
        ['"/"', '/', /must not contain "\/" or "\\"/],
        ['an absolute path', '/etc/passwd', /must not contain "\/"/],
        ['a backslash', 'a\\b.txt', /must not contain "\/" or "\\"/],
        ['a Windows path', 'C:\\Windows\\win.ini', /must not contain "\/" or "\\"/],
        ['a lone surrogate', 'a\ud800.txt', /must be valid UTF-8 text/],
      ])('rejects %s', async (_, fileName, reason) => {
        await expectNameRejected(fileName, reason);
      });
    });
  });

  it('accepts names that only look like the rejected ones', async () => {
    for (const fileName of ['console.log', 'con1.txt', 'my con.txt', 'COM10.txt', 'lpt.txt', 'שלום.txt', '...', '.env', 'x'.repeat(255), '🎉'.repeat(63) + 'abc']) {
      const response = await ctx.client.initiate({ fileName, fileSize: 1 });
      expect({ fileName, status: response.status }).toEqual({ fileName, status: 201 });
      expect((await ctx.client.status(response.body.uploadId)).body.fileName).toBe(fileName);
    }
  });

  describe('complete bodies (each records nothing)', () => {
    let uploadId: string;
    beforeEach(async () => {
      ({ uploadId } = await ctx.client.create(file, { chunkSize: CHUNK }));
    });
    expectUntouched(() => uploadId);

    const completePath = () => `/resumable-upload/uploads/${uploadId}/complete`;
    const validSha256 = 'a'.repeat(64);

    it.each([
      ['an unknown field beside sha256', { sha256: validSha256, force: true }, 'force', /force is not a known field \(allowed: sha256\)/],
      ['an unknown field alone', { md5: 'x' }, 'md5', /md5 is not a known field/],
      ['a sha256 that is a number', { sha256: 123 }, 'sha256', /sha256 must be 64 hexadecimal characters/],
      ['a sha256 of 63 characters', { sha256: 'a'.repeat(63) }, 'sha256', /sha256 must be 64 hexadecimal characters/],
    ])('rejects %s with VALIDATION_FAILED naming the field', async (_, body, field, message) => {
      const response = await postJson(completePath(), JSON.stringify(body));
      expectError(response, 400, 'VALIDATION_FAILED', message);
      expect(response.body.errors.map((problem: { field: string }) => problem.field)).toContain(field);
    });

    it.each([
      ['an array', '[]', /body must be a JSON object/],
      ['a number', '42', /body must be a JSON object/],
      ['a string', `"${validSha256}"`, /body must be a JSON object/],
      ['an array nested 1,000 deep', `${'['.repeat(1000)}${']'.repeat(1000)}`, /body must be a JSON object/],
      ['malformed JSON', '{"sha256": ', /body is not valid JSON/],
    ])('rejects %s with VALIDATION_FAILED', async (_, raw, message) => {
      expectError(await postJson(completePath(), raw), 400, 'VALIDATION_FAILED', message);
    });

    it('rejects a body with the wrong Content-Type with VALIDATION_FAILED', async () => {
      expectError(await postJson(completePath(), JSON.stringify({ sha256: validSha256 }), 'text/plain'), 400, 'VALIDATION_FAILED', /Content-Type must be application\/json/);
    });

    it('rejects invalid UTF-8 with VALIDATION_FAILED', async () => {
      const body = Buffer.concat([Buffer.from('{"sha256":"'), Buffer.from([0xff]), Buffer.from('"}')]);
      expectError(await postJson(completePath(), body), 400, 'VALIDATION_FAILED', /body is not valid UTF-8/);
    });

    it('rejects a 10 MiB body with VALIDATION_FAILED', async () => {
      const body = Buffer.from(JSON.stringify({ sha256: validSha256, padding: 'x'.repeat(10 * MiB) }));
      expectError(await rawRequest(ctx.stack, 'POST', completePath(), { headers: { 'content-type': 'application/json' }, body }), 400, 'VALIDATION_FAILED', /64 KiB/);
    });
  });

  describe('the rest of the contract error table', () => {
    it('refuses a chunk, complete and download of an expired upload with UPLOAD_EXPIRED, recording nothing', async () => {
      const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
      expect((await ctx.client.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);
      // Let its time run out, as if it had sat idle for UPLOAD_TTL.
      await ctx.stack.db.query("UPDATE uploads SET expires_at = now() - interval '1 second' WHERE id = $1", [uploadId]);

      expectError(await ctx.client.putChunk(uploadId, file, 1, CHUNK), 410, 'UPLOAD_EXPIRED', /expired.*start a new upload/);
      expectError(await ctx.client.complete(uploadId), 410, 'UPLOAD_EXPIRED');
      expectError(await rawRequest(ctx.stack, 'GET', `/resumable-upload/uploads/${uploadId}/file`), 410, 'UPLOAD_EXPIRED');
      expect(await recordedChunks(ctx.stack, uploadId)).toEqual([0]);
      expect((await ctx.client.status(uploadId)).body).toMatchObject({ status: 'expired', receivedChunks: 1 });
    });

    it('refuses the download of an aborted upload with UPLOAD_ABORTED', async () => {
      const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
      expect((await ctx.client.abort(uploadId)).status).toBe(204);
      expectError(await rawRequest(ctx.stack, 'GET', `/resumable-upload/uploads/${uploadId}/file`), 410, 'UPLOAD_ABORTED', /aborted.*start a new upload/);
    });

    it('refuses other bytes for a received chunk with CHUNK_CONFLICT and keeps the first bytes', async () => {
      const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
      expect((await ctx.client.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);
      const other = Buffer.from(file);
      other[5] ^= 0xff;

      const response = await ctx.client.putChunk(uploadId, other, 0, CHUNK);
      expectError(response, 409, 'CHUNK_CONFLICT', /already received with different bytes; the stored bytes were kept/);
      expect(response.body.chunkIndex).toBe(0);
      expect(await recordedChunks(ctx.stack, uploadId)).toEqual([0]);

      for (const index of [1, LAST]) expect((await ctx.client.putChunk(uploadId, file, index, CHUNK)).status).toBe(200);
      await ctx.client.waitForStatus(uploadId, ['completed']);
      expect(sha256((await ctx.client.download(uploadId)).data)).toBe(sha256(file));
    });

    it('tells a second writer of a chunk being written to retry with CHUNK_IN_PROGRESS and Retry-After, recording nothing', async () => {
      const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
      const first = rawPut(ctx.stack, uploadId, { 'content-range': FIRST_RANGE, 'content-length': String(CHUNK) });
      first.write(firstChunk.subarray(0, 1000));
      await eventually(async () => ((await ctx.stack.redis.exists(`${ctx.stack.prefix}:lease:${uploadId}:0`)) === 1 ? true : undefined), 'the first writer to take the lease');

      const second = await ctx.client.putChunk(uploadId, file, 0, CHUNK);
      expectError(second, 409, 'CHUNK_IN_PROGRESS', /being written by another request: retry/);
      expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      first.cut();
      expect(await recordedChunks(ctx.stack, uploadId)).toEqual([]);
    });

    it('tells a writer of a busy chunk of an upload aborted meanwhile that it was aborted, not to retry', async () => {
      const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
      expect((await ctx.client.putChunk(uploadId, file, 1, CHUNK)).status).toBe(200);
      const first = rawPut(ctx.stack, uploadId, { 'content-range': FIRST_RANGE, 'content-length': String(CHUNK) });
      first.write(firstChunk.subarray(0, 1000));
      await eventually(async () => ((await ctx.stack.redis.exists(`${ctx.stack.prefix}:lease:${uploadId}:0`)) === 1 ? true : undefined), 'the first writer to take the lease');
      expect((await ctx.client.abort(uploadId)).status).toBe(204);

      expectError(await ctx.client.putChunk(uploadId, file, 0, CHUNK), 410, 'UPLOAD_ABORTED');
      first.cut();
    });

    it('refuses complete while chunks are missing with UPLOAD_INCOMPLETE, listing them', async () => {
      const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
      expect((await ctx.client.putChunk(uploadId, file, 1, CHUNK)).status).toBe(200);
      const response = await ctx.client.complete(uploadId);
      expectError(response, 409, 'UPLOAD_INCOMPLETE', /2 of 3 chunks are still missing/);
      expect(response.body).toMatchObject({ missingChunks: [0, LAST], missingRanges: [FIRST_RANGE, LAST_RANGE] });
    });

    it('refuses a download before completion with UPLOAD_NOT_COMPLETED', async () => {
      const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
      expectError(await rawRequest(ctx.stack, 'GET', `/resumable-upload/uploads/${uploadId}/file`), 409, 'UPLOAD_NOT_COMPLETED', /poll its status/);
    });

    it('refuses chunks and complete of a failed upload with UPLOAD_NOT_ACCEPTING', async () => {
      const response = await ctx.client.initiate({ fileName: 'a.bin', fileSize: FILE_SIZE, chunkSize: CHUNK, sha256: 'b'.repeat(64) });
      const { uploadId } = response.body;
      for (const index of [0, 1, LAST]) expect((await ctx.client.putChunk(uploadId, file, index, CHUNK)).status).toBe(200);
      expect((await ctx.client.waitForStatus(uploadId, ['failed', 'completed'])).status).toBe('failed');

      expectError(await ctx.client.putChunk(uploadId, file, 0, CHUNK), 409, 'UPLOAD_NOT_ACCEPTING', /failed/);
      expectError(await ctx.client.complete(uploadId), 409, 'UPLOAD_NOT_ACCEPTING', /failed.*start a new upload/);
    });

    it('refuses an Idempotency-Key reused with another body with IDEMPOTENCY_KEY_REUSED, creating nothing', async () => {
      const key = `bad-input-${Date.now()}`;
      expect((await ctx.client.initiate({ fileName: 'a.txt', fileSize: 10 }, { 'idempotency-key': key })).status).toBe(201);
      const sessions = await uploadCount();
      expectError(await ctx.client.initiate({ fileName: 'b.txt', fileSize: 10 }, { 'idempotency-key': key }), 422, 'IDEMPOTENCY_KEY_REUSED', /use a new key/);
      expect(await uploadCount()).toBe(sessions);
    });

    it('refuses a malformed Idempotency-Key with VALIDATION_FAILED, creating nothing', async () => {
      const sessions = await uploadCount();
      const response = await ctx.client.initiate({ fileName: 'a.txt', fileSize: 10 }, { 'idempotency-key': 'two words' });
      expectError(response, 400, 'VALIDATION_FAILED', /Idempotency-Key must be 1 to 255 visible ASCII characters/);
      expect(await uploadCount()).toBe(sessions);
    });

    it('answers an unknown route with a JSON 404', async () => {
      expectError(await rawRequest(ctx.stack, 'GET', '/resumable-upload/nothing-here'), 404, 'NOT_FOUND', /no such route/);
    });
  });

  it('accepts the same right digest sent on two header lines (the rejections above are not about repetition)', async () => {
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    const response = await rawRequest(ctx.stack, 'PUT', `/resumable-upload/chunk?uploadId=${uploadId}`, {
      headers: { 'content-range': FIRST_RANGE, 'content-digest': [contentDigest(firstChunk), contentDigest(firstChunk)] },
      body: firstChunk,
    });
    expect(response.status).toBe(200);
    expect(await recordedChunks(ctx.stack, uploadId)).toEqual([0]);
  });
});

describe('requests Node refuses to parse', () => {
  const ctx = useStack({ env: { INITIATE_RATE_LIMIT: 'off' } });

  /** Writes `head` (and nothing else) on a fresh connection and reads the answer to the end. */
  function sendRaw(head: string): Promise<{ status: number; contentType: string | undefined; body: Record<string, any> }> {
    const { hostname, port } = new URL(ctx.stack.baseUrl);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(head));
      const parts: Buffer[] = [];
      socket.on('data', (part: Buffer) => parts.push(part));
      socket.on('error', reject);
      socket.on('close', () => {
        const text = Buffer.concat(parts).toString();
        const [head, ...rest] = text.split('\r\n\r\n');
        resolve({
          status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
          contentType: /content-type: ([^\r]+)/i.exec(head)?.[1],
          body: JSON.parse(rest.join('\r\n\r\n')),
        });
      });
    });
  }

  it.each([
    ['both Content-Length and Transfer-Encoding', 'PUT /resumable-upload/chunk HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['two different Content-Lengths', 'PUT /resumable-upload/chunk HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello'],
    ['a NUL in a header value', 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n'],
    ['a header line without a colon', 'GET /health/live HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n'],
  ])('answers %s with a JSON 400', async (_case, head) => {
    const answer = await sendRaw(head);
    expect(answer).toMatchObject({ status: 400, contentType: expect.stringMatching(/^application\/json/), body: { statusCode: 400, code: 'VALIDATION_FAILED', message: expect.stringMatching(/not valid HTTP\/1\.1/) } });
  });

  it('answers oversized headers with a JSON 431', async () => {
    const answer = await sendRaw(`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(answer).toMatchObject({ status: 431, body: { statusCode: 431, code: 'VALIDATION_FAILED', message: expect.stringMatching(/headers are too large/) } });
  });
});
