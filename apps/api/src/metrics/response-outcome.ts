import type { Logger } from '@nestjs/common';
import type { Response } from 'express';

/** The outcome of a request whose client closed the connection before it was answered. */
export const CLIENT_CLOSED = 'CLIENT_CLOSED';

/**
 * Calls `record` once the response is over, with its outcome: 'ok' below status 400, else the
 * `code` of the JSON answer the client got (read as the answer is sent), `HTTP_<status>` for an
 * answer without one, or CLIENT_CLOSED when the connection went first.
 */
export function recordOutcome(response: Response, logger: Logger, what: string, record: (outcome: string) => void): void {
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
      const outcome = !response.writableFinished ? CLIENT_CLOSED : response.statusCode < 400 ? 'ok' : typeof answeredCode === 'string' ? answeredCode : `HTTP_${response.statusCode}`;
      record(outcome);
    } catch (error) {
      // A listener that throws would take the process down: metrics are not worth that.
      logger.warn(`Could not record ${what}: ${(error as Error).message}`);
    }
  });
}
