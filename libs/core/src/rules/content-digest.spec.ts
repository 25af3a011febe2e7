import { createHash } from 'node:crypto';
import { parseContentDigest } from './content-digest';

const invalidDigest = expect.objectContaining({ code: 'INVALID_DIGEST' });

const sha256 = (text: string) => createHash('sha256').update(text).digest();
const helloDigest = sha256('hello');
const helloBase64 = helloDigest.toString('base64');
const helloHex = helloDigest.toString('hex');
const otherBase64 = sha256('other').toString('base64');
const sha512Base64 = createHash('sha512').update('hello').digest('base64');

describe(parseContentDigest.name, () => {
  it('returns null when the header is absent', () => {
    expect(parseContentDigest(undefined)).toBeNull();
  });

  it('returns the sha-256 digest as lowercase hex', () => {
    const hex = parseContentDigest(`sha-256=:${helloBase64}:`);
    expect(hex).toBe(helloHex);
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['after another algorithm', `sha-512=:${sha512Base64}:, sha-256=:${helloBase64}:`],
    ['before another algorithm', `sha-256=:${helloBase64}:, sha-512=:${sha512Base64}:`],
    ['among several others', `md5=:XUFAKrxLKna5cZ2REBfFkg==:,sha-256=:${helloBase64}:,   unixsum=:AA==:`],
  ])('ignores other algorithms listed alongside sha-256 (%s)', (_where, header) => {
    expect(parseContentDigest(header)).toBe(helloHex);
  });

  it('allows optional whitespace around members', () => {
    expect(parseContentDigest(`  sha-256=:${helloBase64}:  ,\tsha-512=:${sha512Base64}:`)).toBe(helloHex);
  });

  it('reads a header sent on several lines', () => {
    expect(parseContentDigest([`sha-512=:${sha512Base64}:`, `sha-256=:${helloBase64}:`])).toBe(helloHex);
  });

  it('accepts sha-256 listed twice with the same value', () => {
    expect(parseContentDigest(`sha-256=:${helloBase64}:, sha-256=:${helloBase64}:`)).toBe(helloHex);
  });

  it('rejects sha-256 listed twice with different values', () => {
    expect(() => parseContentDigest(`sha-256=:${helloBase64}:, sha-256=:${otherBase64}:`)).toThrow(invalidDigest);
    expect(() => parseContentDigest([`sha-256=:${helloBase64}:`, `sha-256=:${otherBase64}:`])).toThrow(invalidDigest);
  });

  it.each([
    ['sha-512 alone', `sha-512=:${sha512Base64}:`],
    ['md5 alone', 'md5=:XUFAKrxLKna5cZ2REBfFkg==:'],
    ['several unsupported algorithms', `sha-512=:${sha512Base64}:, md5=:XUFAKrxLKna5cZ2REBfFkg==:`],
  ])('rejects a header with no supported algorithm: %s', (_why, header) => {
    expect(() => parseContentDigest(header)).toThrow(invalidDigest);
    expect(() => parseContentDigest(header)).toThrow(/no supported algorithm/);
  });

  it.each([
    ['an empty value', ''],
    ['only whitespace', '   '],
    ['an empty list', []],
    ['a value that is not a byte sequence', `sha-256=${helloBase64}`],
    ['a missing closing colon', `sha-256=:${helloBase64}`],
    ['a missing opening colon', `sha-256=${helloBase64}:`],
    ['no value', 'sha-256'],
    ['an uppercase algorithm name', `SHA-256=:${helloBase64}:`],
    ['the legacy Digest header syntax', `SHA-256=${helloBase64}`],
    ['characters outside base64', 'sha-256=:!!!!:'],
    ['a trailing comma', `sha-256=:${helloBase64}:,`],
    ['an empty member', `sha-256=:${helloBase64}:,,sha-512=:${sha512Base64}:`],
    ['a malformed member next to a good sha-256', `sha-256=:${helloBase64}:, garbage`],
  ])('rejects a malformed header: %s', (_why, header) => {
    expect(() => parseContentDigest(header)).toThrow(invalidDigest);
  });

  it.each([
    ['empty', ''],
    ['31 bytes', Buffer.alloc(31, 1).toString('base64')],
    ['33 bytes', Buffer.alloc(33, 1).toString('base64')],
    ['a SHA-512 digest', sha512Base64],
    ['the hex digest instead of base64', helloHex],
  ])('rejects a sha-256 value of the wrong length: %s', (_why, value) => {
    expect(() => parseContentDigest(`sha-256=:${value}:`)).toThrow(invalidDigest);
  });
});
