import { existsSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually } from './support/processes';
import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import type * as Core from '@app/core';
import type * as Persistence from '@app/persistence';
import type * as Storage from '@app/storage';
import { S3TestStore, STORAGE_MODES, describeInStorageModes, smallChunk } from './support/test-store';
import { useStack, randomFile, sha256 } from './support/upload-client';

const MiB = 1024 * 1024;

describeInStorageModes('a worker killed mid-assembly', (mode) => {
  const ctx = useStack({ storage: mode });

  it('has its job finished byte-exact by a new worker', async () => {
    const file = randomFile(96 * MiB + 12345);
    const { uploadId, totalChunks } = await ctx.client.create(file, { chunkSize: 8 * MiB });
    const worker = ctx.stack.workers[0];
    const logLength = worker.log.length;

    for (let index = 0; index < totalChunks; index++) expect((await ctx.client.putChunk(uploadId, file, index, 8 * MiB)).status).toBe(200);
    await worker.waitForOutput(new RegExp(`Assembling ${uploadId}`), 30_000, logLength);
    await worker.stop('SIGKILL');

    // It died mid-way: nothing was completed (nor published, on disk: in S3 the object exists from
    // CompleteMultipartUpload on, before the verification read).
    const { rows } = await ctx.stack.db.query('SELECT status FROM uploads WHERE id = $1', [uploadId]);
    expect(rows[0].status).toBe('assembling');
    if (mode === 'disk') expect(await ctx.stack.store.holdsPublished(uploadId)).toBe(false);

    await ctx.stack.startWorker();
    const done = await ctx.client.waitForStatus(uploadId, ['completed', 'failed'], 60_000);
    expect(done).toMatchObject({ status: 'completed', sha256: sha256(file) });
    const download = await ctx.client.download(uploadId);
    expect(download.data.length).toBe(file.length);
    expect(download.data.equals(file)).toBe(true);
  });

  it('re-enqueues on complete an assembling upload whose job Redis lost', async () => {
    const [worker] = ctx.stack.workers.filter((candidate) => candidate.running);
    await worker.stop();
    const chunkSize = smallChunk(mode);
    const file = randomFile(3 * chunkSize);
    const { uploadId } = await ctx.client.uploadAll(file, { chunkSize });
    expect((await ctx.client.status(uploadId)).body.status).toBe('assembling');

    // Redis loses the queue (a restart without persistence, say).
    const keys = await ctx.stack.redis.keys(`${ctx.stack.prefix}:assembly:*`);
    if (keys.length > 0) await ctx.stack.redis.del(...keys);

    const completion = await ctx.client.complete(uploadId);
    expect(completion.status).toBe(202);
    await ctx.stack.startWorker();
    expect(await ctx.client.waitForStatus(uploadId, ['completed', 'failed'])).toMatchObject({ status: 'completed', sha256: sha256(file) });
  });

  it('shuts down cleanly on SIGTERM', async () => {
    const worker = await ctx.stack.startWorker();
    await worker.stop('SIGTERM');
    // Nest re-raises the signal once its shutdown hooks have run; what matters is that they ran.
    expect(worker.child.signalCode).toBe('SIGTERM');
    expect(worker.log).toMatch(/Worker stopped/);
  });
});

describe('the reconciler', () => {
  const ctx = useStack({ env: { MAINTENANCE_INTERVAL: '300ms' } });

  it('re-enqueues an upload left assembling without a job, with no client action', async () => {
    await ctx.stack.workers[0].stop();
    const file = randomFile(3 * 256 * 1024);
    const { uploadId } = await ctx.client.uploadAll(file, { chunkSize: 256 * 1024 });
    expect((await ctx.client.status(uploadId)).body.status).toBe('assembling');
    const keys = await ctx.stack.redis.keys(`${ctx.stack.prefix}:assembly:*`);
    if (keys.length > 0) await ctx.stack.redis.del(...keys);

    await ctx.stack.startWorker();
    expect(await ctx.client.waitForStatus(uploadId, ['completed', 'failed'], 30_000)).toMatchObject({ status: 'completed', sha256: sha256(file) });
  });
});

