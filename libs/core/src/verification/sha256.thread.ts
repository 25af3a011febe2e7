// The body of the thread that hashes chunk bodies while the API's main thread reads them from
// the socket and writes them to disk. Each running hash has a ring of shared memory; a block is
// handed back as soon as it is hashed.
import { createHash, Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/** From the main thread: a new hash over a ring, one block of it to hash, or the end of a hash. */
export type ToSha256Thread = { job: number; ring: SharedArrayBuffer } | { job: number; offset: number; length: number } | { job: number; end: true };
/** To the main thread: a block of a ring it may reuse, or a finished digest. */
export type FromSha256Thread = { job: number; freed: number } | { job: number; digest: string };

if (parentPort) {
  const port = parentPort;
  const jobs = new Map<number, { ring: SharedArrayBuffer; hash: Hash }>();
  port.on('message', (message: ToSha256Thread) => {
    if ('ring' in message) {
      jobs.set(message.job, { ring: message.ring, hash: createHash('sha256') });
    } else if ('end' in message) {
      const job = jobs.get(message.job);
      jobs.delete(message.job);
      if (job) port.postMessage({ job: message.job, digest: job.hash.digest('hex') } satisfies FromSha256Thread);
    } else {
      const job = jobs.get(message.job);
      job?.hash.update(new Uint8Array(job.ring, message.offset, message.length));
      port.postMessage({ job: message.job, freed: message.offset } satisfies FromSha256Thread);
    }
  });
}
