import type { ApiHeaderOptions, HeaderObject } from '@nestjs/swagger';

// The tus 1.0 headers, as OpenAPI request headers and response headers.

export const TUS_RESUMABLE: ApiHeaderOptions = { name: 'Tus-Resumable', required: true, description: 'Must be `1.0.0`; anything else is 412.', schema: { type: 'string', enum: ['1.0.0'] } };

export const UPLOAD_LENGTH: ApiHeaderOptions = {
  name: 'Upload-Length',
  required: false,
  description: 'The file size in plain decimal digits, at most Tus-Max-Size (MAX_FILE_SIZE). Required but for a final upload (Upload-Concat: final).',
  schema: { type: 'string', pattern: '^[0-9]+$' },
};

export const UPLOAD_CONCAT: ApiHeaderOptions = {
  name: 'Upload-Concat',
  required: false,
  description: '`partial` (an upload to be concatenated later: stored and verified like any), or `final;<url> <url>…`: the named completed uploads of the caller, end to end.',
  schema: { type: 'string' },
};

export const UPLOAD_METADATA: ApiHeaderOptions = {
  name: 'Upload-Metadata',
  required: false,
  description: 'Comma-separated `key base64value` pairs: `filename`/`name` become the file name, `filetype`/`type` the content type, the rest the upload’s metadata (at most 64 keys, 4 KiB).',
  schema: { type: 'string', example: 'filename bW92aWUubXA0,filetype dmlkZW8vbXA0' },
};

export const UPLOAD_OFFSET: ApiHeaderOptions = { name: 'Upload-Offset', required: true, description: 'Where this PATCH’s bytes start: the offset HEAD reports.', schema: { type: 'string', pattern: '^[0-9]+$' } };

export const UPLOAD_CHECKSUM: ApiHeaderOptions = {
  name: 'Upload-Checksum',
  required: false,
  description: '`<sha1|sha256|md5> <base64 digest>` of the whole PATCH body: a mismatch is 460 and nothing of the PATCH counts.',
  schema: { type: 'string' },
};

const OFFSET: HeaderObject = { description: 'The durable offset: bytes stored and recorded, from byte 0 on. Resume from here.', schema: { type: 'integer', minimum: 0 } };
const EXPIRES: HeaderObject = { description: 'While the upload takes bytes: when it expires (RFC 9110 date).', schema: { type: 'string' } };

export const CREATED_HEADERS: Record<string, HeaderObject> = {
  Location: { description: 'The upload’s URL, `/files/<uploadId>`.', schema: { type: 'string', format: 'uri' } },
  'Upload-Offset': OFFSET,
  'Upload-Expires': EXPIRES,
};

export const PATCHED_HEADERS: Record<string, HeaderObject> = { 'Upload-Offset': OFFSET, 'Upload-Expires': EXPIRES };

export const HEAD_HEADERS: Record<string, HeaderObject> = {
  'Upload-Offset': { ...OFFSET, description: `${OFFSET.description} Left out for a final upload until its concatenation is completed.` },
  'Upload-Length': { description: 'The file size.', schema: { type: 'integer', minimum: 0 } },
  'Upload-Metadata': { description: 'The file name, type and metadata, as tus metadata.', schema: { type: 'string' } },
  'Upload-Concat': { description: 'For a partial or final upload: `partial`, or `final;` and the URLs it was created with.', schema: { type: 'string' } },
  'Upload-Expires': EXPIRES,
  'Cache-Control': { schema: { type: 'string', enum: ['no-store'] } },
};

export const DISCOVERY_HEADERS: Record<string, HeaderObject> = {
  'Tus-Version': { schema: { type: 'string', enum: ['1.0.0'] } },
  'Tus-Max-Size': { description: 'MAX_FILE_SIZE.', schema: { type: 'integer' } },
  'Tus-Extension': { schema: { type: 'string', example: 'creation,creation-with-upload,termination,expiration,checksum,concatenation' } },
  'Tus-Checksum-Algorithm': { schema: { type: 'string', example: 'sha1,sha256,md5' } },
};
