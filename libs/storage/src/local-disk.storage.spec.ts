import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoredDataMissingError, StoredLeftover, UploadLayout, chunkRange, newUploadId, reportsFreeSpace } from '@app/core';
import { LocalDiskStorage } from './local-disk.storage';

const KiB = 1024;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe(LocalDiskStorage.name, () => {
  let root: string;
  let sut: LocalDiskStorage;
  let upload: UploadLayout;
  let file: Buffer;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'ru-local-disk-'));
    sut = await new LocalDiskStorage(root).init();
    file = randomBytes(3 * 256 * KiB + 1000);
    upload = { id: newUploadId(), fileSize: file.length, chunkSize: 256 * KiB };
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  const slot = (index: number) => {
    const { start, end } = chunkRange(upload, index);
    return { index, offset: start, length: end - start + 1 };
  };
  const bytesOf = (index: number) => file.subarray(slot(index).offset, slot(index).offset + slot(index).length);
  const writeAll = async () => {
    for (const index of [3, 1, 0, 2]) expect(await sut.writeChunk(upload, slot(index), once(bytesOf(index)))).toEqual({ etag: null });
  };

  it('keeps chunks in place, with no tag, and reads them back in one pass for verification', async () => {
    await sut.create(upload);
    await writeAll();
    expect(await sut.readForVerification(upload, [])).toEqual({
      kind: 'read',
      published: false,
      digests: { sha256: sha256(file), chunkDigests: [0, 1, 2, 3].map((index) => sha256(bytesOf(index))) },
    });
  });

  it('reads the published file on a run after publishing, keeps it when removing only unpublished bytes, and then has nothing', async () => {
    await sut.create(upload);
    await writeAll();
    await sut.publish(upload);
    expect(await sut.readForVerification(upload, [])).toMatchObject({ kind: 'read', published: true, digests: { sha256: sha256(file) } });

    await sut.remove(upload.id, 'unpublished');
    const range = Buffer.concat(await collect(await sut.readPublished(upload.id, { start: 10, end: 300_000 })));
    expect(range.equals(file.subarray(10, 300_001))).toBe(true);

    await sut.remove(upload.id);
    expect(await sut.readForVerification(upload, [])).toEqual({ kind: 'gone' });
  });

  it('refuses a chunk of an upload whose storage is gone', async () => {
    await expect(sut.writeChunk(upload, slot(0), once(bytesOf(0)))).rejects.toBeInstanceOf(StoredDataMissingError);
  });

  it('lists the uploads stored and unchanged since before the cutoff, and nothing that is not an upload', async () => {
    const old = new Date(Date.now() - 3_600_000);
    const stale = { ...upload, id: newUploadId() };
    const published = { ...upload, id: newUploadId() };
    for (const layout of [upload, stale, published]) await sut.create(layout);
    await sut.publish(published);
    await utimes(join(root, 'tmp', `${stale.id}.part`), old, old);
    await utimes(join(root, 'files', published.id), old, old);
    await writeFile(join(root, 'tmp', 'notes.part'), 'not an upload');
    await utimes(join(root, 'tmp', 'notes.part'), old, old);

    const leftovers = await collect(sut.listLeftovers(new Date(Date.now() - 60_000)));
    expect(leftovers.sort((a, b) => Number(a.published) - Number(b.published))).toEqual<StoredLeftover[]>([
      { uploadId: stale.id, published: false },
      { uploadId: published.id, published: true },
    ]);
  });

  it('reports its free space, an ability object stores lack', async () => {
    expect(reportsFreeSpace(sut)).toBe(true);
    expect(await sut.freeBytes()).toBeGreaterThan(0);
  });
});
