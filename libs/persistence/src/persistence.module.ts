import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { UPLOAD_REPOSITORY } from '@app/core';
import { createDataSource } from './data-source';
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
    { provide: UPLOAD_REPOSITORY, inject: [DataSource], useFactory: (db: DataSource) => new PostgresUploadRepository(db) },
  ],
  exports: [DataSource, UPLOAD_REPOSITORY],
})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
