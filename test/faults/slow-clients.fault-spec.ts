import { Socket, connect } from 'node:net';
import { sleep } from '../support/processes';
import { UploadClient, randomFile, rawPut, recordedChunks, sha256, useStack } from '../support/upload-client';

const CHUNK = 256 * 1024;

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('a chunk body that stalls', () => {
  // A long lease: only the 408's release can free the chunk for the retry in time.
  const ctx = useStack({ env: { BODY_IDLE_TIMEOUT: '1s', CHUNK_LEASE_TTL: '60s' } });

  it('gets 408 REQUEST_TIMEOUT after the idle timeout, records nothing, and frees its lease at once', async () => {
    const file = randomFile(2 * CHUNK);
    const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
    const put = rawPut(ctx.stack, uploadId, { 'content-range': `bytes 0-${CHUNK - 1}/${file.length}`, 'content-length': String(CHUNK) });
    put.write(file.subarray(0, CHUNK / 2));
    const startedAt = Date.now();
    const answer = await put.finish();

    expect(answer?.status).toBe(408);
    expect(answer?.body).toMatchObject({ statusCode: 408, code: 'REQUEST_TIMEOUT', message: expect.stringMatching(/No bytes of chunk 0 arrived for 1 s.*re-send/) });
    expect(answer?.headers.get('connection')).toBe('close');
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(await recordedChunks(ctx.stack, uploadId)).toEqual([]);

    // No CHUNK_IN_PROGRESS: the stalled request gave its lease back.
    expect((await ctx.client.putChunk(uploadId, file, 0, CHUNK)).status).toBe(200);
    expect((await ctx.client.putChunk(uploadId, file, 1, CHUNK)).status).toBe(200);
    expect(await ctx.client.waitForStatus(uploadId, ['completed', 'failed'])).toMatchObject({ status: 'completed', sha256: sha256(file) });
  });
});

describe('200 idle sockets', () => {
  const ctx = useStack({ env: { BODY_IDLE_TIMEOUT: '5m' } });

  it('do not stop normal uploads from completing', async () => {
    const port = Number(new URL(ctx.stack.baseUrl).port);
    const sockets: Socket[] = [];
    const stalledUploads: { uploadId: string; chunks: number }[] = [];
    try {
      // 70 connect and say nothing; 65 stop half-way through their headers.
      for (let i = 0; i < 70; i++) sockets.push(await openSocket(port));
      for (let i = 0; i < 65; i++) {
        const socket = await openSocket(port);
        socket.write(`PUT /resumable-upload/chunk?uploadId=x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ra`);
        sockets.push(socket);
      }
      // 65 send a chunk's headers and part of its body, then stall, each holding a chunk lease.
      for (let u = 0; u < 5; u++) {
        const file = randomFile(13 * CHUNK);
        const { uploadId } = await ctx.client.create(file, { chunkSize: CHUNK });
        stalledUploads.push({ uploadId, chunks: 13 });
        for (let index = 0; index < 13; index++) {
          const start = index * CHUNK;
          const socket = await openSocket(port);
          socket.write(`PUT /resumable-upload/chunk?uploadId=${uploadId} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Range: bytes ${start}-${start + CHUNK - 1}/${file.length}\r\nContent-Length: ${CHUNK}\r\n\r\n`);
          socket.write(file.subarray(start, start + 1000));
          sockets.push(socket);
        }
      }
      expect(sockets).toHaveLength(200);
      await sleep(500);

      const files = [randomFile(4 * CHUNK + 17), randomFile(3 * CHUNK), randomFile(CHUNK - 1)];
      const uploads = await Promise.all(files.map((file) => new UploadClient(ctx.stack).uploadAll(file, { chunkSize: CHUNK, parallel: 2 })));
      for (const [i, { uploadId }] of uploads.entries()) {
        expect(await ctx.client.waitForStatus(uploadId, ['completed', 'failed'])).toMatchObject({ status: 'completed', sha256: sha256(files[i]) });
        expect((await ctx.client.download(uploadId)).data.equals(files[i])).toBe(true);
      }

      // Every idle socket is still open, and none of the stalled chunks counted.
      expect(sockets.filter((socket) => socket.destroyed)).toHaveLength(0);
      for (const { uploadId } of stalledUploads) expect(await recordedChunks(ctx.stack, uploadId)).toEqual([]);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});
