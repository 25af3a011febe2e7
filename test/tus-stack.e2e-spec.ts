import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upload } from 'tus-js-client';
import { TestProcess, eventually, freePort } from './support/processes';
import { UploadClient, randomFile, sha256 } from './support/upload-client';

const ROOT = join(__dirname, '..');
const KiB = 1024;
const CHUNK = 256 * KiB;
// Off the grid on purpose: most PATCHes end inside a chunk, whose kept beginning the next
// PATCH, on the other replica, reads back and sends again in front of its own bytes.
const PATCH_SIZE = 100 * KiB;
const FILE_SIZE = 4 * CHUNK + 12_345;
const PATCHES = Math.ceil(FILE_SIZE / PATCH_SIZE);

/**
 * tus through `npm run stack` (nginx in front of two API replicas, from the template compose
 * uses): nginx's round robin sends the successive PATCHes of one upload to the two replicas in
 * turn, which its access log shows (`upstream=`).
 */
describe('tus-js-client through npm run stack -- --api 2 --worker 1', () => {
  let stack: TestProcess;
  let storageDir: string;
  let baseUrl: string;
  let apiPorts: string[];

  beforeAll(async () => {
    storageDir = await mkdtemp(join(tmpdir(), 'ru-e2e-tus-stack-'));
    const name = `${process.env.E2E_RUN_ID}_tus_stack_${randomBytes(4).toString('hex')}`;
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    stack = new TestProcess('stack', process.execPath, [join(ROOT, 'scripts/stack.js'), '--api', '2', '--worker', '1', '--port', String(port)], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NO_COLOR: '1',
      DATABASE_URL: `${process.env.E2E_POSTGRES_URL}/ru_e2e_${name}`,
      REDIS_URL: process.env.E2E_REDIS_URL,
      REDIS_PREFIX: `ru-e2e-${name}`,
      STORAGE_DIR: storageDir,
      METRICS_PORT: 'off',
      DEFAULT_CHUNK_SIZE: String(CHUNK),
    });
    await stack.waitForOutput(/\[stack\] ready/, 60_000);
    apiPorts = /\(ports ([\d, ]+)\)/.exec(stack.log)![1].split(', ');
  });

  afterAll(async () => {
    await stack?.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it('takes the PATCHes of one upload on alternating replicas and completes it byte-exact', async () => {
    const file = randomFile(FILE_SIZE);
    const url = await new Promise<string>((resolve, reject) => {
      const upload = new Upload(file, {
        endpoint: `${baseUrl}/files/`,
        chunkSize: PATCH_SIZE,
        retryDelays: [],
        storeFingerprintForResuming: false,
        metadata: { filename: 'alternating.bin' },
        onError: reject,
        onSuccess: () => resolve(upload.url as string),
      });
      upload.start();
    });
    const uploadId = url.split('/').pop()!;

    // nginx's access log, relayed by the stack: which replica answered each PATCH of this upload.
    const patchPattern = new RegExp(`"PATCH /files/${uploadId} [^"]*" 204 .* upstream=(\\S+) request_id=`, 'g');
    const answeredBy = await eventually(async () => {
      const found = [...stack.log.matchAll(patchPattern)].map((match) => match[1].split(':').pop()!);
      return found.length === PATCHES ? found : undefined;
    }, 'every PATCH in the access log');
    expect(new Set(answeredBy)).toEqual(new Set(apiPorts));
    for (let i = 1; i < answeredBy.length; i++) expect(answeredBy[i]).not.toBe(answeredBy[i - 1]);

    const client = new UploadClient({ url: (path) => `${baseUrl}${path}` });
    expect((await client.status(uploadId)).body).toMatchObject({ status: 'completed', fileName: 'alternating.bin', fileSize: FILE_SIZE, sha256: sha256(file) });
    expect((await client.download(uploadId)).data.equals(file)).toBe(true);
  });
});
