import { UploadError } from '../errors';
import { ByteRange } from './chunk-grid';

export interface ContentRange extends ByteRange {
  /** The complete length declared after the slash. */
  total: number;
}

// Plain decimal digits only: no signs, spaces, exponents, hex or leading zeros.
const NUMBER = '(0|[1-9][0-9]*)';
const CONTENT_RANGE = new RegExp(`^bytes ${NUMBER}-${NUMBER}/${NUMBER}$`);

const EXPECTED = 'send Content-Range: bytes <first>-<last>/<fileSize> with plain decimal numbers, e.g. "bytes 0-8388607/20971520"';

/** Parses a PUT's `Content-Range`; anything but `bytes a-b/total` with a ≤ b is rejected. */
export function parseContentRange(header: string | string[] | undefined): ContentRange {
  if (header === undefined || header === '') {
    throw new UploadError('INVALID_CONTENT_RANGE', `The Content-Range header is missing: ${EXPECTED}.`);
  }
  const match = typeof header === 'string' ? CONTENT_RANGE.exec(header) : null;
  if (!match) throw new UploadError('INVALID_CONTENT_RANGE', `The Content-Range header is malformed: ${EXPECTED}.`);
  const [start, end, total] = match.slice(1).map(Number);
  if (![start, end, total].every(Number.isSafeInteger)) {
    throw new UploadError('INVALID_CONTENT_RANGE', `The Content-Range header has a number above 2^53-1: ${EXPECTED}.`);
  }
  if (end < start) {
    throw new UploadError('INVALID_CONTENT_RANGE', `The Content-Range's last byte (${end}) is before its first byte (${start}): ${EXPECTED}.`);
  }
  return { start, end, total };
}
