import { Logger } from '@nestjs/common';
import { ANYONE, newCoreServices } from '../testing';
import { ExpiryService } from './expiry.service';

beforeAll(() => Logger.overrideLogger(false));

describe(ExpiryService.name, () => {
  it('expires the uploads idle past their expiry and removes their bytes, and only those', async () => {
    const { expiry: sut, uploadService, uploads, storage } = newCoreServices();
    const initiate = async () => (await uploadService.initiate({ fileName: 'f', fileSize: 1000 }, ANYONE, null)).session.id;
    const overdue = await initiate();
    const fresh = await initiate();
    const assembling = await initiate();
    uploads.alter(overdue, { expiresAt: new Date(Date.now() - 1) });
    uploads.alter(assembling, { status: 'assembling', expiresAt: new Date(Date.now() - 1) });

    expect(await sut.sweep()).toBe(1);
    expect((await uploads.find(overdue))!.status).toBe('expired');
    expect(storage.unpublishedBytes(overdue)).toBeNull();
    expect((await uploads.find(fresh))!.status).toBe('uploading');
    expect(storage.unpublishedBytes(fresh)).not.toBeNull();
    expect((await uploads.find(assembling))!.status).toBe('assembling');
    expect(storage.unpublishedBytes(assembling)).not.toBeNull();
  });

  it('goes on past one batch', async () => {
    const { expiry: sut, uploadService, uploads } = newCoreServices();
    for (let count = 0; count < 501; count++) {
      const { session } = await uploadService.initiate({ fileName: 'f', fileSize: 0 }, ANYONE, null);
      uploads.alter(session.id, { expiresAt: new Date(Date.now() - 1) });
    }
    expect(await sut.sweep()).toBe(501);
  });
});
