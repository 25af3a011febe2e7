/** How a failed request is retried: at most `attempts` tries in all, waits growing from `baseDelayMs` to `maxDelayMs`. */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Eight tries wait at least about 30 s in all (at most about 60 s): longer than a load balancer
 * keeps a failed replica out of its pool or a dead replica's chunk leases live, so a client rides
 * through a replica's crash instead of giving up inside it.
 */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 500, maxDelayMs: 30_000 };

/**
 * "Equal jitter" (AWS architecture blog): a wait in [c/2, c) for the ceiling
 * c = min(max, base * 2^retry), so clients that failed together do not come back together,
 * while the retry budget cannot shrink by chance to a few quick tries. `retry` counts from 0.
 */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Reads a `Retry-After` header (RFC 9110: delay-seconds or an HTTP-date) as milliseconds
 * from `now`; null when it is absent or not one of the two forms.
 */
export function parseRetryAfter(header: string | null | undefined, now: number = Date.now()): number | null {
  if (header == null) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Date.parse accepts far more than IMF-fixdate; insist on its shape so "1.5" or "soon" is ignored.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value)) return null;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** The wait before retry number `retry`: never sooner than the server asked, jittered otherwise. */
export function retryDelay(retry: number, policy: RetryPolicy, retryAfterMs: number | null, random: () => number = Math.random): number {
  return Math.max(retryAfterMs ?? 0, backoffDelay(retry, policy, random));
}

/** Whether an error answer is worth repeating: the server or the network may do better next time. */
export function isRetryableAnswer(status: number, code: string | undefined): boolean {
  if (status >= 500 || status === 408 || status === 429) return true;
  return status === 409 && code === 'CHUNK_IN_PROGRESS';
}
