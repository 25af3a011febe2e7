import { Injectable } from '@nestjs/common';
import { AssemblyReconciler, ExpiryService, OrphanSweeper } from '@app/core';
import { JobName } from '@app/queue';
import { WorkerMetrics } from './metrics/worker-metrics';

/** Runs the scheduled housekeeping jobs. */
@Injectable()
export class MaintenanceProcessor {
  constructor(
    private readonly expiry: ExpiryService,
    private readonly reconciler: AssemblyReconciler,
    private readonly orphans: OrphanSweeper,
    private readonly metrics: WorkerMetrics,
  ) {}

  async expireSessions() {
    const expired = await this.counted('expire-sessions', () => this.expiry.sweep());
    this.metrics.recordExpired(expired);
    return { expired };
  }

  async requeueStuckAssemblies() {
    const checked = await this.counted('requeue-stuck-assemblies', () => this.reconciler.requeueStuck());
    this.metrics.recordRequeued(checked);
    return { checked };
  }

  async sweepOrphanedFiles() {
    const removed = await this.counted('sweep-orphaned-files', () => this.orphans.sweep());
    this.metrics.recordSwept(removed);
    return { removed };
  }

  /** Runs one maintenance job and counts the run, ok or not. */
  private async counted<T>(job: JobName, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      this.metrics.recordMaintenance(job, 'ok');
      return result;
    } catch (error) {
      this.metrics.recordMaintenance(job, 'error');
      throw error;
    }
  }
}
