import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '@app/config';
import { AssemblyReconciler, AssemblyService, ExpiryService } from '@app/core';
import { PersistenceModule } from '@app/persistence';
import { QueueModule } from '@app/queue';
import { StorageModule } from '@app/storage';
import { AssemblyProcessor } from './assembly.processor';
import { MaintenanceProcessor } from './maintenance.processor';
import { WorkerRunner } from './worker-runner';

/** The worker app: queue processors over the upload domain; no HTTP server. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ConfigModule.forRoot(config), PersistenceModule, StorageModule, QueueModule.forRole('worker', 'worker')],
      providers: [AssemblyService, ExpiryService, AssemblyReconciler, AssemblyProcessor, MaintenanceProcessor, WorkerRunner],
    };
  }
}
