import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { RLWrapperTimeouts, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, AppConfig, RateLimit } from '@app/config';
import { UploadError } from '@app/core';
import { REDIS } from '@app/queue';
import { RequestWithCaller } from './caller';

/** A Redis answer slower than this counts as Redis being down, and the in-memory limiter decides. */
const REDIS_TIMEOUT_MS = 500;

/**
 * Limits how many uploads one caller may initiate per window (INITIATE_RATE_LIMIT): each new
 * session reserves disk space and a database row, so this is where a runaway client is stopped.
 * Counters live in Redis so every API replica shares them. When Redis is unreachable, an
 * in-memory limiter per replica takes over: initiate never fails because of the limiter.
 *
 * Put it on a route with @UseGuards: route guards run after the global API-key guard,
 * so the caller is known by then.
 */
@Injectable()
export class InitiateRateLimitGuard implements CanActivate {
  private readonly limiter: RLWrapperTimeouts | null;
  private readonly limit: RateLimit | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(REDIS) redis: Redis) {
    this.limit = config.initiateRateLimit;
    this.limiter = this.limit && createLimiter(this.limit, redis, `${config.redisPrefix}:initiate-limit`);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.limiter || !this.limit) return true;
    const request = context.switchToHttp().getRequest<RequestWithCaller>();
    const keyHash = request.caller?.keyHash ?? null;
    try {
      // The key's digest, never the key; without API keys, the client address (which honours TRUST_PROXY).
      await this.limiter.consume(keyHash ? `key:${keyHash}` : `ip:${request.ip ?? 'unknown'}`);
      return true;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      const who = keyHash ? 'with this API key' : 'from this address';
      throw new UploadError(
        'RATE_LIMITED',
        `Too many uploads were initiated ${who} (at most ${this.limit.points} per ${describeWindow(this.limit.windowMs)}): retry in ${seconds} second${seconds === 1 ? '' : 's'}.`,
        {},
        seconds,
      );
    }
  }
}

function createLimiter(limit: RateLimit, redis: Redis, keyPrefix: string): RLWrapperTimeouts {
  // Redis counts in whole seconds; round the window up so the limit is never looser than configured.
  const options = { points: limit.points, duration: Math.ceil(limit.windowMs / 1000), keyPrefix };
  const shared = new RateLimiterRedis({
    ...options,
    storeClient: redis,
    // Go straight to the in-memory limiter while the connection is down instead of trying Redis first.
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(options),
  });
  // A Redis that accepts the connection but does not answer must not hold initiate either.
  return new RLWrapperTimeouts({ limiter: shared, timeoutMs: REDIS_TIMEOUT_MS });
}

const WINDOW_UNITS = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
] as const;

/** `60000` → "minute", `300000` → "5 minutes", for the rate-limit message. */
function describeWindow(windowMs: number): string {
  for (const [unit, unitMs] of WINDOW_UNITS) {
    if (windowMs % unitMs !== 0) continue;
    const count = windowMs / unitMs;
    return count === 1 ? unit : `${count} ${unit}s`;
  }
  return `${windowMs} ms`;
}
