import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Upload, UploadOptions } from 'tus-js-client';
import { expectError } from './support/expect-error';
import { settledOffset } from './support/tus';
import { RawResponse, UploadClient, rawRequest, randomFile, sha256, useStack } from './support/upload-client';

const KiB = 1024;
const CHUNK = 256 * KiB;
const API_KEY = 'tus-test-key-0123456789';
const OTHER_KEY = 'tus-other-key-0123456789';
const AUTH = { authorization: `Bearer ${API_KEY}` };

/** Runs one tus-js-client upload to the end; resolves with its URL, rejects with its error. */
function upload(file: Buffer, options: Partial<UploadOptions> & { endpoint?: string }): { done: Promise<string>; client: Upload } {
  let client!: Upload;
  const done = new Promise<string>((resolve, reject) => {
    client = new Upload(file, {
      retryDelays: [],
      storeFingerprintForResuming: false,
      metadata: { filename: 'movie.mp4', filetype: 'video/mp4' },
      headers: AUTH,
      ...options,
      onError: reject,
      onSuccess: () => resolve(client.url as string),
    });
    client.start();
  });
  return { done, client };
}

const idOf = (url: string) => url.split('/').pop() as string;

describe('tus-js-client against /files/', () => {
  const ctx = useStack({ env: { DEFAULT_CHUNK_SIZE: String(CHUNK), API_KEYS: `${API_KEY},${OTHER_KEY}`, UPLOAD_TTL: '1h' } });
  const endpoint = () => ctx.stack.url('/files/');
  const authorized = () => new UploadClient(ctx.stack, AUTH);

  async function expectStoredExactly(url: string, file: Buffer): Promise<void> {
    const client = authorized();
    expect((await client.status(idOf(url))).body).toMatchObject({ status: 'completed', fileName: 'movie.mp4', fileSize: file.length, sha256: sha256(file) });
    const download = await client.download(idOf(url));
    expect(download.headers.get('content-type')).toBe('video/mp4');
    expect(download.data.equals(file)).toBe(true);
  }

  it('uploads a file in one PATCH: the upload is a completed session whose download is the same bytes', async () => {
    const file = randomFile(5 * CHUNK + 12_345);
    const url = await upload(file, { endpoint: endpoint() }).done;
    expect(url).toMatch(new RegExp(`^${ctx.stack.url('/files/')}[A-Za-z0-9_-]{22}$`));
    await expectStoredExactly(url, file);
  });

  it.each([
    ['larger than the grid and off it', CHUNK + CHUNK / 2],
    ['far smaller than the grid', 100 * KiB],
  ])('uploads with a chunkSize %s: every PATCH counts to its last byte', async (_, chunkSize) => {
    const file = randomFile(4 * CHUNK + 100);
    const offsets: number[] = [];
    const url = await upload(file, { endpoint: endpoint(), chunkSize, onChunkComplete: (_size, accepted) => offsets.push(accepted) }).done;
    expect(offsets).toEqual(Array.from({ length: Math.ceil(file.length / chunkSize) }, (_, i) => Math.min(file.length, (i + 1) * chunkSize)));
    await expectStoredExactly(url, file);
  });

  it('sends the first bytes with the creation request (uploadDataDuringCreation)', async () => {
    const file = randomFile(2 * CHUNK + 7);
    const url = await upload(file, { endpoint: endpoint(), uploadDataDuringCreation: true }).done;
    await expectStoredExactly(url, file);
  });

  it('resumes after abort() from the durable offset the server reports, with a new client given the uploadUrl', async () => {
    const file = randomFile(64 * CHUNK + 999);
    let aborted!: Upload;
    const stopped = new Promise<void>((resolve, reject) => {
      aborted = new Upload(file, {
        endpoint: endpoint(),
        retryDelays: [],
        storeFingerprintForResuming: false,
        metadata: { filename: 'movie.mp4', filetype: 'video/mp4' },
        headers: AUTH,
        onError: reject,
        onSuccess: () => reject(new Error('the upload finished before it was aborted')),
        onProgress: (sent) => {
          if (sent > file.length / 3) void aborted.abort().then(resolve);
        },
      });
      aborted.start();
    });
    await stopped;
    const url = aborted.url as string;

    // HEAD says what the server holds durably: the chunks recorded from 0 on, and no more.
    const { offset, recorded } = await settledOffset(ctx.stack, idOf(url), AUTH);
    expect(offset).toBeLessThan(file.length);
    expect(recorded).toEqual([...Array(Math.floor(offset / CHUNK)).keys()]);

    let resumedFrom = -1;
    const resumed = await upload(file, {
      uploadUrl: url,
      // The server may still be closing the aborted PATCH (423 until it lets go), as with any client that reconnects.
      retryDelays: [100, 500, 1000, 2000],
      onProgress: (sent) => {
        if (resumedFrom === -1) resumedFrom = sent;
      },
    }).done;
    expect(resumed).toBe(url);
    expect(resumedFrom).toBeGreaterThanOrEqual(offset);
    await expectStoredExactly(url, file);
  });

  it('terminates an upload: the session is aborted and tus answers 410 from then on', async () => {
    const file = randomFile(8 * CHUNK);
    let started!: Upload;
    const url = await new Promise<string>((resolve, reject) => {
      started = new Upload(file, {
        endpoint: endpoint(),
        retryDelays: [],
        storeFingerprintForResuming: false,
        headers: AUTH,
        chunkSize: 2 * CHUNK,
        onError: reject,
        onChunkComplete: () => void started.abort().then(() => resolve(started.url as string)),
      });
      started.start();
    });
    await Upload.terminate(url, { headers: AUTH, retryDelays: [] });
    expect((await authorized().status(idOf(url))).body.status).toBe('aborted');
    const head: RawResponse = await rawRequest(ctx.stack, 'HEAD', `/files/${idOf(url)}`, { headers: { 'tus-resumable': '1.0.0', ...AUTH } });
    expect(head.status).toBe(410);
  });

  it('uploads with parallelUploads: 3 (partial uploads concatenated into the final one)', async () => {
    const file = randomFile(7 * CHUNK + 321);
    const url = await upload(file, { endpoint: endpoint(), parallelUploads: 3 }).done;
    await expectStoredExactly(url, file);
  });

  it('refuses to concatenate uploads of another key, as if they did not exist', async () => {
    const theirs = await upload(randomFile(CHUNK), { endpoint: endpoint(), headers: { authorization: `Bearer ${OTHER_KEY}` } }).done;
    const before = await ctx.stack.db.query('SELECT count(*)::int AS n FROM uploads');
    const response = await rawRequest(ctx.stack, 'POST', '/files/', { headers: { 'tus-resumable': '1.0.0', ...AUTH, 'upload-concat': `final;${theirs}` } });
    expectError(response, 400, 'VALIDATION_FAILED', /no upload of yours/);
    expect(response.headers.get('location')).toBeNull();
    expect((await ctx.stack.db.query('SELECT count(*)::int AS n FROM uploads')).rows[0].n).toBe(before.rows[0].n);
  });

  it('needs the API key like every route, and hides uploads of other keys', async () => {
    const file = randomFile(CHUNK);
    await expect(upload(file, { endpoint: endpoint(), headers: {} }).done).rejects.toThrow(/401/);
    const url = await upload(file, { endpoint: endpoint() }).done;
    const head = await rawRequest(ctx.stack, 'HEAD', `/files/${idOf(url)}`, { headers: { 'tus-resumable': '1.0.0' } });
    expect(head.status).toBe(401);
  });
});

