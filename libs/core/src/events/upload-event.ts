import { UploadSession } from '../upload-session';
import { NOTHING_MISSING, statusView } from '../upload-views';
import { UploadStatus } from '../rules/upload-status';

export const UPLOAD_EVENT_TYPES = ['upload.completed', 'upload.failed'] as const;
export type UploadEventType = (typeof UPLOAD_EVENT_TYPES)[number];

/** The statuses an event is recorded for: an upload's outcomes. */
export const EVENT_STATUSES: readonly UploadStatus[] = ['completed', 'failed'];

/** The event of a status change, if it has one. */
export function eventTypeFor(status: UploadStatus): UploadEventType | null {
  return EVENT_STATUSES.includes(status) ? (`upload.${status}` as UploadEventType) : null;
}

/**
 * The body a receiver gets: the event type, when it happened, and the upload's status body as
 * it was then. Built the same way for every attempt, so every retry carries the same bytes.
 * `baseUrl` makes `downloadUrl` absolute; without one it is a path on the API.
 */
export function uploadEventBody(type: UploadEventType, occurredAt: Date, upload: UploadSession, baseUrl: string): string {
  // A completed or failed upload misses nothing (a verification that finds corrupt chunks sends the upload back to uploading, with no event).
  return JSON.stringify({ type, timestamp: occurredAt.toISOString(), data: statusView(upload, NOTHING_MISSING, baseUrl) });
}
