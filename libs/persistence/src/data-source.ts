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
    // Fail fast when Postgres is down, so requests get a 503 instead of hanging.
    extra: { max: 20, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 },
  });
}
