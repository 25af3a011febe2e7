import { UploadSession } from '../upload-session';
import { UploadEventType } from '../events/upload-event';

export const UPLOAD_EVENT_OUTBOX = Symbol('UPLOAD_EVENT_OUTBOX');

/** `pending` events are (re)tried until delivered, which removes them; `dead` ones gave up and wait for an operator. */
export type UploadEventState = 'pending' | 'dead';

/**
 * An event not delivered yet. It is recorded with the status change it tells of (see
 * `UploadRepository.transition`), so there is one for every upload that became `completed` or
 * `failed` while webhooks were on.
 */
export interface UploadEvent {
  /** The `webhook-id`: the same for every attempt, so receivers can drop repeats. */
  id: string;
  uploadId: string;
  type: UploadEventType;
  occurredAt: Date;
  /** The session as the status change left it. */
  upload: UploadSession;
  state: UploadEventState;
  /** Attempts made so far, over every delivery window. */
  attempts: number;
  /** When the current delivery window began: the event itself, or its last re-send. */
  retryFrom: Date;
  nextAttemptAt: Date;
  /** Why the last attempt failed. */
  lastError: string | null;
}

/** An event one deliverer holds: no other claim of it is handed out until `claim` lapses. */
export interface ClaimedUploadEvent extends UploadEvent {
  claim: string;
}

/**
 * The outbox of upload events. A claim is a lease in the store itself (no Redis involved), so a
 * deliverer that dies loses its claims when they lapse and another takes the events over. Every
 * method that takes `claim` does nothing, and answers false, once the claim is no longer the event's.
 */
export interface UploadEventOutbox {
  /**
   * Claims up to `limit` pending events whose next attempt is due and that no live claim holds,
   * oldest due first, each for `claimMs`, and counts the attempt. Concurrent callers get
   * disjoint events.
   */
  claimDue(limit: number, claimMs: number): Promise<ClaimedUploadEvent[]>;

  /** Keeps holding a claimed event for `claimMs` more. */
  extendClaim(id: string, claim: string, claimMs: number): Promise<boolean>;

  /** Removes a delivered event. */
  markDelivered(id: string, claim: string): Promise<boolean>;

  /** Releases the event until `at`, recording why this attempt failed. */
  scheduleRetry(id: string, claim: string, at: Date, error: string): Promise<boolean>;

  /** Gives up on the event: it stays, `dead`, until re-sent. */
  markDead(id: string, claim: string, error: string): Promise<boolean>;

  /** The undelivered events of an upload, oldest first. */
  listForUpload(uploadId: string): Promise<UploadEvent[]>;

  /** Makes the dead events of an upload pending again, due now, with a new delivery window; returns them. */
  redeliverDead(uploadId: string): Promise<UploadEvent[]>;

  /** When the oldest pending event happened (null when none is pending), and how many events are dead. */
  backlog(): Promise<{ oldestPendingAt: Date | null; dead: number }>;
}
