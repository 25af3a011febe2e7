import { randomBytes } from 'node:crypto';
import { UploadError } from '../errors';

/** 16 random bytes = 128 bits, written as 22 base64url characters. */
const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/**
 * A new id, never starting with '-': a command line would take one that does for an option
 * (the CLI's `status <id>` did, for one id in 64). Drawing again costs under 0.03 of a bit.
 */
export function newUploadId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function isUploadId(value: unknown): value is string {
  return typeof value === 'string' && UPLOAD_ID_PATTERN.test(value);
}

/** Checks an id taken from a URL or header before it is used anywhere, including as a file name. */
export function assertUploadId(value: unknown): string {
  if (value === undefined || value === null || value === '') {
    throw new UploadError('INVALID_UPLOAD_ID', 'No upload id was given: pass it as the uploadId query parameter or the Upload-Id header.');
  }
  if (!isUploadId(value)) {
    throw new UploadError('INVALID_UPLOAD_ID', 'The upload id is not well-formed: use the uploadId returned by initiate (22 URL-safe characters).');
  }
  return value;
}

/**
 * The upload id of a chunk request, which may come as the `uploadId` query parameter or the
 * `Upload-Id` header. An empty value counts as absent; two different ids are refused rather
 * than one silently winning.
 */
export function pickChunkUploadId(query: unknown, header: unknown): unknown {
  const given = [query, header].filter((value) => value !== undefined && value !== '');
  if (given.length === 2 && given[0] !== given[1]) {
    throw new UploadError('INVALID_UPLOAD_ID', 'The uploadId query parameter and the Upload-Id header name different uploads: send only one of them.');
  }
  return given[0];
}
