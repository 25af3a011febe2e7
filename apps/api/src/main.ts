import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { ConfigValidationError, loadConfig } from '@app/config';
import { ensureDatabaseExists, runMigrations } from '@app/persistence';
import { collectBodyGarbage } from '@app/storage';
import { ApiModule } from './api.module';
import { answerMalformedRequests } from './http/client-error';
import { corsOptions } from './http/cors';
import { boundDrainOnStop } from './http/drain';
import { setupOpenApi } from './openapi/setup-openapi';
import { tusHeaders } from './tus/tus-headers.middleware';

const KEEP_ALIVE_TIMEOUT_MS = 65_000;

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const logger = new Logger('Api');
  await ensureDatabaseExists(config.databaseUrl);

  // No body parser: the chunk route streams its raw body, and the JSON routes read theirs explicitly.
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config), { bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(PinoLogger));
  app.disable('x-powered-by');
  // X-Forwarded-For/-Proto/-Host are anyone's to forge: believe them only from the proxies TRUST_PROXY names.
  app.set('trust proxy', config.trustProxy);
  app.use(tusHeaders(config.maxFileSize));
  const cors = corsOptions(config.corsOrigins);
  if (cors) app.enableCors(cors);
  setupOpenApi(app);
  app.enableShutdownHooks();
  await runMigrations(app.get(DataSource));

  const server = app.getHttpServer();
  // A large chunk on a slow link may take long as long as bytes keep coming: no cap on the
  // whole request. A body that stalls gets 408 after BODY_IDLE_TIMEOUT; a socket silent for
  // longer than that (between requests, say) is dropped.
  server.requestTimeout = 0;
  server.timeout = Math.max(120_000, config.bodyIdleTimeoutMs + 10_000);
  // An idle keep-alive connection is closed only long after a client or proxy would drop it
  // (they go by the Keep-Alive hint, or a timeout of their own, usually under a minute): a
  // request sent just as the server closes the connection fails, and a chunk cannot be replayed.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  answerMalformedRequests(server);
  boundDrainOnStop(server, config.shutdownTimeoutMs, logger);

  collectBodyGarbage();
  await app.listen(config.port, '0.0.0.0');
  const address = server.address();
  logger.log(`Listening on port ${typeof address === 'object' && address ? address.port : config.port}`);
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigValidationError) console.error(error.message);
  else console.error('The API failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
