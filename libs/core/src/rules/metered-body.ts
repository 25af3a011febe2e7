import { UploadError } from '../errors';

export interface BodyLimits {
  /** Exact number of bytes the Content-Range promises. */
  expectedLength: number;
  /** The session's chunk size: a body without Content-Length may never exceed it. */
  chunkSize: number;
  /** Whether the request declared a Content-Length (already checked to equal expectedLength). */
  lengthDeclared: boolean;
}

/**
 * Passes a request body through unchanged while counting it against the range and feeding
 * `hash`, so bytes are hashed in the same pass that stores them. Throws as soon as the body
 * runs past the range, and at the end if it came up short: a cut-off body never looks complete.
 */
export async function* meteredBody(source: AsyncIterable<Buffer>, limits: BodyLimits, hash: { update(bytes: Uint8Array): void }): AsyncGenerator<Buffer> {
  let received = 0;
  for await (const piece of source) {
    received += piece.length;
    if (received > limits.expectedLength) {
      if (!limits.lengthDeclared && received > limits.chunkSize) {
        throw new UploadError('CHUNK_TOO_LARGE', `The body is larger than the session's chunk size (${limits.chunkSize} bytes): send one chunk per request.`);
      }
      throw new UploadError('LENGTH_MISMATCH', `The body is longer than the ${limits.expectedLength} bytes its Content-Range covers: send exactly the bytes of that range.`);
    }
    hash.update(piece);
    yield piece;
  }
  if (received < limits.expectedLength) {
    throw new UploadError('LENGTH_MISMATCH', `The body ended after ${received} of the ${limits.expectedLength} bytes its Content-Range covers: re-send the whole chunk.`);
  }
}
