import { ValidationFailedError } from '../errors';
import { isUploadId } from './upload-id';

/** The one tus protocol version this service speaks. */
export const TUS_VERSION = '1.0.0';

export const TUS_CHECKSUM_ALGORITHMS = ['sha1', 'sha256', 'md5'] as const;
export type TusChecksumAlgorithm = (typeof TUS_CHECKSUM_ALGORITHMS)[number];

const DIGEST_BYTES: Record<TusChecksumAlgorithm, number> = { sha1: 20, sha256: 32, md5: 16 };
/** Plain decimal digits only: no sign, no exponent, no spaces; at most 2^53 - 1. */
const DECIMAL = /^\d{1,16}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** A metadata key: printable ASCII without spaces or commas (the protocol's separators). */
const METADATA_KEY = /^[\x21-\x2b\x2d-\x7e]+$/;
const METADATA_MAX_KEYS = 64;
const METADATA_MAX_BYTES = 4096;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function invalid(header: string, message: string): ValidationFailedError {
  return new ValidationFailedError([{ field: header, message }]);
}

/** `Upload-Offset` and `Upload-Length`: a non-negative integer in plain decimal digits. */
export function parseTusInteger(header: string, value: string | undefined): number {
  if (value === undefined || value === '') throw invalid(header, 'is required');
  const number = DECIMAL.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number)) throw invalid(header, `must be a whole number of bytes in plain digits (0 to ${Number.MAX_SAFE_INTEGER}), not "${value.slice(0, 40)}"`);
  return number;
}

export interface TusMetadata {
  fileName: string | null;
  contentType: string | null;
  /** Every other key, decoded. */
  metadata: Record<string, string>;
}

/**
 * `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be left out).
 * `filename`/`name` become the file name and `filetype`/`type` the content type, as Uppy and
 * tus-js-client send them; the rest is kept as metadata, within the same 4 KiB as initiate.
 */
export function parseUploadMetadata(value: string | undefined): TusMetadata {
  const pairs = new Map<string, string>();
  for (const item of value === undefined || value.trim() === '' ? [] : value.split(',')) {
    const [key, encoded = '', ...rest] = item.trim().split(' ');
    if (!key || rest.length > 0 || !METADATA_KEY.test(key)) {
      throw invalid('Upload-Metadata', 'must be comma-separated "key base64value" pairs, keys without spaces or commas');
    }
    if (pairs.has(key)) throw invalid('Upload-Metadata', `names the key "${key}" twice`);
    if (pairs.size === METADATA_MAX_KEYS) throw invalid('Upload-Metadata', `may carry at most ${METADATA_MAX_KEYS} keys`);
    if (!BASE64.test(encoded)) throw invalid('Upload-Metadata', `the value of "${key}" is not base64`);
    let decoded: string;
    try {
      decoded = utf8.decode(Buffer.from(encoded, 'base64'));
    } catch {
      throw invalid('Upload-Metadata', `the value of "${key}" is not base64 of UTF-8 text`);
    }
    pairs.set(key, decoded);
  }

  const take = (...names: string[]): string | null => {
    const name = names.find((candidate) => pairs.has(candidate));
    if (name === undefined) return null;
    const found = pairs.get(name) as string;
    for (const alias of names) pairs.delete(alias);
    return found === '' ? null : found;
  };
  const fileName = take('filename', 'name');
  const contentType = take('filetype', 'type');
  const metadata = Object.fromEntries(pairs);
  if (Buffer.byteLength(JSON.stringify(metadata)) > METADATA_MAX_BYTES) throw invalid('Upload-Metadata', 'must be at most 4 KiB besides the file name and type');
  return { fileName, contentType, metadata };
}

/** `Upload-Metadata` of a stored upload: its file name and type under tus's usual keys, then the rest. */
export function formatUploadMetadata(upload: { fileName: string; contentType: string | null; metadata: Record<string, string> | null }): string {
  const entries: [string, string][] = [['filename', upload.fileName]];
  if (upload.contentType !== null) entries.push(['filetype', upload.contentType]);
  entries.push(...Object.entries(upload.metadata ?? {}));
  return entries.map(([key, value]) => (value === '' ? key : `${key} ${Buffer.from(value).toString('base64')}`)).join(',');
}

export interface TusChecksum {
  algorithm: TusChecksumAlgorithm;
  digest: Buffer;
}

/** `Upload-Checksum`: `<algorithm> <base64 digest>`, for one of the algorithms this service offers. */
export function parseUploadChecksum(value: string): TusChecksum {
  const [name = '', encoded = '', ...rest] = value.trim().split(' ');
  const algorithm = name.toLowerCase() as TusChecksumAlgorithm;
  if (!TUS_CHECKSUM_ALGORITHMS.includes(algorithm)) {
    throw invalid('Upload-Checksum', `uses an algorithm this server does not offer ("${name.slice(0, 20)}"): use one of ${TUS_CHECKSUM_ALGORITHMS.join(', ')}`);
  }
  const digest = Buffer.from(encoded, 'base64');
  if (rest.length > 0 || !BASE64.test(encoded) || digest.length !== DIGEST_BYTES[algorithm]) {
    throw invalid('Upload-Checksum', `must be "${algorithm} <base64 of the ${DIGEST_BYTES[algorithm]}-byte digest>"`);
  }
  return { algorithm, digest };
}

export type TusConcat = { kind: 'partial' } | { kind: 'final'; uploadIds: string[]; urls: string[] };

/** `Upload-Concat`: `partial`, or `final;` and the URLs of the partial uploads, space-separated. */
export function parseUploadConcat(value: string): TusConcat {
  const trimmed = value.trim();
  if (trimmed === 'partial') return { kind: 'partial' };
  if (!trimmed.startsWith('final;')) throw invalid('Upload-Concat', 'must be "partial" or "final;" followed by the URLs of the partial uploads');
  const urls = trimmed.slice('final;'.length).trim().split(/ +/).filter(Boolean);
  if (urls.length === 0) throw invalid('Upload-Concat', 'must name at least one partial upload after "final;"');
  return { kind: 'final', uploadIds: urls.map(uploadIdOfUrl), urls };
}

/** The `Upload-Concat` a HEAD echoes: the value the upload was created with, URLs as the client sent them. */
export function formatUploadConcat(concat: TusConcat): string {
  return concat.kind === 'partial' ? 'partial' : `final;${concat.urls.join(' ')}`;
}

/** Whether an upload is a tus final upload, which takes no PATCH: its bytes are its partial uploads'. */
export function isFinalUpload(session: { tusConcat: string | null }): boolean {
  return session.tusConcat?.startsWith('final;') ?? false;
}

/** The upload id a tus URL ends with (`/files/ID` or a full URL); anything else is refused. */
export function uploadIdOfUrl(url: string): string {
  let path = url;
  try {
    path = new URL(url, 'http://relative.invalid').pathname;
  } catch {
    // Left as given; the check below refuses it.
  }
  const id = path.replace(/\/+$/, '').split('/').pop();
  if (!isUploadId(id)) throw invalid('Upload-Concat', `names "${url.slice(0, 80)}", which is not the URL of an upload on this server`);
  return id;
}
