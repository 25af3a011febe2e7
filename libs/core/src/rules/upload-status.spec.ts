import { assertAcceptsChunks, assertNotGone, canTransition, effectiveStatus, statusesLeadingTo, UPLOAD_STATUSES, UploadStatus } from './upload-status';

/** The moves the contract describes; every other pair must be refused. */
const ALLOWED: Array<[UploadStatus, UploadStatus]> = [
  ['uploading', 'assembling'], // the last missing chunk arrived
  ['uploading', 'failed'], // its part file vanished from storage
  ['uploading', 'aborted'], // DELETE
  ['uploading', 'expired'], // the sweep
  ['assembling', 'completed'], // verified and published
  ['assembling', 'uploading'], // corrupt chunks sent back to missing
  ['assembling', 'failed'], // whole-file checksum disagrees with the declared one
  ['assembling', 'aborted'],
  ['completed', 'aborted'],
  ['failed', 'aborted'],
];

const ALL_PAIRS = UPLOAD_STATUSES.flatMap((from) => UPLOAD_STATUSES.map((to): [UploadStatus, UploadStatus] => [from, to]));
const isAllowed = (from: UploadStatus, to: UploadStatus) => ALLOWED.some(([allowedFrom, allowedTo]) => allowedFrom === from && allowedTo === to);

describe(canTransition.name, () => {
  it.each(ALLOWED)('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it.each(ALL_PAIRS.filter(([from, to]) => !isAllowed(from, to)))('refuses %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it.each(['aborted', 'expired'] as const)('lets nothing leave %s', (from) => {
    expect(UPLOAD_STATUSES.filter((to) => canTransition(from, to))).toEqual([]);
  });

  it('never returns to uploading from a finished session', () => {
    for (const from of ['completed', 'failed', 'aborted', 'expired'] as const) expect(canTransition(from, 'uploading')).toBe(false);
  });
});

describe(statusesLeadingTo.name, () => {
  it.each([
    ['assembling', ['uploading']],
    ['completed', ['assembling']],
    ['failed', ['uploading', 'assembling']],
    ['uploading', ['assembling']],
    ['aborted', ['uploading', 'assembling', 'completed', 'failed']],
    ['expired', ['uploading']],
  ] as Array<[UploadStatus, UploadStatus[]]>)('lists the states that may move to %s', (to, from) => {
    expect(statusesLeadingTo(to)).toEqual(from);
  });
});

describe(assertNotGone.name, () => {
  it.each(['uploading', 'assembling', 'completed', 'failed'] as const)('lets a %s session through', (status) => {
    expect(() => assertNotGone(status)).not.toThrow();
  });

  it.each([
    ['expired', 'UPLOAD_EXPIRED'],
    ['aborted', 'UPLOAD_ABORTED'],
  ] as const)('refuses an %s session with %s', (status, code) => {
    expect(() => assertNotGone(status)).toThrow(expect.objectContaining({ code }));
  });
});

describe(assertAcceptsChunks.name, () => {
  it('lets an uploading session take chunks', () => {
    expect(() => assertAcceptsChunks('uploading')).not.toThrow();
  });

  it.each([
    ['expired', 'UPLOAD_EXPIRED'],
    ['aborted', 'UPLOAD_ABORTED'],
  ] as const)('refuses chunks for an %s session with %s', (status, code) => {
    expect(() => assertAcceptsChunks(status)).toThrow(expect.objectContaining({ code }));
  });

  it.each(['assembling', 'completed', 'failed'] as const)('refuses chunks for a %s session with UPLOAD_NOT_ACCEPTING, naming the status', (status) => {
    expect(() => assertAcceptsChunks(status)).toThrow(expect.objectContaining({ code: 'UPLOAD_NOT_ACCEPTING', details: { status } }));
    expect(() => assertAcceptsChunks(status)).toThrow(new RegExp(status));
  });
});

describe(effectiveStatus.name, () => {
  const now = new Date('2026-11-25T10:00:00.000Z');
  const before = new Date(now.getTime() - 1);
  const after = new Date(now.getTime() + 1);

  it('keeps an uploading session that has not reached its expiry', () => {
    expect(effectiveStatus({ status: 'uploading', expiresAt: after }, now)).toBe('uploading');
  });

  it('treats an uploading session past its expiry as expired before the sweep marks it', () => {
    expect(effectiveStatus({ status: 'uploading', expiresAt: before }, now)).toBe('expired');
  });

  it('treats an uploading session as expired at the exact expiry instant', () => {
    expect(effectiveStatus({ status: 'uploading', expiresAt: now }, now)).toBe('expired');
  });

  it.each(['assembling', 'completed', 'failed', 'aborted', 'expired'] as const)('leaves a %s session as it is past its expiry', (status) => {
    expect(effectiveStatus({ status, expiresAt: before }, now)).toBe(status);
  });

  it('compares against the current time by default', () => {
    expect(effectiveStatus({ status: 'uploading', expiresAt: new Date(Date.now() - 1000) })).toBe('expired');
    expect(effectiveStatus({ status: 'uploading', expiresAt: new Date(Date.now() + 60_000) })).toBe('uploading');
  });
});
