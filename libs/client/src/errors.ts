/** Every error the SDK throws extends UploadError, so callers can tell ours from their own. */
export class UploadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The body every error answer of the API carries (`{statusCode, code, message, ...details}`). */
export interface ApiErrorBody {
  statusCode?: number;
  code?: string;
  message?: string;
  [detail: string]: unknown;
}

/** The server refused a request for good (a 4xx other than the retryable ones, or retries ran out). */
export class UploadFailedError extends UploadError {
  constructor(
    /** The contract's machine-readable code, e.g. `VALIDATION_FAILED`; `HTTP_<status>` when the body had none. */
    readonly code: string,
    /** The HTTP status of the answer. */
    readonly status: number,
    message: string,
    /** The whole JSON body, with details such as `errors` or `missingChunks`. */
    readonly body: ApiErrorBody = {},
  ) {
    super(`${code} (${status}): ${message}`);
  }

  static fromAnswer(status: number, body: ApiErrorBody | undefined, what: string): UploadFailedError {
    const code = typeof body?.code === 'string' ? body.code : `HTTP_${status}`;
    const message = typeof body?.message === 'string' ? body.message : `${what} was answered ${status} without an error body.`;
    return new UploadFailedError(code, status, message, body ?? {});
  }
}

/** The upload session itself ended badly: it is `failed` (verification), `expired` or `aborted`. */
export class UploadSessionError extends UploadError {
  constructor(
    readonly uploadId: string,
    /** The session status: `failed`, `expired` or `aborted`. */
    readonly sessionStatus: string,
    /** `error.code` of a failed session (e.g. `CHECKSUM_MISMATCH`, `STORAGE_LOST`), else the status in capitals. */
    readonly code: string,
    message: string,
  ) {
    super(`Upload ${uploadId} is ${sessionStatus} (${code}): ${message} Start a new upload.`);
  }
}

/** The server's SHA-256 of the assembled file is not the one this client computed while reading. */
export class ChecksumMismatchError extends UploadError {
  constructor(
    readonly uploadId: string,
    readonly expected: string,
    readonly actual: string | null,
  ) {
    super(`Upload ${uploadId} completed with SHA-256 ${actual ?? '(none)'}, but the file read here hashes to ${expected}: the source changed while it was read, or bytes were altered on the way.`);
  }
}

/**
 * The source changed while it was being uploaded (a file written to, or cut short): what was
 * sent mixes old and new bytes, so the session is given up and the store forgets it.
 */
export class SourceChangedError extends UploadError {}

/** A request never got an answer (connection refused or cut) after every retry. */
export class NetworkError extends UploadError {
  constructor(what: string, attempts: number, cause: unknown) {
    super(`${what} failed after ${attempts} attempt(s) without an answer from the server: ${describe(cause)}`, { cause });
  }
}

/** The caller's AbortSignal fired. Named `AbortError` like fetch's own, so existing checks work. */
export class UploadAbortedError extends UploadError {
  constructor(reason?: unknown) {
    super('The upload was aborted; call upload() again with the same fingerprint store to resume it.', { cause: reason });
    this.name = 'AbortError';
  }
}

/** The options or the source cannot work; nothing was sent. */
export class InvalidUploadError extends UploadError {}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: unknown }).cause;
    return inner instanceof Error ? `${cause.message} (${inner.message})` : cause.message;
  }
  return String(cause);
}
