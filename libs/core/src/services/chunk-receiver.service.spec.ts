import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { InMemoryUploadStorage, chunkRequest, initiate, newCoreServices, randomFile } from '../testing';
import { chunkRange } from '../rules/chunk-grid';
import { ChunkReceiver } from './chunk-receiver.service';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeAll(() => Logger.overrideLogger(false));

describe(ChunkReceiver.name, () => {
  async function setUp(options: Parameters<typeof newCoreServices>[0] = {}) {
    const services = newCoreServices(options);
    const file = randomFile();
    const session = await initiate(services, file);
    const chunk = (index: number) => {
      const { start, end } = chunkRange(session, index);
      return file.bytes.subarray(start, end + 1);
    };
    const stored = (index: number) => {
      const { start, end } = chunkRange(session, index);
      return services.storage.unpublishedBytes(session.id)!.subarray(start, end + 1);
    };
    const writesOf = (index: number) => services.storage.calls.filter((call) => call === `write ${session.id} ${index}`).length;
    return { ...services, sut: services.chunkReceiver, file, session, chunk, stored, writesOf };
  }

  it('stores and records each chunk, and the one that completes the set starts the assembly', async () => {
    const { sut, uploads, queue, storage, file, session, chunk } = await setUp();
    for (const index of [2, 0]) {
      const receipt = await sut.receive(chunkRequest(session, file, index));
      expect(receipt).toMatchObject({ chunkIndex: index, session: { status: 'uploading' } });
    }
    expect(queue.waiting()).toEqual([]);

    const last = await sut.receive(chunkRequest(session, file, 1));
    expect(last.session).toMatchObject({ status: 'assembling', receivedChunks: 3, receivedBytes: file.bytes.length });
    expect(storage.unpublishedBytes(session.id)!.equals(file.bytes)).toBe(true);
    expect(await uploads.listChunks(session.id)).toEqual([0, 1, 2].map((index) => ({ index, sha256: sha256(chunk(index)), etag: null })));
    expect(queue.waiting()).toEqual([session.id]);
  });

  it("records the tag the store gave the chunk's bytes", async () => {
    const { sut, uploads, file, session, chunk } = await setUp({ storage: new InMemoryUploadStorage({ tags: true }) });
    await sut.receive(chunkRequest(session, file, 0));
    expect(await uploads.findChunk(session.id, 0)).toEqual({ index: 0, sha256: sha256(chunk(0)), etag: `"${createHash('md5').update(chunk(0)).digest('hex')}"` });
  });

  it('takes a repeat of a received chunk with the same bytes as a no-op, without writing them again', async () => {
    const { sut, file, session, writesOf } = await setUp();
    await sut.receive(chunkRequest(session, file, 0));
    const repeat = await sut.receive(chunkRequest(session, file, 0));
    expect(repeat.session).toMatchObject({ receivedChunks: 1, status: 'uploading' });
    expect(writesOf(0)).toBe(1);
  });

  it('refuses a repeat with other bytes and keeps the stored ones', async () => {
    const { sut, uploads, file, session, chunk, stored, writesOf } = await setUp();
    await sut.receive(chunkRequest(session, file, 0));
    const other = Buffer.alloc(chunk(0).length, 7);
    await expect(sut.receive(chunkRequest(session, file, 0, { bytes: other }))).rejects.toMatchObject({ code: 'CHUNK_CONFLICT' });
    expect(stored(0).equals(chunk(0))).toBe(true);
    expect(await uploads.findChunk(session.id, 0)).toMatchObject({ sha256: sha256(chunk(0)) });
    expect(writesOf(0)).toBe(1);
  });

  it("answers CHUNK_IN_PROGRESS while another replica holds the chunk's lease, and writes nothing", async () => {
    const { sut, leases, file, session, writesOf } = await setUp();
    await leases.otherReplica().acquire(session.id, 0, 30_000);
    await expect(sut.receive(chunkRequest(session, file, 0))).rejects.toMatchObject({ code: 'CHUNK_IN_PROGRESS', retryAfterSeconds: 1 });
    expect(writesOf(0)).toBe(0);
  });

  it('stops before its next write and records nothing once its replica was taken for dead and the lease taken over', async () => {
    const { sut, uploads, leases, file, session, chunk, stored } = await setUp();
    const takeover = leases.otherReplica();
    const request = chunkRequest(session, file, 0, {
      bytes: Buffer.alloc(chunk(0).length, 1),
      meanwhile: async () => {
        leases.pause();
        expect(await takeover.acquire(session.id, 0, 30_000)).not.toBeNull();
      },
    });
    await expect(sut.receive(request)).rejects.toMatchObject({ code: 'CHUNK_IN_PROGRESS' });
    expect(await uploads.findChunk(session.id, 0)).toBeNull();
    // Only the first 64 KiB piece went out before the takeover.
    expect(stored(0).subarray(64 * 1024).every((byte) => byte === 0)).toBe(true);
    expect(leases.isHeld(session.id, 0)).toBe(true);
  });

  it('refuses a body that stalls past its lease before it writes again', async () => {
    const { sut, uploads, file, session } = await setUp({ config: { chunkLeaseTtlMs: 60 } });
    const request = chunkRequest(session, file, 0, { meanwhile: () => sleep(120) });
    await expect(sut.receive(request)).rejects.toMatchObject({ code: 'CHUNK_IN_PROGRESS' });
    expect(await uploads.findChunk(session.id, 0)).toBeNull();
  });

  it('cannot record once a newer request claimed the chunk while it was writing (a taken-over fence)', async () => {
    const { sut, uploads, file, session } = await setUp();
    const request = chunkRequest(session, file, 0, { meanwhile: () => void uploads.claimChunk(session.id, 0) });
    await expect(sut.receive(request)).rejects.toMatchObject({ code: 'CHUNK_IN_PROGRESS', message: expect.stringContaining('taken over') });
    expect(await uploads.findChunk(session.id, 0)).toBeNull();
    expect((await uploads.find(session.id))!.receivedChunks).toBe(0);
  });

  it('answers 200 when another request recorded the same bytes while it wrote', async () => {
    const { sut, uploads, file, session, chunk } = await setUp();
    const request = chunkRequest(session, file, 0, {
      meanwhile: async () => {
        const claim = await uploads.claimChunk(session.id, 0);
        await uploads.recordChunk(session.id, { index: 0, sha256: sha256(chunk(0)), etag: null, size: chunk(0).length }, claim.fence!, 60_000);
      },
    });
    expect(await sut.receive(request)).toMatchObject({ chunkIndex: 0, session: { receivedChunks: 1 } });
  });

  it('sends the chunk back to missing when its bytes landed over a record of other bytes made meanwhile', async () => {
    const { sut, uploads, file, session, chunk } = await setUp();
    const request = chunkRequest(session, file, 0, {
      bytes: Buffer.alloc(chunk(0).length, 9),
      meanwhile: async () => {
        const claim = await uploads.claimChunk(session.id, 0);
        await uploads.recordChunk(session.id, { index: 0, sha256: sha256(chunk(0)), etag: null, size: chunk(0).length }, claim.fence!, 60_000);
      },
    });
    await expect(sut.receive(request)).rejects.toMatchObject({ code: 'CHUNK_CONFLICT', message: expect.stringContaining('missing again') });
    expect(await uploads.findChunk(session.id, 0)).toBeNull();
    expect((await uploads.find(session.id))!.receivedChunks).toBe(0);
  });

  it('fails the upload when its stored bytes are gone under a live session', async () => {
    const { sut, uploads, storage, file, session } = await setUp();
    storage.lose(session.id);
    await expect(sut.receive(chunkRequest(session, file, 0))).rejects.toMatchObject({ code: 'UPLOAD_NOT_ACCEPTING', details: { status: 'failed' } });
    expect(await uploads.find(session.id)).toMatchObject({ status: 'failed', error: { code: 'STORAGE_LOST' } });
  });

  it('says the upload was aborted when its bytes went with an abort made while it wrote', async () => {
    const { sut, uploads, storage, file, session } = await setUp();
    const request = chunkRequest(session, file, 0, {
      meanwhile: async () => {
        await uploads.transition(session.id, ['uploading'], 'aborted');
        storage.lose(session.id);
      },
    });
    await expect(sut.receive(request)).rejects.toMatchObject({ code: 'UPLOAD_ABORTED' });
    expect(await uploads.find(session.id)).toMatchObject({ status: 'aborted' });
  });

  it('records nothing when the store is full', async () => {
    const { sut, uploads, storage, file, session } = await setUp();
    storage.full = true;
    await expect(sut.receive(chunkRequest(session, file, 0))).rejects.toMatchObject({ code: 'INSUFFICIENT_STORAGE' });
    expect(await uploads.findChunk(session.id, 0)).toBeNull();
  });

  it('records nothing when the body does not match its Content-Digest', async () => {
    const { sut, uploads, file, session } = await setUp();
    const wrong = `sha-256=:${createHash('sha256').update('other').digest('base64')}:`;
    await expect(sut.receive(chunkRequest(session, file, 0, { contentDigest: wrong }))).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(await uploads.findChunk(session.id, 0)).toBeNull();
  });

  it('records nothing from a body cut short, and frees the lease for the retry', async () => {
    const { sut, uploads, leases, file, session, chunk } = await setUp();
    const request = chunkRequest(session, file, 0, { bytes: chunk(0).subarray(0, 100_000) });
    request.contentLength = null;
    await expect(sut.receive(request)).rejects.toMatchObject({ code: 'LENGTH_MISMATCH' });
    expect(await uploads.findChunk(session.id, 0)).toBeNull();
    await sleep(0);
    expect(leases.isHeld(session.id, 0)).toBe(false);
    expect(await sut.receive(chunkRequest(session, file, 0))).toMatchObject({ chunkIndex: 0 });
  });
});
