import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ASSEMBLY_QUEUE, AssemblyQueue } from '../ports/assembly-queue';
import { UPLOAD_REPOSITORY, UploadRepository } from '../ports/upload.repository';

const BATCH = 500;

/**
 * Re-enqueues uploads left in `assembling` without a job: the enqueue failed while Redis was
 * down, Redis lost its data, or the job ran out of attempts during an outage. Enqueuing an
 * upload whose job is waiting or running is a no-op, so this is safe to run at any time.
 */
@Injectable()
export class AssemblyReconciler {
  private readonly logger = new Logger(AssemblyReconciler.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(UPLOAD_REPOSITORY) private readonly uploads: UploadRepository,
    @Inject(ASSEMBLY_QUEUE) private readonly queue: AssemblyQueue,
  ) {}

  /** Returns how many uploads it looked at. */
  async requeueStuck(now = new Date()): Promise<number> {
    // Give the normal enqueue, which follows the state change at once, time to happen first.
    const ids = await this.uploads.findAssemblingSince(new Date(now.getTime() - this.config.workerLockDurationMs), BATCH);
    for (const id of ids) await this.queue.enqueue(id);
    if (ids.length > 0) this.logger.log(`Checked the assembly jobs of ${ids.length} upload(s) still assembling`);
    return ids.length;
  }
}
