import { Injectable, Logger } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { performance } from 'node:perf_hooks';
import { AssemblyOutcome, AssemblyService } from '@app/core';
import { JobPayloads } from '@app/queue';
import { WorkerMetrics } from './metrics/worker-metrics';

/** Runs `assemble` jobs. Throwing retries with backoff; `UnrecoverableError` stops for good. */
@Injectable()
export class AssemblyProcessor {
  private readonly logger = new Logger(AssemblyProcessor.name);

  constructor(
    private readonly assembly: AssemblyService,
    private readonly metrics: WorkerMetrics,
  ) {}

  async process(job: Job<JobPayloads['assemble']>, signal?: AbortSignal) {
    const { uploadId } = job.data;
    this.logger.log(`Assembling ${uploadId} (attempt ${job.attemptsMade + 1})`);
    const started = performance.now();
    let outcome: AssemblyOutcome;
    try {
      outcome = await this.assembly.assemble(uploadId, signal);
    } catch (error) {
      this.metrics.recordAssembly('error', (performance.now() - started) / 1000);
      throw error;
    }
    const elapsedMs = performance.now() - started;
    this.metrics.recordAssembly(outcome.kind, elapsedMs / 1000, outcome.kind === 'completed' ? outcome.fileSize : 0, outcome.kind === 'completed' ? outcome.earlyBytes : 0);
    const early = outcome.kind === 'completed' && outcome.earlyBytes > 0 ? ` (${outcome.earlyBytes} of ${outcome.fileSize} bytes read before the last chunk arrived)` : '';
    this.logger.log(`Assembly of ${uploadId}: ${outcome.kind} in ${Math.round(elapsedMs)} ms${early}`);
    if (outcome.kind === 'failed') throw new UnrecoverableError(outcome.reason);
    return outcome;
  }
}
