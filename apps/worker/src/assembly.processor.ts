import { Injectable, Logger } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { AssemblyService } from '@app/core';
import { JobPayloads } from '@app/queue';

/** Runs `assemble` jobs. Throwing retries with backoff; `UnrecoverableError` stops for good. */
@Injectable()
export class AssemblyProcessor {
  private readonly logger = new Logger(AssemblyProcessor.name);

  constructor(private readonly assembly: AssemblyService) {}

  async process(job: Job<JobPayloads['assemble']>) {
    const { uploadId } = job.data;
    this.logger.log(`Assembling ${uploadId} (attempt ${job.attemptsMade + 1})`);
    const started = Date.now();
    const outcome = await this.assembly.assemble(uploadId);
    this.logger.log(`Assembly of ${uploadId}: ${outcome.kind} in ${Date.now() - started} ms`);
    if (outcome.kind === 'failed') throw new UnrecoverableError(outcome.reason);
    return outcome;
  }
}
