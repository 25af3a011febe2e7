import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { parseContentRange } from '@app/core';
import { ApiMetrics } from './api-metrics';

/** The outcome of a chunk PUT whose client closed the connection before it was answered. */
export const CLIENT_CLOSED = 'CLIENT_CLOSED';

/**
 * Counts and times every chunk PUT. It runs as middleware, before the API-key guard, so a
 * request refused before its body is read is counted like any other; the outcome is the
 * `code` of the JSON answer the client got, read as the answer is sent. Only a counter and a
 * histogram are touched per request.
 */
@Injectable()
export class ChunkMetricsMiddleware implements NestMiddleware {
  private readonly logger = new Logger('Metrics');

  constructor(private readonly metrics: ApiMetrics) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const started = performance.now();
    let answeredCode: unknown;
    // Successes (Nest's reply) and errors (the error filter) are both answered with res.json.
    const sendJson = response.json;
    response.json = function (this: Response, body?: unknown) {
      answeredCode = (body as { code?: unknown } | undefined)?.code;
      return sendJson.call(this, body);
    };
    // 'close' comes exactly once per response: after it finished, or when the connection went first.
    response.once('close', () => {
      try {
        const seconds = (performance.now() - started) / 1000;
        const outcome = !response.writableFinished ? CLIENT_CLOSED : response.statusCode < 400 ? 'ok' : typeof answeredCode === 'string' ? answeredCode : `HTTP_${response.statusCode}`;
        this.metrics.recordChunk(outcome, seconds, outcome === 'ok' ? rangeLength(request) : 0);
      } catch (error) {
        // A listener that throws would take the process down: metrics are not worth that.
        this.logger.warn(`Could not record a chunk request: ${(error as Error).message}`);
      }
    });
    next();
  }
}

/** The answer was 200, so the receiver accepted this Content-Range as one grid chunk. */
function rangeLength(request: Request): number {
  const { start, end } = parseContentRange(request.headers['content-range']);
  return end - start + 1;
}
