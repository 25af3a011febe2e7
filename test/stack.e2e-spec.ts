import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { expectDelivered, putUntilAccepted } from './support/faults';
import { TestProcess, eventually, freePort } from './support/processes';
import { DiskTestStore } from './support/test-store';
import { UploadClient, randomFile, rawPut, sha256 } from './support/upload-client';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist/apps/cli/src/main.js');
const MiB = 1024 * 1024;
const FILES = 6;
const CHUNKS_PER_FILE = 8;

/** The pids `npm run stack` reported for its processes as it started them, by name. */
function pidsOf(stack: TestProcess): Map<string, number> {
  return new Map([...stack.log.matchAll(/\[stack\] (\S+) started \(pid (\d+)\)/g)].map((match) => [match[1], Number(match[2])]));
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
  // Read once at start: the kept log is only the tail of a long run.
  let pids: Map<string, number>;
  const pidOf = (name: string) => pids.get(name) ?? Number.NaN;

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
      // The defaults: a dead replica's leases and a dead worker's jobs come free within seconds.
    });
    await stack.waitForOutput(/\[stack\] ready/, 60_000);
    pids = pidsOf(stack);
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
            process.kill(pidOf('api-2'), 'SIGKILL');
            process.kill(pidOf('worker-1'), 'SIGKILL');
          }
        }
      }),
    );
    expect(killed).toBe(true);

    for (const [i, { uploadId }] of uploads.entries()) await expectDelivered({ db, store: await DiskTestStore.create(storageDir) }, client, uploadId, files[i], MiB);
    await eventually(async () => (/api-2 exited \(SIGKILL\)/.test(stack.log) && /worker-1 exited \(SIGKILL\)/.test(stack.log) ? true : undefined), 'the kills to be reported');

    // The balancer spread the chunks over all three replicas. After a refused connection nginx
    // logs every upstream it tried ("a, b"); the last one answered.
    const answeredBy = [...stack.log.matchAll(/"PUT \/resumable-upload\/chunk[^"]*" 200 .* upstream=(.+?) request_id=/g)].map((match) => match[1].split(', ').pop());
    expect(answeredBy.length).toBeGreaterThanOrEqual(FILES * CHUNKS_PER_FILE);
    expect(new Set(answeredBy).size).toBe(3);
  });

  it('keeps /metrics off the public port, however it is spelled', async () => {
    for (const path of ['/metrics', '/METRICS', '/metrics/', '/Metrics?x=1']) expect((await fetch(`${baseUrl}${path}`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);
  });

  it('passes an answer given mid-body through as it is, not as a 502', async () => {
    const client = new UploadClient({ url: (path) => `${baseUrl}${path}` });
    const file = randomFile(2 * MiB);
    const { uploadId } = await client.create(file, { chunkSize: MiB });
    const headers = { 'content-range': `bytes 0-${MiB - 1}/${file.length}`, 'content-length': String(MiB) };
    const target = { url: (path: string) => `${baseUrl}${path}` };

    // The first request holds chunk 0's lease while its body is under way.
    const holder = rawPut(target, uploadId, headers);
    holder.write(file.subarray(0, 1000));
    await eventually(async () => ((await db.query('SELECT 1 FROM chunk_claims WHERE upload_id = $1', [uploadId])).rowCount ? true : undefined), 'the first request to claim chunk 0');

    // The second is refused before its body is read; nginx is still streaming that body.
    const refused = await rawPut(target, uploadId, headers).finish(file.subarray(0, MiB));
    expect(refused?.status).toBe(409);
    expect(refused?.body).toMatchObject({ code: 'CHUNK_IN_PROGRESS', chunkIndex: 0 });

    expect((await holder.finish(file.subarray(1000, MiB)))?.status).toBe(200);
    await putUntilAccepted(client, uploadId, file, 1, MiB);
    await expectDelivered({ db, store: await DiskTestStore.create(storageDir) }, client, uploadId, file, MiB);
  });

  it('lets one CLI upload ride through an API replica killed under it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ru-e2e-stack-cli-'));
    try {
      const file = randomFile(96 * MiB - 777);
      const path = join(dir, 'big.bin');
      await writeFile(path, file);
      const env = { PATH: process.env.PATH, HOME: dir, RESUMABLE_UPLOAD_STATE_DIR: join(dir, 'state') };
      const cli = spawn(process.execPath, [CLI, 'upload', path, '--endpoint', baseUrl, '--chunk-size', String(MiB), '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      cli.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
      cli.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
      const exited = new Promise<number | null>((resolve) => cli.once('close', resolve));

      // A quarter of the way in, one of the two replicas left dies without warning.
      await eventually(async () => ([...stdout.matchAll(/"chunksDone":(\d+)/g)].some((match) => Number(match[1]) >= 24) ? true : undefined), 'a quarter of the chunks', 60_000, 5);
      process.kill(pidOf('api-3'), 'SIGKILL');

      const code = await exited;
      if (code !== 0) throw new Error(`the CLI exited ${code}:\n${stdout}\n${stderr}`);
      const completed = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line)).find((event) => event.event === 'completed');
      expect(completed).toMatchObject({ sha256: sha256(file) });
      const out = join(dir, 'out.bin');
      const download = await fetch(`${baseUrl}/resumable-upload/uploads/${completed.uploadId}/file`);
      await writeFile(out, Buffer.from(await download.arrayBuffer()));
      expect(sha256(await readFile(out))).toBe(sha256(file));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
