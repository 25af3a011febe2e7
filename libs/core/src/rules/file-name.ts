/** Why a file name is unacceptable, or null when it is fine. */
export function fileNameProblem(name: string): string | null {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes < 1 || bytes > 255) return 'must be 1 to 255 bytes of UTF-8';
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  if (/[/\\]/.test(name)) return 'must not contain "/" or "\\"';
  // C0 and C1 controls, DEL and NUL.
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'must not contain control characters';
  if (!name.isWellFormed()) return 'must be valid UTF-8 text';
  return null;
}

/**
 * A `Content-Disposition: attachment` value for a stored name (RFC 6266): an ASCII
 * fallback in `filename` and the exact name, percent-encoded, in `filename*`.
 */
export function contentDisposition(name: string): string {
  const fallback = name
    .normalize('NFKD')
    // Drop the accents NFKD split off (café → cafe), then replace what is still not ASCII.
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '_')
    .replace(/["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
