import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AssemblyOutcome, DeliveryOutcome, UPLOAD_EVENT_OUTBOX, UploadEventOutbox, withDeadline } from '@app/core';
import { JobName, QUEUES, Queues, registerQueueDepthGauge } from '@app/queue';

/** How an assembly attempt ended: the service's outcome, or `error` when it threw (the job is retried). */
export type AssemblyAttemptOutcome = AssemblyOutcome['kind'] | 'error';
const ASSEMBLY_OUTCOMES: AssemblyAttemptOutcome[] = ['completed', 'chunks-returned', 'checksum-mismatch', 'failed', 'skipped', 'error'];

const WEBHOOK_OUTCOMES: DeliveryOutcome['kind'][] = ['delivered', 'retry', 'dead', 'claim-lost'];
/** A scrape gives up on a Postgres that does not answer instead of hanging. */
const BACKLOG_TIMEOUT_MS = 2_000;

/** One read pass over the file: from a skipped job (milliseconds) to many GiB on a slow disk (half an hour). */
const ASSEMBLY_SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/** This worker's Prometheus registry; counters count what this process ran (sum them over workers). */
@Injectable()
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly assemblySeconds: Histogram<'outcome'>;
  private readonly assemblies: Counter<'outcome'>;
  private readonly assembledBytes: Counter;
  private readonly earlyVerifiedBytes: Counter;
  private readonly maintenanceRuns: Counter<'job' | 'outcome'>;
  private readonly expiredSessions: Counter;
  private readonly requeuedAssemblies: Counter;
  private readonly sweptUploads: Counter;
  private readonly webhookAttempts: Counter<'outcome'>;
  private readonly webhookRetries: Counter;
  private readonly deadEvents: Counter;

  constructor(@Inject(QUEUES) queues: Queues, @Inject(UPLOAD_EVENT_OUTBOX) outbox: UploadEventOutbox) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];

    this.assemblySeconds = new Histogram({
      name: 'resumable_upload_assembly_duration_seconds',
      help: 'Duration of assembly attempts on this worker (verification read, publish, state change), by outcome; an assembly started early also waited for its upload.',
      labelNames: ['outcome'],
      buckets: ASSEMBLY_SECONDS_BUCKETS,
      registers,
    });
    this.assemblies = new Counter({
      name: 'resumable_upload_assemblies_total',
      help: 'Assembly attempts on this worker by outcome: completed, chunks-returned (corrupt or lost chunks sent back), checksum-mismatch, failed (for good), skipped (nothing to do), error (threw; retried).',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ASSEMBLY_OUTCOMES) this.assemblies.inc({ outcome }, 0);
    this.assembledBytes = new Counter({
      name: 'resumable_upload_assembled_bytes_total',
      help: 'Bytes of the files this worker verified and published (completed assemblies).',
      registers,
    });
    this.earlyVerifiedBytes = new Counter({
      name: 'resumable_upload_early_verified_bytes_total',
      help: 'Bytes of completed assemblies that this worker read while their upload was still arriving (the rest was read after the last chunk).',
      registers,
    });
    this.maintenanceRuns = new Counter({
      name: 'resumable_upload_maintenance_runs_total',
      help: 'Maintenance jobs this worker ran, by job and outcome (ok, error).',
      labelNames: ['job', 'outcome'],
      registers,
    });
    this.expiredSessions = new Counter({
      name: 'resumable_upload_expired_sessions_total',
      help: 'Idle uploads this worker marked expired.',
      registers,
    });
    this.requeuedAssemblies = new Counter({
      name: 'resumable_upload_requeued_assemblies_total',
      help: "Uploads assembling longer than WORKER_LOCK_DURATION whose job this worker's reconciler re-enqueued (a no-op for a job still alive).",
      registers,
    });
    this.sweptUploads = new Counter({
      name: 'resumable_upload_swept_uploads_total',
      help: 'Uploads whose leftover bytes this worker deleted (aborted, expired and failed uploads, unpublished bytes no session knows).',
      registers,
    });
    registerQueueDepthGauge(this.registry, queues);

    this.webhookAttempts = new Counter({
      name: 'resumable_upload_webhook_deliveries_total',
      help: 'Webhook delivery attempts this worker made, by outcome: delivered (2xx), retry (failed, tried again later), dead (failed, retries over), claim-lost (outlived its claim; another worker has the event).',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of WEBHOOK_OUTCOMES) this.webhookAttempts.inc({ outcome }, 0);
    this.webhookRetries = new Counter({
      name: 'resumable_upload_webhook_retries_total',
      help: 'Webhook events this worker scheduled for another attempt after a failed one.',
      registers,
    });
    this.deadEvents = new Counter({
      name: 'resumable_upload_webhook_dead_events_total',
      help: 'Webhook events this worker gave up on after WEBHOOK_RETRY_FOR (marked dead).',
      registers,
    });
    registerEventBacklogGauges(this.registry, outbox);
  }

  recordWebhookAttempt(outcome: DeliveryOutcome['kind']): void {
    this.webhookAttempts.inc({ outcome });
    if (outcome === 'retry') this.webhookRetries.inc();
    if (outcome === 'dead') this.deadEvents.inc();
  }

  recordAssembly(outcome: AssemblyAttemptOutcome, seconds: number, publishedBytes = 0, earlyBytes = 0): void {
    this.assemblySeconds.observe({ outcome }, seconds);
    this.assemblies.inc({ outcome });
    if (publishedBytes > 0) this.assembledBytes.inc(publishedBytes);
    if (earlyBytes > 0) this.earlyVerifiedBytes.inc(earlyBytes);
  }

  recordMaintenance(job: JobName, outcome: 'ok' | 'error'): void {
    this.maintenanceRuns.inc({ job, outcome });
  }

  recordExpired(sessions: number): void {
    this.expiredSessions.inc(sessions);
  }

  recordRequeued(uploads: number): void {
    this.requeuedAssemblies.inc(uploads);
  }

  recordSwept(uploads: number): void {
    this.sweptUploads.inc(uploads);
  }
}

/** The outbox's backlog, read from Postgres at scrape time: the same on every worker. Left out while Postgres does not answer. */
function registerEventBacklogGauges(registry: Registry, outbox: UploadEventOutbox): void {
  const logger = new Logger('Metrics');
  let failing = false;
  let pending: Promise<{ oldestPendingAt: Date | null; dead: number }> | null = null;
  const read = () => {
    pending ??= outbox.backlog().finally(() => {
      pending = null;
    });
    return withDeadline(pending, BACKLOG_TIMEOUT_MS);
  };
  const collect = async (gauge: Gauge, value: (backlog: { oldestPendingAt: Date | null; dead: number }) => number) => {
    try {
      gauge.set(value(await read()));
      failing = false;
    } catch (error) {
      gauge.reset();
      if (!failing) logger.warn(`Webhook backlog left out of the metrics: Postgres did not answer (${(error as Error).message})`);
      failing = true;
    }
  };
  new Gauge({
    name: 'resumable_upload_webhook_oldest_pending_age_seconds',
    help: 'Age of the oldest webhook event not delivered yet and still being retried (0 when there is none), from Postgres.',
    registers: [registry],
    async collect() {
      await collect(this, ({ oldestPendingAt }) => (oldestPendingAt === null ? 0 : Math.max(0, (Date.now() - oldestPendingAt.getTime()) / 1000)));
    },
  });
  new Gauge({
    name: 'resumable_upload_webhook_dead_events',
    help: 'Webhook events marked dead and not re-sent yet, from Postgres.',
    registers: [registry],
    async collect() {
      await collect(this, ({ dead }) => dead);
    },
  });
}
