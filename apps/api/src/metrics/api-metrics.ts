import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { UPLOAD_STATUSES } from '@app/core';
import { QUEUES, Queues, registerQueueDepthGauge } from '@app/queue';
import { UPLOAD_COUNTS_TTL_MS, UploadCounts, UploadCountsSnapshot } from './upload-counts';

/** From a refusal answered in milliseconds to a 64 MiB chunk over a slow link (minutes). */
const CHUNK_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

const SHARED = `read from Postgres at scrape time and cached ${UPLOAD_COUNTS_TTL_MS / 1000} s; the database is shared, so every API replica reports the same value`;

/**
 * This replica's Prometheus registry. Chunk counters and latency count what this process
 * answered (sum them over replicas); the upload and queue gauges read the shared stores.
 */
@Injectable()
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly logger = new Logger('Metrics');
  private readonly chunkRequests: Counter<'outcome'>;
  private readonly chunkBytes: Counter;
  private readonly chunkSeconds: Histogram;
  private readonly tusPatchRequests: Counter<'outcome'>;
  private readonly tusPatchBytes: Counter;
  private countsFailing = false;

  constructor(@Inject(QUEUES) queues: Queues, uploadCounts: UploadCounts) {
    collectDefaultMetrics({ register: this.registry });

    this.chunkRequests = new Counter({
      name: 'resumable_upload_chunk_requests_total',
      help: 'Chunk PUTs this replica handled, by outcome: ok, the error code it answered, or CLIENT_CLOSED when the client left before an answer.',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.chunkRequests.inc({ outcome: 'ok' }, 0);
    this.chunkBytes = new Counter({
      name: 'resumable_upload_chunk_received_bytes_total',
      help: 'Bytes of the chunks this replica answered 200: stored and recorded, or an identical re-send of a recorded chunk.',
      registers: [this.registry],
    });
    this.chunkSeconds = new Histogram({
      name: 'resumable_upload_chunk_duration_seconds',
      help: 'Time from a chunk PUT reaching this replica to its answer (or to the client leaving), whatever the outcome.',
      buckets: CHUNK_SECONDS_BUCKETS,
      registers: [this.registry],
    });

    this.tusPatchRequests = new Counter({
      name: 'resumable_upload_tus_patch_requests_total',
      help: 'tus PATCHes (and creations with a body) this replica handled, by outcome: ok, the error code it answered, or CLIENT_CLOSED.',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.tusPatchRequests.inc({ outcome: 'ok' }, 0);
    this.tusPatchBytes = new Counter({
      name: 'resumable_upload_tus_stored_bytes_total',
      help: 'Bytes tus PATCHes on this replica added to the durable offset of their uploads (bytes past the last whole chunk are not counted: they are sent again).',
      registers: [this.registry],
    });

    const readCounts = () => this.readUploadCounts(uploadCounts);
    new Gauge({
      name: 'resumable_upload_uploads',
      help: `Upload sessions by stored status, ${SHARED}. An upload past its expiry stays uploading until a worker expires it.`,
      labelNames: ['status'],
      registers: [this.registry],
      async collect() {
        const counts = await readCounts();
        if (!counts) return this.reset();
        for (const status of UPLOAD_STATUSES) this.set({ status }, counts.byStatus[status]);
      },
    });
    new Gauge({
      name: 'resumable_upload_stuck_assemblies',
      help: `Uploads in assembling unchanged for longer than WORKER_LOCK_DURATION, which the worker's reconciler re-enqueues; ${SHARED}.`,
      registers: [this.registry],
      async collect() {
        const counts = await readCounts();
        if (!counts) return this.reset();
        this.set(counts.stuckAssemblies);
      },
    });
    registerQueueDepthGauge(this.registry, queues);
  }

  /** One chunk PUT, counted once whatever happened to it. */
  recordChunk(outcome: string, seconds: number, recordedBytes: number): void {
    this.chunkRequests.inc({ outcome });
    this.chunkSeconds.observe(seconds);
    if (recordedBytes > 0) this.chunkBytes.inc(recordedBytes);
  }

  /** One tus PATCH, counted once whatever happened to it. */
  recordTusPatch(outcome: string, storedBytes: number): void {
    this.tusPatchRequests.inc({ outcome });
    if (storedBytes > 0) this.tusPatchBytes.inc(storedBytes);
  }

  /** The counts, or null while Postgres does not answer: the gauges are left out rather than shown stale. */
  private async readUploadCounts(uploadCounts: UploadCounts): Promise<UploadCountsSnapshot | null> {
    try {
      const counts = await uploadCounts.snapshot();
      if (this.countsFailing) this.logger.log('Upload counts can be read again');
      this.countsFailing = false;
      return counts;
    } catch (error) {
      // One warning per outage, not one per scrape.
      if (!this.countsFailing) this.logger.warn(`Upload counts left out of the metrics: Postgres did not answer (${(error as Error).message})`);
      this.countsFailing = true;
      return null;
    }
  }
}
