import { Logger } from '@nestjs/common';
import Redis from 'ioredis';

export type RedisRole = 'producer' | 'worker';

/**
 * Opens a Redis connection for one role. Producers (the API) fail fast when Redis is down so a
 * request gets a 503 instead of hanging; workers wait and retry forever, as BullMQ requires.
 */
export function createRedisConnection(url: string, role: RedisRole, name: string): Redis {
  const logger = new Logger(`Redis:${name}`);
  const redis = new Redis(url, {
    connectionName: name,
    ...(role === 'producer' ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 } : { maxRetriesPerRequest: null }),
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let lastError = '';
  redis.on('error', (error: Error) => {
    // One line per distinct failure, not one per reconnect attempt.
    if (error.message !== lastError) logger.warn(`Redis connection error: ${error.message}`);
    lastError = error.message;
  });
  redis.on('ready', () => {
    if (lastError) logger.log('Redis connection restored');
    lastError = '';
  });
  return redis;
}
