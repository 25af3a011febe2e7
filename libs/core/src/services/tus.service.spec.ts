import { createHash, randomBytes } from 'node:crypto';
import { ANYONE, CoreServices, KiB, newCoreServices, randomFile } from '../testing/core-services';
import { InMemoryCopyingStorage, InMemoryUploadStorage } from '../testing/in-memory-upload.storage';
import { TusPatch, TusService } from './tus.service';

const CHUNK = 256 * KiB;

async function* pieces(bytes: Buffer): AsyncGenerator<Buffer> {
  // 100 KiB pieces straddle the 256 KiB grid.
  for (let at = 0; at < bytes.length; at += 100 * KiB) yield bytes.subarray(at, at + 100 * KiB);
}

function patchOf(uploadId: string, offset: number, bytes: Buffer, extra: Partial<TusPatch> = {}): TusPatch {
  return { uploadId, contentType: 'application/offset+octet-stream', uploadOffset: String(offset), uploadChecksum: undefined, contentLength: bytes.length, body: pieces(bytes), caller: ANYONE, ...extra };
}

describe(TusService.name, () => {
  const setup = async (chunks = 3) => {
    const services = newCoreServices({ config: { defaultChunkSize: CHUNK } });
    const file = randomFile(chunks, CHUNK);
    const session = await services.tus.create({ uploadLength: String(file.bytes.length), uploadDeferLength: undefined, uploadMetadata: undefined, uploadConcat: undefined, withBody: false, caller: ANYONE });
    return { services, sut: services.tus, file: file.bytes, session };
  };

  it('records the whole chunks of a PATCH and keeps the beginning of the next, so the offset is exact', async () => {
    const { services, sut, file, session } = await setup();
    const answer = await sut.patch(patchOf(session.id, 0, file.subarray(0, CHUNK + 5000)));
    expect(answer.offset).toBe(CHUNK + 5000);
    expect((await services.uploads.listChunks(session.id)).map((chunk) => chunk.index)).toEqual([0]);
    expect(await services.uploads.findChunkBeginning(session.id, 1)).toBe(5000);
  });

  it('takes PATCHes far smaller than a chunk and records each chunk with the digest of all its bytes', async () => {
    const { services, sut, file, session } = await setup();
    let offset = 0;
    while (offset < file.length) offset = (await sut.patch(patchOf(session.id, offset, file.subarray(offset, offset + 70 * KiB)))).offset;
    expect(offset).toBe(file.length);
    const recorded = await services.uploads.listChunks(session.id);
    expect(recorded.map((chunk) => chunk.sha256)).toEqual([0, 1, 2].map((index) => createHash('sha256').update(file.subarray(index * CHUNK, (index + 1) * CHUNK)).digest('hex')));
  });

  it('forgets a kept beginning once another writer claims its chunk: the offset never counts bytes that may be overwritten', async () => {
    const { services, sut, file, session } = await setup();
    await sut.patch(patchOf(session.id, 0, file.subarray(0, 1000)));
    expect((await sut.head(session.id, ANYONE)).offset).toBe(1000);
    await services.uploads.claimChunk(session.id, 0);
    expect((await sut.head(session.id, ANYONE)).offset).toBe(0);
  });

  it('takes a body without Content-Length that ends inside a chunk, keeping the chunks before it', async () => {
    const { services, sut, file, session } = await setup();
    const answer = await sut.patch(patchOf(session.id, 0, file.subarray(0, 2 * CHUNK + 10), { contentLength: null }));
    // Without a length the end is known only once the body ended inside the chunk: those bytes are not kept.
    expect(answer.offset).toBe(2 * CHUNK);
    expect((await services.uploads.listChunks(session.id)).map((chunk) => chunk.index)).toEqual([0, 1]);
  });

  it('records nothing of a PATCH whose Upload-Checksum does not match', async () => {
    const { services, sut, file, session } = await setup();
    const body = file.subarray(0, 2 * CHUNK);
    const wrong = `sha256 ${createHash('sha256').update('something else').digest('base64')}`;
    await expect(sut.patch(patchOf(session.id, 0, file.subarray(0, 2 * CHUNK + 7), { uploadChecksum: wrong }))).rejects.toMatchObject({ code: 'UPLOAD_CHECKSUM_MISMATCH' });
    expect(await services.uploads.listChunks(session.id)).toEqual([]);
    expect(await services.uploads.findChunkBeginning(session.id, 2)).toBe(0);
    const right = `sha1 ${createHash('sha1').update(body).digest('base64')}`;
    expect((await sut.patch(patchOf(session.id, 0, body, { uploadChecksum: right }))).offset).toBe(2 * CHUNK);
  });

  it('refuses an Upload-Offset other than the durable one, naming the one to resume from', async () => {
    const { sut, file, session } = await setup();
    await sut.patch(patchOf(session.id, 0, file.subarray(0, CHUNK)));
    await expect(sut.patch(patchOf(session.id, 0, file.subarray(0, CHUNK)))).rejects.toMatchObject({ code: 'UPLOAD_OFFSET_MISMATCH', details: { uploadOffset: CHUNK } });
  });

  it('refuses a second PATCH of the upload while one holds it', async () => {
    const { services, sut, file, session } = await setup();
    const held = await services.leases.acquire(session.id, -1, 60_000);
    await expect(sut.patch(patchOf(session.id, 0, file.subarray(0, CHUNK)))).rejects.toMatchObject({ code: 'UPLOAD_IN_PROGRESS' });
    await held?.release();
  });

  it('moves the upload that the last PATCH completes to assembly', async () => {
    const { services, sut, file, session } = await setup();
    const answer = await sut.patch(patchOf(session.id, 0, file));
    expect(answer.offset).toBe(file.length);
    expect(services.queue.waiting()).toEqual([session.id]);
  });

  describe('concatenation', () => {
    const creation = { uploadLength: undefined, uploadDeferLength: undefined, uploadMetadata: undefined, withBody: false, caller: ANYONE };

    /** A completed partial upload of `bytes`. */
    const partial = async (services: CoreServices, bytes: Buffer) => {
      const session = await services.tus.create({ ...creation, uploadLength: String(bytes.length), uploadConcat: 'partial' });
      await services.tus.patch(patchOf(session.id, 0, bytes));
      await services.assembly.assemble(session.id);
      return session.id;
    };

    // Partials of 1.5 and 2 chunks: final chunk 1 runs across the first partial's end.
    const first = randomBytes(CHUNK + CHUNK / 2);
    const second = randomBytes(2 * CHUNK + 1000);

    it('copies each chunk that lies within one partial inside the store and writes only the chunk across their boundary', async () => {
      const services = newCoreServices({ config: { defaultChunkSize: CHUNK }, storage: new InMemoryCopyingStorage({ tags: true }) });
      const ids = [await partial(services, first), await partial(services, second)];
      services.storage.calls.length = 0;
      const final = await services.tus.create({ ...creation, uploadConcat: `final;/files/${ids[0]} /files/${ids[1]}` });
      expect(services.storage.calls.filter((call) => call.startsWith('copy') || call.startsWith('write'))).toEqual(
        expect.arrayContaining([`copy ${final.id} 0 from ${ids[0]} 0`, `write ${final.id} 1`, `copy ${final.id} 2 from ${ids[1]} ${CHUNK / 2}`, `copy ${final.id} 3 from ${ids[1]} ${CHUNK + CHUNK / 2}`]),
      );
      expect(services.storage.calls.filter((call) => call.startsWith('copy') || call.startsWith('write'))).toHaveLength(4);
      expect(await services.assembly.assemble(final.id)).toMatchObject({ kind: 'completed' });
      expect(services.storage.publishedBytes(final.id)?.equals(Buffer.concat([first, second]))).toBe(true);
    });

    it('records each copied chunk with the digest of its source bytes, so verification catches a copy that differs', async () => {
      const storage = new InMemoryCopyingStorage({ tags: true });
      const services = newCoreServices({ config: { defaultChunkSize: CHUNK }, storage });
      const ids = [await partial(services, first), await partial(services, second)];
      const final = await services.tus.create({ ...creation, uploadConcat: `final;/files/${ids[0]} /files/${ids[1]}` });
      const recorded = (await services.uploads.listChunks(final.id)).map((chunk) => chunk.sha256);
      const whole = Buffer.concat([first, second]);
      expect(recorded).toEqual([0, 1, 2, 3].map((index) => createHash('sha256').update(whole.subarray(index * CHUNK, (index + 1) * CHUNK)).digest('hex')));
      storage.damage(final.id, 2);
      expect(await services.assembly.assemble(final.id)).toMatchObject({ kind: 'chunks-returned', chunks: [2] });
    });

    it('streams the partials through the chunk path on a store that does not copy', async () => {
      const services = newCoreServices({ config: { defaultChunkSize: CHUNK } });
      const ids = [await partial(services, first), await partial(services, second)];
      services.storage.calls.length = 0;
      const final = await services.tus.create({ ...creation, uploadConcat: `final;/files/${ids[0]} /files/${ids[1]}` });
      expect(services.storage.calls.filter((call) => call.startsWith('write'))).toEqual([0, 1, 2, 3].map((index) => `write ${final.id} ${index}`));
      expect(await services.assembly.assemble(final.id)).toMatchObject({ kind: 'completed' });
      expect(services.storage.publishedBytes(final.id)?.equals(Buffer.concat([first, second]))).toBe(true);
    });
  });

  it('refuses a final upload created with bytes of its own before creating anything', async () => {
    const { services, sut } = await setup();
    const create = jest.spyOn(services.uploads, 'create');
    const creation = { uploadLength: undefined, uploadDeferLength: undefined, uploadMetadata: undefined, withBody: true, caller: ANYONE };
    await expect(sut.create({ ...creation, uploadConcat: 'final;/files/Xq3vT9pL0aZbR7wE2mN5cA' })).rejects.toMatchObject({ code: 'UPLOAD_IS_FINAL' });
    expect(create).not.toHaveBeenCalled();
  });

  it('tells a partial upload by its HEAD, with its offset', async () => {
    const { sut } = await setup();
    const partial = await sut.create({ uploadLength: String(CHUNK), uploadDeferLength: undefined, uploadMetadata: undefined, uploadConcat: 'partial', withBody: false, caller: ANYONE });
    expect(await sut.head(partial.id, ANYONE)).toMatchObject({ session: { tusConcat: 'partial' }, offset: 0 });
  });

  it('refuses a PATCH of a final upload and records nothing; its HEAD has no offset while unfinished', async () => {
    const { services, sut, file } = await setup();
    const initiate = { fileName: 'final.bin', fileSize: CHUNK, chunkSize: CHUNK };
    const { session: final } = await services.uploadService.initiate(initiate, ANYONE, null, 'final;/files/Xq3vT9pL0aZbR7wE2mN5cA');
    await expect(sut.patch(patchOf(final.id, 0, file.subarray(0, CHUNK)))).rejects.toMatchObject({ code: 'UPLOAD_IS_FINAL' });
    expect(await services.uploads.listChunks(final.id)).toEqual([]);
    expect(await sut.head(final.id, ANYONE)).toMatchObject({ session: { tusConcat: 'final;/files/Xq3vT9pL0aZbR7wE2mN5cA' }, offset: null });
  });

  describe('on a store that keeps whole parts only', () => {
    /** Like an object store: tagged whole parts, and no chunk beginnings. */
    const wholePartsStorage = () =>
      new Proxy(new InMemoryUploadStorage({ tags: true }), {
        get: (target, name) => (name === 'writeChunkBeginning' || name === 'readChunkBeginning' ? undefined : Reflect.get(target, name, target)),
      });

    const setupWholeParts = async () => {
      const services = newCoreServices({ config: { defaultChunkSize: CHUNK }, storage: wholePartsStorage() });
      const file = randomFile(3, CHUNK);
      const session = await services.tus.create({ uploadLength: String(file.bytes.length), uploadDeferLength: undefined, uploadMetadata: undefined, uploadConcat: undefined, withBody: false, caller: ANYONE });
      return { services, sut: services.tus, file: file.bytes, session };
    };

    it('drops the bytes past the last whole chunk: the offset stays on the grid', async () => {
      const { sut, file, session } = await setupWholeParts();
      expect((await sut.patch(patchOf(session.id, 0, file.subarray(0, CHUNK + 5000)))).offset).toBe(CHUNK);
      expect((await sut.patch(patchOf(session.id, CHUNK, file.subarray(CHUNK)))).offset).toBe(file.length);
    });

    it('refuses a PATCH shorter than one chunk that does not end the file, rather than let a client loop', async () => {
      const { services, sut, file, session } = await setupWholeParts();
      await expect(sut.patch(patchOf(session.id, 0, file.subarray(0, CHUNK - 1)))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(await services.uploads.listChunks(session.id)).toEqual([]);
    });
  });
});
