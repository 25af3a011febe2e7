import { request as httpRequest } from 'node:http';
import { Upload } from 'tus-js-client';
import { between, expectDelivered, injections } from '../support/faults';
import { sleep } from '../support/processes';
import { ApiReplica, Stack } from '../support/stack';
import { UploadClient, randomFile, recordedChunks } from '../support/upload-client';

const MiB = 1024 * 1024;
const CHUNK = MiB;
const CHUNKS_PER_FILE = 8;
const KILLS = injections(6);
const TUS = { 'tus-resumable': '1.0.0' };

/** Starts a PATCH of the whole file at offset 0 and sends only its first `sent` bytes. */
function partialPatch(replica: ApiReplica, uploadId: string, file: Buffer, sent: number): void {
  const url = new URL(replica.url(`/files/${uploadId}`));
  const request = httpRequest({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'PATCH',
    headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0', 'content-length': String(file.length) },
  });
  // The replica dies under it: the socket error is the expected outcome.
  request.on('error', () => undefined);
  request.write(file.subarray(0, sent));
}

/**
 * SIGKILL the API replica that is receiving a tus PATCH, part-way through its body. HEAD on
 * another replica must report no more than the chunks recorded from 0 on and a recorded beginning
 * of the next (never bytes that were only received), and tus-js-client resuming from there through that replica must deliver the file
 * byte-exact, once the dead replica's leases lapse.
 */
describe(`an API replica killed mid-PATCH (${KILLS} kills)`, () => {
  let stack: Stack;
  let replicas: ApiReplica[];

  beforeAll(async () => {
    stack = await Stack.start({ env: { DEFAULT_CHUNK_SIZE: String(CHUNK) } });
    replicas = [await stack.startReplica(), await stack.startReplica()];
  });
  afterAll(() => stack?.stop());

  it('reports only the durable offset after the kill, and the resume completes byte-exact', async () => {
    const offsets: number[] = [];
    for (let killed = 0; killed < KILLS; killed++) {
      const [victim, survivor] = replicas;
      const file = randomFile(CHUNKS_PER_FILE * CHUNK - between(1, CHUNK - 1));
      const created = await fetch(survivor.url('/files/'), { method: 'POST', headers: { ...TUS, 'upload-length': String(file.length) } });
      const url = created.headers.get('location') as string;
      const uploadId = url.split('/').pop() as string;

      const sent = between(1, file.length - 1);
      partialPatch(victim, uploadId, file, sent);
      await sleep(between(50, 400));
      await victim.process.stop('SIGKILL');

      const head = await fetch(survivor.url(`/files/${uploadId}`), { method: 'HEAD', headers: TUS });
      const offset = Number(head.headers.get('upload-offset'));
      const recorded = await recordedChunks(stack, uploadId);
      expect(offset).toBeLessThanOrEqual(sent);
      const whole = Math.floor(offset / CHUNK);
      expect(recorded.slice(0, whole)).toEqual([...Array(whole).keys()]);
      expect(recorded).not.toContain(whole);
      offsets.push(offset);

      // Bring the victim back while tus-js-client resumes through the survivor.
      const resumed = new Promise<void>((resolve, reject) => {
        new Upload(file, {
          uploadUrl: survivor.url(`/files/${uploadId}`),
          // The dead replica's leases lapse with its liveness (REPLICA_LIVENESS_TTL): until then, 423 or 409.
          retryDelays: [200, 500, 1000, 1000, 2000, 3000],
          storeFingerprintForResuming: false,
          onError: reject,
          onSuccess: () => resolve(),
        }).start();
      });
      const [restarted] = await Promise.all([stack.startReplica(), resumed]);
      replicas = [survivor, restarted];
      await expectDelivered(stack, new UploadClient(survivor), uploadId, file, CHUNK);
    }
    console.log(`tus PATCHes cut by kill -9: ${KILLS}; durable offsets reported (bytes): ${offsets.join(', ')}; losses: 0`);
  }, 60_000 + KILLS * 15_000);
});
