import { Logger } from '@nestjs/common';
import { ANYONE, newCoreServices } from '../testing';
import { AssemblyReconciler } from './assembly-reconciler.service';

beforeAll(() => Logger.overrideLogger(false));

describe(AssemblyReconciler.name, () => {
  async function assemblingUpload(services: ReturnType<typeof newCoreServices>, changedMsAgo: number): Promise<string> {
    const { session } = await services.uploadService.initiate({ fileName: 'empty', fileSize: 0 }, ANYONE, null);
    await services.uploads.transition(session.id, ['uploading'], 'assembling');
    services.uploads.alter(session.id, { updatedAt: new Date(Date.now() - changedMsAgo) });
    return session.id;
  }

  it('enqueues again the uploads assembling for longer than a worker lock without a job, and leaves the young ones to their own enqueue', async () => {
    const services = newCoreServices({ config: { workerLockDurationMs: 4_000 } });
    const stuck = await assemblingUpload(services, 10_000);
    await assemblingUpload(services, 1_000);
    expect(await services.reconciler.requeueStuck()).toBe(1);
    expect(services.queue.waiting()).toEqual([stuck]);
  });

  it('makes no second job for an upload whose job still waits', async () => {
    const services = newCoreServices();
    const stuck = await assemblingUpload(services, 60_000);
    await services.queue.enqueue(stuck);
    await services.reconciler.requeueStuck();
    expect(services.queue.waiting()).toEqual([stuck]);
  });

  it('leaves uploads in any other status alone', async () => {
    const services = newCoreServices();
    const { session } = await services.uploadService.initiate({ fileName: 'empty', fileSize: 0 }, ANYONE, null);
    services.uploads.alter(session.id, { updatedAt: new Date(Date.now() - 60_000) });
    expect(await services.reconciler.requeueStuck()).toBe(0);
    expect(services.queue.requested).toEqual([]);
  });
});
