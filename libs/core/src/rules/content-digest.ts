import { UploadError } from '../errors';

const SHA256_BYTES = 32;
const SUPPORTED = 'send Content-Digest: sha-256=:<base64 of the chunk\'s SHA-256>: (RFC 9530)';

/**
 * Reads the expected SHA-256 out of an RFC 9530 `Content-Digest` header (a structured-field
 * dictionary such as `sha-256=:X48E9q...=:, sha-512=:...:`). Returns the digest as hex,
 * or null when the header is absent. Other algorithms may be listed alongside sha-256 and
 * are ignored; a header without sha-256, or one that is malformed, is rejected.
 */
export function parseContentDigest(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const value = Array.isArray(header) ? header.join(', ') : header;
  if (value.trim() === '') throw invalid('is empty');

  let sha256: string | null = null;
  for (const member of value.split(',')) {
    const match = /^\s*([a-z][a-z0-9_.*-]*)=:([A-Za-z0-9+/]*={0,2}):\s*$/.exec(member);
    if (!match) throw invalid('is malformed');
    const [, algorithm, base64] = match;
    if (algorithm !== 'sha-256') continue;
    const digest = Buffer.from(base64, 'base64');
    // Lenient on padding, as RFC 8941 asks of parsers; the length is what must be right.
    if (digest.length !== SHA256_BYTES) throw invalid('has a sha-256 value that is not 32 bytes of base64');
    const hex = digest.toString('hex');
    if (sha256 !== null && sha256 !== hex) throw invalid('lists sha-256 twice with different values');
    sha256 = hex;
  }
  if (sha256 === null) {
    throw new UploadError('INVALID_DIGEST', `The Content-Digest header names no supported algorithm: ${SUPPORTED}.`);
  }
  return sha256;
}

function invalid(problem: string): UploadError {
  return new UploadError('INVALID_DIGEST', `The Content-Digest header ${problem}: ${SUPPORTED}.`);
}
