import { Logger } from '@nestjs/common';
import { newUploadId } from '../rules/upload-id';
import { UploadStatus } from '../rules/upload-status';
import { ANYONE, newCoreServices } from '../testing';
import { ORPHAN_GRACE_MS, OrphanSweeper } from './orphan-sweeper.service';

beforeAll(() => Logger.overrideLogger(false));

describe(OrphanSweeper.name, () => {
  const longAgo = () => new Date(Date.now() - ORPHAN_GRACE_MS - 1_000);

  function setUp() {
    const services = newCoreServices();
    const { uploadService, uploads, storage } = services;
    /** A session in `status` whose bytes were last changed `changedAt`. */
    const upload = async (status: UploadStatus, changedAt = longAgo(), published = false) => {
      const { session } = await uploadService.initiate({ fileName: 'f', fileSize: 1000 }, ANYONE, null);
      if (published) await storage.publish(session);
      storage.touch(session.id, changedAt);
      uploads.alter(session.id, { status });
      return session.id;
    };
    /** Bytes stored for an upload no session knows. */
    const orphan = async (published: boolean, changedAt = longAgo()) => {
      const layout = { id: newUploadId(), fileSize: 10, chunkSize: 256 * 1024 };
      await storage.create(layout);
      if (published) await storage.publish(layout);
      storage.touch(layout.id, changedAt);
      return layout.id;
    };
    const stored = (id: string) => storage.unpublishedBytes(id) !== null || storage.publishedBytes(id) !== null;
    return { ...services, sut: services.sweeper, upload, orphan, stored };
  }

  it('removes the bytes of aborted, expired and failed uploads, published or not', async () => {
    const { sut, upload, stored } = setUp();
    const ended = [await upload('aborted'), await upload('expired'), await upload('failed', longAgo(), true)];
    expect(await sut.sweep()).toBe(3);
    for (const id of ended) expect(stored(id)).toBe(false);
  });

  it('keeps the bytes of uploads still uploading, assembling or completed', async () => {
    const { sut, upload, stored } = setUp();
    const live = [await upload('uploading'), await upload('assembling'), await upload('completed', longAgo(), true)];
    expect(await sut.sweep()).toBe(0);
    for (const id of live) expect(stored(id)).toBe(true);
  });

  it('removes unpublished bytes no session knows, but keeps a published file no session knows', async () => {
    const { sut, upload, orphan, storage } = setUp();
    await upload('uploading');
    const unpublished = await orphan(false);
    const published = await orphan(true);
    expect(await sut.sweep()).toBe(1);
    expect(storage.unpublishedBytes(unpublished)).toBeNull();
    expect(storage.publishedBytes(published)).not.toBeNull();
    expect(storage.calls).toContain(`remove ${unpublished} unpublished`);
  });

  it('judges nothing younger than the grace period: an upload may be being born', async () => {
    const { sut, upload, orphan, stored } = setUp();
    const young = new Date(Date.now() - ORPHAN_GRACE_MS + 60_000);
    const aborted = await upload('aborted', young);
    const unborn = await orphan(false, young);
    expect(await sut.sweep()).toBe(0);
    expect(stored(aborted)).toBe(true);
    expect(stored(unborn)).toBe(true);
  });

  it('takes nothing for an orphan while the database holds no session at all (a wrong DATABASE_URL)', async () => {
    const { sut, orphan, stored } = setUp();
    const unpublished = await orphan(false);
    expect(await sut.sweep()).toBe(0);
    expect(stored(unpublished)).toBe(true);
  });

  it('drops the chunk claims of uploads that take no more chunks', async () => {
    const { sut, upload, uploads } = setUp();
    const open = await upload('uploading');
    const aborted = await upload('uploading');
    await uploads.claimChunk(open, 0);
    await uploads.claimChunk(aborted, 0);
    uploads.alter(aborted, { status: 'aborted' });
    await sut.sweep();
    expect(uploads.claimCount).toBe(1);
  });
});
