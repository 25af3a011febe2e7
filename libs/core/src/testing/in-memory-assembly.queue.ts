import { ServiceUnavailableError } from '../errors';
import { AssemblyQueue } from '../ports/assembly-queue';

/**
 * The `AssemblyQueue` port in memory: one job per upload id while it waits or runs, as BullMQ
 * gives with the upload id as job id; a finished job leaves room for a new one.
 */
export class InMemoryAssemblyQueue implements AssemblyQueue {
  private readonly jobs = new Map<string, 'waiting' | 'running'>();
  /** Every enqueue asked for, duplicates included. */
  readonly requested: string[] = [];
  /** While true, enqueue fails as a Redis that cannot be reached does. */
  unreachable = false;

  async enqueue(uploadId: string): Promise<void> {
    if (this.unreachable) throw new ServiceUnavailableError('Redis');
    this.requested.push(uploadId);
    if (!this.jobs.has(uploadId)) this.jobs.set(uploadId, 'waiting');
  }

  /** Upload ids of the jobs waiting for a worker, oldest first. */
  waiting(): string[] {
    return [...this.jobs].filter(([, state]) => state === 'waiting').map(([id]) => id);
  }

  /** A worker takes the oldest waiting job; undefined when none waits. */
  take(): string | undefined {
    const id = this.waiting()[0];
    if (id !== undefined) this.jobs.set(id, 'running');
    return id;
  }

  /** The job ends (done, or out of attempts): a later enqueue makes a new one. */
  finish(uploadId: string): void {
    this.jobs.delete(uploadId);
  }

  /** Redis loses every job, as after a flush or a failover without persistence. */
  loseJobs(): void {
    this.jobs.clear();
  }
}
