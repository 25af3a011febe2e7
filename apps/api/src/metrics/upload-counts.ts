import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { UPLOAD_STATUSES, UploadStatus, withDeadline } from '@app/core';

/** Scrapes within this long of the last count reuse it: a GROUP BY over every upload is not free. */
export const UPLOAD_COUNTS_TTL_MS = 5_000;
/** A scrape gives up on a Postgres that does not answer instead of hanging. */
const QUERY_TIMEOUT_MS = 2_000;

export interface UploadCountsSnapshot {
  byStatus: Record<UploadStatus, number>;
  /** Uploads the worker's reconciler would re-enqueue: assembling, unchanged for WORKER_LOCK_DURATION. */
  stuckAssemblies: number;
}

/**
 * Counts uploads by status, and the stuck assemblies among them, with one query that every
 * scrape within UPLOAD_COUNTS_TTL_MS shares. Concurrent scrapes share the query in flight too.
 */
@Injectable()
export class UploadCounts {
  private cached: { at: number; snapshot: UploadCountsSnapshot } | null = null;
  private pending: Promise<UploadCountsSnapshot> | null = null;

  constructor(
    private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async snapshot(): Promise<UploadCountsSnapshot> {
    if (this.cached && Date.now() - this.cached.at < UPLOAD_COUNTS_TTL_MS) return this.cached.snapshot;
    this.pending ??= this.query()
      .then((snapshot) => {
        this.cached = { at: Date.now(), snapshot };
        return snapshot;
      })
      .finally(() => {
        this.pending = null;
      });
    return withDeadline(this.pending, QUERY_TIMEOUT_MS);
  }

  private async query(): Promise<UploadCountsSnapshot> {
    // The reconciler's rule (AssemblyReconciler.requeueStuck): assembling and unchanged for WORKER_LOCK_DURATION.
    const stuckBefore = new Date(Date.now() - this.config.workerLockDurationMs);
    const rows: { status: UploadStatus; uploads: string; stuck: string }[] = await this.db.query(
      `SELECT status, count(*) AS uploads, count(*) FILTER (WHERE status = 'assembling' AND updated_at < $1) AS stuck FROM uploads GROUP BY status`,
      [stuckBefore],
    );
    const byStatus = Object.fromEntries(UPLOAD_STATUSES.map((status) => [status, 0])) as Record<UploadStatus, number>;
    let stuckAssemblies = 0;
    for (const row of rows) {
      byStatus[row.status] = Number(row.uploads);
      stuckAssemblies += Number(row.stuck);
    }
    return { byStatus, stuckAssemblies };
  }
}
