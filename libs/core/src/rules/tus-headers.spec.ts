import { createHash } from 'node:crypto';
import { ValidationFailedError } from '../errors';
import { formatUploadConcat, formatUploadMetadata, isFinalUpload, parseTusInteger, parseUploadChecksum, parseUploadConcat, parseUploadMetadata, uploadIdOfUrl } from './tus-headers';

const ID = 'AbCdEfGhIjKlMnOpQrStUv';
const b64 = (text: string) => Buffer.from(text).toString('base64');

function problemOf(run: () => unknown): { field: string; message: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationFailedError);
    return (error as ValidationFailedError).problems[0];
  }
  throw new Error('expected a ValidationFailedError');
}

describe('parseTusInteger', () => {
  it.each([
    ['0', 0],
    ['5', 5],
    ['007', 7],
    [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
  ])('takes %s', (value, expected) => {
    expect(parseTusInteger('Upload-Offset', value)).toBe(expected);
  });

  it.each(['-1', '+5', '1e3', '1.0', ' 5', '5 ', '0x10', '9007199254740992', '99999999999999999999', 'abc'])('refuses %j, naming the header', (value) => {
    const problem = problemOf(() => parseTusInteger('Upload-Offset', value));
    expect(problem.field).toBe('Upload-Offset');
    expect(problem.message).toContain('plain digits');
  });

  it('says a missing header is required', () => {
    expect(problemOf(() => parseTusInteger('Upload-Length', undefined))).toEqual({ field: 'Upload-Length', message: 'is required' });
  });
});

describe('parseUploadMetadata', () => {
  it('maps the names Uppy and tus-js-client send, and keeps the rest', () => {
    const parsed = parseUploadMetadata(`filename ${b64('report é.pdf')},filetype ${b64('application/pdf')},relativePath ${b64('a/b')},flag`);
    expect(parsed).toEqual({ fileName: 'report é.pdf', contentType: 'application/pdf', metadata: { relativePath: 'a/b', flag: '' } });
  });

  it('takes name and type when filename and filetype are absent', () => {
    expect(parseUploadMetadata(`name ${b64('x.bin')},type ${b64('text/plain')}`)).toEqual({ fileName: 'x.bin', contentType: 'text/plain', metadata: {} });
  });

  it('is empty without the header', () => {
    expect(parseUploadMetadata(undefined)).toEqual({ fileName: null, contentType: null, metadata: {} });
  });

  it.each([
    ['malformed base64', 'filename abc$'],
    ['base64 without padding', 'filename YWJjZA'],
    ['base64 of bytes that are not UTF-8', `filename ${Buffer.from([0xff, 0xfe]).toString('base64')}`],
    ['a key twice', `a ${b64('1')},a ${b64('2')}`],
    ['an empty pair', `a ${b64('1')},,b`],
    ['three parts in a pair', `a ${b64('1')} ${b64('2')}`],
    ['a non-ASCII key', `clé ${b64('1')}`],
    ['10,000 keys', Array.from({ length: 10_000 }, (_, index) => `k${index}`).join(',')],
    ['metadata over 4 KiB', `notes ${b64('x'.repeat(5000))}`],
  ])('refuses %s', (_, value) => {
    expect(problemOf(() => parseUploadMetadata(value)).field).toBe('Upload-Metadata');
  });
});

describe('parseUploadChecksum', () => {
  const digest = (algorithm: string) => createHash(algorithm).update('abc').digest();

  it.each(['sha1', 'sha256', 'md5'])('takes %s with its digest', (algorithm) => {
    expect(parseUploadChecksum(`${algorithm} ${digest(algorithm).toString('base64')}`)).toEqual({ algorithm, digest: digest(algorithm) });
  });

  it('names the algorithms it offers when given another', () => {
    expect(problemOf(() => parseUploadChecksum(`crc32 ${b64('abcd')}`)).message).toContain('sha1, sha256, md5');
  });

  it.each([
    ['a digest of the wrong length', `sha256 ${digest('sha1').toString('base64')}`],
    ['no digest', 'sha1'],
    ['malformed base64', 'sha1 !!!!'],
  ])('refuses %s', (_, value) => {
    expect(problemOf(() => parseUploadChecksum(value)).message).toContain('base64 of the');
  });
});

describe('parseUploadConcat', () => {
  it('takes partial', () => {
    expect(parseUploadConcat('partial')).toEqual({ kind: 'partial' });
  });

  it('takes final with paths and full URLs', () => {
    const other = 'ZyXwVuTsRqPoNmLkJiHgFe';
    expect(parseUploadConcat(`final;/files/${ID} https://uploads.example.com/files/${other}/`)).toEqual({ kind: 'final', uploadIds: [ID, other], urls: [`/files/${ID}`, `https://uploads.example.com/files/${other}/`] });
  });

  it.each([
    ['another keyword', 'whole'],
    ['final with no uploads', 'final;'],
    ['a URL that ends in no upload id', 'final;/files/../../etc/passwd'],
  ])('refuses %s', (_, value) => {
    expect(problemOf(() => parseUploadConcat(value)).field).toBe('Upload-Concat');
  });
});

describe('formatUploadConcat', () => {
  it('gives back the value a partial or final upload was created with', () => {
    const value = `final;/files/${ID} https://uploads.example.com/files/${ID}`;
    expect(formatUploadConcat(parseUploadConcat(value))).toBe(value);
    expect(formatUploadConcat(parseUploadConcat(' partial '))).toBe('partial');
    expect(isFinalUpload({ tusConcat: formatUploadConcat(parseUploadConcat(value)) })).toBe(true);
    expect(isFinalUpload({ tusConcat: 'partial' })).toBe(false);
    expect(isFinalUpload({ tusConcat: null })).toBe(false);
  });
});

describe('uploadIdOfUrl', () => {
  it('takes the last path segment, ignoring a query', () => {
    expect(uploadIdOfUrl(`http://h/files/${ID}?x=1`)).toBe(ID);
  });
});

describe('formatUploadMetadata', () => {
  it('gives back what parseUploadMetadata took, under the usual keys', () => {
    const header = formatUploadMetadata({ fileName: 'été.mp4', contentType: 'video/mp4', metadata: { album: 'holidays', empty: '' } });
    expect(parseUploadMetadata(header)).toEqual({ fileName: 'été.mp4', contentType: 'video/mp4', metadata: { album: 'holidays', empty: '' } });
    expect(header.split(',')).toContain('empty');
  });
});
