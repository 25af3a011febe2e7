import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { APP_CONFIG, AppConfig } from '@app/config';
import { WorkerMetrics } from './worker-metrics';

/**
 * The worker's only HTTP surface: `GET /metrics` on METRICS_PORT (off when it is null), 404
 * for anything else. A port that cannot be bound costs the metrics, never the worker: it logs a
 * warning and keeps processing jobs.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server: Server | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: WorkerMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.metricsPort;
    if (port === null) return;
    const server = createServer((request, response) => void this.answer(request, response));
    const bound = await new Promise<boolean>((resolve) => {
      server.once('listening', () => resolve(true));
      server.once('error', (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? 'it is in use' : error.message;
        this.logger.warn(`Metrics not served: METRICS_PORT ${port} cannot be bound (${why}). The worker runs on; set METRICS_PORT to a free port, or off.`);
        resolve(false);
      });
      server.listen(port, '0.0.0.0');
    });
    if (!bound) return;
    this.server = server;
    this.logger.log(`Metrics on port ${port} at /metrics`);
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found: GET /metrics\n');
      return;
    }
    try {
      const body = await this.metrics.registry.metrics();
      response.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(body);
    } catch (error) {
      this.logger.warn(`Metrics scrape failed: ${(error as Error).message}`);
      response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Metrics could not be collected\n');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A scraper's keep-alive connection must not hold the exit.
    server.closeAllConnections();
    await closed;
  }
}
