import { assertUploadId, isUploadId, newUploadId, pickChunkUploadId } from './upload-id';

const invalidUploadId = expect.objectContaining({ code: 'INVALID_UPLOAD_ID' });

describe(newUploadId.name, () => {
  it('makes 22 URL-safe characters that carry 128 random bits', () => {
    const uploadId = newUploadId();
    expect(uploadId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(uploadId, 'base64url')).toHaveLength(16);
  });

  it('makes ids that pass its own check', () => {
    for (let run = 0; run < 100; run++) expect(isUploadId(newUploadId())).toBe(true);
  });

  it('never repeats an id over many draws', () => {
    const ids = new Set(Array.from({ length: 10_000 }, newUploadId));
    expect(ids.size).toBe(10_000);
  });

  it('never starts with a dash, which a command line would read as an option', () => {
    // One in 64 would, if nothing prevented it: 20,000 draws without one cannot be luck.
    expect(Array.from({ length: 20_000 }, newUploadId).filter((id) => id.startsWith('-'))).toEqual([]);
  });

  it('needs no escaping in a URL', () => {
    const uploadId = newUploadId();
    expect(encodeURIComponent(uploadId)).toBe(uploadId);
  });
});

describe(isUploadId.name, () => {
  it.each(['AAAAAAAAAAAAAAAAAAAAAA', 'abcdefghijklmnopqrstu_', 'Zz09-_Zz09-_Zz09-_Zz09'])('accepts %p', (value) => {
    expect(isUploadId(value)).toBe(true);
  });

  it.each([
    ['21 characters', 'A'.repeat(21)],
    ['23 characters', 'A'.repeat(23)],
    ['an empty string', ''],
    ['standard base64 "+"', 'abcdefghijklmnopqrstu+'],
    ['standard base64 "/"', 'abcdefghijklmnopqrstu/'],
    ['padding', 'abcdefghijklmnopqrst=='],
    ['a dot', 'abcdefghijklmnopqrstu.'],
    ['a path traversal', '../../../../etc/passwd'],
    ['a trailing newline', 'abcdefghijklmnopqrstuv\n'],
    ['a space', 'abcdefghij klmnopqrstu'],
    ['a UUID', '123e4567-e89b-12d3-a456-426614174000'],
    ['a number', 1234567890],
    ['an array of an id', ['abcdefghijklmnopqrstuv']],
    ['null', null],
    ['undefined', undefined],
  ])('rejects %s', (_why, value) => {
    expect(isUploadId(value)).toBe(false);
  });
});

describe(assertUploadId.name, () => {
  it('returns a well-formed id unchanged', () => {
    const uploadId = newUploadId();
    expect(assertUploadId(uploadId)).toBe(uploadId);
  });

  it.each([undefined, null, ''])('rejects a missing id (%p) with INVALID_UPLOAD_ID, saying where to put it', (value) => {
    expect(() => assertUploadId(value)).toThrow(invalidUploadId);
    expect(() => assertUploadId(value)).toThrow(/uploadId query parameter or the Upload-Id header/);
  });

  it.each(['short', '../../../../etc/passwd!', 'A'.repeat(23), ['abcdefghijklmnopqrstuv'], 42])('rejects a malformed id %p with INVALID_UPLOAD_ID', (value) => {
    expect(() => assertUploadId(value)).toThrow(invalidUploadId);
    expect(() => assertUploadId(value)).toThrow(/not well-formed/);
  });
});

describe(pickChunkUploadId.name, () => {
  const id = 'AAAAAAAAAAAAAAAAAAAAAA';

  it.each([
    ['the query parameter', id, undefined],
    ['the header', undefined, id],
    ['the header behind an empty query parameter', '', id],
    ['the query parameter beside an empty header', id, ''],
    ['either when both agree', id, id],
  ])('takes %s', (_case, query, header) => {
    expect(pickChunkUploadId(query, header)).toBe(id);
  });

  it('gives nothing when neither is set', () => {
    expect(pickChunkUploadId(undefined, '')).toBeUndefined();
  });

  it('refuses two different ids', () => {
    expect(() => pickChunkUploadId(id, 'BBBBBBBBBBBBBBBBBBBBBB')).toThrow(expect.objectContaining({ code: 'INVALID_UPLOAD_ID', message: expect.stringMatching(/different uploads/) }));
  });
});
