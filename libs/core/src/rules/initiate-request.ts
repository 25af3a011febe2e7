import { FieldProblem, UploadError, ValidationFailedError } from '../errors';
import { fileNameProblem } from './file-name';

export interface UploadLimits {
  maxFileSize: number;
  defaultChunkSize: number;
  minChunkSize: number;
  maxChunkSize: number;
  /** The most chunks a file may have (an S3 upload has at most 10,000 parts); null or absent for no limit. */
  maxChunks?: number | null;
}

export interface InitiateRequest {
  fileName: string;
  fileSize: number;
  chunkSize: number;
  sha256: string | null;
  contentType: string | null;
  metadata: Record<string, string>;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** `5242880 (5 MiB)`: the bytes a client sends and the size a person reads. */
function describeSize(bytes: number): string {
  if (bytes % MiB === 0) return `${bytes} (${bytes / MiB} MiB)`;
  if (bytes % KiB === 0) return `${bytes} (${bytes / KiB} KiB)`;
  return `${bytes}`;
}

/** The chunk size given to a file the client left to the server: the default, or more when that would make too many chunks. */
function pickChunkSize(fileSize: number, limits: UploadLimits): number {
  if (!limits.maxChunks || Math.ceil(fileSize / limits.defaultChunkSize) <= limits.maxChunks) return limits.defaultChunkSize;
  // Whole MiB, so the chunk grid stays easy to read.
  return Math.ceil(fileSize / limits.maxChunks / MiB) * MiB;
}

const FIELDS = new Set(['fileName', 'fileSize', 'chunkSize', 'sha256', 'contentType', 'metadata']);
const METADATA_MAX_BYTES = 4096;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
// type/subtype with optional parameters; no control characters (it is echoed in a header).
// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const CONTENT_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+([ \t]*;[ \t]*[\w!#$&^.+-]+=("[^"\u0000-\u001f\u007f\u2028\u2029]*"|[\w!#$&^.+-]+))*$/;

/** Checks an initiate body field by field and returns it normalised; every bad field is reported at once. */
export function parseInitiateRequest(body: unknown, limits: UploadLimits): InitiateRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationFailedError([{ field: 'body', message: 'must be a JSON object sent with Content-Type: application/json' }]);
  }
  const input = body as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });

  for (const field of Object.keys(input)) {
    if (!FIELDS.has(field)) problem(field, `is not a known field (allowed: ${[...FIELDS].join(', ')})`);
  }

  const { fileName, fileSize, sha256 = null, contentType = null, metadata = {} } = input;
  const fileSizeValid = Number.isSafeInteger(fileSize) && (fileSize as number) >= 0;
  const picked = fileSizeValid ? pickChunkSize(fileSize as number, limits) : limits.defaultChunkSize;
  const chunkSize = input.chunkSize === undefined ? picked : input.chunkSize;

  if (typeof fileName !== 'string') problem('fileName', 'is required and must be a string');
  else {
    const reason = fileNameProblem(fileName);
    if (reason) problem('fileName', reason);
  }

  if (!fileSizeValid) problem('fileSize', 'is required and must be a whole number of bytes, 0 or more');

  if (!Number.isSafeInteger(chunkSize) || (chunkSize as number) < limits.minChunkSize || (chunkSize as number) > limits.maxChunkSize) {
    if (input.chunkSize !== undefined) problem('chunkSize', `must be a whole number of bytes from ${describeSize(limits.minChunkSize)} to ${describeSize(limits.maxChunkSize)}`);
  } else if (limits.maxChunks && fileSizeValid && Math.ceil((fileSize as number) / (chunkSize as number)) > limits.maxChunks) {
    const least = Math.ceil((fileSize as number) / limits.maxChunks);
    problem('chunkSize', `is too small for this file: it would make ${Math.ceil((fileSize as number) / (chunkSize as number))} chunks, and the storage of this server takes at most ${limits.maxChunks}; use at least ${least} bytes, or leave chunkSize out to have one picked`);
  }

  if (sha256 !== null && (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256))) problem('sha256', 'must be 64 hexadecimal characters');

  if (contentType !== null && (typeof contentType !== 'string' || contentType.length > 255 || !CONTENT_TYPE.test(contentType))) {
    problem('contentType', 'must be a media type such as "video/mp4" (at most 255 characters)');
  }

  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata) || Object.values(metadata).some((value) => typeof value !== 'string')) {
    problem('metadata', 'must be an object whose values are strings');
  } else if (Buffer.byteLength(JSON.stringify(metadata)) > METADATA_MAX_BYTES) {
    problem('metadata', 'must be at most 4 KiB when serialized as JSON');
  }

  if (problems.length > 0) throw new ValidationFailedError(problems);

  if ((fileSize as number) > limits.maxFileSize || (chunkSize as number) > limits.maxChunkSize) {
    throw new UploadError('FILE_TOO_LARGE', `The file is ${fileSize} bytes; this server accepts files up to ${limits.maxFileSize} bytes.`, { maxFileSize: limits.maxFileSize });
  }

  return {
    fileName: fileName as string,
    fileSize: fileSize as number,
    chunkSize: chunkSize as number,
    sha256: sha256 === null ? null : (sha256 as string).toLowerCase(),
    contentType: contentType as string | null,
    metadata: metadata as Record<string, string>,
  };
}

/** Checks the optional body of `complete`: `{}` or `{"sha256": "<64 hex>"}`. */
export function parseCompleteRequest(body: unknown): { sha256: string | null } {
  if (body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0)) return { sha256: null };
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationFailedError([{ field: 'body', message: 'must be a JSON object such as {"sha256": "<64 hex>"} or empty' }]);
  }
  const problems: FieldProblem[] = [];
  for (const field of Object.keys(body)) if (field !== 'sha256') problems.push({ field, message: 'is not a known field (allowed: sha256)' });
  const { sha256 = null } = body as { sha256?: unknown };
  if (sha256 !== null && (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256))) problems.push({ field: 'sha256', message: 'must be 64 hexadecimal characters' });
  if (problems.length > 0) throw new ValidationFailedError(problems);
  return { sha256: typeof sha256 === 'string' ? sha256.toLowerCase() : null };
}
