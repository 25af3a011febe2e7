import { DynamicModule, Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ASSEMBLY_QUEUE, CHUNK_LEASE } from '@app/core';
import { BullAssemblyQueue } from './bull-assembly-queue';
import { QueueName } from './jobs';
import { RedisChunkLease } from './redis-chunk-lease';
import { ReplicaLiveness } from './replica-liveness';
import { RedisRole, createRedisConnection } from './redis-connection';

export const REDIS = Symbol('REDIS');
export const QUEUES = Symbol('QUEUES');
export type Queues = Record<QueueName, Queue>;
const LIVENESS = Symbol('LIVENESS');

/**
 * Redis for one process: a connection for its role, the queues (producer side), the chunk
 * lease and, for the API, the replica's liveness key its leases name. Workers build their
 * BullMQ `Worker`s on top of the same connection settings.
 */
@Global()
@Module({})
export class QueueModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(QUEUES) private readonly queues: Queues,
    @Inject(LIVENESS) private readonly liveness: ReplicaLiveness | null,
  ) {}

  static forRole(role: RedisRole, name: string): DynamicModule {
    return {
      module: QueueModule,
      providers: [
        { provide: REDIS, inject: [APP_CONFIG], useFactory: (config: AppConfig) => createRedisConnection(config.redisUrl, role, name) },
        {
          provide: QUEUES,
          inject: [APP_CONFIG, REDIS],
          useFactory: (config: AppConfig, redis: Redis): Queues => {
            const logger = new Logger('Queue');
            const open = (queueName: QueueName) =>
              new Queue(queueName, { connection: redis, prefix: config.redisPrefix }).on('error', (error) =>
                logger.warn(`Queue ${queueName}: ${error.message}`),
              );
            return { assembly: open('assembly'), maintenance: open('maintenance') };
          },
        },
        { provide: ASSEMBLY_QUEUE, inject: [QUEUES], useFactory: (queues: Queues) => new BullAssemblyQueue(queues.assembly) },
        {
          // Only the API takes chunk leases, so only it keeps a liveness key.
          provide: LIVENESS,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => (role === 'producer' ? new ReplicaLiveness(config.redisUrl, config.redisPrefix, config.replicaLivenessTtlMs, `${name}-liveness`) : null),
        },
        {
          provide: CHUNK_LEASE,
          inject: [APP_CONFIG, REDIS, LIVENESS],
          useFactory: (config: AppConfig, redis: Redis, liveness: ReplicaLiveness | null) => {
            if (!liveness) return null;
            liveness.start();
            return new RedisChunkLease(redis, config.redisPrefix, liveness);
          },
        },
      ],
      exports: [REDIS, QUEUES, ASSEMBLY_QUEUE, CHUNK_LEASE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    // Requests in flight have finished (or were cut) by now: whatever leases are left, free them.
    await this.liveness?.stop();
    await Promise.allSettled(Object.values(this.queues).map((queue) => queue.close()));
    this.redis.disconnect();
  }
}
