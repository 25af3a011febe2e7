import { Queue } from 'bullmq';
import { AssemblyQueue } from '@app/core';
import { JobPayloads } from './jobs';

/** Retry policy of assembly: transient failures (database or disk hiccups) get several tries. */
export const ASSEMBLY_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 24 * 3600, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5_000 },
} as const;

/** An enqueue that takes longer than this fails rather than hold the request; the reconciler retries it. */
const ENQUEUE_TIMEOUT_MS = 5_000;

/** The API's producer of assembly jobs. The job id is the upload id, so a double enqueue is one job. */
export class BullAssemblyQueue implements AssemblyQueue {
  constructor(private readonly queue: Queue<JobPayloads['assemble']>) {}

  async enqueue(uploadId: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`enqueue timed out after ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.add(uploadId), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async add(uploadId: string): Promise<void> {
    const existing = await this.queue.getJob(uploadId);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'failed') return;
      // A finished run of an earlier round (chunks were sent back and re-uploaded): make room for a new one.
      await existing.remove();
    }
    await this.queue.add('assemble', { uploadId }, { jobId: uploadId, ...ASSEMBLY_JOB_OPTIONS });
  }
}
