import { FieldProblem, UploadError, ValidationFailedError } from '../errors';
import { parseCompleteRequest, parseInitiateRequest, UploadLimits } from './initiate-request';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const limits: UploadLimits = { maxFileSize: 10 * GiB, defaultChunkSize: 8 * MiB, minChunkSize: 256 * KiB, maxChunkSize: 64 * MiB };
const validBody = { fileName: 'movie.mp4', fileSize: 1048576 };
const SHA256 = 'a'.repeat(64);

/** Runs `action`, expecting an UploadError, and returns it. */
function uploadErrorFrom(action: () => unknown): UploadError {
  try {
    action();
  } catch (error) {
    if (error instanceof UploadError) return error;
    throw error;
  }
  throw new Error('expected an UploadError, but nothing was thrown');
}

/** The field problems a VALIDATION_FAILED error lists. */
function problemsOf(action: () => unknown): FieldProblem[] {
  const error = uploadErrorFrom(action);
  expect(error.code).toBe('VALIDATION_FAILED');
  expect(error).toBeInstanceOf(ValidationFailedError);
  return (error as ValidationFailedError).problems;
}

const fieldsOf = (action: () => unknown) => problemsOf(action).map((problem) => problem.field);
const initiate = (body: unknown) => () => parseInitiateRequest(body, limits);

