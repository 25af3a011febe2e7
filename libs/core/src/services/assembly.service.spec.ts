import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { CoreServices, InMemoryUploadStorage, chunkRequest, initiate, newCoreServices, randomFile, sendAll } from '../testing';
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
    expect(await sut.assemble(session.id)).toEqual({ kind: 'completed', sha256: sha256(file.bytes), fileSize: file.bytes.length, earlyBytes: 0 });
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

  describe('started while the chunks still arrive', () => {
    /** An upload of 6 chunks, and its assembly started before any chunk arrived. */
    async function arriving(options: { declared?: boolean } = {}) {
      const services = newCoreServices();
      services.assembly.earlyFromBytes = 0;
      const file = randomFile(6);
      const session = await initiate(services, file, options.declared ? { sha256: sha256(file.bytes) } : {});
      const send = async (...indexes: number[]) => {
        for (const index of indexes) await services.chunkReceiver.receive(chunkRequest(session, file, index));
      };
      const run = services.assembly.assemble(session.id);
      return { ...services, sut: services.assembly, file, session, send, run };
    }

    /** Waits until the early read got through `bytes`. */
    async function readThrough(services: CoreServices, session: { id: string }, bytes: number) {
      const readEnd = () => Math.max(0, ...services.storage.reads.map((read) => /^read \S+ \d+-(\d+)$/.exec(read)).map((match) => Number(match?.[1] ?? 0)));
      for (let tries = 0; readEnd() < bytes; tries++) {
        if (tries > 200) throw new Error(`The early read of ${session.id} stopped at ${readEnd()}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }

    it('reads the recorded prefix as it grows, so only the rest is read after the last chunk', async () => {
      const { run, send, storage, uploads, file, session } = await arriving({ declared: true });
      await send(0, 2, 1);
      await readThrough({ storage } as CoreServices, session, 3 * session.chunkSize);
      // Chunk 4 is recorded but chunk 3 is not: the read waits at chunk 3.
      await send(4);
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(storage.reads.at(-1)).toMatch(new RegExp(`^read ${session.id} \\d+-${3 * session.chunkSize}$`));
      await send(3, 5);
      expect(await run).toEqual({ kind: 'completed', sha256: sha256(file.bytes), fileSize: file.bytes.length, earlyBytes: 3 * session.chunkSize });
      expect(storage.publishedBytes(session.id)!.equals(file.bytes)).toBe(true);
      expect(await uploads.find(session.id)).toMatchObject({ status: 'completed' });
      // No chunk had a second writer, so none was read twice.
      expect(storage.reads.some((read) => read.startsWith('read-chunks'))).toBe(false);
    });

    it('reads a chunk with a superseded writer again, and sends it back when its bytes changed after they were read', async () => {
      const { run, send, storage, uploads, session } = await arriving();
      // A writer claimed chunk 1 and lost it to the request that records it: it may still write.
      await uploads.claimChunk(session.id, 1);
      await send(0, 1, 2);
      await readThrough({ storage } as CoreServices, session, 3 * session.chunkSize);
      storage.damage(session.id, 1);
      await send(3, 4, 5);
      expect(await run).toEqual({ kind: 'chunks-returned', chunks: [1] });
      expect(storage.reads).toContain(`read-chunks ${session.id} 1`);
      expect(await uploads.find(session.id)).toMatchObject({ status: 'uploading', error: { code: 'CHUNKS_CORRUPT', chunks: [1] } });
    });

    it('keeps what it read of a contested chunk whose bytes did not change', async () => {
      const { run, send, storage, uploads, file, session } = await arriving();
      await uploads.claimChunk(session.id, 2);
      await send(0, 1, 2);
      await readThrough({ storage } as CoreServices, session, 3 * session.chunkSize);
      await send(3, 4, 5);
      expect(await run).toMatchObject({ kind: 'completed', sha256: sha256(file.bytes) });
      expect(storage.reads).toContain(`read-chunks ${session.id} 2`);
    });

    it('treats a chunk sent back to missing and received again as contested', async () => {
      const { run, send, storage, uploads, session, file, chunkReceiver } = await arriving();
      await send(0, 1);
      // The stored bytes of chunk 1 are overwritten by a writer whose record lost: the chunk is forgotten and sent again.
      await uploads.forgetChunk(session.id, 1, (await uploads.findChunk(session.id, 1))!.sha256);
      await chunkReceiver.receive(chunkRequest(session, file, 1));
      await readThrough({ storage } as CoreServices, session, 2 * session.chunkSize);
      await send(2, 3, 4, 5);
      expect(await run).toMatchObject({ kind: 'completed' });
      expect(await uploads.listContestedChunks(session.id)).toEqual([1]);
      expect(storage.reads).toContain(`read-chunks ${session.id} 1`);
    });

    it('ends without a verdict when the upload stops taking chunks, and leaves room for another', async () => {
      const services = await arriving();
      const { run, send, uploads, session, sut } = services;
      await send(0);
      const other = await initiate(services, randomFile(6));
      // One early read at a time with two job slots: the other upload's assembly waits for its last chunk.
      expect(await sut.assemble(other.id)).toMatchObject({ kind: 'skipped' });
      await uploads.transition(session.id, ['uploading'], 'aborted');
      expect(await run).toEqual({ kind: 'skipped', reason: 'the upload stopped arriving before its last chunk' });
    });
  });
});
