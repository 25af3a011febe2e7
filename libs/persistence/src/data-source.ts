import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ChunkClaimEntity } from './entities/chunk-claim.entity';
import { UploadChunkEntity } from './entities/upload-chunk.entity';
import { UploadEntity } from './entities/upload.entity';
import { WebhookEventEntity } from './entities/webhook-event.entity';
import { migrations } from './migrations';

export const entities = [UploadEntity, UploadChunkEntity, ChunkClaimEntity, WebhookEventEntity];

/**
 * The one data-source definition, shared by the apps and the TypeORM CLI. The schema comes
 * from migrations only; entities and migrations are listed, not globbed, so builds can't miss them.
 */
export function createDataSource(databaseUrl: string, applicationName = 'resumable-upload'): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    applicationName,
    entities,
    migrations,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: ['error', 'warn', 'migration'],
    // A Postgres that is down refuses connections, which fails a request at once with a 503.
    // The timeout is also how long a query waits for one of the pool's connections: under a
    // burst of requests (a thousand uploads at once) they queue for that long, not fail.
    extra: { max: 20, connectionTimeoutMillis: 30_000, idleTimeoutMillis: 30_000 },
  });
}
