import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import { AppConfig } from '@app/config';
import { isUploadId } from '@app/core';

/** A client's X-Request-Id is kept when it is a plain token; anything else gets a fresh id. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ID_IN_PATH = /\/uploads\/([^/?]+)/;
const ID_IN_QUERY = /[?&]uploadId=([^&]+)/;
/** Probes and scrapes are logged at debug: at info they would drown the requests that matter. */
const QUIET_PATHS = /^\/(health\/(live|ready)|metrics)(\?|$)/;

function requestIdOf(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/** The upload a request is about, from the path, the query or the Upload-Id header. */
function uploadIdOf(req: IncomingMessage): string | undefined {
  const url = req.url ?? '';
  const header = req.headers['upload-id'];
  // Only well-formed ids are logged: whatever else a client sent is not worth a log field.
  return [ID_IN_PATH.exec(url)?.[1], ID_IN_QUERY.exec(url)?.[1], header].find(isUploadId);
}

/**
 * JSON logs through pino, one line per request when it ends: request id (the client's
 * X-Request-Id, echoed back), method, path, upload id, status and duration. Headers are not
 * logged at all, so API keys never reach the logs, and bodies never are.
 */
export function requestLogging(config: AppConfig) {
  const options: PinoHttpOptions = {
    level: config.logLevel,
    genReqId: requestIdOf,
    customProps: (req: IncomingMessage) => ({ uploadId: uploadIdOf(req) }),
    customLogLevel: (req: IncomingMessage, res: ServerResponse, error?: Error) => {
      if (error || res.statusCode >= 500) return 'error';
      if (QUIET_PATHS.test(req.url ?? '')) return 'debug';
      return res.statusCode >= 400 ? 'warn' : 'info';
    },
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
  return LoggerModule.forRoot({ pinoHttp: [options, logDestination()] });
}

/**
 * Synchronous writes to stdout: a process that exits on a signal must not lose its last lines
 * (why it stopped, what it cut) in an unflushed buffer. One line per request is cheap to write.
 */
function logDestination() {
  return pino.destination({ dest: 1, sync: true });
}
