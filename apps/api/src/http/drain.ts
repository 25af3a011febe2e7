import type { Logger } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Bounds the drain on a stop signal. Nest's shutdown hooks already stop accepting connections
 * and wait for in-flight requests (a chunk being streamed finishes and is recorded) before they
 * close Postgres and Redis; this cuts the wait at `timeoutMs`, so a stalled client cannot keep
 * a stopping replica alive.
 */
export function boundDrainOnStop(server: Server, timeoutMs: number, logger: Logger): void {
  let stopping = false;
  const unanswered = new Set<ServerResponse>();
  // A kept-alive connection (a load balancer's pool) would otherwise bring new requests to a
  // stopping replica: once stopping, every answer says Connection: close, so the client goes
  // elsewhere next time; answers already under way included.
  server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
    if (stopping) {
      response.shouldKeepAlive = false;
      return;
    }
    unanswered.add(response);
    response.once('close', () => unanswered.delete(response));
  });
  for (const signal of STOP_SIGNALS) {
    process.once(signal, () => {
      stopping = true;
      for (const response of unanswered) if (!response.headersSent) response.shouldKeepAlive = false;
      logger.log(`${signal}: taking no new connections; requests in flight have ${timeoutMs / 1000} s to finish`);
      const cutoff = setTimeout(() => {
        logger.warn(`Requests still in flight after ${timeoutMs / 1000} s: closing their connections`);
        server.closeAllConnections();
      }, timeoutMs);
      cutoff.unref();
    });
  }
}
