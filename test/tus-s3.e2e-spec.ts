import { Upload } from 'tus-js-client';
import { TestS3Server, s3Environment } from './support/s3-server';
import { Stack } from './support/stack';
import { settledOffset } from './support/tus';
import { UploadClient, randomFile, sha256 } from './support/upload-client';

const MiB = 1024 * 1024;
const CHUNK = 5 * MiB;

/** tus uploads stored as S3 multipart uploads: chunk i of the PATCH is part i+1. */
describe('tus-js-client against /files/ with STORAGE_BACKEND=s3', () => {
  let server: TestS3Server;
  let stack: Stack;

  beforeAll(async () => {
    server = await TestS3Server.start();
    const bucket = await server.newBucket();
    stack = await Stack.start({ env: { ...s3Environment(server.access, bucket, 'tus/'), DEFAULT_CHUNK_SIZE: String(CHUNK) } });
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
    await server?.stop();
  });

  it('resumes after abort() from the durable offset and delivers the file byte-exact', async () => {
    const file = randomFile(6 * CHUNK + 12_345);
    const options = { retryDelays: [100, 500, 1000, 2000], storeFingerprintForResuming: false, metadata: { filename: 'big.bin' } };
    let first!: Upload;
    await new Promise<void>((resolve, reject) => {
      first = new Upload(file, {
        ...options,
        endpoint: stack.url('/files/'),
        onError: reject,
        onSuccess: () => reject(new Error('the upload finished before it was aborted')),
        onProgress: (sent) => {
          if (sent > CHUNK) void first.abort().then(resolve);
        },
      });
      first.start();
    });
    const id = (first.url as string).split('/').pop() as string;
    const { offset, recorded } = await settledOffset(stack, id);
    // An object store keeps whole parts only: the offset stays on the grid.
    expect(offset % CHUNK).toBe(0);
    expect(recorded).toEqual([...Array(offset / CHUNK).keys()]);

    await new Promise<void>((resolve, reject) => new Upload(file, { ...options, uploadUrl: first.url as string, onError: reject, onSuccess: () => resolve() }).start());
    const client = new UploadClient(stack);
    expect((await client.status(id)).body).toMatchObject({ status: 'completed', sha256: sha256(file) });
    expect((await client.download(id)).data.equals(file)).toBe(true);
  });
});
