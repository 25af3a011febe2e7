import { createHash } from 'node:crypto';
import { expectError } from './support/expect-error';
import { recordedHashes } from './support/faults';
import { eventually } from './support/processes';
import { RawResponse, rawRequest, randomFile, recordedChunks, sha256, useStack } from './support/upload-client';

const KiB = 1024;
const CHUNK = 256 * KiB;
const MAX_FILE_SIZE = 64 * 1024 * KiB;
const TUS = { 'tus-resumable': '1.0.0' };
const PATCH_HEADERS = { ...TUS, 'content-type': 'application/offset+octet-stream' };

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

describe('the tus 1.0 protocol at /files/', () => {
  const ctx = useStack({ env: { DEFAULT_CHUNK_SIZE: String(CHUNK), MAX_FILE_SIZE: String(MAX_FILE_SIZE), UPLOAD_TTL: '1h' } });

  const send = (method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<RawResponse> => rawRequest(ctx.stack, method, path, { headers, body });

  /** Creates an upload and returns its id (the last segment of Location). */
  async function create(length: number, metadata?: string): Promise<string> {
    const response = await send('POST', '/files/', { ...TUS, 'upload-length': String(length), ...(metadata === undefined ? {} : { 'upload-metadata': metadata }) });
    expect(response.status).toBe(201);
    return response.headers.get('location')!.split('/').pop()!;
  }

  const patch = (id: string, offset: number | string, body: Buffer, headers: Record<string, string> = {}) =>
    send('PATCH', `/files/${id}`, { ...PATCH_HEADERS, 'upload-offset': String(offset), 'content-length': String(body.length), ...headers }, body);

  /** A refusal with the tus status, our JSON error body, and Tus-Resumable like every answer. */
  function expectTusError(response: RawResponse, status: number, code: string, message?: RegExp): void {
    expectError(response, status, code, message);
    expect(response.headers.get('tus-resumable')).toBe('1.0.0');
  }

  it('answers OPTIONS with the versions, extensions, maximum size and checksum algorithms it serves', async () => {
    const response = await send('OPTIONS', '/files/');
    expect(response.status).toBe(204);
    expect(response.headers.get('tus-resumable')).toBe('1.0.0');
    expect(response.headers.get('tus-version')).toBe('1.0.0');
    expect(response.headers.get('tus-max-size')).toBe(String(MAX_FILE_SIZE));
    expect(response.headers.get('tus-extension')?.split(',')).toEqual(expect.arrayContaining(['creation', 'creation-with-upload', 'termination', 'expiration', 'checksum', 'concatenation']));
    expect(response.headers.get('tus-checksum-algorithm')?.split(',')).toEqual(expect.arrayContaining(['sha1', 'sha256']));
  });

  it('creates an upload that is a session of the chunk API, and takes it in PATCHes of any whole-chunk length', async () => {
    const file = randomFile(3 * CHUNK + 1000);
    const id = await create(file.length, `filename ${base64('photo.jpg')},filetype ${base64('image/jpeg')},album ${base64('holidays')}`);

    const head = await send('HEAD', `/files/${id}`, TUS);
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe('0');
    expect(head.headers.get('upload-length')).toBe(String(file.length));
    expect(head.headers.get('cache-control')).toBe('no-store');
    expect(new Date(head.headers.get('upload-expires')!).getTime()).toBeGreaterThan(Date.now());
    expect(head.headers.get('upload-metadata')?.split(',').sort()).toEqual([`album ${base64('holidays')}`, `filename ${base64('photo.jpg')}`, `filetype ${base64('image/jpeg')}`]);

    // Two chunks and a bit: the chunks are recorded, the bit is kept as the beginning of the third.
    const first = await patch(id, 0, file.subarray(0, 2 * CHUNK + 100));
    expect(first.status).toBe(204);
    expect(first.headers.get('upload-offset')).toBe(String(2 * CHUNK + 100));
    expect(first.headers.get('tus-resumable')).toBe('1.0.0');
    expect(await recordedChunks(ctx.stack, id)).toEqual([0, 1]);
    expect((await send('HEAD', `/files/${id}`, TUS)).headers.get('upload-offset')).toBe(String(2 * CHUNK + 100));

    const last = await patch(id, 2 * CHUNK + 100, file.subarray(2 * CHUNK + 100));
    expect(last.status).toBe(204);
    expect(last.headers.get('upload-offset')).toBe(String(file.length));

    const status = await ctx.client.status(id);
    expect(status.body).toMatchObject({ fileName: 'photo.jpg', status: 'completed', sha256: sha256(file) });
    const download = await ctx.client.download(id);
    expect(download.headers.get('content-type')).toBe('image/jpeg');
    expect(sha256(download.data)).toBe(sha256(file));
  });

  it('takes the first bytes with the creation request (creation-with-upload)', async () => {
    const file = randomFile(CHUNK + 10);
    const response = await send('POST', '/files/', { ...PATCH_HEADERS, 'upload-length': String(file.length), 'content-length': String(file.length) }, file);
    expect(response.status).toBe(201);
    expect(response.headers.get('upload-offset')).toBe(String(file.length));
    const id = response.headers.get('location')!.split('/').pop()!;
    expect((await ctx.client.status(id)).body).toMatchObject({ status: 'completed', sha256: sha256(file) });
  });

  it('verifies Upload-Checksum over the whole PATCH: a mismatch is 460 and nothing of that PATCH counts', async () => {
    const file = randomFile(2 * CHUNK);
    const id = await create(file.length);
    const body = file.subarray(0, CHUNK);
    const wrong = await patch(id, 0, body, { 'upload-checksum': `sha1 ${createHash('sha1').update('other').digest('base64')}` });
    expectTusError(wrong, 460, 'UPLOAD_CHECKSUM_MISMATCH', /Upload-Checksum/);
    expect(await recordedChunks(ctx.stack, id)).toEqual([]);
    expect((await send('HEAD', `/files/${id}`, TUS)).headers.get('upload-offset')).toBe('0');

    for (const algorithm of ['sha1', 'sha256', 'md5']) {
      const offset = Number((await send('HEAD', `/files/${id}`, TUS)).headers.get('upload-offset'));
      if (offset === file.length) break;
      const piece = file.subarray(offset, offset + CHUNK);
      const right = await patch(id, offset, piece, { 'upload-checksum': `${algorithm} ${createHash(algorithm).update(piece).digest('base64')}` });
      expect(right.status).toBe(204);
      expect(right.headers.get('upload-offset')).toBe(String(offset + CHUNK));
    }
    expect((await ctx.client.status(id)).body).toMatchObject({ status: 'completed', sha256: sha256(file) });
  });

  it('terminates an upload with DELETE: later requests are 410', async () => {
    const id = await create(2 * CHUNK);
    const deleted = await send('DELETE', `/files/${id}`, TUS);
    expect(deleted.status).toBe(204);
    expect(deleted.headers.get('tus-resumable')).toBe('1.0.0');
    expectTusError(await patch(id, 0, randomFile(CHUNK)), 410, 'UPLOAD_ABORTED');
    expect((await send('HEAD', `/files/${id}`, TUS)).status).toBe(410);
    expect((await ctx.client.status(id)).body.status).toBe('aborted');
  });

  it('answers the tus status codes, each with Tus-Resumable and an error body that says what to fix', async () => {
    const id = await create(2 * CHUNK);
    const chunk = randomFile(CHUNK);

    const noVersion = await send('POST', '/files/', { 'upload-length': '10' });
    expectTusError(noVersion, 412, 'TUS_VERSION_UNSUPPORTED', /Tus-Resumable: 1\.0\.0/);
    expect(noVersion.headers.get('tus-version')).toBe('1.0.0');
    expectTusError(await send('PATCH', `/files/${id}`, { ...PATCH_HEADERS, 'tus-resumable': '0.2.2', 'upload-offset': '0' }, chunk), 412, 'TUS_VERSION_UNSUPPORTED');
    expectTusError(await patch(id, 0, chunk, { 'content-type': 'application/octet-stream' }), 415, 'UNSUPPORTED_MEDIA_TYPE', /application\/offset\+octet-stream/);
    const wrongOffset = await patch(id, CHUNK, chunk);
    expectTusError(wrongOffset, 409, 'UPLOAD_OFFSET_MISMATCH', /resume from offset 0/);
    expect(wrongOffset.body.uploadOffset).toBe(0);
    expectTusError(await send('POST', '/files/', { ...TUS, 'upload-length': String(MAX_FILE_SIZE + 1) }), 413, 'FILE_TOO_LARGE', /Tus-Max-Size/);
    expectTusError(await patch(id, 0, randomFile(2 * CHUNK + 1)), 413, 'CHUNK_TOO_LARGE');
    // A HEAD answer has no body: its status and headers say it all.
    const unknown = await send('HEAD', '/files/AAAAAAAAAAAAAAAAAAAAAA', TUS);
    expect([unknown.status, unknown.headers.get('tus-resumable')]).toEqual([404, '1.0.0']);
    expectTusError(await patch('AAAAAAAAAAAAAAAAAAAAAA', 0, chunk), 404, 'UPLOAD_NOT_FOUND');
    expectTusError(await patch('not-an-id', 0, chunk), 400, 'INVALID_UPLOAD_ID');
    expect(await recordedChunks(ctx.stack, id)).toEqual([]);
  });

  it.each([
    ['-1', 'Upload-Offset'],
    ['+5', 'Upload-Offset'],
    ['1e3', 'Upload-Offset'],
    ['9007199254740992', 'Upload-Offset'],
    ['99999999999999999999', 'Upload-Offset'],
    ['0x10', 'Upload-Offset'],
    ['', 'Upload-Offset'],
  ])('refuses Upload-Offset %p with 400 and records nothing', async (value, field) => {
    const id = await create(2 * CHUNK);
    const response = await patch(id, value, randomFile(CHUNK));
    expectTusError(response, 400, 'VALIDATION_FAILED', new RegExp(field));
    expect(await recordedChunks(ctx.stack, id)).toEqual([]);
  });

  it('refuses a PATCH without Upload-Offset, or with an Upload-Checksum it cannot use, with 400 and records nothing', async () => {
    const id = await create(2 * CHUNK);
    const chunk = randomFile(CHUNK);
    expectTusError(await send('PATCH', `/files/${id}`, { ...PATCH_HEADERS, 'content-length': String(chunk.length) }, chunk), 400, 'VALIDATION_FAILED', /Upload-Offset is required/);
    for (const [checksum, message] of [
      [`crc32 ${base64('abcd')}`, /algorithm this server does not offer/],
      ['sha1 not*base64', /sha1 <base64/],
      [`sha256 ${createHash('sha1').update(chunk).digest('base64')}`, /32-byte digest/],
      ['sha1', /sha1 <base64/],
    ] as const) {
      expectTusError(await patch(id, 0, chunk, { 'upload-checksum': checksum }), 400, 'VALIDATION_FAILED', message);
    }
    expect(await recordedChunks(ctx.stack, id)).toEqual([]);
    expect((await send('HEAD', `/files/${id}`, TUS)).headers.get('upload-offset')).toBe('0');
  });

  it.each([
    ['missing', undefined, 400, 'VALIDATION_FAILED'],
    ['negative', '-1', 400, 'VALIDATION_FAILED'],
    ['a fraction', '1.5', 400, 'VALIDATION_FAILED'],
    ['over 2^53', '9007199254740993', 400, 'VALIDATION_FAILED'],
    ['over the maximum', String(MAX_FILE_SIZE + 1), 413, 'FILE_TOO_LARGE'],
  ])('refuses an Upload-Length that is %s and creates nothing', async (_, value, status, code) => {
    const before = await ctx.stack.db.query('SELECT count(*)::int AS n FROM uploads');
    const response = await send('POST', '/files/', { ...TUS, ...(value === undefined ? {} : { 'upload-length': value }) });
    expectTusError(response, status, code);
    expect(response.headers.get('location')).toBeNull();
    expect((await ctx.stack.db.query('SELECT count(*)::int AS n FROM uploads')).rows[0].n).toBe(before.rows[0].n);
  });

  it.each([
    ['malformed base64', 'filename not*base64'],
    ['65 keys', Array.from({ length: 65 }, (_, i) => `k${i} ${base64('v')}`).join(',')],
    ['a key given twice', `filename ${base64('a')},filename ${base64('b')}`],
    ['a value that is not UTF-8', `filename ${Buffer.from([0xff, 0xfe]).toString('base64')}`],
    ['a file name with a slash', `filename ${base64('../etc/passwd')}`],
  ])('refuses Upload-Metadata with %s and creates nothing', async (_, metadata) => {
    const before = await ctx.stack.db.query('SELECT count(*)::int AS n FROM uploads');
    const response = await send('POST', '/files/', { ...TUS, 'upload-length': '10', 'upload-metadata': metadata });
    expectTusError(response, 400, 'VALIDATION_FAILED');
    expect((await ctx.stack.db.query('SELECT count(*)::int AS n FROM uploads')).rows[0].n).toBe(before.rows[0].n);
  });

  it('refuses Upload-Metadata with 10,000 keys (larger than any header the server reads) with a 4xx', async () => {
    const before = await ctx.stack.db.query('SELECT count(*)::int AS n FROM uploads');
    const metadata = Array.from({ length: 10_000 }, (_, i) => `k${i} ${base64('v')}`).join(',');
    const response = await send('POST', '/files/', { ...TUS, 'upload-length': '10', 'upload-metadata': metadata });
    expect(response.status).toBe(431);
    expect(response.body.code).toBe('VALIDATION_FAILED');
    expect((await ctx.stack.db.query('SELECT count(*)::int AS n FROM uploads')).rows[0].n).toBe(before.rows[0].n);
  });

  it('refuses deferred lengths, which it does not offer', async () => {
    expectTusError(await send('POST', '/files/', { ...TUS, 'upload-defer-length': '1' }), 400, 'VALIDATION_FAILED', /Upload-Defer-Length/);
  });

  it('concatenates completed uploads into a final one, verified like any upload', async () => {
    const first = randomFile(CHUNK + 77);
    const second = randomFile(2 * CHUNK - 5);
    const ids: string[] = [];
    for (const part of [first, second]) {
      const response = await send('POST', '/files/', { ...PATCH_HEADERS, 'upload-length': String(part.length), 'upload-concat': 'partial', 'content-length': String(part.length) }, part);
      expect(response.status).toBe(201);
      ids.push(response.headers.get('location')!.split('/').pop()!);
    }
    for (const [index, part] of [first, second].entries()) {
      const head = await send('HEAD', `/files/${ids[index]}`, TUS);
      expect([head.status, head.headers.get('upload-concat'), head.headers.get('upload-offset')]).toEqual([200, 'partial', String(part.length)]);
    }
    const concat = `final;${ctx.stack.url(`/files/${ids[0]}`)} /files/${ids[1]}`;
    const final = await send('POST', '/files/', { ...TUS, 'upload-concat': concat, 'upload-metadata': `filename ${base64('whole.bin')}` });
    expect(final.status).toBe(201);
    const whole = Buffer.concat([first, second]);
    expect(final.headers.get('upload-offset')).toBe(String(whole.length));
    const id = final.headers.get('location')!.split('/').pop()!;
    expect((await ctx.client.status(id)).body).toMatchObject({ status: 'completed', fileName: 'whole.bin', fileSize: whole.length, sha256: sha256(whole) });
    expect((await ctx.client.download(id)).data.equals(whole)).toBe(true);

    // HEAD echoes Upload-Concat as created; a completed final upload has its offset, equal to its length.
    const head = await send('HEAD', `/files/${id}`, TUS);
    expect([head.headers.get('upload-concat'), head.headers.get('upload-offset'), head.headers.get('upload-length')]).toEqual([concat, String(whole.length), String(whole.length)]);
    // A final upload takes no PATCH (tus concatenation: 403), and nothing of it or its partial uploads changes.
    const recorded = await recordedHashes(ctx.stack, id);
    expectTusError(await patch(id, whole.length, Buffer.from('more')), 403, 'UPLOAD_IS_FINAL', /partial uploads/);
    expectTusError(await patch(id, 0, whole.subarray(0, CHUNK)), 403, 'UPLOAD_IS_FINAL');
    expect(await recordedHashes(ctx.stack, id)).toEqual(recorded);
    expect((await ctx.client.status(id)).body).toMatchObject({ status: 'completed', sha256: sha256(whole) });
    expect((await ctx.client.download(ids[1])).data.equals(second)).toBe(true);
  });

  it('refuses a final upload that names unknown or unfinished uploads, or is malformed, and creates nothing', async () => {
    const unfinished = await create(2 * CHUNK);
    const before = await ctx.stack.db.query('SELECT count(*)::int AS n FROM uploads');
    for (const [value, message] of [
      [`final;/files/AAAAAAAAAAAAAAAAAAAAAA`, /no upload of yours/],
      [`final;/files/${unfinished}`, /uploading, not completed/],
      ['final;', /at least one/],
      ['final;/files/../../etc/passwd', /not the URL of an upload/],
      ['whole', /"partial" or "final;"/],
    ] as const) {
      expectTusError(await send('POST', '/files/', { ...TUS, 'upload-concat': value }), 400, 'VALIDATION_FAILED', message);
    }
    expect((await ctx.stack.db.query('SELECT count(*)::int AS n FROM uploads')).rows[0].n).toBe(before.rows[0].n);
  });

  it('refuses a final upload whose partial uploads add up to more than Tus-Max-Size with 413, and creates nothing', async () => {
    const part = randomFile(1024 * KiB);
    const created = await send('POST', '/files/', { ...PATCH_HEADERS, 'upload-length': String(part.length), 'upload-concat': 'partial', 'content-length': String(part.length) }, part);
    const id = created.headers.get('location')!.split('/').pop()!;
    await eventually(async () => ((await ctx.client.status(id)).body.status === 'completed' ? true : undefined), 'the partial upload to complete');
    const before = await ctx.stack.db.query('SELECT count(*)::int AS n FROM uploads');
    // The same partial upload may be named again and again; 65 times 1 MiB is over the 64 MiB maximum.
    const concat = `final;${Array.from({ length: MAX_FILE_SIZE / part.length + 1 }, () => `/files/${id}`).join(' ')}`;
    expectTusError(await send('POST', '/files/', { ...TUS, 'upload-concat': concat }), 413, 'FILE_TOO_LARGE', /Tus-Max-Size/);
    expect((await ctx.stack.db.query('SELECT count(*)::int AS n FROM uploads')).rows[0].n).toBe(before.rows[0].n);
  });

  it('takes PATCHes of a few bytes: each is durable and counted in the offset, and the chunks come out whole', async () => {
    const file = randomFile(CHUNK + 50_000);
    const id = await create(file.length);
    let offset = 0;
    for (const size of [1, 999, 100_000, CHUNK - 101_000, 7, 49_993]) {
      const response = await patch(id, offset, file.subarray(offset, offset + size));
      expect(response.status).toBe(204);
      offset += size;
      expect(response.headers.get('upload-offset')).toBe(String(offset));
    }
    expect((await ctx.client.status(id)).body).toMatchObject({ status: 'completed', sha256: sha256(file) });
    expect(await recordedHashes(ctx.stack, id)).toEqual(new Map([[0, sha256(file.subarray(0, CHUNK))], [1, sha256(file.subarray(CHUNK))]]));
  });

  it('counts tus PATCHes and the durable bytes they added in the metrics', async () => {
    const metric = async (line: RegExp) => Number(line.exec(await (await fetch(ctx.stack.url('/metrics'))).text())?.[1] ?? 0);
    const okBefore = await metric(/^resumable_upload_tus_patch_requests_total\{outcome="ok"\} (\d+)/m);
    const bytesBefore = await metric(/^resumable_upload_tus_stored_bytes_total (\d+)/m);
    const mismatchBefore = await metric(/^resumable_upload_tus_patch_requests_total\{outcome="UPLOAD_OFFSET_MISMATCH"\} (\d+)/m);
    const id = await create(2 * CHUNK);
    expect((await patch(id, 0, randomFile(CHUNK + 10))).status).toBe(204);
    expect((await patch(id, 0, randomFile(CHUNK))).status).toBe(409);
    expect(await metric(/^resumable_upload_tus_patch_requests_total\{outcome="ok"\} (\d+)/m)).toBe(okBefore + 1);
    expect(await metric(/^resumable_upload_tus_stored_bytes_total (\d+)/m)).toBe(bytesBefore + CHUNK + 10);
    expect(await metric(/^resumable_upload_tus_patch_requests_total\{outcome="UPLOAD_OFFSET_MISMATCH"\} (\d+)/m)).toBe(mismatchBefore + 1);
  });

  it('answers an empty PATCH with the current offset', async () => {
    const id = await create(2 * CHUNK);
    const response = await patch(id, 0, Buffer.alloc(0));
    expect(response.status).toBe(204);
    expect(response.headers.get('upload-offset')).toBe('0');
  });
});

describe('a tus final upload before its verification', () => {
  const ctx = useStack({ workers: 0, env: { DEFAULT_CHUNK_SIZE: String(CHUNK), COMPLETE_WAIT: '0' } });

  it('has no Upload-Offset on HEAD until completed, and refuses PATCHes meanwhile and bytes sent with its creation with 403', async () => {
    const part = randomFile(CHUNK + 10);
    const created = await rawRequest(ctx.stack, 'POST', '/files/', { headers: { ...PATCH_HEADERS, 'upload-length': String(part.length), 'upload-concat': 'partial', 'content-length': String(part.length) }, body: part });
    expect(created.status).toBe(201);
    const partial = created.headers.get('location')!.split('/').pop()!;
    // Only a completed upload can be concatenated: a worker verifies the partial one, then stops.
    const worker = await ctx.stack.startWorker();
    await eventually(async () => ((await ctx.client.status(partial)).body.status === 'completed' ? true : undefined), 'the partial upload to complete');
    await worker.stop();

    // A final upload takes no bytes of its own, not even with its creation: nothing is created.
    const uploadCount = async () => Number((await ctx.stack.db.query<{ count: string }>('SELECT count(*) FROM uploads')).rows[0].count);
    const uploadsBefore = await uploadCount();
    const withBody = await rawRequest(ctx.stack, 'POST', '/files/', { headers: { ...PATCH_HEADERS, 'upload-concat': `final;/files/${partial}`, 'content-length': '4' }, body: Buffer.from('more') });
    expectError(withBody, 403, 'UPLOAD_IS_FINAL');
    expect(withBody.headers.has('location')).toBe(false);
    expect(await uploadCount()).toBe(uploadsBefore);

    const final = await rawRequest(ctx.stack, 'POST', '/files/', { headers: { ...TUS, 'upload-concat': `final;/files/${partial} /files/${partial}` } });
    expect(final.status).toBe(201);
    const id = final.headers.get('location')!.split('/').pop()!;
    expect((await ctx.client.status(id)).body.status).toBe('assembling');
    const head = await rawRequest(ctx.stack, 'HEAD', `/files/${id}`, { headers: TUS });
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-concat')).toBe(`final;/files/${partial} /files/${partial}`);
    expect(head.headers.get('upload-length')).toBe(String(2 * part.length));
    expect(head.headers.has('upload-offset')).toBe(false);
    const refused = await rawRequest(ctx.stack, 'PATCH', `/files/${id}`, { headers: { ...PATCH_HEADERS, 'upload-offset': '0' }, body: part });
    expectError(refused, 403, 'UPLOAD_IS_FINAL');
    expect(refused.headers.get('tus-resumable')).toBe('1.0.0');

    await ctx.stack.startWorker();
    await eventually(async () => ((await ctx.client.status(id)).body.status === 'completed' ? true : undefined), 'the final upload to complete');
    const done = await rawRequest(ctx.stack, 'HEAD', `/files/${id}`, { headers: TUS });
    expect(done.headers.get('upload-offset')).toBe(String(2 * part.length));
    expect((await ctx.client.download(id)).data.equals(Buffer.concat([part, part]))).toBe(true);
  });
});

describe('tus uploads past their expiry', () => {
  const ctx = useStack({ env: { DEFAULT_CHUNK_SIZE: String(CHUNK), UPLOAD_TTL: '2s' } });

  it('answers 410 once the upload expired', async () => {
    const response = await rawRequest(ctx.stack, 'POST', '/files/', { headers: { ...TUS, 'upload-length': String(2 * CHUNK) } });
    expect(response.status).toBe(201);
    const id = response.headers.get('location')!.split('/').pop()!;
    const expires = new Date((await rawRequest(ctx.stack, 'HEAD', `/files/${id}`, { headers: TUS })).headers.get('upload-expires')!).getTime();
    expect(expires).toBeLessThanOrEqual(Date.now() + 3000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expires - Date.now()) + 1500));
    const head = await rawRequest(ctx.stack, 'HEAD', `/files/${id}`, { headers: TUS });
    expect(head.status).toBe(410);
    const late = await rawRequest(ctx.stack, 'PATCH', `/files/${id}`, { headers: { ...PATCH_HEADERS, 'upload-offset': '0' }, body: randomFile(CHUNK) });
    expectError(late, 410, 'UPLOAD_EXPIRED');
    expect(late.headers.get('tus-resumable')).toBe('1.0.0');
  });
});