describe('tus uploads on API replicas', () => {
  const ctx = useStack({ env: { DEFAULT_CHUNK_SIZE: String(CHUNK) } });

  it('continues on another replica from the offset the first one made durable', async () => {
    const replica = await ctx.stack.startReplica();
    const file = randomFile(6 * CHUNK + 5);
    let url = '';
    // Creation, then two PATCHes of two chunks and a bit, alternating between the two replicas.
    for (let part = 0; part < 3; part++) {
      const base = part % 2 === 0 ? ctx.stack.baseUrl : replica.baseUrl;
      const id = idOf(url);
      if (part === 0) {
        const created = await fetch(`${base}/files/`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': String(file.length) } });
        url = created.headers.get('location') as string;
        continue;
      }
      const head = await fetch(`${base}/files/${id}`, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0' } });
      const offset = Number(head.headers.get('upload-offset'));
      const body = file.subarray(offset, offset + 2 * CHUNK + 10);
      const patched = await fetch(`${base}/files/${id}`, {
        method: 'PATCH',
        headers: { 'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) },
        body,
      });
      expect(patched.status).toBe(204);
    }
    const head = await fetch(`${replica.baseUrl}/files/${idOf(url)}`, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0' } });
    const offset = Number(head.headers.get('upload-offset'));
    // Both PATCHes ended inside a chunk: their last bytes were kept, so nothing is sent twice.
    expect(offset).toBe(4 * CHUNK + 20);
    const last = await fetch(`${ctx.stack.baseUrl}/files/${idOf(url)}`, {
      method: 'PATCH',
      headers: { 'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) },
      body: file.subarray(offset),
    });
    expect([last.status, last.headers.get('upload-offset')]).toEqual([204, String(file.length)]);
    expect(sha256((await ctx.client.download(idOf(url))).data)).toBe(sha256(file));
  });

  it('lets only one of two PATCHes of the same upload at once write: the other gets 423 (or 409 once the offset moved)', async () => {
    const replica = await ctx.stack.startReplica();
    const file = randomFile(16 * CHUNK);
    const created = await fetch(ctx.stack.url('/files/'), { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': String(file.length) } });
    const id = idOf(created.headers.get('location') as string);
    const patchFrom = (base: string) =>
      fetch(`${base}/files/${id}`, { method: 'PATCH', headers: { 'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, body: file }).then(async (response) => ({
        status: response.status,
        offset: response.headers.get('upload-offset'),
        body: response.status === 204 ? null : ((await response.json()) as { code: string }),
      }));
    const answers = await Promise.all([patchFrom(ctx.stack.baseUrl), patchFrom(replica.baseUrl)]);
    const refused = answers.filter((answer) => answer.status !== 204);
    // Either the other was refused while the first ran, or it came after and found the offset moved.
    expect(refused).toHaveLength(1);
    expect([refused[0].status, refused[0].body?.code]).toEqual(expect.arrayContaining([refused[0].status === 423 ? 'UPLOAD_IN_PROGRESS' : 'UPLOAD_OFFSET_MISMATCH']));
    expect([409, 423]).toContain(refused[0].status);
    expect(sha256((await ctx.client.download(id)).data)).toBe(sha256(file));
  });
});

describe('the PATCH that completes a tus upload', () => {
  const ctx = useStack({ env: { DEFAULT_CHUNK_SIZE: String(CHUNK), COMPLETE_WAIT: '30s' } });
  const partPath = (id: string) => join(ctx.stack.storageDir, 'tmp', `${id}.part`);
  const patch = (id: string, offset: number, body: Buffer) =>
    rawRequest(ctx.stack, 'PATCH', `/files/${id}`, { headers: { 'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) }, body });

  it('waits for the verification: stored bytes found corrupt answer 409 with the offset to resume from, not success', async () => {
    const file = randomFile(3 * CHUNK);
    const created = await rawRequest(ctx.stack, 'POST', '/files/', { headers: { 'tus-resumable': '1.0.0', 'upload-length': String(file.length) } });
    const id = idOf(created.headers.get('location') as string);
    expect((await patch(id, 0, file.subarray(0, 2 * CHUNK))).headers.get('upload-offset')).toBe(String(2 * CHUNK));
    // Damage chunk 1's stored bytes as a bad disk could, before the last PATCH.
    const part = await readFile(partPath(id));
    part[CHUNK + 5] ^= 0xff;
    await writeFile(partPath(id), part);

    const last = await patch(id, 2 * CHUNK, file.subarray(2 * CHUNK));
    expectError(last, 409, 'UPLOAD_OFFSET_MISMATCH', /resume from offset 262144/);
    expect(last.body.uploadOffset).toBe(CHUNK);
    expect((await ctx.client.status(id)).body).toMatchObject({ status: 'uploading', missingChunks: [1] });

    // tus-js-client, given the URL, asks for the offset and sends the rest again.
    const url = await upload(file, { uploadUrl: ctx.stack.url(`/files/${id}`), headers: {} }).done;
    expect(idOf(url)).toBe(id);
    expect((await ctx.client.status(id)).body).toMatchObject({ status: 'completed', sha256: sha256(file) });
    expect((await ctx.client.download(id)).data.equals(file)).toBe(true);
  });

  it('answers success only once the file is verified and completed', async () => {
    const file = randomFile(2 * CHUNK + 3);
    const url = await upload(file, { endpoint: ctx.stack.url('/files/'), headers: {} }).done;
    // No poll: the answer to the last PATCH came after the verification.
    expect((await ctx.client.status(idOf(url))).body).toMatchObject({ status: 'completed', sha256: sha256(file) });
  });
});
