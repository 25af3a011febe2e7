import { nextAttemptAt, parseRetryAfter, retryDelayMs } from './delivery-schedule';

const HOUR = 3_600_000;

describe(retryDelayMs.name, () => {
  it('makes the first retry within 10 s, never at once', () => {
    expect(retryDelayMs(1, () => 0)).toBe(2_500);
    expect(retryDelayMs(1, () => 1)).toBe(5_000);
  });

  it('doubles the wait with each retry, jitter included', () => {
    const lows = [1, 2, 3, 4, 5].map((retry) => retryDelayMs(retry, () => 0));
    expect(lows).toEqual([2_500, 5_000, 10_000, 20_000, 40_000]);
  });

  it('never waits more than an hour', () => {
    expect(retryDelayMs(40, () => 1)).toBe(HOUR);
    expect(retryDelayMs(1000, () => 0.5)).toBeLessThanOrEqual(HOUR);
  });

  it('spreads retries that failed together', () => {
    const delays = new Set(Array.from({ length: 20 }, () => retryDelayMs(3)));
    expect(delays.size).toBeGreaterThan(1);
  });
});

describe(parseRetryAfter.name, () => {
  const now = new Date('2026-12-01T10:00:00Z');

  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 10:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 09:00:00 GMT', now)).toBe(0);
  });

  it('ignores an absent or unreadable header', () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
  });
});

describe(nextAttemptAt.name, () => {
  const retryFrom = new Date('2026-12-01T10:00:00Z');
  const at = (ms: number) => new Date(retryFrom.getTime() + ms);

  it('backs off from the failed attempt', () => {
    expect(nextAttemptAt({ failedAttempts: 1, retryFrom, now: at(1_000), retryForMs: 24 * HOUR, random: () => 1 })).toEqual(at(6_000));
  });

  it('follows Retry-After instead of the backoff', () => {
    expect(nextAttemptAt({ failedAttempts: 1, retryFrom, now: at(1_000), retryForMs: 24 * HOUR, retryAfterMs: 120_000 })).toEqual(at(121_000));
  });

  it('makes one last attempt at the end of the window', () => {
    expect(nextAttemptAt({ failedAttempts: 20, retryFrom, now: at(HOUR - 1_000), retryForMs: HOUR, random: () => 1 })).toEqual(at(HOUR));
  });

  it('gives up once the window is over', () => {
    expect(nextAttemptAt({ failedAttempts: 21, retryFrom, now: at(HOUR), retryForMs: HOUR })).toBeNull();
  });
});