describe('tus from a browser on another origin (CORS_ORIGINS)', () => {
  const ctx = useStack({ env: { DEFAULT_CHUNK_SIZE: String(CHUNK), CORS_ORIGINS: 'https://app.example.com' } });

  it('answers the preflight of a PATCH with the tus headers allowed and still says what it offers', async () => {
    const preflight = await rawRequest(ctx.stack, 'OPTIONS', '/files/AAAAAAAAAAAAAAAAAAAAAA', {
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'tus-resumable,upload-offset,content-type,upload-checksum' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PATCH');
    for (const name of ['Tus-Resumable', 'Upload-Offset', 'Upload-Checksum', 'Upload-Length', 'Upload-Metadata', 'Upload-Concat']) expect(preflight.headers.get('access-control-allow-headers')).toContain(name);
    expect(preflight.headers.get('tus-version')).toBe('1.0.0');
  });

  it('lets the page read the tus headers of an answer', async () => {
    const created = await rawRequest(ctx.stack, 'POST', '/files/', { headers: { ...TUS, origin: 'https://app.example.com', 'upload-length': '10' } });
    expect(created.status).toBe(201);
    const exposed = created.headers.get('access-control-expose-headers') ?? '';
    for (const name of ['Location', 'Tus-Resumable', 'Upload-Offset', 'Upload-Expires', 'Upload-Length', 'Upload-Metadata']) expect(exposed).toContain(name);
  });
});
