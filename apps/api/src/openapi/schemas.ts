import type { SchemaObject } from '@nestjs/swagger';
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '@app/config';
import { UPLOAD_EVENT_TYPES, UPLOAD_STATUSES, UploadErrorCode } from '@app/core';
import { ERROR_STATUS } from '../http/error-status';

/** Every error code the API answers with, in the order of the status map. */
export const ERROR_CODES = Object.keys(ERROR_STATUS) as UploadErrorCode[];

/** What each code means; typed by the code union, so a new code cannot go undocumented. */
export const ERROR_DESCRIPTIONS: Record<UploadErrorCode, string> = {
  VALIDATION_FAILED: 'The JSON body is malformed, has an unknown field, or a field or header fails its rule; `errors` lists each one.',
  FILE_TOO_LARGE: '`fileSize` is over MAX_FILE_SIZE; `maxFileSize` gives the limit.',
  INVALID_CONTENT_RANGE: 'Content-Range is missing, or is not `bytes a-b/total` in plain decimal digits with a ≤ b.',
  RANGE_NOT_SATISFIABLE:
    'Chunk: the range is outside the file, its total is not `fileSize`, or it is not exactly one chunk of the grid (`expectedRange` names the chunk meant). Download: the Range starts past the end of the file.',
  LENGTH_MISMATCH: 'Content-Length differs from the length of the range, or the body came out shorter or longer than the range.',
  CHUNK_TOO_LARGE: 'A body sent without Content-Length ran past the session’s `chunkSize`.',
  INVALID_DIGEST: 'Content-Digest is malformed or carries no `sha-256`.',
  CHECKSUM_MISMATCH: 'Chunk: the body does not match its Content-Digest (`expected`, `actual`; nothing recorded). Complete: the `sha256` sent differs from the assembled file’s (`sha256`).',
  INVALID_UPLOAD_ID: 'No upload id, one that is not 22 URL-safe characters, or an `uploadId` query parameter and Upload-Id header that disagree.',
  UPLOAD_NOT_FOUND: 'No upload has this id, or it was created with another API key.',
  UPLOAD_EXPIRED: 'The upload expired and its data was removed: start a new one.',
  UPLOAD_ABORTED: 'The upload was aborted and its data was removed: start a new one.',
  UPLOAD_NOT_ACCEPTING: 'The upload is `assembling`, `completed` or `failed` and takes no more chunks (`status`); or `complete` on a `failed` upload (`error`).',
  UPLOAD_INCOMPLETE: 'Chunks are still missing: `missingChunks` and `missingRanges` list them.',
  UPLOAD_NOT_COMPLETED: 'The upload is not `completed` yet (`status`): poll its status until it is.',
  CHUNK_CONFLICT: 'The chunk was already received with other bytes; the stored bytes stay (`chunkIndex`).',
  CHUNK_IN_PROGRESS: 'Another request is writing this chunk right now: retry after Retry-After (`chunkIndex`).',
  IDEMPOTENCY_KEY_REUSED: 'This Idempotency-Key was already used with a different body: use a new key for a new upload.',
  UNAUTHORIZED: 'Missing or wrong API key. Only answered when the server has API_KEYS set.',
  REQUEST_TIMEOUT: 'The chunk body sent nothing for BODY_IDLE_TIMEOUT; nothing was recorded and the connection closes.',
  RATE_LIMITED: 'More initiates than INITIATE_RATE_LIMIT allows for this API key or address: retry after Retry-After.',
  INSUFFICIENT_STORAGE: 'The storage is full (or the file cannot fit); nothing was recorded.',
  SERVICE_UNAVAILABLE: 'Postgres or Redis is unreachable; nothing was recorded: retry the same request after Retry-After.',
  TUS_VERSION_UNSUPPORTED: 'tus: the request has no `Tus-Resumable: 1.0.0`; Tus-Version lists the versions served.',
  UNSUPPORTED_MEDIA_TYPE: 'tus: a PATCH whose Content-Type is not `application/offset+octet-stream`.',
  UPLOAD_OFFSET_MISMATCH: 'tus: Upload-Offset differs from the durable offset (`uploadOffset`): send HEAD and resume from there.',
  UPLOAD_IN_PROGRESS: 'tus: another PATCH of this upload is under way: retry after Retry-After, from the offset HEAD reports.',
  UPLOAD_CHECKSUM_MISMATCH: 'tus: the PATCH body does not match its Upload-Checksum; nothing of that PATCH counts.',
  UPLOAD_FAILED: 'tus: the upload failed its verification (`error`) and takes nothing more: start a new upload.',
  UPLOAD_IS_FINAL: 'tus: a PATCH of a final upload (`Upload-Concat: final;…`), whose bytes are its partial uploads’; nothing was recorded.',
};

