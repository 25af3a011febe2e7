// The API and worker of one build, started for a benchmark with their own database, Redis
// prefix and storage directory.
'use strict';

const { join, resolve } = require('node:path');
const { createDatabase, reserveRedisPrefix } = require('./environment');
const { startChild, waitFor, freePort } = require('./processes');
const { root: repoRoot, entry, appNodeFlags } = require('../../scripts/app-entries');
const client = require('./service-client');

/**
 * Starts the API, waits for it to answer, then the worker. `root` is a directory holding a
 * built `dist/` (the repository's by default); `extraEnv` is added to the apps' environment.
 * Every child goes into `children` and is stopped by `cleanup`.
 */
async function startService({ workDir, cleanup, children, log, root = repoRoot, extraEnv = {} }) {
  const database = await createDatabase(cleanup);
  const redis = reserveRedisPrefix(cleanup);
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: redis.prefix,
    STORAGE_DIR: join(workDir, 'storage'),
    PORT: String(port),
    // Logging per request would be measured too; warnings and errors still show in a failure.
    LOG_LEVEL: 'warn',
    METRICS_PORT: 'off',
    // The benchmark initiates hundreds of uploads a minute from one address.
    INITIATE_RATE_LIMIT: 'off',
    // Cleanup after Ctrl+C should not wait 30 s for requests the benchmark abandoned.
    SHUTDOWN_TIMEOUT: '2s',
    NO_COLOR: '1',
    ...extraEnv,
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const start = (name, script) => startApp({ name, script: join(root, script), env, cleanup, children });
  const api = start('api', entry.api);
  await waitFor(api, 'answering /health/live', async () => (await client.request(`${baseUrl}/health/live`)).status === 200);
  const worker = start('worker', entry.worker);
  log(`service: API pid ${api.pid} on ${baseUrl}, worker pid ${worker.pid}, database ${database.name}, Redis prefix ${redis.prefix}`);
  return { api, worker, baseUrl, database: database.name, redisPrefix: redis.prefix };
}

/** One built app, stopped by the cleanup; with BENCH_PROFILE, it records a CPU profile written just before it stops. */
function startApp({ name, script, env, cleanup, children }) {
  const profileDir = process.env.BENCH_PROFILE;
  const args = [...appNodeFlags, ...(profileDir ? ['-r', join(__dirname, 'cpu-profile.js')] : []), script];
  const app = startChild(name, args, profileDir ? { ...env, BENCH_PROFILE: resolve(profileDir), BENCH_PROCESS_NAME: name } : env);
  children.push(app);
  cleanup.add(`stop the ${name}`, () => app.stop());
  // Cleanup runs last-in first-out: the profile is written before the stop.
  if (profileDir) cleanup.add(`write the ${name}'s CPU profile`, () => app.writeProfile());
  return app;
}

module.exports = { startService };
