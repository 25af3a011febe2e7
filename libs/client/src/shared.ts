// What both entry points export: everything but the platform's hashing and sources.
export { DEFAULT_RETRY, backoffDelay, parseRetryAfter, retryDelay } from './backoff';
export type { RetryPolicy } from './backoff';
export { ChecksumMismatchError, InvalidUploadError, NetworkError, SourceChangedError, UploadAbortedError, UploadError, UploadFailedError, UploadSessionError } from './errors';
export type { ApiErrorBody } from './errors';
export { MemoryFingerprintStore } from './fingerprint-store';
export type { FingerprintStore } from './fingerprint-store';
export type { UploadProgress } from './progress';
export { blobSource, bytesSource, fingerprintOf, isUploadSource } from './source';
export type { UploadSource } from './source';
export type { UploadOptions, UploadResult, UploadSessionInfo } from './upload';
// The contract's routes, retried like an upload's; for tools that read a session (a CLI's `status`).
export { UploadApi } from './http';
export type { ApiConfig, UndeliveredEvent, UploadStatus } from './http';
