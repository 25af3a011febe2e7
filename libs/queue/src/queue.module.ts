import { DynamicModule, Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ASSEMBLY_QUEUE, CHUNK_LEASE } from '@app/core';
import { BullAssemblyQueue } from './bull-assembly-queue';
import { QueueName } from './jobs';
import { RedisChunkLease } from './redis-chunk-lease';
import { RedisRole, createRedisConnection } from './redis-connection';

export const REDIS = Symbol('REDIS');
export const QUEUES = Symbol('QUEUES');
export type Queues = Record<QueueName, Queue>;

/**
 * Redis for one process: a connection for its role, the queues (producer side) and the chunk
 * lease. Workers build their BullMQ `Worker`s on top of the same connection settings.
 */
@Global()
@Module({})
export class QueueModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(QUEUES) private readonly queues: Queues,
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
        { provide: CHUNK_LEASE, inject: [APP_CONFIG, REDIS], useFactory: (config: AppConfig, redis: Redis) => new RedisChunkLease(redis, config.redisPrefix) },
      ],
      exports: [REDIS, QUEUES, ASSEMBLY_QUEUE, CHUNK_LEASE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(Object.values(this.queues).map((queue) => queue.close()));
    this.redis.disconnect();
  }
}
