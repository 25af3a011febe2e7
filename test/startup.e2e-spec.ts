import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { TestProcess, eventually, freePort } from './support/processes';
import { migrations } from '../libs/persistence/src/migrations';

const API = join(__dirname, '..', 'dist/apps/api/src/main.js');
const WORKER = join(__dirname, '..', 'dist/apps/worker/src/main.js');

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', METRICS_PORT: 'off', REDIS_URL: process.env.E2E_REDIS_URL, REDIS_PREFIX: `ru-e2e-${process.env.E2E_RUN_ID}-startup`, ...extra };
}

describe('start-up', () => {
  it('lets API replicas that start together on a new database migrate it exactly once', async () => {
    const databaseUrl = `${process.env.E2E_POSTGRES_URL}/ru_e2e_${process.env.E2E_RUN_ID}_startup`;
    const storageDir = await mkdtemp(join(tmpdir(), 'ru-e2e-'));
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const apis = ports.map((port, i) => new TestProcess(`api-${i}`, process.execPath, [API], baseEnv({ DATABASE_URL: databaseUrl, STORAGE_DIR: storageDir, PORT: String(port) })));
    try {
      for (const [i, port] of ports.entries()) {
        await eventually(
          async () => {
            if (!apis[i].running) throw new Error(`API ${i} exited:\n${apis[i].log}`);
            return (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok ? true : undefined;
          },
          `the API on ${port} to be ready`,
          30_000,
        ).catch((error: Error) => {
          throw new Error(`${error.message}\n${apis[i].log}`);
        });
      }
      const db = new Client({ connectionString: databaseUrl });
      await db.connect();
      const { rows } = await db.query('SELECT name FROM schema_migrations');
      await db.end();
      expect(rows.map((row) => row.name)).toEqual(migrations.map((migration) => migration.name));
      expect(apis.map((api) => api.log.match(/Applied migration/g)?.length ?? 0).reduce((a, b) => a + b)).toBe(migrations.length);
    } finally {
      await Promise.all(apis.map((api) => api.stop()));
      await rm(storageDir, { recursive: true, force: true });
    }
  });

  it.each([
    ['API', API],
    ['worker', WORKER],
  ])('stops the %s with a message naming every bad variable', async (_, entry) => {
    const app = new TestProcess('app', process.execPath, [entry], baseEnv({ PORT: 'eighty', MAX_FILE_SIZE: '-5', DATABASE_URL: 'mysql://x', DEFAULT_CHUNK_SIZE: '1k' }));
    expect(await app.wait()).toBe(1);
    for (const name of ['PORT', 'MAX_FILE_SIZE', 'DATABASE_URL', 'DEFAULT_CHUNK_SIZE']) expect(app.log).toContain(`${name}=`);
    expect(app.log).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it.each([
    ['API', API],
    ['worker', WORKER],
  ])('stops the %s with a message naming S3_ENDPOINT when the S3 store cannot be reached', async (_, entry) => {
    const databaseUrl = `${process.env.E2E_POSTGRES_URL}/ru_e2e_${process.env.E2E_RUN_ID}_startup_s3`;
    const app = new TestProcess('app', process.execPath, [entry], baseEnv({ DATABASE_URL: databaseUrl, PORT: String(await freePort()), STORAGE_BACKEND: 's3', S3_BUCKET: 'uploads', S3_ENDPOINT: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' }));
    expect(await app.wait()).toBe(1);
    expect(app.log).toMatch(/S3_ENDPOINT: http:\/\/127\.0\.0\.1:9 could not be reached/);
    expect(app.log).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it.each(['start:api', 'start:worker'])('npm run %s passes the Node flags that start-all, the stack, the tests and the benchmark use', async (script) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { appNodeFlags } = require(join(__dirname, '..', 'scripts/app-entries.js')) as { appNodeFlags: string[] };
    const { scripts } = JSON.parse(await readFile(join(__dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts[script]).toMatch(new RegExp(`^node ${appNodeFlags.join(' ')} dist/`));
  });
});
