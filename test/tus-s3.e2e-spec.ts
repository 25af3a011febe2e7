import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Upload, UploadOptions } from 'tus-js-client';
import { TestS3Server, s3ClientFor, s3Environment } from './support/s3-server';
import { Stack } from './support/stack';
import { settledOffset } from './support/tus';
import { UploadClient, rawRequest, randomFile, recordedChunks, sha256 } from './support/upload-client';

const MiB = 1024 * 1024;
const CHUNK = 5 * MiB;
const PREFIX = 'tus/';
const TUS = { 'tus-resumable': '1.0.0' };

/** tus uploads stored as S3 multipart uploads: chunk i of the PATCH is part i+1, an unfinished chunk's beginning an object beside it. */
describe('tus-js-client against /files/ with STORAGE_BACKEND=s3', () => {
  let server: TestS3Server;
  let bucket: string;
  let admin: S3Client;
  let stack: Stack;

  beforeAll(async () => {
    server = await TestS3Server.start();
    bucket = await server.newBucket();
    admin = s3ClientFor(server.access);
    stack = await Stack.start({ env: { ...s3Environment(server.access, bucket, PREFIX), DEFAULT_CHUNK_SIZE: String(CHUNK) } });
  }, 240_000);
  afterAll(async () => {
    admin?.destroy();
    await stack?.stop();
    await server?.stop();
  });

  /** The kept chunk beginnings in the bucket for an upload, as `<index>-<length>`. */
  async function tails(id: string): Promise<string[]> {
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${PREFIX}${id}.tail-` }));
    return (listed.Contents ?? []).map((object) => (object.Key as string).slice(`${PREFIX}${id}.tail-`.length));
  }

  /** The durable bytes as Postgres has them: whole recorded chunks from 0 on and the recorded beginning of the next. */
  async function durableBytes(id: string): Promise<number> {
    const recorded = await recordedChunks(stack, id);
    let whole = 0;
    while (recorded[whole] === whole) whole++;
    const { rows } = await stack.db.query<{ kept_bytes: number }>('SELECT kept_bytes FROM chunk_claims WHERE upload_id = $1 AND chunk_index = $2', [id, whole]);
    return whole * CHUNK + (rows[0]?.kept_bytes ?? 0);
  }

  async function expectStoredExactly(id: string, file: Buffer): Promise<void> {
    const client = new UploadClient(stack);
    expect((await client.status(id)).body).toMatchObject({ status: 'completed', sha256: sha256(file) });
    expect((await client.download(id)).data.equals(file)).toBe(true);
    expect(await tails(id)).toEqual([]);
  }

  function upload(file: Buffer, options: Partial<UploadOptions>): { done: Promise<string>; client: Upload } {
    let client!: Upload;
    const done = new Promise<string>((resolve, reject) => {
      client = new Upload(file, {
        endpoint: stack.url('/files/'),
        retryDelays: [100, 500, 1000, 2000],
        storeFingerprintForResuming: false,
        metadata: { filename: 'big.bin' },
        ...options,
        onError: reject,
        onSuccess: () => resolve(client.url as string),
      });
      client.start();
    });
    return { done, client };
  }

  const idOf = (url: string) => url.split('/').pop() as string;

  it('takes PATCHes of odd lengths: each answer and HEAD report the durable bytes, the unfinished chunk kept beside the upload', async () => {
    const file = randomFile(4 * CHUNK + 1000);
    const created = await rawRequest(stack, 'POST', '/files/', { headers: { ...TUS, 'upload-length': String(file.length) } });
    expect(created.status).toBe(201);
    const id = idOf(created.headers.get('location') as string);
    let offset = 0;
    for (const length of [1, 777, CHUNK - 500, 3 * MiB + 1, 2 * MiB + 13, CHUNK - 1]) {
      const answer = await rawRequest(stack, 'PATCH', `/files/${id}`, {
        headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) },
        body: file.subarray(offset, offset + length),
      });
      expect(answer.status).toBe(204);
      offset += length;
      expect(Number(answer.headers.get('upload-offset'))).toBe(offset);
      const head = await rawRequest(stack, 'HEAD', `/files/${id}`, { headers: TUS });
      expect(Number(head.headers.get('upload-offset'))).toBe(offset);
      expect(await durableBytes(id)).toBe(offset);
      // One beginning at most, of exactly the bytes past the last whole chunk.
      expect(await tails(id)).toEqual(offset % CHUNK === 0 ? [] : [`${Math.floor(offset / CHUNK)}-${offset % CHUNK}`]);
    }
    const last = await rawRequest(stack, 'PATCH', `/files/${id}`, {
      headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) },
      body: file.subarray(offset),
    });
    expect(last.status).toBe(204);
    await expectStoredExactly(id, file);
  });

  it.each([
    ['larger than the grid and off it', 7 * MiB + 333],
    ['smaller than the grid', 2 * MiB + 1],
  ])('uploads with tus-js-client and a chunkSize %s, resuming after abort() across an unfinished chunk', async (_, chunkSize) => {
    const file = randomFile(4 * CHUNK + 12_345);
    const offsets: number[] = [];
    const first = upload(file, {
      chunkSize,
      onChunkComplete: (_size, accepted) => {
        offsets.push(accepted);
        if (offsets.length === 2) void first.client.abort();
      },
    });
    await Promise.race([first.done.then(() => Promise.reject(new Error('the upload finished before it was aborted'))), until(() => offsets.length >= 2)]);
    const id = idOf(first.client.url as string);
    const { offset } = await settledOffset(stack, id);
    // Every PATCH that ended counts to its last byte, whole chunks or not.
    expect(offset).toBe(2 * chunkSize);
    expect(offset % CHUNK).not.toBe(0);
    expect(await durableBytes(id)).toBe(offset);
    expect(await tails(id)).toEqual([`${Math.floor(offset / CHUNK)}-${offset % CHUNK}`]);

    const resumed: number[] = [];
    const url = await upload(file, { chunkSize, uploadUrl: first.client.url as string, onChunkComplete: (_size, accepted) => resumed.push(accepted) }).done;
    expect(resumed[0]).toBe(Math.min(offset + chunkSize, file.length));
    await expectStoredExactly(idOf(url), file);
  });

  it('resumes a PATCH cut mid-way from the durable offset: the whole chunks and no more', async () => {
    const file = randomFile(6 * CHUNK + 12_345);
    let sent = 0;
    const first = upload(file, {
      onProgress: (bytes) => {
        sent = bytes;
        if (bytes > 2 * CHUNK + MiB) void first.client.abort();
      },
    });
    await until(() => sent > 2 * CHUNK + MiB);
    const id = idOf(first.client.url as string);
    const { offset, recorded } = await settledOffset(stack, id);
    // A body cut short keeps no beginning: it was not received as declared.
    expect(offset).toBe(recorded.length * CHUNK);
    expect(await durableBytes(id)).toBe(offset);
    const url = await upload(file, { uploadUrl: first.client.url as string }).done;
    await expectStoredExactly(idOf(url), file);
  });

  it('uploads with parallelUploads: 3, partial uploads copied into the final one inside the store, byte-exact', async () => {
    const file = randomFile(4 * CHUNK + 54_321);
    const url = await upload(file, { parallelUploads: 3, chunkSize: 3 * MiB + 5 }).done;
    await expectStoredExactly(idOf(url), file);
  });

  it('alternates PATCHes between two replicas, each continuing from the beginning the other kept; two at once never both write', async () => {
    const replica = await stack.startReplica();
    const doors = [stack, { baseUrl: replica.baseUrl } as Stack];
    const file = randomFile(3 * CHUNK + 4321);
    const created = await rawRequest(stack, 'POST', '/files/', { headers: { ...TUS, 'upload-length': String(file.length) } });
    const id = idOf(created.headers.get('location') as string);
    const patch = (door: Stack, offset: number, length: number) =>
      rawRequest(door, 'PATCH', `/files/${id}`, {
        headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) },
        body: file.subarray(offset, offset + length),
      });

    // Both at once from the same offset: one writes, the other is told to retry (423) or that the offset moved (409).
    const racing = await Promise.all(doors.map((door) => patch(door, 0, 2 * MiB + 7)));
    const [won, lost] = racing.map((answer) => answer.status).sort();
    expect(won).toBe(204);
    expect([409, 423]).toContain(lost);
    let offset = 2 * MiB + 7;
    expect(await durableBytes(id)).toBe(offset);
    for (const [turn, length] of [4 * MiB + 1, 3 * MiB + 3, 5 * MiB - 11].entries()) {
      const answer = await patch(doors[turn % 2], offset, length);
      expect(answer.status).toBe(204);
      offset += length;
      for (const door of doors) expect(Number((await rawRequest(door, 'HEAD', `/files/${id}`, { headers: TUS })).headers.get('upload-offset'))).toBe(offset);
    }
    expect((await patch(doors[1], offset, file.length - offset)).status).toBe(204);
    await expectStoredExactly(id, file);
  });

  it('removes the kept beginning with the upload when it is terminated', async () => {
    const file = randomFile(CHUNK + 100);
    const created = await rawRequest(stack, 'POST', '/files/', { headers: { ...TUS, 'upload-length': String(file.length) } });
    const id = idOf(created.headers.get('location') as string);
    const patched = await rawRequest(stack, 'PATCH', `/files/${id}`, { headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, body: file.subarray(0, 4321) });
    expect(Number(patched.headers.get('upload-offset'))).toBe(4321);
    expect(await tails(id)).toEqual(['0-4321']);
    expect((await rawRequest(stack, 'DELETE', `/files/${id}`, { headers: TUS })).status).toBe(204);
    expect(await tails(id)).toEqual([]);
  });
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}
