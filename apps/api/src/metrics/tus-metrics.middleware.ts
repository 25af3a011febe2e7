import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ApiMetrics } from './api-metrics';
import { CLIENT_CLOSED } from './chunk-metrics.middleware';

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
    let answeredCode: unknown;
    const sendJson = response.json;
    response.json = function (this: Response, body?: unknown) {
      answeredCode = (body as { code?: unknown } | undefined)?.code;
      return sendJson.call(this, body);
    };
    response.once('close', () => {
      try {
        const ok = response.writableFinished && response.statusCode < 400;
        const outcome = !response.writableFinished ? CLIENT_CLOSED : ok ? 'ok' : typeof answeredCode === 'string' ? answeredCode : `HTTP_${response.statusCode}`;
        const from = request.method === 'POST' ? 0 : Number(request.headers['upload-offset']);
        const to = Number(response.getHeader('upload-offset'));
        this.metrics.recordTusPatch(outcome, ok && Number.isSafeInteger(from) && Number.isSafeInteger(to) ? to - from : 0);
      } catch (error) {
        // A listener that throws would take the process down: metrics are not worth that.
        this.logger.warn(`Could not record a tus request: ${(error as Error).message}`);
      }
    });
    next();
  }
}
