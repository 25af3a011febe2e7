/** Every queue of the service. */
export const QUEUE_NAMES = ['assembly', 'maintenance'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Every job, its payload, and the queue it runs on. */
export interface JobPayloads {
  assemble: { uploadId: string };
  'expire-sessions': Record<string, never>;
  'requeue-stuck-assemblies': Record<string, never>;
  'sweep-orphaned-files': Record<string, never>;
}
export type JobName = keyof JobPayloads;

export const JOB_QUEUE: Record<JobName, QueueName> = {
  assemble: 'assembly',
  'expire-sessions': 'maintenance',
  'requeue-stuck-assemblies': 'maintenance',
  'sweep-orphaned-files': 'maintenance',
};

/**
 * Jobs that run on a schedule (BullMQ job schedulers, one per job name), every so many
 * MAINTENANCE_INTERVALs. The orphan sweep lists the whole storage directory, so it runs less often.
 */
export const SCHEDULED_JOBS: { name: JobName; everyMaintenanceIntervals: number }[] = [
  { name: 'expire-sessions', everyMaintenanceIntervals: 1 },
  { name: 'requeue-stuck-assemblies', everyMaintenanceIntervals: 1 },
  { name: 'sweep-orphaned-files', everyMaintenanceIntervals: 10 },
];
