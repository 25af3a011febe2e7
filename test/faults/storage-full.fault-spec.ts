import { Stack } from '../support/stack';
import { UploadClient, randomFile, recordedChunks } from '../support/upload-client';
import { mountSmallTmpfs } from '../support/private-services';
import { expectError } from '../support/expect-error';

const MiB = 1024 * 1024;

describe('storage full', () => {
  const tmpfs = mountSmallTmpfs(3 * MiB);
  let stack: Stack | undefined;

  afterAll(async () => {
    await stack?.stop();
    tmpfs.unmount();
  });

  it('answers INSUFFICIENT_STORAGE for a chunk that does not fit, records nothing, and resumes once space is free', async () => {
    stack = await Stack.start({ storageDir: tmpfs.path });
    const client = new UploadClient(stack);
    // Part files are sparse, so two 2 MiB sessions fit at initiate but not both on disk.
    const first = randomFile(2 * MiB);
    const second = randomFile(2 * MiB);
    const a = await client.create(first, { chunkSize: MiB });
    const b = await client.create(second, { chunkSize: MiB });
    for (const index of [0, 1]) expect((await client.putChunk(a.uploadId, first, index, MiB)).status).toBe(200);
    await client.waitForStatus(a.uploadId, ['completed']);

    expect((await client.putChunk(b.uploadId, second, 0, MiB)).status).toBe(200);
    const full = await client.putChunk(b.uploadId, second, 1, MiB);
    expectError(full, 507, 'INSUFFICIENT_STORAGE');
    expect(await recordedChunks(stack, b.uploadId)).toEqual([0]);

    // Too big to fit at all: refused at initiate.
    expectError(await client.initiate({ fileName: 'big', fileSize: 10 * MiB }), 507, 'INSUFFICIENT_STORAGE');

    expect((await client.abort(a.uploadId)).status).toBe(204);
    expect((await client.putChunk(b.uploadId, second, 1, MiB)).status).toBe(200);
    await client.waitForStatus(b.uploadId, ['completed']);
    expect((await client.download(b.uploadId)).data.equals(second)).toBe(true);
  });
});
