import { DEFAULT_RETRY, backoffDelay, isRetryableAnswer, parseRetryAfter, retryDelay } from './backoff';

const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };

describe('backoffDelay (equal jitter)', () => {
  it('draws uniformly from the upper half of a ceiling that doubles each retry', () => {
    expect([0, 1, 2, 3].map((retry) => backoffDelay(retry, policy, () => 0.5))).toEqual([75, 150, 300, 600]);
    expect(backoffDelay(2, policy, () => 0)).toBe(200);
    expect(backoffDelay(2, policy, () => 0.9999)).toBe(399);
  });

  it('never exceeds maxDelayMs, however many retries', () => {
    expect(backoffDelay(4, policy, () => 0.9999)).toBe(999);
    expect(backoffDelay(60, policy, () => 0.9999)).toBe(999);
  });

  it('spreads clients that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, policy)));
    expect(delays.size).toBeGreaterThan(10);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(400);
      expect(delay).toBeLessThan(800);
    }
  });

  it('gives the default policy a retry budget of at least 30 s, whatever the draws', () => {
    const retries = Array.from({ length: DEFAULT_RETRY.attempts - 1 }, (_, retry) => retry);
    const shortest = retries.reduce((sum, retry) => sum + backoffDelay(retry, DEFAULT_RETRY, () => 0), 0);
    expect(shortest).toBeGreaterThanOrEqual(30_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP-date as the time left until it, never negative', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
  });

  it('ignores what is neither form', () => {
    for (const header of [null, undefined, '', '1.5', '-1', 'soon', '2026-01-01T00:00:05Z']) expect(parseRetryAfter(header, now)).toBeNull();
  });
});

describe('retryDelay', () => {
  it('waits at least what the server asked', () => {
    expect(retryDelay(0, policy, 5000, () => 0.5)).toBe(5000);
  });

  it('falls back to jittered backoff when the server named no time, or less', () => {
    expect(retryDelay(3, policy, null, () => 0.5)).toBe(600);
    expect(retryDelay(3, policy, 10, () => 0.5)).toBe(600);
  });
});

describe('isRetryableAnswer', () => {
  it.each([
    [500, 'INTERNAL'],
    [502, undefined],
    [503, 'SERVICE_UNAVAILABLE'],
    [507, 'INSUFFICIENT_STORAGE'],
    [408, 'REQUEST_TIMEOUT'],
    [429, 'RATE_LIMITED'],
    [409, 'CHUNK_IN_PROGRESS'],
  ])('retries %i %s', (status, code) => expect(isRetryableAnswer(status, code)).toBe(true));

  it.each([
    [400, 'VALIDATION_FAILED'],
    [401, 'UNAUTHORIZED'],
    [404, 'UPLOAD_NOT_FOUND'],
    [409, 'CHUNK_CONFLICT'],
    [409, 'UPLOAD_NOT_ACCEPTING'],
    [410, 'UPLOAD_EXPIRED'],
    [416, 'RANGE_NOT_SATISFIABLE'],
    [422, 'CHECKSUM_MISMATCH'],
    [200, undefined],
  ])('does not retry %i %s', (status, code) => expect(isRetryableAnswer(status, code)).toBe(false));
});
