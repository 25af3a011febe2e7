/** Every queue of the service. */
export const QUEUE_NAMES = ['assembly', 'maintenance'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Every job, its payload, and the queue it runs on. */
export interface JobPayloads {
  assemble: { uploadId: string };
  'expire-sessions': Record<string, never>;
  'requeue-stuck-assemblies': Record<string, never>;
}
export type JobName = keyof JobPayloads;

export const JOB_QUEUE: Record<JobName, QueueName> = {
  assemble: 'assembly',
  'expire-sessions': 'maintenance',
  'requeue-stuck-assemblies': 'maintenance',
};

/** Jobs that run on a schedule (BullMQ job schedulers, one per job name). */
export const SCHEDULED_JOBS: JobName[] = ['expire-sessions', 'requeue-stuck-assemblies'];
