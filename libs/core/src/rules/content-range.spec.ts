import { parseContentRange } from './content-range';

const invalidContentRange = expect.objectContaining({ code: 'INVALID_CONTENT_RANGE' });

describe(parseContentRange.name, () => {
  it.each([
    { header: 'bytes 0-8388607/20971520', expected: { start: 0, end: 8388607, total: 20971520 } },
    { header: 'bytes 16777216-20971519/20971520', expected: { start: 16777216, end: 20971519, total: 20971520 } },
    { header: 'bytes 0-0/1', expected: { start: 0, end: 0, total: 1 } },
    { header: 'bytes 7-7/10', expected: { start: 7, end: 7, total: 10 } },
    { header: 'bytes 0-9007199254740990/9007199254740991', expected: { start: 0, end: 9007199254740990, total: 9007199254740991 } },
  ])('reads "$header"', ({ header, expected }) => {
    expect(parseContentRange(header)).toEqual(expected);
  });

  it('leaves a range past the declared total to the grid check (a 416, not a malformed header)', () => {
    expect(parseContentRange('bytes 10-19/5')).toEqual({ start: 10, end: 19, total: 5 });
  });

  it.each([undefined, ''])('rejects a missing header (%p)', (header) => {
    expect(() => parseContentRange(header)).toThrow(invalidContentRange);
    expect(() => parseContentRange(header)).toThrow(/missing/);
  });

  it.each([
    ['another unit', 'items 0-9/10'],
    ['a unit without its space', 'bytes0-9/10'],
    ['an "=" as in a Range request', 'bytes=0-9/10'],
    ['an unsatisfied-range form', 'bytes */10'],
    ['an unknown total', 'bytes 0-9/*'],
    ['no total', 'bytes 0-9'],
    ['no last byte', 'bytes 0-/10'],
    ['no first byte', 'bytes -9/10'],
    ['a leading zero in the first byte', 'bytes 05-9/10'],
    ['a leading zero in the last byte', 'bytes 0-09/10'],
    ['a leading zero in the total', 'bytes 0-9/010'],
    ['a double zero', 'bytes 00-9/10'],
    ['a plus sign', 'bytes +5-9/10'],
    ['an exponent', 'bytes 0-1e3/2000'],
    ['a decimal point', 'bytes 0-9.0/10'],
    ['hexadecimal', 'bytes 0x0-0x9/0xa'],
    ['a negative first byte', 'bytes -1-9/10'],
    ['a negative last byte', 'bytes 0--9/10'],
    ['a leading space', ' bytes 0-9/10'],
    ['a trailing space', 'bytes 0-9/10 '],
    ['a trailing newline', 'bytes 0-9/10\n'],
    ['two spaces after the unit', 'bytes  0-9/10'],
    ['spaces around the dash', 'bytes 0 - 9/10'],
    ['a space before the slash', 'bytes 0-9 /10'],
    ['a tab instead of the space', 'bytes\t0-9/10'],
    ['multiple ranges', 'bytes 0-4,5-9/10'],
    ['two headers folded into one', 'bytes 0-4/10, bytes 5-9/10'],
    ['non-ASCII digits', 'bytes ０-９/１０'],
    ['letters', 'bytes a-b/c'],
  ])('rejects %s: %p', (_why, header) => {
    expect(() => parseContentRange(header)).toThrow(invalidContentRange);
  });

  it.each([
    ['the first byte', 'bytes 9007199254740992-9007199254740993/9007199254740994'],
    ['the last byte', 'bytes 0-9007199254740992/9007199254740993'],
    ['the total', 'bytes 0-9/9007199254740992'],
    ['a number far beyond', 'bytes 0-9/99999999999999999999999'],
  ])('rejects a number above 2^53-1 in %s', (_where, header) => {
    expect(() => parseContentRange(header)).toThrow(invalidContentRange);
  });

  it('rejects a range whose last byte is before its first', () => {
    expect(() => parseContentRange('bytes 10-9/20')).toThrow(invalidContentRange);
    expect(() => parseContentRange('bytes 10-9/20')).toThrow(/before its first byte/);
  });

  it.each([[['bytes 0-9/10']], [['bytes 0-4/10', 'bytes 5-9/10']], [[]]])('rejects a header sent several times or as a list: %p', (header) => {
    expect(() => parseContentRange(header)).toThrow(invalidContentRange);
  });

  it('tells the client the expected form in its message', () => {
    expect(() => parseContentRange('bytes */10')).toThrow(/bytes <first>-<last>\/<fileSize>/);
  });
});
