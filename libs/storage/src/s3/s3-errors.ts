import { InsufficientStorageError, ServiceUnavailableError } from '@app/core';

/** What the service calls the store in the messages clients see. */
export const STORE_NAME = 'Object storage';

interface S3ErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Errors by which a store says it is full: a bucket or user quota (RGW, MinIO), or a full MinIO. */
const FULL = new Set(['QuotaExceeded', 'XMinioStorageFull', 'XMinioAdminBucketQuotaExceeded']);

/** Errors by which a store says "not now": slow down, busy, timed out. */
const BUSY = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestThrottled', 'TooManyRequestsException', 'RequestLimitExceeded', 'ServiceUnavailable', 'InternalError', 'RequestTimeout']);
/** Errors by which the store refuses this deployment's access: an operator must act, a client can only retry later. */
const REFUSED = new Set(['NoSuchBucket', 'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'CredentialsProviderError']);
/** Socket-level failures: no answer came at all. */
const NO_ANSWER = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'TimeoutError']);

const NO_ANSWER_IN_MESSAGE = new RegExp(`^AWS SDK error wrapper for .*\\b(${[...NO_ANSWER].join('|')})\\b`);

export function s3ErrorName(error: unknown): string {
  const shape = error as S3ErrorShape | null;
  return shape?.name ?? shape?.code ?? '';
}

export function s3Status(error: unknown): number | undefined {
  return (error as S3ErrorShape | null)?.$metadata?.httpStatusCode;
}

/** Whether the store could not serve the request now (after the SDK's own retries), as opposed to refusing it. */
export function isStoreUnavailable(error: unknown): boolean {
  const shape = error as S3ErrorShape | null;
  const name = s3ErrorName(error);
  const status = s3Status(error);
  if (BUSY.has(name) || REFUSED.has(name) || NO_ANSWER.has(name) || NO_ANSWER.has(shape?.code ?? '')) return true;
  // The SDK wraps what it does not recognise as an Error (a socket error from another realm) in a new Error naming it.
  if (NO_ANSWER_IN_MESSAGE.test((error as Error | null)?.message ?? '')) return true;
  if (status !== undefined) return status >= 500 || status === 429 || status === 403;
  return false;
}

/** Turns "the store is full" into the domain's 507 and "unreachable or busy" into its 503; everything else passes through untouched. */
export async function mapStoreErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toDomainError(error);
  }
}

export function isStoreFull(error: unknown): boolean {
  return FULL.has(s3ErrorName(error)) || s3Status(error) === 507;
}

export function toDomainError(error: unknown): unknown {
  if (isStoreFull(error)) return Object.assign(new InsufficientStorageError(), { cause: error });
  if (!isStoreUnavailable(error) || error instanceof ServiceUnavailableError) return error;
  // The cause stays for the logs; the client's message never names the store's internals.
  return Object.assign(new ServiceUnavailableError(STORE_NAME), { cause: error });
}
