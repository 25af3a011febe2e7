import { createHash, randomBytes } from 'node:crypto';
import { AddressInfo, Server, Socket, connect, createServer } from 'node:net';
import { Readable } from 'node:stream';
import { ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Settings } from '@app/config';
import { InsufficientStorageError, RecordedStoredChunk, ServiceUnavailableError, StoredDataMissingError, UploadError, UploadLayout, chunkRange, newUploadId, totalChunks } from '@app/core';
import { S3UploadStorage, createS3Clients } from '@app/storage';
import { TestS3Server, s3ClientFor } from './support/s3-server';

const MiB = 1024 * 1024;
const CHUNK = 5 * MiB;
const PREFIX = 'uploads/';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

/** A body as the API hands it over: pieces of a socket's size, never the whole chunk at once. */
async function* piecesOf(bytes: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(piece as Buffer);
  return Buffer.concat(pieces);
}

/**
 * A proxy in front of the store that flips one byte in the body of every part upload, as a
 * faulty network or store could: the store then keeps, and tags, other bytes than were sent.
 */
function partCorruptingProxy(targetPort: number): Promise<Server> {
  const server = createServer((client: Socket) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    upstream.pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    let head = Buffer.alloc(0);
    let bodyLeft = 0;
    let bodyOffset = 0;
    let corrupt = false;
    client.on('data', (data: Buffer) => {
      let rest = data;
      while (rest.length > 0) {
        if (bodyLeft === 0) {
          head = Buffer.concat([head, rest]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          const headers = head.subarray(0, end + 4);
          rest = head.subarray(end + 4);
          head = Buffer.alloc(0);
          upstream.write(headers);
          const text = headers.toString('latin1');
          bodyLeft = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? 0);
          bodyOffset = 0;
          corrupt = text.startsWith('PUT ') && /[?&]partNumber=/.test(text.split('\r\n')[0]);
          continue;
        }
        const piece = Buffer.from(rest.subarray(0, bodyLeft));
        rest = rest.subarray(piece.length);
        if (corrupt && bodyOffset <= 100 && bodyOffset + piece.length > 100) piece[100 - bodyOffset] ^= 0xff;
        bodyOffset += piece.length;
        bodyLeft -= piece.length;
        upstream.write(piece);
      }
    });
    client.on('end', () => upstream.end());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('S3 upload storage on Ceph RGW', () => {
  let server: TestS3Server;
  let bucket: string;
  let settings: S3Settings;
  let storage: S3UploadStorage;
  let admin: S3Client;

  const open = (overrides: Partial<S3Settings> = {}, credentials = { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }) => {
    const chosen = { ...settings, ...overrides };
    return S3UploadStorage.open(chosen, createS3Clients(chosen, { region: server.region, credentials }));
  };

  beforeAll(async () => {
    server = await TestS3Server.start();
    bucket = await server.newBucket();
    settings = { bucket, endpoint: server.endpoint, forcePathStyle: true, prefix: PREFIX, checksums: false };
    storage = await open();
    admin = s3ClientFor(server.access);
  }, 180_000);

  afterAll(async () => {
    storage?.close();
    admin?.destroy();
    await server?.stop();
  });

  /** A new upload of `file` with every chunk written; returns the records the API would keep. */
  async function uploadWhole(file: Buffer): Promise<{ upload: UploadLayout; chunks: RecordedStoredChunk[] }> {
    const upload = { id: newUploadId(), fileSize: file.length, chunkSize: CHUNK };
    await storage.create(upload);
    const chunks: RecordedStoredChunk[] = [];
    for (let index = 0; index < totalChunks(upload); index++) chunks.push(await writeChunk(upload, index, file));
    return { upload, chunks };
  }

  async function writeChunk(upload: UploadLayout, index: number, file: Buffer): Promise<RecordedStoredChunk> {
    const { start, end } = chunkRange(upload, index);
    const bytes = file.subarray(start, end + 1);
    const { etag } = await storage.writeChunk(upload, { index, offset: start, length: bytes.length }, piecesOf(bytes));
    return { index, sha256: sha256(bytes), etag };
  }

  async function openMultipartUploads(uploadId: string): Promise<string[]> {
    const listed = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${PREFIX}${uploadId}` }));
    return (listed.Uploads ?? []).map((open) => open.UploadId as string);
  }

  async function partsOf(uploadId: string): Promise<number[]> {
    const [multipartUploadId] = await openMultipartUploads(uploadId);
    const listed = await admin.send(new ListPartsCommand({ Bucket: bucket, Key: `${PREFIX}${uploadId}`, UploadId: multipartUploadId }));
    return (listed.Parts ?? []).map((part) => part.PartNumber as number);
  }

  it('stores chunks as parts, verifies them with one read of the completed object, and serves ranges of it', async () => {
    const file = randomBytes(2 * CHUNK + 12_345);
    const { upload, chunks } = await uploadWhole(file);
    // The store's ETag is the MD5 of each part, checked against the bytes sent.
    expect(chunks.map((chunk) => chunk.etag?.replace(/"/g, ''))).toEqual([0, 1, 2].map((index) => md5(file.subarray(index * CHUNK, (index + 1) * CHUNK))));

    const verified = await storage.readForVerification(upload, chunks);
    expect(verified).toEqual({ kind: 'read', published: false, digests: { sha256: sha256(file), chunkDigests: chunks.map((chunk) => chunk.sha256) } });
    expect(await openMultipartUploads(upload.id)).toEqual([]);
    await storage.publish(upload);

    expect((await readAll(await storage.readPublished(upload.id))).equals(file)).toBe(true);
    const across = { start: CHUNK - 10, end: CHUNK + 9 };
    expect((await readAll(await storage.readPublished(upload.id, across))).equals(file.subarray(across.start, across.end + 1))).toBe(true);
    expect((await readAll(await storage.readPublished(upload.id, { start: file.length - 1, end: file.length - 1 }))).equals(file.subarray(-1))).toBe(true);

    // A re-run after the object was made reads the published object again.
    expect(await storage.readForVerification(upload, chunks)).toMatchObject({ kind: 'read', published: true, digests: { sha256: sha256(file) } });
  });

  it('refuses a chunk the store kept with other bytes than were sent: its ETag is not their MD5', async () => {
    const proxy = await partCorruptingProxy(server.port);
    const corrupted = await open({ endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    try {
      const upload = { id: newUploadId(), fileSize: CHUNK, chunkSize: CHUNK };
      await corrupted.create(upload);
      const error = await corrupted.writeChunk(upload, { index: 0, offset: 0, length: CHUNK }, piecesOf(randomBytes(CHUNK))).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UploadError);
      expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/kept other bytes than the ones sent/) });
      // The store did keep a part, which nothing recorded: the chunk stays missing.
      expect(await partsOf(upload.id)).toEqual([1]);
      await corrupted.remove(upload.id);
    } finally {
      corrupted.close();
      proxy.close();
    }
  });

  it('verifies and serves an empty file', async () => {
    const { upload, chunks } = await uploadWhole(Buffer.alloc(0));
    expect(await storage.readForVerification(upload, chunks)).toEqual({ kind: 'read', published: false, digests: { sha256: sha256(Buffer.alloc(0)), chunkDigests: [] } });
    expect(await readAll(await storage.readPublished(upload.id))).toHaveLength(0);
    expect(await openMultipartUploads(upload.id)).toEqual([]);
  });

  it('completes no part when the fence throws, the body fails, or it has the wrong length', async () => {
    const upload = { id: newUploadId(), fileSize: 2 * CHUNK, chunkSize: CHUNK };
    await storage.create(upload);
    const bytes = randomBytes(CHUNK);
    const slot = { index: 0, offset: 0, length: CHUNK };

    let writes = 0;
    const fence = () => {
      if (++writes > 10) throw new Error('lease lost');
    };
    await expect(storage.writeChunk(upload, slot, piecesOf(bytes), fence)).rejects.toThrow('lease lost');

    async function* failing(): AsyncGenerator<Buffer> {
      yield* piecesOf(bytes.subarray(0, CHUNK / 2));
      throw new Error('client went away');
    }
    await expect(storage.writeChunk(upload, slot, failing())).rejects.toThrow('client went away');
    await expect(storage.writeChunk(upload, slot, piecesOf(bytes.subarray(1)))).rejects.toThrow(/ended after/);
    await expect(storage.writeChunk(upload, slot, piecesOf(Buffer.concat([bytes, Buffer.alloc(1)])))).rejects.toThrow(/longer than/);
    expect(await partsOf(upload.id)).toEqual([]);

    await storage.writeChunk(upload, slot, piecesOf(bytes));
    expect(await partsOf(upload.id)).toEqual([1]);
    await storage.remove(upload.id);
  });

  it('finds a part overwritten by a stale writer when it completes with the recorded ETags, and takes the chunk once re-sent', async () => {
    const file = randomBytes(3 * CHUNK);
    const { upload, chunks } = await uploadWhole(file);
    // A writer that lost its lease wrote chunk 1 again after the chunk was recorded.
    const { start, end } = chunkRange(upload, 1);
    await storage.writeChunk(upload, { index: 1, offset: start, length: CHUNK }, piecesOf(randomBytes(CHUNK)));

    expect(await storage.readForVerification(upload, chunks)).toEqual({ kind: 'chunks-lost', chunks: [1] });

    const resent = await writeChunk(upload, 1, file);
    expect(resent.etag).not.toBeNull();
    const records = chunks.map((chunk) => (chunk.index === 1 ? resent : chunk));
    expect(await storage.readForVerification(upload, records)).toMatchObject({ kind: 'read', published: false, digests: { sha256: sha256(file) } });
    expect((await readAll(await storage.readPublished(upload.id, { start, end }))).equals(file.subarray(start, end + 1))).toBe(true);
  });

  it('reopens corrupt chunks in a new multipart upload that keeps the others, copied from the object', async () => {
    const file = randomBytes(3 * CHUNK + 100);
    const { upload, chunks } = await uploadWhole(file);
    expect(await storage.readForVerification(upload, chunks)).toMatchObject({ kind: 'read' });

    await storage.reopenChunks(upload, [0, 3]);
    expect(await partsOf(upload.id)).toEqual([2, 3]);
    // The object stays whole until the next completion replaces it.
    expect((await readAll(await storage.readPublished(upload.id))).equals(file)).toBe(true);

    const changed = Buffer.from(file);
    changed.fill(7, 0, CHUNK);
    const records = [await writeChunk(upload, 0, changed), chunks[1], chunks[2], await writeChunk(upload, 3, changed)];
    const verified = await storage.readForVerification(upload, records);
    expect(verified).toEqual({ kind: 'read', published: false, digests: { sha256: sha256(changed), chunkDigests: records.map((chunk) => chunk.sha256) } });
    expect(await openMultipartUploads(upload.id)).toEqual([]);
  });

  it('loses no chunk when a reopen is cut short: the next verification copies in what it did not', async () => {
    const file = randomBytes(3 * CHUNK);
    const { upload, chunks } = await uploadWhole(file);
    await storage.readForVerification(upload, chunks);
    // As if the process died after copying chunk 0 only: chunks 1 and 2 are still recorded.
    await storage.reopenChunks(upload, [1, 2]);
    await storage.reopenChunks(upload, [1, 2]);
    expect(await openMultipartUploads(upload.id)).toHaveLength(1);

    expect(await storage.readForVerification(upload, chunks)).toEqual({ kind: 'read', published: false, digests: { sha256: sha256(file), chunkDigests: chunks.map((chunk) => chunk.sha256) } });
  });

  it('writes to the replacement multipart upload after another process reopened chunks', async () => {
    const file = randomBytes(2 * CHUNK);
    const { upload, chunks } = await uploadWhole(file);
    await storage.readForVerification(upload, chunks);
    // Another worker reopens chunk 1; this process still remembers nothing newer.
    const other = await open();
    try {
      await other.reopenChunks(upload, [1]);
    } finally {
      other.close();
    }
    const resent = await writeChunk(upload, 1, file);
    expect(await storage.readForVerification(upload, [chunks[0], resent])).toMatchObject({ kind: 'read', digests: { sha256: sha256(file) } });
  });

  it('removes an upload: unpublished bytes only, or everything; nothing stored is fine', async () => {
    const file = randomBytes(CHUNK + 1);
    const { upload, chunks } = await uploadWhole(file);
    await storage.readForVerification(upload, chunks);
    await storage.reopenChunks(upload, [1]);

    await storage.remove(upload.id, 'unpublished');
    expect(await openMultipartUploads(upload.id)).toEqual([]);
    expect((await readAll(await storage.readPublished(upload.id))).equals(file)).toBe(true);

    await storage.remove(upload.id);
    await expect(storage.readPublished(upload.id)).rejects.toBeInstanceOf(StoredDataMissingError);
    expect(await storage.readForVerification(upload, chunks)).toEqual({ kind: 'gone' });
    await storage.remove(upload.id);

    const receiving = await uploadWhole(randomBytes(10));
    await storage.remove(receiving.upload.id);
    expect(await openMultipartUploads(receiving.upload.id)).toEqual([]);
    await expect(writeChunk(receiving.upload, 0, randomBytes(10))).rejects.toBeInstanceOf(StoredDataMissingError);
  });

  it('lists the uploads it stored before a date, and nothing of anyone else', async () => {
    const published = await uploadWhole(randomBytes(100));
    await storage.readForVerification(published.upload, published.chunks);
    const receiving = { id: newUploadId(), fileSize: 100, chunkSize: CHUNK };
    await storage.create(receiving);
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: `${PREFIX}not-an-upload`, Body: 'x' }));
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: `elsewhere/${newUploadId()}`, Body: 'x' }));

    const listed = [];
    for await (const leftover of storage.listLeftovers(new Date(Date.now() + 60_000))) listed.push(leftover);
    expect(listed).toEqual(expect.arrayContaining([
      { uploadId: published.upload.id, published: true },
      { uploadId: receiving.id, published: false },
    ]));
    expect(listed.every((leftover) => /^[A-Za-z0-9_-]+$/.test(leftover.uploadId))).toBe(true);

    const old = [];
    for await (const leftover of storage.listLeftovers(new Date(Date.now() - 3_600_000))) old.push(leftover);
    expect(old).toEqual([]);
  });

  describe('kept chunk beginnings', () => {
    const tails = async (uploadId: string) => {
      const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${PREFIX}${uploadId}.` }));
      return (listed.Contents ?? []).map((object) => (object.Key as string).slice(`${PREFIX}${uploadId}`.length)).sort();
    };
    const beginning = async (upload: UploadLayout, index: number, bytes: Buffer) =>
      storage.writeChunkBeginning(upload, { index, offset: index * CHUNK, length: bytes.length }, piecesOf(bytes));
    const readBeginning = async (upload: UploadLayout, index: number, length: number) => {
      const pieces: Buffer[] = [];
      for await (const piece of storage.readChunkBeginning(upload, { index, offset: index * CHUNK, length })) pieces.push(piece);
      return Buffer.concat(pieces);
    };

    it('keeps a beginning as an object beside the upload, replaced by the longer one that extends it and removed once the chunk is whole', async () => {
      const file = randomBytes(2 * CHUNK + 100);
      const upload = { id: newUploadId(), fileSize: file.length, chunkSize: CHUNK };
      await storage.create(upload);
      await beginning(upload, 0, file.subarray(0, 1000));
      expect(await tails(upload.id)).toEqual(['.tail-0-1000']);
      expect((await readBeginning(upload, 0, 1000)).equals(file.subarray(0, 1000))).toBe(true);

      // The next PATCH sends the beginning it read again, in front of its own bytes.
      await storage.writeChunkBeginning(upload, { index: 0, offset: 0, length: 3 * MiB }, (async function* () {
        yield* storage.readChunkBeginning(upload, { index: 0, offset: 0, length: 1000 });
        yield* piecesOf(file.subarray(1000, 3 * MiB));
      })());
      expect(await tails(upload.id)).toEqual([`.tail-0-${3 * MiB}`]);
      await expect(readBeginning(upload, 0, 1000)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });

      const chunks = [
        {
          index: 0,
          sha256: sha256(file.subarray(0, CHUNK)),
          ...(await storage.writeChunk(upload, { index: 0, offset: 0, length: CHUNK }, (async function* () {
            yield* storage.readChunkBeginning(upload, { index: 0, offset: 0, length: 3 * MiB });
            yield* piecesOf(file.subarray(3 * MiB, CHUNK));
          })())),
        },
      ];
      expect(await tails(upload.id)).toEqual([]);
      for (const index of [1, 2]) chunks.push(await writeChunk(upload, index, file));
      expect(await storage.readForVerification(upload, chunks)).toMatchObject({ kind: 'read', digests: { sha256: sha256(file) } });
    });

    it('never lets a writer of another length replace a beginning, and fails the read of a beginning that is not as recorded', async () => {
      const file = randomBytes(CHUNK + 100);
      const upload = { id: newUploadId(), fileSize: file.length, chunkSize: CHUNK };
      await storage.create(upload);
      await beginning(upload, 0, file.subarray(0, 3000));
      // A writer whose lease lapsed finishes a shorter beginning after the newer one.
      await beginning(upload, 0, file.subarray(0, 2000));
      expect((await readBeginning(upload, 0, 3000)).equals(file.subarray(0, 3000))).toBe(true);
      await expect(readBeginning(upload, 0, 2500)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      // A beginning whose fence throws is not kept.
      await expect(
        storage.writeChunkBeginning(upload, { index: 0, offset: 0, length: 4000 }, piecesOf(file.subarray(0, 4000), 1000), () => {
          throw new UploadError('CHUNK_IN_PROGRESS', 'taken over');
        }),
      ).rejects.toMatchObject({ code: 'CHUNK_IN_PROGRESS' });
      expect(await tails(upload.id)).toEqual(['.tail-0-2000', '.tail-0-3000']);
    });

    it('lists beginnings as unpublished leftovers and removes them with the upload, its unpublished bytes, or its verification', async () => {
      const file = randomBytes(100);
      const upload = { id: newUploadId(), fileSize: CHUNK + 100, chunkSize: CHUNK };
      await storage.create(upload);
      await beginning(upload, 1, file);
      await storage.remove(upload.id, 'unpublished');
      expect(await tails(upload.id)).toEqual([]);

      // One left behind by a writer after its upload was removed.
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: `${PREFIX}${upload.id}.tail-1-100`, Body: file }));
      const listed = [];
      for await (const leftover of storage.listLeftovers(new Date(Date.now() + 60_000))) listed.push(leftover);
      expect(listed).toContainEqual({ uploadId: upload.id, published: false });
      await storage.remove(upload.id);
      expect(await tails(upload.id)).toEqual([]);
    });
  });

  it('copies a range of a published file into a chunk of another upload inside the store', async () => {
    const source = await uploadWhole(randomBytes(2 * CHUNK + 500));
    await storage.readForVerification(source.upload, source.chunks);
    const file = randomBytes(CHUNK + 77);
    const target = { id: newUploadId(), fileSize: CHUNK + 77, chunkSize: CHUNK };
    await storage.create(target);
    const published = await readAll(await storage.readPublished(source.upload.id));
    const copied = await storage.copyChunk(target, { index: 0, offset: 0, length: CHUNK }, { uploadId: source.upload.id, offset: 300 });
    const expected = Buffer.concat([published.subarray(300, 300 + CHUNK), file.subarray(CHUNK)]);
    const chunks = [{ index: 0, sha256: sha256(expected.subarray(0, CHUNK)), etag: copied.etag }, await writeChunk(target, 1, expected)];
    expect(await storage.readForVerification(target, chunks)).toMatchObject({ kind: 'read', digests: { sha256: sha256(expected), chunkDigests: chunks.map((chunk) => chunk.sha256) } });
    await expect(storage.copyChunk({ ...target, id: newUploadId() }, { index: 0, offset: 0, length: CHUNK }, { uploadId: source.upload.id, offset: 0 })).rejects.toBeInstanceOf(StoredDataMissingError);
  });

  it('answers 503 while radosgw is down, counts nothing, and works again once it is back', async () => {
    const upload = { id: newUploadId(), fileSize: CHUNK, chunkSize: CHUNK };
    await storage.create(upload);
    await storage.ping();

    await server.stopGateway();
    try {
      await expect(storage.ping()).rejects.toBeInstanceOf(ServiceUnavailableError);
      await expect(storage.writeChunk(upload, { index: 0, offset: 0, length: 10 }, piecesOf(randomBytes(10)))).rejects.toBeInstanceOf(ServiceUnavailableError);
      await expect(storage.create({ id: newUploadId(), fileSize: 1, chunkSize: CHUNK })).rejects.toBeInstanceOf(ServiceUnavailableError);
    } finally {
      await server.startGateway();
    }
    expect(await partsOf(upload.id)).toEqual([]);
    await storage.ping();
    const bytes = randomBytes(CHUNK);
    await storage.writeChunk(upload, { index: 0, offset: 0, length: CHUNK }, piecesOf(bytes));
    expect(await partsOf(upload.id)).toEqual([1]);
  });

  it('answers 507 when a bucket quota leaves no room for the chunk', async () => {
    const full = await server.newBucket();
    await server.admin('quota', 'set', '--quota-scope=bucket', `--bucket=${full}`, '--max-size=1048576');
    await server.admin('quota', 'enable', '--quota-scope=bucket', `--bucket=${full}`);
    const quoted = await open({ bucket: full });
    try {
      const upload = { id: newUploadId(), fileSize: CHUNK, chunkSize: CHUNK };
      await quoted.create(upload);
      await expect(quoted.writeChunk(upload, { index: 0, offset: 0, length: CHUNK }, piecesOf(randomBytes(CHUNK)))).rejects.toBeInstanceOf(InsufficientStorageError);
      await quoted.remove(upload.id);
    } finally {
      quoted.close();
      await server.removeBucket(full);
    }
  });

  describe('start-up', () => {
    it('names S3_BUCKET when the bucket does not exist', async () => {
      await expect(open({ bucket: 'no-such-bucket-here' })).rejects.toThrow(/^S3_BUCKET: bucket "no-such-bucket-here" does not exist/);
    });

    it('names AWS_ACCESS_KEY_ID for an unknown key and AWS_SECRET_ACCESS_KEY for a wrong secret', async () => {
      await expect(open({}, { accessKeyId: 'UNKNOWNKEY0000000000', secretAccessKey: server.secretAccessKey })).rejects.toThrow(/^AWS_ACCESS_KEY_ID: /);
      await expect(open({}, { accessKeyId: server.accessKeyId, secretAccessKey: 'wrong-secret-000000000000000000000000000' })).rejects.toThrow(/^AWS_SECRET_ACCESS_KEY: /);
    });

    it('names S3_CHECKSUMS when the store refuses parts sent with their SHA-256 (RGW 16 has no flexible checksums)', async () => {
      await expect(open({ checksums: true })).rejects.toThrow(/^S3_CHECKSUMS: .*set S3_CHECKSUMS=off/);
      expect((await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${PREFIX}checksum-check-` }))).Uploads ?? []).toEqual([]);
    });

    it('names S3_ENDPOINT when nothing answers there', async () => {
      await expect(open({ endpoint: 'http://127.0.0.1:9' })).rejects.toThrow(/^S3_ENDPOINT: http:\/\/127\.0\.0\.1:9 could not be reached/);
    });
  });
});
