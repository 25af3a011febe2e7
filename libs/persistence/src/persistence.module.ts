import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { UPLOAD_EVENT_OUTBOX, UPLOAD_REPOSITORY } from '@app/core';
import { createDataSource } from './data-source';
import { PostgresUploadEventOutbox } from './upload-event.outbox';
import { PostgresUploadRepository } from './upload.repository';

/** Opens the Postgres pool and provides the upload repository. Migrations are run by the entry points. */
@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => createDataSource(config.databaseUrl).initialize(),
    },
    {
      provide: UPLOAD_REPOSITORY,
      inject: [DataSource, APP_CONFIG],
      // Without WEBHOOK_URL no event is recorded: nothing would deliver it.
      useFactory: (db: DataSource, config: AppConfig) => new PostgresUploadRepository(db, config.webhook !== null),
    },
    { provide: UPLOAD_EVENT_OUTBOX, inject: [DataSource], useFactory: (db: DataSource) => new PostgresUploadEventOutbox(db) },
  ],
  exports: [DataSource, UPLOAD_REPOSITORY, UPLOAD_EVENT_OUTBOX],
})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
