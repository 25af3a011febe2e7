import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveTestServices } from './services';

/** Finds the services once per run and hands them to the test files through the environment. */
export default async function globalSetup(): Promise<void> {
  const root = join(__dirname, '..', '..');
  if (!existsSync(join(root, 'dist', 'apps', 'api', 'src', 'main.js'))) {
    throw new Error('The e2e tests run the built apps: run `npm run build` first (`npm test` does it for you).');
  }
  const services = await resolveTestServices();
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  process.env.E2E_POSTGRES_URL = services.postgresUrl;
  process.env.E2E_REDIS_URL = services.redisUrl;
  process.env.E2E_RUN_ID = runId;
  (globalThis as { __stopTestServices?: () => Promise<void> }).__stopTestServices = services.stop;
}
