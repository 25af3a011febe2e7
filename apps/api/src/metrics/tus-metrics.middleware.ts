import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ApiMetrics } from './api-metrics';
import { recordOutcome } from './response-outcome';

/**
 * Counts every tus request that carries bytes (PATCH, and POST with a body) and the durable
 * bytes it added: the answer's Upload-Offset less the request's. Middleware, like the chunk
 * metrics, so refusals before the body is read are counted too.
 */
@Injectable()
export class TusMetricsMiddleware implements NestMiddleware {
  private readonly logger = new Logger('Metrics');

  constructor(private readonly metrics: ApiMetrics) {}

  use(request: Request, response: Response, next: NextFunction): void {
    if (request.method !== 'PATCH' && !(request.method === 'POST' && request.headers['content-type']?.startsWith('application/offset+octet-stream'))) {
      next();
      return;
    }
    recordOutcome(response, this.logger, 'a tus request', (outcome) => {
      const from = request.method === 'POST' ? 0 : Number(request.headers['upload-offset']);
      const to = Number(response.getHeader('upload-offset'));
      this.metrics.recordTusPatch(outcome, outcome === 'ok' && Number.isSafeInteger(from) && Number.isSafeInteger(to) ? to - from : 0);
    });
    next();
  }
}
