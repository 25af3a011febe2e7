import { connect } from 'node:net';

/** The Postgres and Redis every e2e run talks to; each run makes its own databases and key prefix on them. */
export interface TestServices {
  /** A Postgres URL without a database name: each stack appends its own. */
  postgresUrl: string;
  redisUrl: string;
  /** Stops whatever this module started (Testcontainers); a no-op for existing servers. */
  stop: () => Promise<void>;
}

const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432';
const LOCAL_REDIS = 'redis://127.0.0.1:6379';

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || defaultPort) });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function serverOf(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '';
  return url.toString().replace(/\/$/, '');
}

/**
 * Finds Postgres and Redis: DATABASE_URL / REDIS_URL when set, else the local default ports,
 * else Testcontainers when a Docker engine answers, else a clear error naming both ways.
 */
export async function resolveTestServices(): Promise<TestServices> {
  const postgresUrl = process.env.DATABASE_URL ? serverOf(process.env.DATABASE_URL) : LOCAL_POSTGRES;
  const redisUrl = process.env.REDIS_URL ?? LOCAL_REDIS;
  const [postgresUp, redisUp] = await Promise.all([reachable(postgresUrl, 5432), reachable(redisUrl, 6379)]);
  if (postgresUp && redisUp) return { postgresUrl, redisUrl, stop: async () => undefined };

  const containers = await startContainers().catch((error: Error) => {
    throw new Error(
      `The e2e tests need Postgres and Redis. Tried ${postgresUrl} (${postgresUp ? 'up' : 'down'}) and ${redisUrl} (${redisUp ? 'up' : 'down'}), ` +
        `then Testcontainers (${error.message}). Either set DATABASE_URL and REDIS_URL to running servers, or start a Docker engine.`,
    );
  });
  return containers;
}

async function startContainers(): Promise<TestServices> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const { RedisContainer } = await import('@testcontainers/redis');
  const [postgres, redis] = await Promise.all([
    new PostgreSqlContainer('postgres:15-alpine').withUsername('postgres').withPassword('postgres').start(),
    new RedisContainer('redis:7-alpine').start(),
  ]);
  return {
    postgresUrl: serverOf(postgres.getConnectionUri()),
    redisUrl: redis.getConnectionUrl(),
    stop: async () => {
      await Promise.all([postgres.stop(), redis.stop()]);
    },
  };
}
