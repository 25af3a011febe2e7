// `npm run migrate`: creates the database if needed and applies pending migrations, then exits.
import { loadConfig } from '@app/config';
import { createDataSource } from './data-source';
import { ensureDatabaseExists, runMigrations } from './migrator';

async function main(): Promise<void> {
  const config = loadConfig();
  await ensureDatabaseExists(config.databaseUrl);
  const dataSource = await createDataSource(config.databaseUrl, 'resumable-upload-migrate').initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: Error) => {
  console.error(`Migration failed: ${error.message}`);
  process.exit(1);
});
