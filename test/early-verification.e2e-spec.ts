import { useStack, randomFile, sha256 } from './support/upload-client';

const MiB = 1024 * 1024;
const CHUNK = 8 * MiB;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Disk only: an object store holds nothing readable before its upload is completed, so there the
// assembly starts with the last chunk (the other suites cover that).
describe('an assembly started while the chunks arrive (disk)', () => {
  const ctx = useStack({ storage: 'disk', env: { WORKER_LOCK_DURATION: '1s' } });
  // Past EARLY_VERIFICATION_FROM_BYTES, in 8 MiB chunks with a short last one.
  const file = () => randomFile(18 * CHUNK + 12345);

  it('reads the file while it arrives, so that after the last chunk only the rest is read', async () => {
    const bytes = file();
    const { uploadId, totalChunks } = await ctx.client.create(bytes, { chunkSize: CHUNK });
    const worker = ctx.stack.workers.find((candidate) => candidate.running)!;
    const logLength = worker.log.length;
    expect((await ctx.client.putChunk(uploadId, bytes, 0, CHUNK)).status).toBe(200);
    // The job starts with chunk 0, long before the last one.
    await worker.waitForOutput(new RegExp(`Assembling ${uploadId}`), 10_000, logLength);
    for (let index = 1; index < totalChunks; index++) expect((await ctx.client.putChunk(uploadId, bytes, index, CHUNK)).status).toBe(200);

    expect(await ctx.client.waitForStatus(uploadId, ['completed', 'failed'], 30_000)).toMatchObject({ status: 'completed', sha256: sha256(bytes) });
    const finished = new RegExp(`Assembly of ${uploadId}: completed in \\d+ ms \\((\\d+) of ${bytes.length} bytes read before the last chunk arrived\\)`);
    await worker.waitForOutput(finished, 10_000, logLength);
    const earlyBytes = Number(finished.exec(worker.log.slice(logLength))![1]);
    // Everything but the chunks that landed just before the last one was read while the upload arrived.
    expect(earlyBytes).toBeGreaterThanOrEqual(bytes.length / 2);
    expect((await ctx.client.download(uploadId)).data.equals(bytes)).toBe(true);
  });

  it('reads again a chunk read early whose record has a superseded writer, and sends it back when its bytes changed', async () => {
    const bytes = file();
    const { uploadId, totalChunks } = await ctx.client.create(bytes, { chunkSize: CHUNK });
    const worker = ctx.stack.workers.find((candidate) => candidate.running)!;
    const logLength = worker.log.length;
    for (let index = 0; index < 6; index++) expect((await ctx.client.putChunk(uploadId, bytes, index, CHUNK)).status).toBe(200);
    // Long enough for the early read to pass chunk 1 (48 MiB).
    await sleep(1_500);
    // What a writer whose lease lapsed does: its claim was superseded by the one that recorded the
    // chunk (so the record is contested), and its late write lands after the early read.
    await ctx.stack.db.query('UPDATE upload_chunks SET contested = true WHERE upload_id = $1 AND chunk_index = 1', [uploadId]);
    await ctx.stack.store.damageChunk(uploadId, { index: 1, start: CHUNK, bytes: bytes.subarray(CHUNK, 2 * CHUNK) }, 5);
    for (let index = 6; index < totalChunks; index++) expect((await ctx.client.putChunk(uploadId, bytes, index, CHUNK)).status).toBe(200);

    const returned = await ctx.client.waitForStatus(uploadId, ['uploading', 'completed', 'failed'], 30_000);
    expect(returned).toMatchObject({ status: 'uploading', missingChunks: [1], error: { code: 'CHUNKS_CORRUPT', chunks: [1] } });
    // Found by reading chunk 1 again after the early read, not by a read that came after the damage anyway.
    expect(worker.log.slice(logLength)).toMatch(new RegExp(`Upload ${uploadId}: chunks changed after they were read early`));
    expect((await ctx.client.putChunk(uploadId, bytes, 1, CHUNK)).body.status).toBe('assembling');
    expect(await ctx.client.waitForStatus(uploadId, ['completed', 'failed'], 30_000)).toMatchObject({ status: 'completed', sha256: sha256(bytes) });
    expect((await ctx.client.download(uploadId)).data.equals(bytes)).toBe(true);
  });

  it('is finished byte-exact by another worker when its worker dies mid-read', async () => {
    const bytes = file();
    const { uploadId, totalChunks } = await ctx.client.create(bytes, { chunkSize: CHUNK });
    const worker = ctx.stack.workers.find((candidate) => candidate.running)!;
    const logLength = worker.log.length;
    for (let index = 0; index < 8; index++) expect((await ctx.client.putChunk(uploadId, bytes, index, CHUNK)).status).toBe(200);
    await worker.waitForOutput(new RegExp(`Assembling ${uploadId}`), 10_000, logLength);
    await worker.stop('SIGKILL');

    const next = await ctx.stack.startWorker();
    for (let index = 8; index < totalChunks; index++) expect((await ctx.client.putChunk(uploadId, bytes, index, CHUNK)).status).toBe(200);
    expect(await ctx.client.waitForStatus(uploadId, ['completed', 'failed'], 60_000)).toMatchObject({ status: 'completed', sha256: sha256(bytes) });
    expect((await ctx.client.download(uploadId)).data.equals(bytes)).toBe(true);
    expect(next.log).toMatch(new RegExp(`Assembly of ${uploadId}: completed`));
  });
});
