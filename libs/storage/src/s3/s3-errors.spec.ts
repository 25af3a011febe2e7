import { InsufficientStorageError, ServiceUnavailableError } from '@app/core';
import { isStoreUnavailable, toDomainError } from './s3-errors';
import { explainStartupFailure } from './s3-startup';

/** An error shaped as the SDK throws them: a name and the HTTP status it came with, if any. */
function s3Error(name: string, httpStatusCode?: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });
}

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:9000`), { code });
}

describe(isStoreUnavailable.name, () => {
  it.each([
    ['throttling', s3Error('SlowDown', 503)],
    ['a 500', s3Error('InternalError', 500)],
    ['any 5xx', s3Error('Unknown', 502)],
    ['a 429', s3Error('Unknown', 429)],
    ['a refused connection', socketError('ECONNREFUSED')],
    ['a reset connection', socketError('ECONNRESET')],
    ['a timeout', s3Error('TimeoutError')],
    ['a bucket deleted under the service', s3Error('NoSuchBucket', 404)],
    ['revoked credentials', s3Error('InvalidAccessKeyId', 403)],
    ['a socket error the SDK wrapped', new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:9')],
  ])('counts %s as the store being unavailable', (_what, error) => {
    expect(isStoreUnavailable(error)).toBe(true);
  });

  it.each([
    ['a refused completion', s3Error('InvalidPart', 400)],
    ['a missing key', s3Error('NoSuchKey', 404)],
    ['a replaced multipart upload', s3Error('NoSuchUpload', 404)],
    ['an error of the body being sent', new Error('lease lost')],
  ])('passes %s through', (_what, error) => {
    expect(isStoreUnavailable(error)).toBe(false);
    expect(toDomainError(error)).toBe(error);
  });

  it('turns unavailability into the 503 of the contract, keeping the cause for the logs', () => {
    const cause = s3Error('SlowDown', 503);
    const error = toDomainError(cause) as ServiceUnavailableError;
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.message).not.toMatch(/SlowDown|127\.0\.0\.1/);
    expect(error.cause).toBe(cause);
  });
});

describe('a full store', () => {
  it.each([
    ['a quota (RGW, MinIO)', s3Error('QuotaExceeded', 403)],
    ['a full MinIO', s3Error('XMinioStorageFull', 507)],
  ])('turns %s into the 507 of the contract', (_what, error) => {
    expect(toDomainError(error)).toBeInstanceOf(InsufficientStorageError);
  });
});

describe(explainStartupFailure.name, () => {
  const settings = { bucket: 'uploads', endpoint: 'http://minio:9000', forcePathStyle: true, prefix: '', checksums: false };

  it.each([
    [s3Error('NoSuchBucket', 404), /^S3_BUCKET: bucket "uploads" does not exist at http:\/\/minio:9000/],
    [s3Error('InvalidAccessKeyId', 403), /^AWS_ACCESS_KEY_ID: /],
    [s3Error('SignatureDoesNotMatch', 403), /^AWS_SECRET_ACCESS_KEY: /],
    [s3Error('AccessDenied', 403), /^AWS_ACCESS_KEY_ID: .*s3:ListBucket/],
    [s3Error('CredentialsProviderError', undefined, 'Could not load credentials from any providers'), /^AWS_ACCESS_KEY_ID: no S3 credentials were found/],
    [new Error('Region is missing'), /^AWS_REGION: /],
    [socketError('ECONNREFUSED'), /^S3_ENDPOINT: http:\/\/minio:9000 could not be reached/],
  ])('names the setting to fix for %s', (error, message) => {
    expect(explainStartupFailure(error, settings)).toMatch(message);
  });

  it('speaks of AWS S3 when no endpoint is set', () => {
    expect(explainStartupFailure(s3Error('NoSuchBucket', 404), { ...settings, endpoint: null })).toMatch(/does not exist at AWS S3/);
  });
});
