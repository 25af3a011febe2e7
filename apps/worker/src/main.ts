import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { ConfigValidationError, loadConfig } from '@app/config';
import { WorkerModule } from './worker.module';
import { WebhookPoller } from './webhooks/webhook-poller';
import { WorkerRunner } from './worker-runner';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  // An application context, not an HTTP app: the worker only runs queue processors.
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(PinoLogger));
  // Runs onApplicationShutdown (worker.close()) on SIGTERM/SIGINT.
  app.enableShutdownHooks();
  await app.get(WorkerRunner).start();
  app.get(WebhookPoller).start();
  const webhooks = config.webhook ? `, events to ${new URL(config.webhook.url).origin}` : '';
  new Logger('Worker').log(`Worker ready (assembly concurrency ${config.workerConcurrency}${webhooks})`);
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigValidationError) console.error(error.message);
  else console.error('The worker failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
