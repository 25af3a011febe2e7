import { Logger } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { withDeadline } from '@app/core';
import { QUEUE_NAMES, QueueName } from './jobs';
import type { Queues } from './queue.module';

/** The job states the queue-depth gauge reports, as BullMQ's getJobCounts names them. */
export const QUEUE_DEPTH_STATES = ['waiting', 'active', 'failed', 'delayed'] as const;

/**
 * A scrape must not hang on a Redis that does not answer: a worker's connection queues its
 * commands until Redis is back, so without a limit the scrape would wait for the outage to end.
 */
const READ_TIMEOUT_MS = 2_000;

type QueueCounts = Record<QueueName, Record<string, number>>;

/**
 * Registers `resumable_upload_queue_depth{queue, state}`, read from Redis with one
 * getJobCounts per queue whenever the registry is scraped. While Redis does not answer, the
 * series are left out rather than shown stale, and one warning is logged per outage.
 */
export function registerQueueDepthGauge(registry: Registry, queues: Queues): Gauge<'queue' | 'state'> {
  const logger = new Logger('Metrics');
  let failing = false;
  // Scrapes during an outage share the read already waiting instead of queueing one each.
  let pending: Promise<QueueCounts> | null = null;

  const readCounts = (): Promise<QueueCounts> => {
    pending ??= Promise.all(QUEUE_NAMES.map((name) => queues[name].getJobCounts(...QUEUE_DEPTH_STATES)))
      .then((counts) => Object.fromEntries(QUEUE_NAMES.map((name, i) => [name, counts[i]])) as QueueCounts)
      .finally(() => {
        pending = null;
      });
    return withDeadline(pending, READ_TIMEOUT_MS);
  };

  return new Gauge({
    name: 'resumable_upload_queue_depth',
    help: 'Jobs per BullMQ queue and state, read from Redis at scrape time. The queues are shared, so every API replica and worker reports the same value.',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      try {
        const counts = await readCounts();
        for (const queue of QUEUE_NAMES) {
          for (const state of QUEUE_DEPTH_STATES) this.set({ queue, state }, counts[queue][state] ?? 0);
        }
        if (failing) logger.log('Queue depth can be read again');
        failing = false;
      } catch (error) {
        this.reset();
        if (!failing) logger.warn(`Queue depth left out of the metrics: Redis did not answer (${(error as Error).message})`);
        failing = true;
      }
    },
  });
}
