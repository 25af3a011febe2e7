import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Job, Worker } from 'bullmq';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { JOB_QUEUE, JobName, QUEUES, QueueName, Queues, REDIS, SCHEDULED_JOBS } from '@app/queue';
import { AssemblyProcessor } from './assembly.processor';
import { MaintenanceProcessor } from './maintenance.processor';

/**
 * Starts one BullMQ worker per queue and routes each job to its processor. Every job name
 * must have a handler (the type says so, and start-up checks it); `close()` runs on SIGTERM
 * so active jobs finish or are handed back cleanly.
 */
@Injectable()
export class WorkerRunner implements OnApplicationShutdown {
  private readonly logger = new Logger('Worker');
  private readonly workers: Worker[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(QUEUES) private readonly queues: Queues,
    assembly: AssemblyProcessor,
    maintenance: MaintenanceProcessor,
  ) {
    this.handlers = {
      assemble: (job, signal) => assembly.process(job as Job<{ uploadId: string }>, signal),
      'expire-sessions': () => maintenance.expireSessions(),
      'requeue-stuck-assemblies': () => maintenance.requeueStuckAssemblies(),
      'sweep-orphaned-files': () => maintenance.sweepOrphanedFiles(),
    };
  }

  private readonly handlers: Record<JobName, (job: Job, signal?: AbortSignal) => Promise<unknown>>;

  /**
   * Starts taking jobs. Called by main once the shutdown hooks are in place, so no job can
   * start in a process that a SIGTERM would still kill outright.
   */
  async start(): Promise<void> {
    for (const name of Object.keys(JOB_QUEUE) as JobName[]) {
      if (typeof this.handlers[name] !== 'function') throw new Error(`No handler for job "${name}"`);
    }
    const concurrency: Record<QueueName, number> = { assembly: this.config.workerConcurrency, maintenance: 1 };
    for (const queueName of Object.keys(concurrency) as QueueName[]) {
      const worker = new Worker(queueName, (job, _token, signal) => this.route(queueName, job, signal), {
        connection: this.redis,
        prefix: this.config.redisPrefix,
        concurrency: concurrency[queueName],
        // A job's lock is renewed every half lockDuration. A worker killed mid-job stops renewing
        // it: within one lockDuration the lock lapses, and the next stalled-job check (every half
        // lockDuration, on every replica) hands the job to another worker.
        lockDuration: this.config.workerLockDurationMs,
        stalledInterval: Math.max(250, Math.floor(this.config.workerLockDurationMs / 2)),
        // Only a job that keeps killing its workers gives up.
        maxStalledCount: 10,
      });
      worker.on('error', (error) => this.logger.warn(`Worker ${queueName}: ${error.message}`));
      // A worker that could not renew a lock (frozen past lockDuration, cut off from Redis) may
      // already see its job run elsewhere: stop it here, so no job runs twice at once.
      worker.on('lockRenewalFailed', (jobIds) => {
        for (const jobId of jobIds) {
          this.logger.warn(`Lost the lock on job ${jobId}: stopping it here, another worker takes it over`);
          worker.cancelJob(jobId, 'lost its lock');
        }
      });
      worker.on('failed', (job, error) => this.logger.warn(`Job ${job?.name} ${job?.id} failed (attempt ${job?.attemptsMade}): ${error.message}`));
      this.workers.push(worker);
    }

    await this.scheduleMaintenance();
    // A Redis that restarted without its data lost the schedules too: put them back on every
    // reconnect, or expiry and the assembly reconciler would never run again.
    this.redis.on('ready', () => {
      this.scheduleMaintenance().catch((error: Error) => this.logger.warn(`Could not schedule maintenance: ${error.message}`));
    });
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
  }

  private async scheduleMaintenance(): Promise<void> {
    for (const { name, everyMaintenanceIntervals } of SCHEDULED_JOBS) {
      // Every replica upserts the same scheduler id, so there is one schedule however many run.
      await this.queues[JOB_QUEUE[name]].upsertJobScheduler(name, { every: this.config.maintenanceIntervalMs * everyMaintenanceIntervals }, { name, data: {} });
    }
  }

  private route(queueName: QueueName, job: Job, signal?: AbortSignal): Promise<unknown> {
    const name = job.name as JobName;
    if (JOB_QUEUE[name] !== queueName) throw new Error(`Job "${job.name}" does not belong on queue ${queueName}`);
    return this.handlers[name](job, signal);
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    const timeoutMs = this.config.shutdownTimeoutMs;
    this.logger.log(`Stopping on ${signal ?? 'shutdown'}: active jobs have ${timeoutMs / 1000} s to finish`);
    const finished = Promise.all(this.workers.map((worker) => worker.close()));
    let cutoff: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (cutoff = setTimeout(() => resolve('timeout'), timeoutMs)));
    const outcome = await Promise.race([finished, timedOut]);
    clearTimeout(cutoff);
    if (outcome === 'timeout') {
      // Stop waiting and let the process exit: the jobs' locks lapse after WORKER_LOCK_DURATION
      // and another worker takes them over, from the start of verification.
      this.logger.warn(`Jobs still active after ${timeoutMs / 1000} s: leaving them to another worker`);
      return;
    }
    this.logger.log('Worker stopped');
  }
}
