import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { parseContentRange } from '@app/core';
import { ApiMetrics } from './api-metrics';
import { recordOutcome } from './response-outcome';

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
    recordOutcome(response, this.logger, 'a chunk request', (outcome) => {
      this.metrics.recordChunk(outcome, (performance.now() - started) / 1000, outcome === 'ok' ? rangeLength(request) : 0);
    });
    next();
  }
}

/** The answer was 200, so the receiver accepted this Content-Range as one grid chunk. */
function rangeLength(request: Request): number {
  const { start, end } = parseContentRange(request.headers['content-range']);
  return end - start + 1;
}
