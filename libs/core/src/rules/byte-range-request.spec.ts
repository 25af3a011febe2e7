import { parseRangeHeader } from './byte-range-request';

const SIZE = 1000;

describe(parseRangeHeader.name, () => {
  it('serves the whole file when there is no Range header', () => {
    expect(parseRangeHeader(undefined, SIZE)).toEqual({ kind: 'full' });
  });

  it.each([
    ['a closed range', 'bytes=0-99', { start: 0, end: 99 }],
    ['a single byte', 'bytes=5-5', { start: 5, end: 5 }],
    ['the last byte by position', 'bytes=999-999', { start: 999, end: 999 }],
    ['an open range to the end', 'bytes=100-', { start: 100, end: 999 }],
    ['the whole file as a range', 'bytes=0-', { start: 0, end: 999 }],
    ['a last byte past the end, cut at the end', 'bytes=900-5000', { start: 900, end: 999 }],
    ['a last byte beyond 2^53, cut at the end', 'bytes=10-99999999999999999999', { start: 10, end: 999 }],
    ['a suffix of the last bytes', 'bytes=-100', { start: 900, end: 999 }],
    ['a suffix longer than the file, as the whole file', 'bytes=-5000', { start: 0, end: 999 }],
    ['a suffix beyond 2^53, as the whole file', 'bytes=-99999999999999999999', { start: 0, end: 999 }],
    ['surrounding whitespace', '  bytes=0-9  ', { start: 0, end: 9 }],
  ])('serves part of the file for %s (%p)', (_why, header, range) => {
    expect(parseRangeHeader(header, SIZE)).toEqual({ kind: 'partial', range });
  });

  it.each([
    ['a first byte at the end of the file', 'bytes=1000-', SIZE],
    ['a first byte past the end of the file', 'bytes=5000-6000', SIZE],
    ['a first byte beyond 2^53', 'bytes=99999999999999999999-', SIZE],
    ['an empty suffix', 'bytes=-0', SIZE],
    ['any range of an empty file', 'bytes=0-', 0],
    ['a suffix of an empty file', 'bytes=-10', 0],
  ])('answers unsatisfiable for %s (%p)', (_why, header, size) => {
    expect(parseRangeHeader(header, size)).toEqual({ kind: 'unsatisfiable' });
  });

  it.each([
    ['several ranges', 'bytes=0-9,20-29'],
    ['another unit', 'items=0-9'],
    ['no range at all', 'bytes='],
    ['a lone dash', 'bytes=-'],
    ['letters', 'bytes=a-b'],
    ['a negative number', 'bytes=--5'],
    ['a last byte before the first', 'bytes=50-10'],
    ['spaces inside', 'bytes = 0-9'],
    ['an empty header', ''],
  ])('falls back to the whole file for %s (%p)', (_why, header) => {
    expect(parseRangeHeader(header, SIZE)).toEqual({ kind: 'full' });
  });
});
