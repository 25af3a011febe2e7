import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AppConfig, ConfigModule } from '@app/config';
import { ChunkReceiver, TusService, UploadEventsService, UploadService } from '@app/core';
import { PersistenceModule } from '@app/persistence';
import { QueueModule } from '@app/queue';
import { StorageModule } from '@app/storage';
import { HealthController } from './health/health.controller';
import { ApiKeyGuard } from './http/api-key.guard';
import { ErrorFilter } from './http/error.filter';
import { requestLogging } from './http/request-logging';
import { ApiMetrics } from './metrics/api-metrics';
import { ChunkMetricsMiddleware } from './metrics/chunk-metrics.middleware';
import { MetricsController } from './metrics/metrics.controller';
import { TusMetricsMiddleware } from './metrics/tus-metrics.middleware';
import { UploadCounts } from './metrics/upload-counts';
import { TUS_ROUTE } from './tus/tus-headers.middleware';
import { TusController } from './tus/tus.controller';
import { ChunkController } from './uploads/chunk.controller';
import { UploadController } from './uploads/upload.controller';
import { UploadEventsController } from './uploads/upload-events.controller';
import { ROUTE_PREFIX } from './uploads/upload-views';
import { WebPageModule } from './web/web-page.module';

/** The HTTP app: controllers over the upload domain; it produces jobs and never runs them. */
@Module({})
export class ApiModule implements NestModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [ConfigModule.forRoot(config), requestLogging(config), PersistenceModule, StorageModule, QueueModule.forRole('producer', 'api'), WebPageModule],
      controllers: [UploadController, UploadEventsController, ChunkController, TusController, HealthController, MetricsController],
      providers: [
        UploadService,
        UploadEventsService,
        ChunkReceiver,
        TusService,
        ApiMetrics,
        UploadCounts,
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ErrorFilter },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Middleware, not an interceptor: it must also see the chunk PUTs the guard refuses.
    consumer.apply(ChunkMetricsMiddleware).forRoutes({ path: `${ROUTE_PREFIX}/chunk`, method: RequestMethod.PUT });
    consumer.apply(TusMetricsMiddleware).forRoutes({ path: `${TUS_ROUTE}/:uploadId`, method: RequestMethod.PATCH }, { path: TUS_ROUTE, method: RequestMethod.POST });
  }
}
