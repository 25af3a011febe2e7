import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { AppConfig, ConfigModule } from '@app/config';
import { AssemblyReconciler, AssemblyService, ExpiryService, OrphanSweeper, WEBHOOK_TRANSPORT, WebhookDispatcher } from '@app/core';
import { PersistenceModule } from '@app/persistence';
import { QueueModule } from '@app/queue';
import { StorageModule } from '@app/storage';
import { AssemblyProcessor } from './assembly.processor';
import { MaintenanceProcessor } from './maintenance.processor';
import { MetricsServer } from './metrics/metrics-server';
import { WorkerMetrics } from './metrics/worker-metrics';
import { FetchWebhookTransport } from './webhooks/fetch-webhook-transport';
import { WebhookPoller } from './webhooks/webhook-poller';
import { WorkerRunner } from './worker-runner';

// JSON logs written synchronously: the lines a stopping worker writes last must not be lost.
const SYNC_STDOUT = () => pino.destination({ dest: 1, sync: true });

/** The worker app: queue processors and webhook delivery over the upload domain; its only HTTP server is the metrics endpoint (METRICS_PORT). */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ConfigModule.forRoot(config), LoggerModule.forRoot({ pinoHttp: [{ level: config.logLevel }, SYNC_STDOUT()] }), PersistenceModule, StorageModule, QueueModule.forRole('worker', 'worker')],
      providers: [
        AssemblyService,
        ExpiryService,
        AssemblyReconciler,
        OrphanSweeper,
        AssemblyProcessor,
        MaintenanceProcessor,
        WorkerRunner,
        WorkerMetrics,
        MetricsServer,
        WebhookDispatcher,
        WebhookPoller,
        { provide: WEBHOOK_TRANSPORT, useClass: FetchWebhookTransport },
      ],
    };
  }
}
