import { UploadError } from '../errors';

export const UPLOAD_STATUSES = ['uploading', 'assembling', 'completed', 'failed', 'aborted', 'expired'] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

/**
 * Allowed moves of the session state machine. `assembling → uploading` is the worker
 * sending corrupt or lost chunks back to missing; `uploading → failed` is an upload whose
 * stored bytes were lost; `failed` is final apart from abort.
 */
const TRANSITIONS: Record<UploadStatus, readonly UploadStatus[]> = {
  uploading: ['assembling', 'failed', 'aborted', 'expired'],
  assembling: ['completed', 'uploading', 'failed', 'aborted'],
  completed: ['aborted'],
  failed: ['aborted'],
  aborted: [],
  expired: [],
};

export function canTransition(from: UploadStatus, to: UploadStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The states a session may move to `to` from, for conditional updates. */
export function statusesLeadingTo(to: UploadStatus): UploadStatus[] {
  return UPLOAD_STATUSES.filter((from) => canTransition(from, to));
}

/** Throws the error for a session that is gone (expired or aborted). */
export function assertNotGone(status: UploadStatus): void {
  if (status === 'expired') {
    throw new UploadError('UPLOAD_EXPIRED', 'This upload expired and its data was removed: start a new upload.');
  }
  if (status === 'aborted') {
    throw new UploadError('UPLOAD_ABORTED', 'This upload was aborted and its data was removed: start a new upload.');
  }
}

/** Throws unless the session can take chunks. */
export function assertAcceptsChunks(status: UploadStatus): void {
  assertNotGone(status);
  if (status !== 'uploading') {
    throw new UploadError('UPLOAD_NOT_ACCEPTING', `This upload is ${status} and takes no more chunks: poll its status instead.`, { status });
  }
}

/** A session still `uploading` past its expiry is expired, even before the sweep marks it. */
export function effectiveStatus(session: { status: UploadStatus; expiresAt: Date }, now = new Date()): UploadStatus {
  return session.status === 'uploading' && session.expiresAt.getTime() <= now.getTime() ? 'expired' : session.status;
}
