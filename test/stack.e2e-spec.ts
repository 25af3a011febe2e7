import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { expectDelivered, putUntilAccepted } from './support/faults';
import { TestProcess, eventually, freePort } from './support/processes';
import { UploadClient, randomFile } from './support/upload-client';

const ROOT = join(__dirname, '..');
const MiB = 1024 * 1024;
const FILES = 6;
const CHUNKS_PER_FILE = 8;

/** The pid `npm run stack` reports for one of its processes. */
function pidOf(stack: TestProcess, name: string): number {
  const match = new RegExp(`\\[stack\\] ${name} started \\(pid (\\d+)\\)`).exec(stack.log);
  if (!match) throw new Error(`no pid for ${name} in:\n${stack.log}`);
  return Number(match[1]);
}

/**
 * The compose topology without Docker: `npm run stack` with 3 API replicas and 2 workers behind
 * nginx, rendered from the template compose uses. Files go up in parallel through the balancer,
 * so chunks land on different replicas; one replica and one worker die with SIGKILL mid-way.
 */
describe('npm run stack -- --api 3 --worker 2', () => {
  let stack: TestProcess;
  let db: Client;
  let storageDir: string;
  let baseUrl: string;

  beforeAll(async () => {
    storageDir = await mkdtemp(join(tmpdir(), 'ru-e2e-stack-'));
    const name = `${process.env.E2E_RUN_ID}_stack_${randomBytes(4).toString('hex')}`;
    const databaseUrl = `${process.env.E2E_POSTGRES_URL}/ru_e2e_${name}`;
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    stack = new TestProcess('stack', process.execPath, [join(ROOT, 'scripts/stack.js'), '--api', '3', '--worker', '2', '--port', String(port)], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NO_COLOR: '1',
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.E2E_REDIS_URL,
      REDIS_PREFIX: `ru-e2e-${name}`,
      STORAGE_DIR: storageDir,
      METRICS_PORT: 'off',
      // A dead replica's leases and a dead worker's jobs come free within seconds.
      CHUNK_LEASE_TTL: '1s',
      WORKER_LOCK_DURATION: '2s',
    });
    await stack.waitForOutput(/\[stack\] ready/, 60_000);
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it('balances chunks over the replicas and delivers every file byte-exact through the loss of a replica and a worker', async () => {
    const client = new UploadClient({ url: (path) => `${baseUrl}${path}` });
    const files = Array.from({ length: FILES }, () => randomFile(CHUNKS_PER_FILE * MiB - 4321));
    const uploads = await Promise.all(files.map((file) => client.create(file, { chunkSize: MiB })));

    let sent = 0;
    let killed = false;
    await Promise.all(
      uploads.map(async ({ uploadId, totalChunks }, i) => {
        for (let index = 0; index < totalChunks; index++) {
          await putUntilAccepted(client, uploadId, files[i], index, MiB);
          // A third of the way through, a replica and a worker die without warning.
          if (++sent >= (FILES * CHUNKS_PER_FILE) / 3 && !killed) {
            killed = true;
            process.kill(pidOf(stack, 'api-2'), 'SIGKILL');
            process.kill(pidOf(stack, 'worker-1'), 'SIGKILL');
          }
        }
      }),
    );
    expect(killed).toBe(true);

    for (const [i, { uploadId }] of uploads.entries()) await expectDelivered({ db, storageDir }, client, uploadId, files[i], MiB);
    await eventually(async () => (/api-2 exited \(SIGKILL\)/.test(stack.log) && /worker-1 exited \(SIGKILL\)/.test(stack.log) ? true : undefined), 'the kills to be reported');

    // The balancer spread the chunks over all three replicas. After a refused connection nginx
    // logs every upstream it tried ("a, b"); the last one answered.
    const answeredBy = [...stack.log.matchAll(/"PUT \/resumable-upload\/chunk[^"]*" 200 .* upstream=(.+?) request_id=/g)].map((match) => match[1].split(', ').pop());
    expect(answeredBy.length).toBeGreaterThanOrEqual(FILES * CHUNKS_PER_FILE);
    expect(new Set(answeredBy).size).toBe(3);
  });
});
