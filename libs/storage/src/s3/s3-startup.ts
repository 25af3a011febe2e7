import { S3Settings } from '@app/config';
import { isStoreUnavailable, s3ErrorName, s3Status } from './s3-errors';

/** A start-up failure whose message says what to fix: logged without a stack, which would only point into the adapter. */
export class StorageStartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageStartupError';
    this.stack = `${this.name}: ${message}`;
  }
}

/** What an operator must change when the store refuses this deployment at start-up. */
export function explainStartupFailure(error: unknown, settings: S3Settings): string {
  const name = s3ErrorName(error);
  const status = s3Status(error);
  const message = (error as Error | null)?.message ?? String(error);
  const where = settings.endpoint ?? 'AWS S3';
  const bucket = `bucket ${JSON.stringify(settings.bucket)}`;
  if (name === 'NoSuchBucket' || status === 404) return `S3_BUCKET: ${bucket} does not exist at ${where}; create it or correct S3_BUCKET.`;
  if (name === 'InvalidAccessKeyId') return `AWS_ACCESS_KEY_ID: ${where} does not know this access key; check AWS_ACCESS_KEY_ID (or the profile or role in use).`;
  if (name === 'SignatureDoesNotMatch') return `AWS_SECRET_ACCESS_KEY: ${where} refused the signature; check that AWS_SECRET_ACCESS_KEY belongs to AWS_ACCESS_KEY_ID.`;
  if (name === 'CredentialsProviderError') return `AWS_ACCESS_KEY_ID: no S3 credentials were found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or run with an instance role).`;
  if (/region is missing/i.test(message)) return 'AWS_REGION: no region is set; set AWS_REGION (any name, such as us-east-1, for stores other than AWS).';
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) return `AWS_REGION: ${bucket} is in another region; set AWS_REGION to the bucket's region.`;
  if (name === 'AccessDenied' || status === 403) {
    return `AWS_ACCESS_KEY_ID: the credentials in use may not list ${bucket}; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and grant them s3:ListBucket, s3:ListBucketMultipartUploads, s3:GetObject, s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload on the bucket.`;
  }
  if (isStoreUnavailable(error)) return `S3_ENDPOINT: ${where} could not be reached (${message}); check S3_ENDPOINT and that the store is running.`;
  return `S3_BUCKET: listing ${bucket} at ${where} failed (${name}: ${message}); check S3_BUCKET, S3_ENDPOINT and the AWS credentials.`;
}
