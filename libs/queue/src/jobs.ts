/** Every queue of the service. */
export const QUEUE_NAMES = ['assembly', 'maintenance'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Every job, its payload, and the queue it runs on. */
export interface JobPayloads {
  assemble: { uploadId: string };
  'expire-sessions': Record<string, never>;
}
export type JobName = keyof JobPayloads;

export const JOB_QUEUE: Record<JobName, QueueName> = {
  assemble: 'assembly',
  'expire-sessions': 'maintenance',
};

/** Repeatable job ids (BullMQ job schedulers). */
export const EXPIRY_SCHEDULER_ID = 'expire-sessions';