describe(parseInitiateRequest.name, () => {
  it('fills in the defaults for the optional fields', () => {
    expect(parseInitiateRequest(validBody, limits)).toEqual({
      fileName: 'movie.mp4',
      fileSize: 1048576,
      chunkSize: 8 * MiB,
      sha256: null,
      contentType: null,
      metadata: {},
    });
  });

  it('keeps every field given and lowercases the sha256', () => {
    const body = {
      fileName: 'résumé.pdf',
      fileSize: 0,
      chunkSize: 256 * KiB,
      sha256: 'ABCDEF' + '0'.repeat(58),
      contentType: 'application/pdf',
      metadata: { owner: 'ada', project: '' },
    };
    expect(parseInitiateRequest(body, limits)).toEqual({ ...body, sha256: 'abcdef' + '0'.repeat(58) });
  });

  it('treats explicit nulls for sha256 and contentType as absent', () => {
    expect(parseInitiateRequest({ ...validBody, sha256: null, contentType: null }, limits)).toMatchObject({ sha256: null, contentType: null });
  });

  it.each([null, undefined, [], [validBody], 'movie.mp4', 42, true])('rejects a body that is not a JSON object: %p', (body) => {
    expect(fieldsOf(initiate(body))).toEqual(['body']);
  });

  describe('fileName', () => {
    it.each([
      ['missing', undefined],
      ['not a string', 42],
      ['null', null],
      ['empty', ''],
      ['"."', '.'],
      ['".."', '..'],
      ['a path', 'videos/movie.mp4'],
      ['a Windows path', 'C:\\movie.mp4'],
      ['NUL', 'movie\u0000.mp4'],
      ['a newline', 'movie\n.mp4'],
      ['a C1 control', 'movie\u009b.mp4'],
      ['over 255 bytes', 'x'.repeat(256)],
      ['over 255 bytes of UTF-8 though under 255 characters', '日'.repeat(86)],
      ['disguised by a right-to-left override', 'invoice\u202efdp.exe'],
      ['a Windows device name with an extension', 'Con.txt'],
    ])('rejects a fileName that is %s', (_why, fileName) => {
      expect(fieldsOf(initiate({ ...validBody, fileName }))).toEqual(['fileName']);
    });

    it.each([
      ['exactly 255 bytes', 'x'.repeat(255)],
      ['exactly 255 bytes of UTF-8', '日'.repeat(85)],
      ['with spaces', 'my movie (final).mp4'],
      ['starting with a dot', '.bashrc'],
    ])('accepts a fileName %s', (_why, fileName) => {
      expect(parseInitiateRequest({ ...validBody, fileName }, limits).fileName).toBe(fileName);
    });
  });

  describe('fileSize', () => {
    it.each([
      ['missing', undefined],
      ['a string of digits', '1048576'],
      ['a fraction', 1.5],
      ['negative', -1],
      ['NaN', NaN],
      ['infinite', Infinity],
      ['above 2^53-1', 2 ** 53],
      ['null', null],
      ['a boolean', true],
    ])('rejects a fileSize that is %s', (_why, fileSize) => {
      expect(fieldsOf(initiate({ ...validBody, fileSize }))).toEqual(['fileSize']);
    });

    it('accepts an empty file', () => {
      expect(parseInitiateRequest({ ...validBody, fileSize: 0 }, limits).fileSize).toBe(0);
    });

    it('accepts a file of exactly MAX_FILE_SIZE', () => {
      expect(parseInitiateRequest({ ...validBody, fileSize: limits.maxFileSize }, limits).fileSize).toBe(limits.maxFileSize);
    });

    it('answers FILE_TOO_LARGE, with the limit, for a file one byte over MAX_FILE_SIZE', () => {
      const error = uploadErrorFrom(initiate({ ...validBody, fileSize: limits.maxFileSize + 1 }));
      expect(error.code).toBe('FILE_TOO_LARGE');
      expect(error.details).toEqual({ maxFileSize: limits.maxFileSize });
    });

    it('follows the configured MAX_FILE_SIZE', () => {
      const small = { ...limits, maxFileSize: 1000 };
      expect(parseInitiateRequest({ ...validBody, fileSize: 1000 }, small).fileSize).toBe(1000);
      expect(() => parseInitiateRequest({ ...validBody, fileSize: 1001 }, small)).toThrow(expect.objectContaining({ code: 'FILE_TOO_LARGE' }));
    });

    it('reports other bad fields as VALIDATION_FAILED rather than FILE_TOO_LARGE', () => {
      expect(fieldsOf(initiate({ ...validBody, fileSize: limits.maxFileSize + 1, chunkSize: 1 }))).toEqual(['chunkSize']);
    });
  });

  describe('chunkSize', () => {
    it.each([
      ['one byte under 256 KiB', 256 * KiB - 1],
      ['one byte over 64 MiB', 64 * MiB + 1],
      ['zero', 0],
      ['negative', -8 * MiB],
      ['a fraction', 256 * KiB + 0.5],
      ['a string', '8388608'],
      ['null', null],
    ])('rejects a chunkSize that is %s', (_why, chunkSize) => {
      expect(fieldsOf(initiate({ ...validBody, chunkSize }))).toEqual(['chunkSize']);
    });

    it.each([
      ['256 KiB', 256 * KiB],
      ['64 MiB', 64 * MiB],
      ['not a power of two', 1_000_000],
    ])('accepts a chunkSize of %s', (_why, chunkSize) => {
      expect(parseInitiateRequest({ ...validBody, chunkSize }, limits).chunkSize).toBe(chunkSize);
    });

    it('names the bounds in bytes and in the units a person reads', () => {
      expect(problemsOf(initiate({ ...validBody, chunkSize: 1 }))).toEqual([{ field: 'chunkSize', message: 'must be a whole number of bytes from 262144 (256 KiB) to 67108864 (64 MiB)' }]);
    });
  });

  describe('chunkSize with a limit on the number of chunks (S3: parts of 5 MiB or more, at most 10,000)', () => {
    const s3Limits: UploadLimits = { ...limits, maxFileSize: 625 * GiB, minChunkSize: 5 * MiB, maxChunks: 10_000 };
    const s3Initiate = (body: object) => () => parseInitiateRequest({ ...validBody, ...body }, s3Limits);

    it('refuses a chunkSize under 5 MiB, naming 5 MiB', () => {
      expect(problemsOf(s3Initiate({ chunkSize: 5 * MiB - 1 }))).toEqual([{ field: 'chunkSize', message: 'must be a whole number of bytes from 5242880 (5 MiB) to 67108864 (64 MiB)' }]);
    });

    it('keeps the default chunk size while the file fits in 10,000 chunks of it', () => {
      expect(parseInitiateRequest({ ...validBody, fileSize: 10_000 * 8 * MiB }, s3Limits).chunkSize).toBe(8 * MiB);
    });

    it('picks a chunk size, in whole MiB, that fits a larger file in 10,000 chunks', () => {
      const fileSize = 10_000 * 8 * MiB + 1;
      const { chunkSize } = parseInitiateRequest({ ...validBody, fileSize }, s3Limits);
      expect(chunkSize).toBe(9 * MiB);
      expect(Math.ceil(fileSize / chunkSize)).toBeLessThanOrEqual(10_000);
      expect(parseInitiateRequest({ ...validBody, fileSize: 625 * GiB }, s3Limits).chunkSize).toBe(64 * MiB);
    });

    it('refuses a given chunkSize that would make more than 10,000 chunks, saying what would do', () => {
      const problems = problemsOf(s3Initiate({ fileSize: 100 * GiB, chunkSize: 5 * MiB }));
      expect(problems).toEqual([{ field: 'chunkSize', message: expect.stringMatching(/20480 chunks.*at most 10000; use at least 10737419 bytes, or leave chunkSize out/) }]);
    });

    it('answers FILE_TOO_LARGE when no chunk size could fit the file in 10,000 chunks', () => {
      expect(uploadErrorFrom(() => parseInitiateRequest({ ...validBody, fileSize: 700 * GiB }, { ...s3Limits, maxFileSize: 1024 * GiB })).code).toBe('FILE_TOO_LARGE');
    });

    it('has no such limit without maxChunks', () => {
      expect(parseInitiateRequest({ ...validBody, fileSize: 10 * GiB, chunkSize: 256 * KiB }, limits).chunkSize).toBe(256 * KiB);
    });
  });

  describe('sha256', () => {
    it.each([
      ['63 hex characters', 'a'.repeat(63)],
      ['65 hex characters', 'a'.repeat(65)],
      ['a non-hex character', 'g' + 'a'.repeat(63)],
      ['base64', 'LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ='],
      ['surrounded by spaces', ` ${SHA256} `],
      ['a prefixed form', `sha256:${SHA256}`],
      ['empty', ''],
      ['a number', 42],
    ])('rejects a sha256 that is %s', (_why, sha256) => {
      expect(fieldsOf(initiate({ ...validBody, sha256 }))).toEqual(['sha256']);
    });
  });

  describe('contentType', () => {
    it.each(['video/mp4', 'application/vnd.api+json', 'text/plain; charset=utf-8', 'text/plain;charset="utf-8"', 'multipart/mixed; boundary="a b"; x=y'])('accepts %p', (contentType) => {
      expect(parseInitiateRequest({ ...validBody, contentType }, limits).contentType).toBe(contentType);
    });

    it.each([
      ['no subtype', 'video'],
      ['an empty subtype', 'video/'],
      ['an empty type', '/mp4'],
      ['a parameter without a value', 'text/plain; charset'],
      ['NUL', 'text/plain\u0000'],
      ['a control character in a quoted parameter', 'text/plain; a="x\u0001"'],
      ['spaces inside the type', 'text / plain'],
      ['more than 255 characters', `text/${'x'.repeat(251)}`],
      ['a number', 42],
      ['empty', ''],
    ])('rejects a contentType with %s', (_why, contentType) => {
      expect(fieldsOf(initiate({ ...validBody, contentType }))).toEqual(['contentType']);
    });

    it('accepts a contentType of exactly 255 characters', () => {
      const contentType = `text/${'x'.repeat(250)}`;
      expect(parseInitiateRequest({ ...validBody, contentType }, limits).contentType).toBe(contentType);
    });

    // Suspected bug: `\s*` around ";" in CONTENT_TYPE matches CR, LF and U+2028, so
    // "text/plain\r\n; a=b" passes although the value is echoed in the download's Content-Type
    // header, where Node refuses it (ERR_INVALID_CHAR).
    it.each(['text/plain\r\n; a=b', 'text/plain\n;a=b', 'text/plain;\u2028a=b', 'text/plain; a="x\u2028y"'])('rejects a contentType with a line break (%j)', (contentType) => {
      expect(fieldsOf(initiate({ ...validBody, contentType }))).toEqual(['contentType']);
    });
  });

  describe('metadata', () => {
    it.each([
      ['an array', ['a']],
      ['a string', 'a=b'],
      ['null', null],
      ['a number value', { a: 1 }],
      ['an object value', { a: { b: 'c' } }],
      ['a null value', { a: null }],
    ])('rejects metadata that is %s', (_why, metadata) => {
      expect(fieldsOf(initiate({ ...validBody, metadata }))).toEqual(['metadata']);
    });

    it('accepts metadata of exactly 4 KiB serialized', () => {
      const metadata = { key: 'v'.repeat(4096 - '{"key":""}'.length) };
      expect(Buffer.byteLength(JSON.stringify(metadata))).toBe(4096);
      expect(parseInitiateRequest({ ...validBody, metadata }, limits).metadata).toEqual(metadata);
    });

    it('rejects metadata one byte over 4 KiB serialized', () => {
      const metadata = { key: 'v'.repeat(4097 - '{"key":""}'.length) };
      const problems = problemsOf(initiate({ ...validBody, metadata }));
      expect(problems).toEqual([{ field: 'metadata', message: expect.stringMatching(/4 KiB/) }]);
    });

    it('counts the serialized size in UTF-8 bytes, not characters', () => {
      const metadata = { key: 'é'.repeat(2100) };
      expect(fieldsOf(initiate({ ...validBody, metadata }))).toEqual(['metadata']);
    });
  });

  describe('unknown fields', () => {
    it('rejects a field the contract does not define, naming it', () => {
      const problems = problemsOf(initiate({ ...validBody, filename: 'typo.mp4' }));
      expect(problems).toEqual([{ field: 'filename', message: expect.stringMatching(/not a known field/) }]);
    });

    it('names every unknown field', () => {
      expect(fieldsOf(initiate({ ...validBody, size: 1, name: 'x' }))).toEqual(['size', 'name']);
    });

    it('rejects a "__proto__" key parsed from JSON', () => {
      expect(fieldsOf(initiate({ ...JSON.parse('{"__proto__": {"fileSize": 1}}'), ...validBody }))).toContain('__proto__');
    });
  });

  it('reports every bad field at once, each by name', () => {
    const error = uploadErrorFrom(
      initiate({ fileName: '../x', fileSize: -1, chunkSize: 1, sha256: 'nope', contentType: 'nope', metadata: [], extra: true }),
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    const fields = (error as ValidationFailedError).problems.map((problem) => problem.field);
    expect(fields.sort()).toEqual(['chunkSize', 'contentType', 'extra', 'fileName', 'fileSize', 'metadata', 'sha256']);
    expect(error.details).toEqual({ errors: (error as ValidationFailedError).problems });
    for (const field of fields) expect(error.message).toContain(field);
  });

  it('reports a missing fileName and fileSize together for an empty object', () => {
    expect(fieldsOf(initiate({})).sort()).toEqual(['fileName', 'fileSize']);
  });
});

describe(parseCompleteRequest.name, () => {
  it.each([undefined, null, {}])('accepts an empty body (%p) as no declared checksum', (body) => {
    expect(parseCompleteRequest(body)).toEqual({ sha256: null });
  });

  it('returns the declared sha256 lowercased', () => {
    expect(parseCompleteRequest({ sha256: 'ABCDEF' + '0'.repeat(58) })).toEqual({ sha256: 'abcdef' + '0'.repeat(58) });
  });

  it.each([
    ['too short', 'a'.repeat(63)],
    ['not hex', 'z'.repeat(64)],
    ['a number', 1],
  ])('rejects a sha256 that is %s', (_why, sha256) => {
    expect(fieldsOf(() => parseCompleteRequest({ sha256 }))).toEqual(['sha256']);
  });

  it('rejects unknown fields alongside a bad sha256, naming each', () => {
    expect(fieldsOf(() => parseCompleteRequest({ sha256: 'x', force: true, md5: 'y' })).sort()).toEqual(['force', 'md5', 'sha256']);
  });

  it.each([[[]], [[SHA256]], ['sha256'], [42], [false]])('rejects a body that is not a JSON object: %p', (body) => {
    expect(fieldsOf(() => parseCompleteRequest(body))).toEqual(['body']);
  });
});
