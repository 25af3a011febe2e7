import fc from 'fast-check';
import { UploadError } from '../errors';
import { formatByteRange } from './chunk-grid';
import { ContentRange, parseContentRange } from './content-range';

/** A range the parser must read: first ≤ last, any total (comparing it with the file is the grid's job). */
const validRange: fc.Arbitrary<ContentRange> = fc
  .tuple(fc.maxSafeNat(), fc.maxSafeNat(), fc.maxSafeNat())
  .map(([a, b, total]) => ({ start: Math.min(a, b), end: Math.max(a, b), total }));

const format = (range: ContentRange) => formatByteRange(range, range.total);

/** The error parseContentRange throws for `header`, or null when it accepts it. */
function rejectionOf(header: string): unknown {
  try {
    parseContentRange(header);
    return null;
  } catch (error) {
    return error;
  }
}

function expectInvalidContentRange(header: string): void {
  const error = rejectionOf(header);
  expect(error).toBeInstanceOf(UploadError);
  expect((error as UploadError).code).toBe('INVALID_CONTENT_RANGE');
  expect((error as UploadError).message).toMatch(/bytes <first>-<last>\/<fileSize>|before its first byte/);
}

/** Ways to write a number that are not plain canonical decimal; each turns "42" into something else. */
const numberMutations: Array<[string, (digits: string) => string]> = [
  ['a leading zero', (digits) => `0${digits}`],
  ['a plus sign', (digits) => `+${digits}`],
  ['a minus sign', (digits) => `-${digits}`],
  ['an exponent', (digits) => `${digits}e0`],
  ['a fraction', (digits) => `${digits}.0`],
  ['hexadecimal', (digits) => `0x${Number(digits).toString(16)}`],
  ['a space before it', (digits) => ` ${digits}`],
  ['a space after it', (digits) => `${digits} `],
  ['a tab before it', (digits) => `\t${digits}`],
  ['a no-break space after it', (digits) => `${digits}\u00a0`],
  ['a space inside it', (digits) => `${digits.slice(0, 1)} ${digits.slice(1) || '0'}`],
  ['full-width digits', (digits) => digits.replace(/[0-9]/g, (digit) => String.fromCharCode(0xff10 + Number(digit)))],
  ['a thousands separator', (digits) => `${digits},000`],
];

/** The header of `range` with its number at `position` (0 first, 1 last, 2 total) written as `written`. */
function withNumber(range: ContentRange, position: number, written: string): string {
  const numbers = [range.start, range.end, range.total].map(String);
  numbers[position] = written;
  return `bytes ${numbers[0]}-${numbers[1]}/${numbers[2]}`;
}

describe('parseContentRange, for generated headers', () => {
  it('reads back exactly the range formatByteRange wrote, for any first ≤ last and total up to 2^53-1', () => {
    fc.assert(
      fc.property(validRange, (range) => {
        expect(parseContentRange(format(range))).toEqual(range);
      }),
    );
  });

  it('accepts only canonical headers: whatever it reads, it formats back to the very same string', () => {
    // Tokens that build near-misses far more often than random text would.
    const token = fc.constantFrom('bytes', 'Bytes', 'bytes ', ' ', '\t', '-', '/', '=', ',', '*', '+', '.', 'e', 'x', '0', '1', '7', '00', '10', '9007199254740991', '9007199254740992');
    const nearMiss = fc.array(token, { maxLength: 12 }).map((tokens) => tokens.join(''));
    fc.assert(
      fc.property(fc.oneof(nearMiss, fc.string({ unit: 'binary', maxLength: 40 })), (header) => {
        const error = rejectionOf(header);
        if (error === null) expect(format(parseContentRange(header))).toBe(header);
        else expect((error as UploadError).code).toBe('INVALID_CONTENT_RANGE');
      }),
      { numRuns: 2000 },
    );
  });

  it.each(numberMutations)('rejects any number written with %s, in any position', (_how, mutate) => {
    fc.assert(
      fc.property(validRange, fc.integer({ min: 0, max: 2 }), (range, position) => {
        const numbers = [range.start, range.end, range.total];
        expectInvalidContentRange(withNumber(range, position, mutate(String(numbers[position]))));
      }),
    );
  });

  it('rejects any number above 2^53-1, in any position', () => {
    const huge = fc.bigInt({ min: BigInt(Number.MAX_SAFE_INTEGER) + 1n, max: 10n ** 40n });
    fc.assert(
      fc.property(validRange, fc.integer({ min: 0, max: 2 }), huge, (range, position, number) => {
        expectInvalidContentRange(withNumber(range, position, number.toString()));
      }),
    );
  });

  it('rejects any range whose last byte is before its first, saying so', () => {
    fc.assert(
      fc.property(validRange.filter((range) => range.start < range.end), (range) => {
        const header = format({ ...range, start: range.end, end: range.start });
        expectInvalidContentRange(header);
        expect((rejectionOf(header) as UploadError).message).toContain('before its first byte');
      }),
    );
  });

  it('rejects any unit other than "bytes"', () => {
    const unit = fc.oneof(fc.constantFrom('Bytes', 'BYTES', 'byte', 'bits', 'octets', 'items', 'none', ''), fc.string({ maxLength: 8 })).filter((candidate) => candidate !== 'bytes');
    fc.assert(
      fc.property(validRange, unit, (range, otherUnit) => {
        expectInvalidContentRange(format(range).replace(/^bytes/, otherUnit));
      }),
    );
  });

  it('rejects whitespace inserted anywhere', () => {
    const whitespace = fc.constantFrom(' ', '\t', '\n', '\r\n', '\u00a0', '\u2003');
    fc.assert(
      fc.property(validRange, whitespace, fc.nat(), (range, space, at) => {
        const header = format(range);
        const position = at % (header.length + 1);
        expectInvalidContentRange(header.slice(0, position) + space + header.slice(position));
      }),
    );
  });

  it('rejects any separator dropped or replaced by another character, as in "bytes=a-b/total"', () => {
    const replacements = fc.oneof(fc.constantFrom('=', ':', '_', '\u2013', ''), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
    fc.assert(
      fc.property(validRange, fc.constantFrom(' ', '-', '/'), replacements, (range, separator, replacement) => {
        fc.pre(replacement !== separator);
        const header = format(range);
        const at = separator === ' ' ? 'bytes'.length : separator === '-' ? header.indexOf('-') : header.indexOf('/');
        expectInvalidContentRange(header.slice(0, at) + replacement + header.slice(at + 1));
      }),
    );
  });

  it('rejects several ranges in one header, the unsatisfied-range form and a range without a total', () => {
    fc.assert(
      fc.property(validRange, validRange, (first, second) => {
        expectInvalidContentRange(`bytes ${first.start}-${first.end},${second.start}-${second.end}/${first.total}`);
        expectInvalidContentRange(`bytes */${first.total}`);
        expectInvalidContentRange(`bytes ${first.start}-${first.end}/*`);
        expectInvalidContentRange(`bytes ${first.start}-${first.end}`);
        expectInvalidContentRange(`${format(first)}, ${format(second)}`);
      }),
    );
  });
});