describeInStorageModes('expiry', (mode) => {
  const CHUNK = smallChunk(mode);
  // Longer in s3 mode, where a 5 MiB chunk to the local Ceph takes a good part of a second.
  const TTL_MS = mode === 's3' ? 3000 : 1500;
  const ctx = useStack({ storage: mode, env: { UPLOAD_TTL: `${TTL_MS}ms`, MAINTENANCE_INTERVAL: '300ms' } });

  it('expires an idle session, deletes its bytes (the part file; the multipart upload), and refuses its chunks with 410', async () => {
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    expect((await ctx.client.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);
    expect(await ctx.stack.store.holdsUnpublished(uploadId)).toBe(true);

    const expired = await ctx.client.waitForStatus(uploadId, ['expired'], 15_000);
    expect(expired.status).toBe('expired');
    await eventually(async () => ((await ctx.stack.store.holdsUnpublished(uploadId)) ? undefined : true), 'the stored bytes to be deleted', 10_000);
    expect(await ctx.stack.store.holdsPublished(uploadId)).toBe(false);
    const { rows } = await ctx.stack.db.query('SELECT status FROM uploads WHERE id = $1', [uploadId]);
    expect(rows[0].status).toBe('expired');

    const late = await ctx.client.putChunk(uploadId, file, 1, CHUNK);
    expect(late.status).toBe(410);
    expect(late.body.code).toBe('UPLOAD_EXPIRED');
    expect((await ctx.client.complete(uploadId)).body.code).toBe('UPLOAD_EXPIRED');
  });

  it('keeps a session alive while chunks keep arriving', async () => {
    const file = randomFile(4 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    for (let index = 0; index < 4; index++) {
      await new Promise((resolve) => setTimeout(resolve, TTL_MS / 2));
      expect((await ctx.client.putChunk(uploadId, file, index, CHUNK)).status).toBe(200);
    }
    expect((await ctx.client.waitForStatus(uploadId, ['completed', 'expired'])).status).toBe('completed');
  });

  it('leaves completed uploads alone', async () => {
    const file = randomFile(CHUNK);
    const { uploadId } = await ctx.client.uploadAll(file, { chunkSize: CHUNK });
    await ctx.client.waitForStatus(uploadId, ['completed']);
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 1000));
    expect((await ctx.client.status(uploadId)).body.status).toBe('completed');
    expect((await ctx.client.download(uploadId)).data.equals(file)).toBe(true);
    expect(await ctx.stack.store.holdsPublished(uploadId)).toBe(true);
  });
});

describe('the orphan sweep', () => {
  const ctx = useStack({ env: { MAINTENANCE_INTERVAL: '100ms' } });
  const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);

  async function placeFile(dir: 'tmp' | 'files', name: string, changedAt: Date | null): Promise<string> {
    const path = join(ctx.stack.storageDir, dir, name);
    await writeFile(path, 'leftover bytes');
    if (changedAt) await utimes(path, changedAt, changedAt);
    return path;
  }

  async function setStatus(uploadId: string, status: string): Promise<void> {
    // A last change in the future keeps the reconciler from re-running an `assembling` one.
    await ctx.stack.db.query(`UPDATE uploads SET status = $2, updated_at = now() + interval '1 hour' WHERE id = $1`, [uploadId, status]);
  }

  it('removes files a crash left behind, and nothing that is still wanted or not ours', async () => {
    const aborted = await ctx.client.create(randomFile(1000));
    // A refused chunk leaves a claim behind; once the upload is closed, the sweep drops it.
    expect((await ctx.client.putChunk(aborted.uploadId, randomFile(1000), 0, 256 * 1024, { 'content-digest': `sha-256=:${Buffer.alloc(32).toString('base64')}:` })).status).toBe(422);
    expect((await ctx.client.abort(aborted.uploadId)).status).toBe(204);
    const failed = await ctx.client.create(randomFile(1000));
    await setStatus(failed.uploadId, 'failed');
    const assembling = await ctx.client.create(randomFile(1000));
    await setStatus(assembling.uploadId, 'assembling');
    const live = await ctx.client.create(randomFile(1000));
    const kept = randomFile(1000);
    const completed = await ctx.client.uploadAll(kept);
    await ctx.client.waitForStatus(completed.uploadId, ['completed']);
    for (const id of [live.uploadId, completed.uploadId, assembling.uploadId]) {
      for (const dir of ['tmp', 'files']) {
        const path = join(ctx.stack.storageDir, dir, dir === 'tmp' ? `${id}.part` : id);
        if (existsSync(path)) await utimes(path, twoHoursAgo, twoHoursAgo);
      }
    }

    const leftovers = [
      // A crash between marking the session aborted (or failed) and deleting its bytes.
      await placeFile('tmp', `${aborted.uploadId}.part`, twoHoursAgo),
      await placeFile('files', aborted.uploadId, twoHoursAgo),
      join(ctx.stack.storageDir, 'tmp', `${failed.uploadId}.part`),
      // A crash between creating a part file and inserting its session.
      await placeFile('tmp', 'BBBBBBBBBBBBBBBBBBBBBB.part', twoHoursAgo),
    ];
    await utimes(leftovers[2], twoHoursAgo, twoHoursAgo);
    const wanted = [
      join(ctx.stack.storageDir, 'tmp', `${live.uploadId}.part`),
      join(ctx.stack.storageDir, 'files', completed.uploadId),
      // Published while still assembling: the worker is about to record it completed.
      await placeFile('files', assembling.uploadId, twoHoursAgo),
      // Too young to judge: its session may be being inserted right now.
      await placeFile('tmp', 'CCCCCCCCCCCCCCCCCCCCCC.part', null),
      // A published file no session knows: perhaps a restored or shared database's; kept.
      await placeFile('files', 'EEEEEEEEEEEEEEEEEEEEEE', twoHoursAgo),
      // Not an upload's file at all.
      await placeFile('tmp', 'notes.txt', twoHoursAgo),
      await placeFile('files', 'lost+found', twoHoursAgo),
    ];

    await eventually(async () => (leftovers.some((path) => existsSync(path)) ? undefined : true), 'the leftovers to be removed', 30_000);
    for (const path of wanted) expect(existsSync(path)).toBe(true);
    expect((await ctx.client.download(completed.uploadId)).data.equals(kept)).toBe(true);
    await eventually(async () => {
      const { rows } = await ctx.stack.db.query('SELECT 1 FROM chunk_claims WHERE upload_id = $1', [aborted.uploadId]);
      return rows.length === 0 ? true : undefined;
    }, 'the closed upload\'s claims to be dropped');
  });
});

