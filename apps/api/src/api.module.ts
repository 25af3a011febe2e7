import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AppConfig, ConfigModule } from '@app/config';
import { ChunkReceiver, UploadService } from '@app/core';
import { PersistenceModule } from '@app/persistence';
import { QueueModule } from '@app/queue';
import { StorageModule } from '@app/storage';
import { HealthController } from './health/health.controller';
import { ApiKeyGuard } from './http/api-key.guard';
import { ErrorFilter } from './http/error.filter';
import { ChunkController } from './uploads/chunk.controller';
import { UploadController } from './uploads/upload.controller';

/** The HTTP app: controllers over the upload domain; it produces jobs and never runs them. */
@Module({})
export class ApiModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [ConfigModule.forRoot(config), PersistenceModule, StorageModule, QueueModule.forRole('producer', 'api')],
      controllers: [UploadController, ChunkController, HealthController],
      providers: [UploadService, ChunkReceiver, { provide: APP_GUARD, useClass: ApiKeyGuard }, { provide: APP_FILTER, useClass: ErrorFilter }],
    };
  }
}
