import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigValidationError, loadConfig } from '@app/config';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  // An application context, not an HTTP app: the worker only runs queue processors.
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config));
  // Runs onApplicationShutdown (worker.close()) on SIGTERM/SIGINT.
  app.enableShutdownHooks();
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigValidationError) console.error(error.message);
  else console.error('The worker failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
