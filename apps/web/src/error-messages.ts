import { ChecksumMismatchError, InvalidUploadError, NetworkError, UploadError, UploadFailedError, UploadSessionError } from '../../../libs/client/src/index';

/** What a person can do about each of the contract's error codes, in a sentence. */
const MESSAGES: Record<string, string> = {
  VALIDATION_FAILED: 'The server refused the request as invalid (file name, size or chunk size).',
  FILE_TOO_LARGE: 'This file is larger than the server accepts.',
  CHUNK_TOO_LARGE: 'A chunk was larger than the server accepts: try a smaller chunk size.',
  UNAUTHORIZED: 'The API key is missing or not valid: enter a valid key above and try again.',
  INSUFFICIENT_STORAGE: 'The server is out of storage space. Try again later.',
  RATE_LIMITED: 'Too many uploads started at once. Wait a minute and try again.',
  SERVICE_UNAVAILABLE: 'The server is temporarily unavailable. Try again in a moment; the upload will resume.',
  REQUEST_TIMEOUT: 'The connection stalled. Try again; the upload will resume.',
  CHECKSUM_MISMATCH: 'The file on the server does not match the file read here: the file may have changed while it was sent. Start again.',
  CHUNKS_CORRUPT: 'Some chunks kept arriving damaged. Start again.',
  CHUNKS_LOST: 'The server kept losing some chunks. Start again.',
  STORAGE_LOST: 'The server lost part of the upload. Start again.',
  UPLOAD_EXPIRED: 'This upload expired after being idle too long. Pick the file again to start over.',
  EXPIRED: 'This upload expired after being idle too long. Pick the file again to start over.',
  UPLOAD_ABORTED: 'This upload was cancelled on the server. Pick the file again to start over.',
  ABORTED: 'This upload was cancelled on the server. Pick the file again to start over.',
  UPLOAD_NOT_FOUND: 'The server no longer knows this upload. Pick the file again to start over.',
  IDEMPOTENCY_KEY_REUSED: 'The server saw a conflicting retry. Try again.',
};

const NETWORK_MESSAGE = 'The server could not be reached (network failure). Check your connection and press Resume.';

/** A short, human message for anything the SDK (or the browser) throws. */
export function describeError(error: unknown): string {
  if (error instanceof ChecksumMismatchError) return MESSAGES.CHECKSUM_MISMATCH;
  if (error instanceof NetworkError) return NETWORK_MESSAGE;
  if (error instanceof UploadFailedError || error instanceof UploadSessionError) {
    return MESSAGES[error.code] ?? `The upload failed (${error.code}): ${error.message}`;
  }
  if (error instanceof InvalidUploadError) return `This file cannot be uploaded: ${error.message}`;
  if (error instanceof UploadError) return error.message;
  return `Something unexpected went wrong: ${error instanceof Error ? error.message : String(error)}`;
}

/** The machine-readable code, shown beside the message so a report can quote it. */
export function errorCode(error: unknown): string {
  if (error instanceof ChecksumMismatchError) return 'CHECKSUM_MISMATCH';
  if (error instanceof NetworkError) return 'NETWORK_ERROR';
  if (error instanceof UploadFailedError || error instanceof UploadSessionError) return error.code;
  return 'ERROR';
}
