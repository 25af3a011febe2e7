import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { ANYONE, InMemoryStorageWithFreeSpace, chunkRequest, initiate, newCoreServices, randomFile } from '../testing';
import { UploadService } from './upload.service';

beforeAll(() => Logger.overrideLogger(false));

describe(UploadService.name, () => {
  const request = { fileName: 'report.pdf', fileSize: 1000, chunkSize: 256 * 1024 };

  describe('initiate', () => {
    it("creates the upload's storage before its session", async () => {
      const { uploadService: sut, uploads, storage } = newCoreServices();
      const { session, created } = await sut.initiate(request, ANYONE, null);
      expect(created).toBe(true);
      expect(session).toMatchObject({ fileName: 'report.pdf', fileSize: 1000, totalChunks: 1, status: 'uploading' });
      expect(storage.calls).toEqual([`create ${session.id}`]);
      expect(storage.unpublishedBytes(session.id)).toHaveLength(1000);
      expect(await uploads.find(session.id)).toMatchObject({ id: session.id });
    });

    it('refuses a file larger than the free space of a store that knows it, and creates nothing', async () => {
      const storage = new InMemoryStorageWithFreeSpace();
      storage.freeSpace = 999;
      const { uploadService: sut, uploads } = newCoreServices({ storage });
      await expect(sut.initiate(request, ANYONE, null)).rejects.toMatchObject({ code: 'INSUFFICIENT_STORAGE' });
      expect(storage.calls).toEqual([]);
      expect(await uploads.isEmpty()).toBe(true);

      storage.freeSpace = 1000;
      await expect(sut.initiate(request, ANYONE, null)).resolves.toMatchObject({ created: true });
    });

    it('initiates on a store that cannot tell its free space', async () => {
      const storage = new InMemoryStorageWithFreeSpace();
      storage.freeSpace = null;
      await expect(newCoreServices({ storage }).uploadService.initiate(request, ANYONE, null)).resolves.toMatchObject({ created: true });
    });

    it('removes the storage it created when the session cannot be recorded', async () => {
      const { uploadService: sut, uploads, storage } = newCoreServices();
      uploads.unreachable = true;
      await expect(sut.initiate(request, ANYONE, null)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      const id = storage.calls[0].split(' ')[1];
      expect(storage.calls).toEqual([`create ${id}`, `remove ${id} all`]);
      expect(storage.unpublishedBytes(id)).toBeNull();
    });

    it('answers a repeat with the same Idempotency-Key and body with the first session, and keeps no storage for the repeat', async () => {
      const { uploadService: sut, storage } = newCoreServices();
      const first = await sut.initiate(request, ANYONE, 'key-1');
      const repeat = await sut.initiate(request, ANYONE, 'key-1');
      expect(repeat).toMatchObject({ created: false, session: { id: first.session.id } });
      const repeatId = storage.calls[1].split(' ')[1];
      expect(repeatId).not.toBe(first.session.id);
      expect(storage.unpublishedBytes(repeatId)).toBeNull();
      expect(storage.unpublishedBytes(first.session.id)).not.toBeNull();
    });

    it('refuses an Idempotency-Key reused with another body', async () => {
      const { uploadService: sut } = newCoreServices();
      await sut.initiate(request, ANYONE, 'key-1');
      await expect(sut.initiate({ ...request, fileSize: 2000 }, ANYONE, 'key-1')).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    });
  });

  describe('get', () => {
    it("reports someone else's upload as not found", async () => {
      const { uploadService: sut } = newCoreServices();
      const { session } = await sut.initiate(request, { keyHash: 'a' }, null);
      await expect(sut.get(session.id, { keyHash: 'b' })).rejects.toMatchObject({ code: 'UPLOAD_NOT_FOUND' });
      await expect(sut.get(session.id, ANYONE)).rejects.toMatchObject({ code: 'UPLOAD_NOT_FOUND' });
    });

    it('reads an upload past its expiry as expired before the sweep marks it', async () => {
      const { uploadService: sut, uploads } = newCoreServices();
      const { session } = await sut.initiate(request, ANYONE, null);
      uploads.alter(session.id, { expiresAt: new Date(Date.now() - 1) });
      expect(await sut.get(session.id, ANYONE)).toMatchObject({ status: 'expired' });
    });
  });

  describe('complete', () => {
    it('refuses while chunks are missing, naming them', async () => {
      const services = newCoreServices();
      const file = randomFile(3);
      const session = await initiate(services, file);
      await services.chunkReceiver.receive(chunkRequest(session, file, 1));
      await expect(services.uploadService.complete(session.id, ANYONE, undefined)).rejects.toMatchObject({
        code: 'UPLOAD_INCOMPLETE',
        details: { missingChunks: [0, 2], missingRanges: [`bytes 0-262143/${file.bytes.length}`, `bytes 524288-${file.bytes.length - 1}/${file.bytes.length}`] },
      });
    });

    it('starts the assembly of an upload with nothing missing', async () => {
      const { uploadService: sut, queue } = newCoreServices();
      const { session } = await sut.initiate({ ...request, fileSize: 0 }, ANYONE, null);
      expect(await sut.complete(session.id, ANYONE, undefined)).toMatchObject({ state: 'assembling', session: { status: 'assembling' } });
      expect(queue.waiting()).toEqual([session.id]);
    });

    it('answers assembling when the queue cannot be reached, leaving the job to the reconciler', async () => {
      const { uploadService: sut, queue, uploads } = newCoreServices();
      const { session } = await sut.initiate({ ...request, fileSize: 0 }, ANYONE, null);
      queue.unreachable = true;
      expect(await sut.complete(session.id, ANYONE, undefined)).toMatchObject({ state: 'assembling' });
      expect((await uploads.find(session.id))!.status).toBe('assembling');
    });

    it('asks again for the assembly of an upload already assembling whose job was lost', async () => {
      const { uploadService: sut, queue } = newCoreServices();
      const { session } = await sut.initiate({ ...request, fileSize: 0 }, ANYONE, null);
      await sut.complete(session.id, ANYONE, undefined);
      queue.loseJobs();
      await sut.complete(session.id, ANYONE, undefined);
      expect(queue.waiting()).toEqual([session.id]);
    });

    it('answers completed when the assembly finishes within COMPLETE_WAIT', async () => {
      const { uploadService: sut, uploads } = newCoreServices({ config: { completeWaitMs: 2_000 } });
      const { session } = await sut.initiate({ ...request, fileSize: 0 }, ANYONE, null);
      const worker = sleep(50).then(() => uploads.transition(session.id, ['assembling'], 'completed', { sha256: 'e'.repeat(64), completedAt: new Date() }));
      expect(await sut.complete(session.id, ANYONE, undefined)).toMatchObject({ state: 'completed', session: { status: 'completed' } });
      await worker;
    });

    it('takes a SHA-256 declared at completion, and refuses one that differs from the declared one', async () => {
      const { uploadService: sut, uploads } = newCoreServices();
      const first = await sut.initiate(request, ANYONE, null);
      await expect(sut.complete(first.session.id, ANYONE, { sha256: 'a'.repeat(64) })).rejects.toMatchObject({ code: 'UPLOAD_INCOMPLETE' });
      expect((await uploads.find(first.session.id))!.sha256).toBe('a'.repeat(64));

      const second = await sut.initiate({ ...request, sha256: 'b'.repeat(64) }, ANYONE, null);
      await expect(sut.complete(second.session.id, ANYONE, { sha256: 'c'.repeat(64) })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });
  });

  describe('abort', () => {
    it("removes the upload's bytes and refuses its chunks from then on; aborting again is fine", async () => {
      const services = newCoreServices();
      const file = randomFile(2);
      const session = await initiate(services, file);
      await services.uploadService.abort(session.id, ANYONE);
      await services.uploadService.abort(session.id, ANYONE);
      expect((await services.uploads.find(session.id))!.status).toBe('aborted');
      expect(services.storage.unpublishedBytes(session.id)).toBeNull();
      await expect(services.chunkReceiver.receive(chunkRequest(session, file, 0))).rejects.toMatchObject({ code: 'UPLOAD_ABORTED' });
    });

    it('refuses to abort an expired upload', async () => {
      const { uploadService: sut, uploads } = newCoreServices();
      const { session } = await sut.initiate(request, ANYONE, null);
      uploads.alter(session.id, { status: 'expired' });
      await expect(sut.abort(session.id, ANYONE)).rejects.toMatchObject({ code: 'UPLOAD_EXPIRED' });
    });
  });

  it('serves only completed uploads for download', async () => {
    const { uploadService: sut, uploads } = newCoreServices();
    const { session } = await sut.initiate(request, ANYONE, null);
    await expect(sut.getDownloadable(session.id, ANYONE)).rejects.toMatchObject({ code: 'UPLOAD_NOT_COMPLETED', details: { status: 'uploading' } });
    uploads.alter(session.id, { status: 'completed' });
    expect(await sut.getDownloadable(session.id, ANYONE)).toMatchObject({ id: session.id });
  });
});
