import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { ConfigValidationError, loadConfig } from '@app/config';
import { ensureDatabaseExists, runMigrations } from '@app/persistence';
import { ApiModule } from './api.module';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  await ensureDatabaseExists(config.databaseUrl);

  // No body parser: the chunk route streams its raw body, and the JSON routes read theirs explicitly.
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config), { bodyParser: false });
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  await runMigrations(app.get(DataSource));

  const server = app.getHttpServer();
  // A large chunk on a slow link may take long as long as bytes keep coming: no cap on the
  // whole request, but a socket that goes silent is dropped, which frees its chunk lease.
  server.requestTimeout = 0;
  server.timeout = 120_000;

  await app.listen(config.port, '0.0.0.0');
  const address = server.address();
  new Logger('Api').log(`Listening on port ${typeof address === 'object' && address ? address.port : config.port}`);
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigValidationError) console.error(error.message);
  else console.error('The API failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
