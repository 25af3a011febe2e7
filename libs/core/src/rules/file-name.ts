// C0 and C1 controls (NUL and DEL included), and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const CONTROL_OR_LINE_BREAK = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// Bidirectional embeddings, overrides and isolates: they make "exe.jpg" display as "gpj.exe".
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;
// Device names Windows reserves, also before any extension ("con.txt", "LPT1.tar.gz") and
// trailing spaces: such a file cannot be saved under its name on Windows.
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]) *(\..*)?$/i;

/** Why a file name is unacceptable, or null when it is fine. */
export function fileNameProblem(name: string): string | null {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes < 1 || bytes > 255) return 'must be 1 to 255 bytes of UTF-8';
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  if (/[/\\]/.test(name)) return 'must not contain "/" or "\\"';
  if (CONTROL_OR_LINE_BREAK.test(name)) return 'must not contain control characters or line breaks';
  if (BIDI_CONTROL.test(name)) return 'must not contain bidirectional override or isolate characters (U+202A-U+202E, U+2066-U+2069), which can disguise the real extension: rename the file';
  if (!name.isWellFormed()) return 'must be valid UTF-8 text';
  const device = WINDOWS_DEVICE.exec(name);
  if (device) return `is reserved on Windows: "${device[1].toUpperCase()}" is a device name there, with or without an extension; rename the file`;
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
