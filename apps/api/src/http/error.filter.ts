import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ServiceUnavailableError, UploadError } from '@app/core';
import { ERROR_STATUS } from './error-status';
import { discardUnreadBody } from './unread-body';
import { unavailableDependency } from './unavailable-dependency';

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  [detail: string]: unknown;
}

const HTTP_CODES: Record<number, { code: string; message: string }> = {
  400: { code: 'VALIDATION_FAILED', message: 'The request is malformed.' },
  401: { code: 'UNAUTHORIZED', message: 'Authentication is required.' },
  404: { code: 'NOT_FOUND', message: 'There is no such route: check the method and path against the API reference at /docs.' },
  405: { code: 'METHOD_NOT_ALLOWED', message: 'This route does not accept that method.' },
  413: { code: 'VALIDATION_FAILED', message: 'The request body is too large.' },
  415: { code: 'VALIDATION_FAILED', message: 'Send the body as application/json.' },
};

/**
 * Turns every error into the contract's JSON body. Domain errors keep their code and message;
 * an unreachable Postgres or Redis is a 503; anything unexpected is logged here and reaches
 * the client only as a generic 500, never as a stack trace or a server path.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    if (response.headersSent || request.socket.destroyed) {
      // The client is gone or the answer was already streaming: nobody to tell.
      if (!response.writableEnded) response.destroy();
      return;
    }

    const { body, retryAfterSeconds } = this.describe(exception, request);
    const answer = (bodyRead: boolean) => {
      if (response.headersSent || request.socket.destroyed) return;
      if (!bodyRead) response.setHeader('Connection', 'close');
      if (retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(retryAfterSeconds));
      response.status(body.statusCode).json(body);
    };
    // An answer given before the body was read waits for the rest of it (within a bound), so
    // the sender can finish its request and read the answer rather than have it reset.
    if (request.complete) answer(true);
    else void discardUnreadBody(request).then(answer);
  }

  private describe(exception: unknown, request: Request): { body: ErrorBody; retryAfterSeconds?: number } {
    let error = exception;
    if (isUndecodablePathParameter(error)) error = new UploadError('INVALID_UPLOAD_ID', UNDECODABLE_UPLOAD_ID);
    if (!(error instanceof UploadError) && !(error instanceof HttpException)) {
      const dependency = unavailableDependency(error);
      if (dependency) {
        this.logger.warn(`${request.method} ${request.path}: ${dependency} is unavailable (${(error as Error).message})`);
        error = new ServiceUnavailableError(dependency);
      }
    }

    if (error instanceof UploadError) {
      return { body: { statusCode: ERROR_STATUS[error.code], code: error.code, message: error.message, ...error.details }, retryAfterSeconds: error.retryAfterSeconds };
    }
    if (error instanceof HttpException) {
      const statusCode = error.getStatus();
      const known = HTTP_CODES[statusCode];
      if (known) return { body: { statusCode, code: known.code, message: describeHttpException(error) ?? known.message } };
    }

    this.logger.error(`${request.method} ${request.path} failed`, (exception as Error)?.stack ?? String(exception));
    return { body: { statusCode: 500, code: 'INTERNAL_ERROR', message: 'The server failed to handle this request; nothing was recorded. Retry it, and report it if it persists.' } };
  }
}

const UNDECODABLE_UPLOAD_ID = 'The upload id in the path is not valid percent-encoding: use the uploadId returned by initiate (22 URL-safe characters).';

/**
 * Express throws a 400 URIError when a path parameter is not valid percent-encoding (`%E0%A4%A`).
 * The only path parameter of this API is the upload id, so that is what was malformed.
 */
function isUndecodablePathParameter(error: unknown): boolean {
  const cause = error instanceof HttpException ? error.cause : error;
  return cause instanceof URIError && (cause as URIError & { status?: number }).status === 400;
}

/** Body-parser failures are thrown as HttpExceptions with a type we can explain to the client. */
function describeHttpException(error: HttpException): string | null {
  const cause = (error.cause ?? {}) as { type?: string };
  switch (cause.type) {
    case 'entity.parse.failed':
      return 'The body is not valid JSON: send a JSON object.';
    case 'entity.too.large':
      return 'The JSON body is larger than 64 KiB.';
    default:
      return null;
  }
}