describe('the orphan sweep on a database with no uploads at all', () => {
  const ctx = useStack({ env: { MAINTENANCE_INTERVAL: '100ms' } });

  it('removes nothing until the database knows an upload: an empty one is more likely the wrong database', async () => {
    const path = join(ctx.stack.storageDir, 'tmp', 'DDDDDDDDDDDDDDDDDDDDDD.part');
    const longAgo = new Date(Date.now() - 2 * 3600 * 1000);
    await writeFile(path, 'bytes of an upload this database does not know');
    await utimes(path, longAgo, longAgo);
    // Several sweeps (every second here) run meanwhile, and leave the file alone.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(existsSync(path)).toBe(true);

    // Once the database holds an upload, the next sweep judges the file an orphan.
    await ctx.client.create(randomFile(1000));
    await eventually(async () => (existsSync(path) ? undefined : true), 'the orphan to be removed', 30_000);
  });
});

if (STORAGE_MODES.includes('s3')) describe('the orphan sweep in S3', () => {
  const ctx = useStack({ storage: 's3' });

  it('aborts the open multipart uploads of ended sessions and of no session past their age, and nothing that is wanted or not ours', async () => {
    const store = ctx.stack.store as S3TestStore;
    const openMultipart = (key: string) => store.client.send(new CreateMultipartUploadCommand({ Bucket: store.bucket, Key: key }));
    const chunkSize = smallChunk('s3');

    const live = await ctx.client.create(randomFile(1000), { chunkSize });
    const kept = randomFile(1000);
    const completed = await ctx.client.uploadAll(kept, { chunkSize });
    await ctx.client.waitForStatus(completed.uploadId, ['completed']);
    const aborted = await ctx.client.create(randomFile(1000), { chunkSize });
    expect((await ctx.client.abort(aborted.uploadId)).status).toBe(204);
    // A crash between marking the session aborted and aborting its multipart upload.
    await openMultipart(store.key(aborted.uploadId));
    // A crash between creating a multipart upload and inserting its session.
    const unknown = 'BBBBBBBBBBBBBBBBBBBBBB';
    await openMultipart(store.key(unknown));
    // Not this service's: outside its prefix, or not an upload id.
    await openMultipart(`other/${unknown}`);
    await openMultipart(`${store.prefix}notes`);

    // The running worker's sweep judges ages by the clock, and a test cannot make a multipart
    // upload older: the same sweeper runs here, from the built libraries (as the worker does),
    // on the stack's database and bucket, with its clock ahead.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const built = (lib: string) => require(join(__dirname, '..', 'dist', 'libs', lib, 'src')) as unknown;
    const { OrphanSweeper } = built('core') as typeof Core;
    const { PostgresUploadRepository, createDataSource } = built('persistence') as typeof Persistence;
    const { S3UploadStorage, createS3Clients } = built('storage') as typeof Storage;
    const dataSource = await createDataSource(ctx.stack.env.DATABASE_URL as string).initialize();
    const settings = { bucket: store.bucket, endpoint: store.access.endpoint, forcePathStyle: true, prefix: store.prefix, checksums: false };
    const storage = await S3UploadStorage.open(settings, createS3Clients(settings, { region: store.access.region, credentials: { accessKeyId: store.access.accessKeyId, secretAccessKey: store.access.secretAccessKey } }));
    try {
      const sweeper = new OrphanSweeper(new PostgresUploadRepository(dataSource), storage);
      // Nothing younger than the grace period is judged: the unknown one may be an upload being born.
      await sweeper.sweep();
      expect(await store.holdsUnpublished(unknown)).toBe(true);

      expect(await sweeper.sweep(new Date(Date.now() + 2 * 3600_000))).toBe(2);
      expect(await store.holdsUnpublished(unknown)).toBe(false);
      expect(await store.holdsUnpublished(aborted.uploadId)).toBe(false);
      expect(await store.holdsUnpublished(live.uploadId)).toBe(true);
      expect(await store.holdsPublished(completed.uploadId)).toBe(true);
      expect((await store.everything()).multipartUploads.sort()).toEqual([`other/${unknown}`, store.key(live.uploadId), `${store.prefix}notes`].sort());
      expect((await ctx.client.download(completed.uploadId)).data.equals(kept)).toBe(true);
    } finally {
      storage.close();
      await dataSource.destroy();
    }
  });
});
