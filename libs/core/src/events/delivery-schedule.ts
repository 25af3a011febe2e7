/** An attempt with no answer within this long is cut and counted as failed. */
export const WEBHOOK_ATTEMPT_TIMEOUT_MS = 15_000;
/** The first retry comes 2.5 to 5 s after the first failure; each later one waits twice as long. */
const FIRST_RETRY_MS = 5_000;
/** However long the failures go on, retries come at least this often. */
const MAX_RETRY_DELAY_MS = 3_600_000;

/**
 * The wait before retry number `retry` (1 for the first): exponential, with equal jitter so
 * that events that failed together (a receiver down) do not all come back at the same moment.
 */
export function retryDelayMs(retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** A `Retry-After` header (seconds or an HTTP date) as milliseconds from `now`, or null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | null {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date starts with the day's name (`Wed, 21 Oct 2015 07:28:00 GMT`).
  const date = /^[A-Za-z]{3},/.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(date) ? null : Math.max(0, date - now.getTime());
}

export interface RetryPlan {
  /** How many attempts have failed so far, this one included. */
  failedAttempts: number;
  /** When the current delivery window began: the event's creation, or its last re-send. */
  retryFrom: Date;
  now: Date;
  /** How long after `retryFrom` retries go on (WEBHOOK_RETRY_FOR). */
  retryForMs: number;
  /** What the receiver asked for with Retry-After, if anything. */
  retryAfterMs?: number | null;
  random?: () => number;
}

/**
 * When to try a failed event again, or null when its window is over and it is dead. The receiver's
 * Retry-After replaces the backoff; a retry that would fall past the window's end is made at its end.
 */
export function nextAttemptAt({ failedAttempts, retryFrom, now, retryForMs, retryAfterMs, random }: RetryPlan): Date | null {
  const deadline = retryFrom.getTime() + retryForMs;
  if (now.getTime() >= deadline) return null;
  const delay = retryAfterMs ?? retryDelayMs(failedAttempts, random);
  return new Date(Math.min(now.getTime() + delay, deadline));
}
