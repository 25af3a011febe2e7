import type { ApiHeaderOptions, HeaderObject } from '@nestjs/swagger';
import { UPLOAD_ID_SCHEMA } from './schemas';

// Request headers, as @ApiHeader options.

export const IDEMPOTENCY_KEY: ApiHeaderOptions = {
  name: 'Idempotency-Key',
  required: false,
  description: 'Makes a repeat of this initiate, with the same key and body, return the first session (200) instead of a new one. The same key with another body is 422 IDEMPOTENCY_KEY_REUSED.',
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
};

export const UPLOAD_ID: ApiHeaderOptions = {
  name: 'Upload-Id',
  required: false,
  description: 'The upload id, instead of the `uploadId` query parameter. Give one of the two; if both, they must agree.',
  schema: UPLOAD_ID_SCHEMA,
};

export const CONTENT_RANGE: ApiHeaderOptions = {
  name: 'Content-Range',
  required: true,
  description: '`bytes a-b/total`: exactly one chunk of the grid (chunk i is bytes i*chunkSize to min((i+1)*chunkSize, fileSize)-1), and total = fileSize.',
  schema: { type: 'string', pattern: '^bytes [0-9]+-[0-9]+/[0-9]+$', example: 'bytes 0-8388607/1073741824' },
};

export const CONTENT_LENGTH: ApiHeaderOptions = {
  name: 'Content-Length',
  required: false,
  description: 'b-a+1 when present. Without it (a chunked body) the body is counted as it streams and must come out at exactly b-a+1 bytes.',
  schema: { type: 'integer', minimum: 0 },
};

export const CONTENT_DIGEST: ApiHeaderOptions = {
  name: 'Content-Digest',
  required: false,
  description: 'RFC 9530 `sha-256=:<base64 of the chunk’s SHA-256>:`. When present, the chunk counts as received only if its bytes match.',
  schema: { type: 'string', example: 'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:' },
};

export const RANGE: ApiHeaderOptions = {
  name: 'Range',
  required: false,
  description: 'One byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) is served as 206. Several ranges, or one that cannot be read, get the whole file (200).',
  schema: { type: 'string', example: 'bytes=0-1048575' },
};

export const IF_RANGE: ApiHeaderOptions = {
  name: 'If-Range',
  required: false,
  description: 'Honour Range only if the file’s ETag is still this one; otherwise the whole file is sent.',
  schema: { type: 'string' },
};

export const IF_NONE_MATCH: ApiHeaderOptions = {
  name: 'If-None-Match',
  required: false,
  description: 'The ETag of a copy the client has: if it matches, 304 with no body.',
  schema: { type: 'string', example: '"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"' },
};

// Response headers, as OpenAPI header objects.

export const LOCATION: HeaderObject = { description: 'The status URL of the upload (`statusUrl`).', schema: { type: 'string', format: 'uri' } };

export const RETRY_AFTER: HeaderObject = { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } };

export const ETAG: HeaderObject = { description: 'The file’s SHA-256 in quotes (a strong validator).', schema: { type: 'string' } };

/** What every successful download carries. */
export const FILE_HEADERS: Record<string, HeaderObject> = {
  'Content-Length': { description: 'Bytes in this answer.', schema: { type: 'integer' } },
  'Content-Type': { description: 'The `contentType` given at initiate, or application/octet-stream.', schema: { type: 'string' } },
  'Content-Disposition': { description: '`attachment` with the file name, RFC 6266-encoded.', schema: { type: 'string' } },
  ETag: ETAG,
  'Accept-Ranges': { schema: { type: 'string', enum: ['bytes'] } },
  'Last-Modified': { description: 'When the upload completed.', schema: { type: 'string' } },
};

export const CONTENT_RANGE_SERVED: HeaderObject = { description: '`bytes a-b/size`: the part of the file in this answer.', schema: { type: 'string' } };

export const CONTENT_RANGE_UNSATISFIED: HeaderObject = { description: '`bytes */size`: the size of the file the Range missed.', schema: { type: 'string' } };
