import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { InMemoryUploadStorage, initiate, newCoreServices, randomFile, sendAll } from '../testing';
import { chunkRange } from '../rules/chunk-grid';
import { AssemblyService } from './assembly.service';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeAll(() => Logger.overrideLogger(false));

describe(AssemblyService.name, () => {
  /** An upload whose every chunk was received: it waits for its assembly. */
  async function received(options: Parameters<typeof newCoreServices>[0] & { declared?: string } = {}) {
    const services = newCoreServices(options);
    const file = randomFile(4);
    const session = await initiate(services, file, options.declared ? { sha256: options.declared } : {});
    await sendAll(services, session, file);
    expect((await services.uploads.find(session.id))!.status).toBe('assembling');
    return { ...services, sut: services.assembly, file, session };
  }

  it('verifies and publishes a received upload', async () => {
    const { sut, uploads, storage, file, session } = await received();
    expect(await sut.assemble(session.id)).toEqual({ kind: 'completed', sha256: sha256(file.bytes), fileSize: file.bytes.length });
    expect(await uploads.find(session.id)).toMatchObject({ status: 'completed', sha256: sha256(file.bytes), error: null, completedAt: expect.any(Date) });
    expect(storage.publishedBytes(session.id)!.equals(file.bytes)).toBe(true);
    expect(storage.unpublishedBytes(session.id)).toBeNull();
  });

  it('completes an upload whose declared SHA-256 matches', async () => {
    const services = newCoreServices();
    const file = randomFile(2);
    const session = await initiate(services, file, { sha256: sha256(file.bytes) });
    await sendAll(services, session, file);
    expect(await services.assembly.assemble(session.id)).toMatchObject({ kind: 'completed' });
  });

  it('reopens the corrupt chunks in the store, then sends only them back to missing', async () => {
    const { sut, uploads, storage, session } = await received();
    storage.damage(session.id, 1);
    storage.damage(session.id, 3);
    const reopen = storage.reopenChunks.bind(storage);
    const missingWhenReopened: number[][] = [];
    storage.reopenChunks = async (upload, chunks) => {
      missingWhenReopened.push(await uploads.listMissingChunks(session.id, session.totalChunks, 10));
      await reopen(upload, chunks);
    };
    expect(await sut.assemble(session.id)).toEqual({ kind: 'chunks-returned', chunks: [1, 3] });
    // The store takes the chunks again before any client can be told to re-send them.
    expect(missingWhenReopened).toEqual([[]]);

    expect(storage.calls.filter((call) => !call.startsWith('write'))).toEqual([`create ${session.id}`, `reopen ${session.id} 1,3`]);
    const after = await uploads.find(session.id);
    expect(after).toMatchObject({ status: 'uploading', receivedChunks: 2, error: { code: 'CHUNKS_CORRUPT', chunks: [1, 3] } });
    expect(after!.receivedBytes).toBe(2 * session.chunkSize);
    expect(await uploads.listMissingChunks(session.id, session.totalChunks, 10)).toEqual([1, 3]);
    expect(storage.publishedBytes(session.id)).toBeNull();
  });

  it('sends chunks the store no longer holds as recorded back to missing, without reopening them', async () => {
    const { sut, uploads, storage, session } = await received({ storage: new InMemoryUploadStorage({ tags: true }) });
    // A writer whose lease lapsed overwrote chunk 2 after it was recorded: its tag changed.
    const { start, end } = chunkRange(session, 2);
    const staleBytes = (async function* () {
      yield Buffer.alloc(end - start + 1, 5);
    })();
    await storage.writeChunk(session, { index: 2, offset: start, length: end - start + 1 }, staleBytes);
    expect(await sut.assemble(session.id)).toEqual({ kind: 'chunks-returned', chunks: [2] });

    expect(storage.calls.some((call) => call.startsWith('reopen'))).toBe(false);
    expect(await uploads.find(session.id)).toMatchObject({ status: 'uploading', error: { code: 'CHUNKS_LOST', chunks: [2] } });
    expect(await uploads.listMissingChunks(session.id, session.totalChunks, 10)).toEqual([2]);
  });

  it('fails an upload whose intact chunks make a file other than the declared one, and removes its bytes', async () => {
    const { sut, uploads, storage, file, session } = await received({ declared: 'a'.repeat(64) });
    expect(await sut.assemble(session.id)).toEqual({ kind: 'checksum-mismatch', sha256: sha256(file.bytes) });
    expect(await uploads.find(session.id)).toMatchObject({ status: 'failed', error: { code: 'CHECKSUM_MISMATCH' } });
    expect(storage.unpublishedBytes(session.id)).toBeNull();
    expect(storage.publishedBytes(session.id)).toBeNull();
  });

  it('finishes a run that stopped after publishing, without publishing again', async () => {
    const { sut, uploads, storage, file, session } = await received();
    await storage.publish(session);
    expect(await sut.assemble(session.id)).toMatchObject({ kind: 'completed', sha256: sha256(file.bytes) });
    expect(storage.calls.filter((call) => call.startsWith('publish'))).toHaveLength(1);
    expect((await uploads.find(session.id))!.status).toBe('completed');
  });

  it('fails an upload whose published file no longer matches its chunks on a re-run', async () => {
    const { sut, uploads, storage, session } = await received();
    await storage.publish(session);
    storage.damage(session.id, 0);
    expect(await sut.assemble(session.id)).toMatchObject({ kind: 'failed' });
    expect(await uploads.find(session.id)).toMatchObject({ status: 'failed', error: { code: 'STORAGE_CORRUPT' } });
  });

  it('fails an upload whose stored bytes are gone', async () => {
    const { sut, uploads, storage, session } = await received();
    storage.lose(session.id);
    expect(await sut.assemble(session.id)).toMatchObject({ kind: 'failed' });
    expect(await uploads.find(session.id)).toMatchObject({ status: 'failed', error: { code: 'STORAGE_LOST' } });
  });

  it('skips uploads that are not assembling, or unknown', async () => {
    const services = newCoreServices();
    const session = await initiate(services, randomFile());
    expect(await services.assembly.assemble(session.id)).toEqual({ kind: 'skipped', reason: 'session is uploading' });
    expect(await services.assembly.assemble('x'.repeat(22))).toEqual({ kind: 'skipped', reason: 'no such session' });
  });

  it('removes the published file of an upload aborted while it was being published', async () => {
    const { sut, uploads, storage, session } = await received();
    const publish = storage.publish.bind(storage);
    storage.publish = async (upload) => {
      // The abort lands first, and its removal of the bytes ran before the publish finished.
      await uploads.transition(session.id, ['assembling'], 'aborted');
      await publish(upload);
    };
    expect(await sut.assemble(session.id)).toEqual({ kind: 'skipped', reason: 'session became aborted during assembly' });
    expect(storage.publishedBytes(session.id)).toBeNull();
  });

  it('changes nothing once its job was taken by another worker', async () => {
    const { sut, uploads, storage, session } = await received();
    const lostJob = new AbortController();
    lostJob.abort(new Error('the job went to another worker'));
    await expect(sut.assemble(session.id, lostJob.signal)).rejects.toThrow('another worker');
    expect((await uploads.find(session.id))!.status).toBe('assembling');
    expect(storage.publishedBytes(session.id)).toBeNull();
  });
});
