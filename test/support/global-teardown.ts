import Redis from 'ioredis';
import { Client } from 'pg';
import { stopSharedTestS3Server } from './s3-server';

/** Removes every database and Redis key this run made, whatever the tests left behind. */
export default async function globalTeardown(): Promise<void> {
  const runId = process.env.E2E_RUN_ID;
  if (runId) await stopSharedTestS3Server(runId);
  if (runId) {
    const client = new Client({ connectionString: `${process.env.E2E_POSTGRES_URL}/postgres` });
    await client.connect();
    try {
      const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`ru_e2e_${runId}_%`]);
      for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    } finally {
      await client.end();
    }

    const redis = new Redis(process.env.E2E_REDIS_URL as string);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `ru-e2e-${runId}-*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
  await (globalThis as { __stopTestServices?: () => Promise<void> }).__stopTestServices?.();
}
