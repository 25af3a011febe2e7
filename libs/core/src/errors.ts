/**
 * Domain errors. Each carries a stable, machine-readable code from the HTTP contract;
 * the API maps codes to status codes in one place, so nothing here knows about HTTP.
 */
export type UploadErrorCode =
  | 'VALIDATION_FAILED'
  | 'FILE_TOO_LARGE'
  | 'INVALID_CONTENT_RANGE'
  | 'RANGE_NOT_SATISFIABLE'
  | 'LENGTH_MISMATCH'
  | 'CHUNK_TOO_LARGE'
  | 'INVALID_DIGEST'
  | 'CHECKSUM_MISMATCH'
  | 'INVALID_UPLOAD_ID'
  | 'UPLOAD_NOT_FOUND'
  | 'UPLOAD_EXPIRED'
  | 'UPLOAD_ABORTED'
  | 'UPLOAD_NOT_ACCEPTING'
  | 'UPLOAD_INCOMPLETE'
  | 'UPLOAD_NOT_COMPLETED'
  | 'CHUNK_CONFLICT'
  | 'CHUNK_IN_PROGRESS'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'UNAUTHORIZED'
  | 'REQUEST_TIMEOUT'
  | 'RATE_LIMITED'
  | 'INSUFFICIENT_STORAGE'
  | 'SERVICE_UNAVAILABLE'
  // The tus door's own refusals (tus 1.0.0 status codes).
  | 'TUS_VERSION_UNSUPPORTED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UPLOAD_OFFSET_MISMATCH'
  | 'UPLOAD_IN_PROGRESS'
  | 'UPLOAD_CHECKSUM_MISMATCH'
  | 'UPLOAD_FAILED'
  | 'UPLOAD_IS_FINAL';

export interface FieldProblem {
  field: string;
  message: string;
}

export class UploadError extends Error {
  constructor(
    readonly code: UploadErrorCode,
    message: string,
    /** Extra fields for the response body, e.g. `missingChunks`. */
    readonly details: Record<string, unknown> = {},
    /** Seconds a client should wait before trying again, when retrying makes sense. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

export class ValidationFailedError extends UploadError {
  constructor(readonly problems: FieldProblem[]) {
    super('VALIDATION_FAILED', `The request is invalid: ${problems.map((problem) => `${problem.field} ${problem.message}`).join('; ')}.`, { errors: problems });
  }
}

/** The disk behind the storage adapter has no room left; nothing was recorded. */
export class InsufficientStorageError extends UploadError {
  constructor() {
    super('INSUFFICIENT_STORAGE', 'The server has no storage space left for this data; nothing was recorded. Retry later or ask the operator to free space.', {}, 60);
  }
}

/** Postgres or Redis could not be reached; nothing was recorded. */
export class ServiceUnavailableError extends UploadError {
  constructor(what: string) {
    super('SERVICE_UNAVAILABLE', `${what} is unreachable right now; nothing was recorded. Retry the same request shortly.`, {}, 5);
  }
}

/** The stored bytes of a session are gone (it was aborted or expired while a request ran). */
export class StoredDataMissingError extends Error {
  constructor(uploadId: string) {
    super(`The stored data of upload ${uploadId} is gone`);
    this.name = 'StoredDataMissingError';
  }
}
