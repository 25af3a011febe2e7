export const ASSEMBLY_QUEUE = Symbol('ASSEMBLY_QUEUE');

/** Hands a fully received session to the workers. */
export interface AssemblyQueue {
  /** Enqueues assembly of `uploadId`; enqueuing the same upload twice yields one job. */
  enqueue(uploadId: string): Promise<void>;
}