/** Codes whose answer carries a Retry-After header. */
export const RETRY_AFTER_CODES: ReadonlySet<UploadErrorCode> = new Set<UploadErrorCode>(['CHUNK_IN_PROGRESS', 'UPLOAD_IN_PROGRESS', 'RATE_LIMITED', 'INSUFFICIENT_STORAGE', 'SERVICE_UNAVAILABLE']);

export const UPLOAD_ID_SCHEMA: SchemaObject = { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$', example: 'Xq3vT9pL0aZbR7wE2mN5cA' };
const SHA256_HEX: SchemaObject = { type: 'string', pattern: '^[0-9a-fA-F]{64}$', example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' };
const TIMESTAMP: SchemaObject = { type: 'string', format: 'date-time' };
const COUNT: SchemaObject = { type: 'integer', minimum: 0 };
const BYTES: SchemaObject = { type: 'integer', format: 'int64', minimum: 0 };
const UPLOAD_STATUS: SchemaObject = { type: 'string', enum: [...UPLOAD_STATUSES], description: '`uploading` → `assembling` → `completed`, or `failed`, `aborted`, `expired`.' };
const BYTE_RANGE: SchemaObject = { type: 'string', example: 'bytes 524288-1048575/1048576' };

export type SchemaName = keyof ReturnType<typeof openApiSchemas>;

/** A reference to one of the shared schemas below. */
export function schemaRef(name: SchemaName): { $ref: string } {
  return { $ref: `#/components/schemas/${name}` };
}

/** The error body narrowed to the codes one response can carry. */
export function errorSchema(codes: UploadErrorCode[]): SchemaObject {
  const statuses = [...new Set(codes.map((code) => ERROR_STATUS[code]))];
  return {
    allOf: [schemaRef('ErrorBody'), { type: 'object', properties: { statusCode: { type: 'integer', enum: statuses }, code: { type: 'string', enum: codes } } }],
  };
}

export interface DocumentedLimits {
  maxFileSize: number;
  defaultChunkSize: number;
}

/** The shared schemas; the limits are this server's, so the document says what it will accept. */
export function openApiSchemas(limits: DocumentedLimits) {
  const ErrorBody: SchemaObject = {
    type: 'object',
    description: 'Every error. `code` is stable and machine-readable; `message` says what was wrong and what to do. Some codes add details, listed below.',
    required: ['statusCode', 'code', 'message'],
    additionalProperties: true,
    properties: {
      statusCode: { type: 'integer', description: 'The HTTP status, repeated.', example: 404 },
      code: { type: 'string', enum: ERROR_CODES, example: 'UPLOAD_NOT_FOUND' },
      message: { type: 'string', example: 'No upload has this id: check the id, or initiate a new upload.' },
      errors: { type: 'array', items: schemaRef('FieldProblem'), description: 'VALIDATION_FAILED: every field or header that failed.' },
      maxFileSize: { ...BYTES, description: 'FILE_TOO_LARGE: the largest file this server accepts.' },
      fileSize: { ...BYTES, description: 'RANGE_NOT_SATISFIABLE: the size of the file.' },
      expectedRange: { ...BYTE_RANGE, description: 'RANGE_NOT_SATISFIABLE: the Content-Range of the chunk the request most likely meant.' },
      chunkIndex: { ...COUNT, description: 'CHUNK_CONFLICT, CHUNK_IN_PROGRESS, REQUEST_TIMEOUT: the chunk concerned.' },
      expected: { ...SHA256_HEX, description: 'CHECKSUM_MISMATCH on a chunk: the SHA-256 (hex) its Content-Digest declared.' },
      actual: { ...SHA256_HEX, description: 'CHECKSUM_MISMATCH on a chunk: the SHA-256 (hex) of the body received.' },
      sha256: { ...SHA256_HEX, description: 'CHECKSUM_MISMATCH on complete: the SHA-256 of the assembled file.' },
      status: { ...UPLOAD_STATUS, description: 'UPLOAD_NOT_ACCEPTING, UPLOAD_NOT_COMPLETED: the upload’s status.' },
      error: { allOf: [schemaRef('UploadProblem')], description: 'UPLOAD_NOT_ACCEPTING on a failed upload: why it failed.' },
      missingChunks: { type: 'array', items: COUNT, description: 'UPLOAD_INCOMPLETE: the first 1,000 missing chunk indexes.' },
      missingRanges: { type: 'array', items: BYTE_RANGE, description: 'UPLOAD_INCOMPLETE: the missing chunks as merged byte ranges.' },
    },
  };

  const FieldProblem: SchemaObject = {
    type: 'object',
    required: ['field', 'message'],
    properties: { field: { type: 'string', example: 'chunkSize' }, message: { type: 'string', example: 'must be a whole number of bytes from 262144 (256 KiB) to 67108864 (64 MiB)' } },
  };

  const InitiateRequest: SchemaObject = {
    type: 'object',
    required: ['fileName', 'fileSize'],
    additionalProperties: false,
    properties: {
      fileName: {
        type: 'string',
        minLength: 1,
        maxLength: 255,
        example: 'holiday.mp4',
        description:
          '1 to 255 bytes of UTF-8. No `/`, `\\`, control characters, line separators or bidirectional overrides; not `.` or `..`; not a Windows device name (`CON`, `nul.txt`, `LPT1`…). Sent back, RFC 6266-encoded, on download.',
      },
      fileSize: { ...BYTES, maximum: limits.maxFileSize, example: Math.min(1073741824, limits.maxFileSize), description: `Bytes, 0 or more. Over MAX_FILE_SIZE (${limits.maxFileSize} on this server) is 413 FILE_TOO_LARGE.` },
      chunkSize: {
        type: 'integer',
        minimum: MIN_CHUNK_SIZE,
        maximum: MAX_CHUNK_SIZE,
        default: limits.defaultChunkSize,
        description: 'Bytes per chunk (256 KiB to 64 MiB); the last chunk may be shorter. Defaults to DEFAULT_CHUNK_SIZE.',
      },
      sha256: { ...SHA256_HEX, description: 'The whole file’s expected SHA-256 (hex); the assembled file must match it or the upload fails.' },
      contentType: { type: 'string', maxLength: 255, example: 'video/mp4', description: 'A media type, stored and sent back as the download’s Content-Type.' },
      metadata: { type: 'object', additionalProperties: { type: 'string' }, example: { album: 'Summer' }, description: 'String → string, at most 4 KiB serialized as JSON.' },
    },
  };

  const InitiateResponse: SchemaObject = {
    type: 'object',
    required: ['uploadId', 'uploadUrl', 'statusUrl', 'chunkSize', 'totalChunks', 'expiresAt'],
    properties: {
      uploadId: { ...UPLOAD_ID_SCHEMA, description: 'Unguessable (128 random bits), URL-safe.' },
      uploadUrl: { type: 'string', format: 'uri', description: 'Where to PUT the chunks; honours PUBLIC_BASE_URL.' },
      statusUrl: { type: 'string', format: 'uri', description: 'The status of the upload; also sent as Location.' },
      chunkSize: COUNT,
      totalChunks: { ...COUNT, description: 'ceil(fileSize / chunkSize).' },
      expiresAt: { ...TIMESTAMP, description: 'When the upload expires if no chunk arrives; every chunk pushes it back by UPLOAD_TTL.' },
    },
  };

  const ChunkReceipt: SchemaObject = {
    type: 'object',
    required: ['uploadId', 'chunkIndex', 'receivedChunks', 'totalChunks', 'receivedBytes', 'status'],
    properties: {
      uploadId: UPLOAD_ID_SCHEMA,
      chunkIndex: COUNT,
      receivedChunks: COUNT,
      totalChunks: COUNT,
      receivedBytes: BYTES,
      status: { ...UPLOAD_STATUS, description: 'Already `assembling` in the answer to the chunk that completed the set.' },
    },
  };

  const UploadProblem: SchemaObject = {
    type: 'object',
    required: ['code', 'message'],
    properties: {
      code: { type: 'string', example: 'CHUNKS_CORRUPT', description: '`CHECKSUM_MISMATCH`, `STORAGE_LOST` or `STORAGE_CORRUPT` on a failed upload; `CHUNKS_CORRUPT` or `CHUNKS_LOST` when chunks went back to missing.' },
      message: { type: 'string' },
      chunks: { type: 'array', items: COUNT, description: 'CHUNKS_CORRUPT, CHUNKS_LOST: the chunks to send again.' },
    },
  };

  const UploadStatus: SchemaObject = {
    type: 'object',
    required: ['uploadId', 'fileName', 'fileSize', 'chunkSize', 'totalChunks', 'status', 'receivedChunks', 'receivedBytes', 'missingChunks', 'missingRanges', 'createdAt', 'updatedAt', 'expiresAt'],
    properties: {
      uploadId: UPLOAD_ID_SCHEMA,
      fileName: { type: 'string' },
      fileSize: BYTES,
      chunkSize: COUNT,
      totalChunks: COUNT,
      contentType: { type: 'string', nullable: true },
      metadata: { type: 'object', additionalProperties: { type: 'string' } },
      status: UPLOAD_STATUS,
      receivedChunks: COUNT,
      receivedBytes: BYTES,
      missingChunks: { type: 'array', items: COUNT, maxItems: 1000, description: 'The first 1,000 missing chunk indexes (resume by sending these).' },
      missingRanges: { type: 'array', items: BYTE_RANGE, description: 'The missing chunks as merged byte ranges.' },
      sha256: { ...SHA256_HEX, nullable: true, description: 'The declared SHA-256 until completion; the verified one once `completed`.' },
      error: { allOf: [schemaRef('UploadProblem')], nullable: true, description: 'Set when `failed`, or when a verification sent corrupt chunks back to missing.' },
      createdAt: TIMESTAMP,
      updatedAt: TIMESTAMP,
      expiresAt: TIMESTAMP,
      completedAt: { ...TIMESTAMP, nullable: true },
      downloadUrl: { type: 'string', format: 'uri', nullable: true, description: 'Set once `completed`.' },
    },
  };

  const UploadEvent: SchemaObject = {
    type: 'object',
    required: ['id', 'type', 'state', 'attempts', 'occurredAt', 'nextAttemptAt', 'lastError'],
    properties: {
      id: { type: 'string', example: 'msg_6f1c2a9e0b7d4c3a8e5f1b2c3d4e5f60', description: 'The `webhook-id` every attempt carries.' },
      type: { type: 'string', enum: [...UPLOAD_EVENT_TYPES] },
      state: { type: 'string', enum: ['pending', 'dead'], description: '`pending`: being retried; `dead`: retries are over (WEBHOOK_RETRY_FOR), waiting to be re-sent. Delivered events are not kept.' },
      attempts: COUNT,
      occurredAt: { ...TIMESTAMP, description: 'When the upload reached the status; the body’s `timestamp`.' },
      nextAttemptAt: { ...TIMESTAMP, nullable: true, description: 'When the next attempt is due; null once `dead`.' },
      lastError: { type: 'string', nullable: true, example: 'the receiver answered HTTP 503', description: 'Why the last attempt failed.' },
    },
  };

  const UploadEvents: SchemaObject = {
    type: 'object',
    required: ['uploadId', 'events'],
    properties: { uploadId: UPLOAD_ID_SCHEMA, events: { type: 'array', items: schemaRef('UploadEvent') } },
  };

  const CompleteRequest: SchemaObject = {
    type: 'object',
    additionalProperties: false,
    properties: { sha256: { ...SHA256_HEX, description: 'Declares the whole file’s SHA-256 if initiate did not; a different value than the declared one is 400 VALIDATION_FAILED.' } },
  };

  const HealthLive: SchemaObject = { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } };

  const dependency: SchemaObject = { type: 'string', enum: ['up', 'down'] };
  const HealthReady: SchemaObject = {
    type: 'object',
    required: ['status', 'checks'],
    properties: {
      status: { type: 'string', enum: ['ok', 'unavailable'] },
      checks: { type: 'object', required: ['postgres', 'redis', 'storage'], properties: { postgres: dependency, redis: dependency, storage: dependency } },
    },
  };

  return { ErrorBody, FieldProblem, InitiateRequest, InitiateResponse, ChunkReceipt, UploadProblem, UploadStatus, UploadEvent, UploadEvents, CompleteRequest, HealthLive, HealthReady };
}
