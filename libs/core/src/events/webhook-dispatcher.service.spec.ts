import { createHmac } from 'node:crypto';
import type { AppConfig } from '@app/config';
import { ClaimedUploadEvent, UploadEvent, UploadEventOutbox } from '../ports/upload-event-outbox';
import { WebhookAnswer, WebhookRequest, WebhookTransport } from '../ports/webhook-transport';
import { UploadSession } from '../upload-session';
import { WebhookDispatcher } from './webhook-dispatcher.service';

const KEY = Buffer.alloc(32, 3);
const HOUR = 3_600_000;

/** The outbox's rules, in memory: claims, and results that count only under the claim that made them. */
class InMemoryOutbox implements UploadEventOutbox {
  readonly events = new Map<string, UploadEvent & { claim: string | null; claimedUntil: number }>();
  private claims = 0;

  add(event: Partial<UploadEvent> = {}): UploadEvent {
    const upload: UploadSession = {
      id: 'Xq3vT9pL0aZbR7wE2mN5cA', ownerKeyHash: null, fileName: 'a.bin', fileSize: 10, chunkSize: 262144, totalChunks: 1, contentType: null, metadata: {}, tusConcat: null,
      sha256: 'ab'.repeat(32), status: 'completed', receivedChunks: 1, receivedBytes: 10, error: null,
      createdAt: new Date('2026-12-01T10:00:00Z'), updatedAt: new Date('2026-12-01T10:00:01Z'), expiresAt: new Date('2026-12-02T10:00:00Z'), completedAt: new Date('2026-12-01T10:00:01Z'),
    };
    const stored = {
      id: `msg_${this.events.size + 1}`, uploadId: upload.id, type: 'upload.completed' as const, occurredAt: new Date('2026-12-01T10:00:01Z'), upload,
      state: 'pending' as const, attempts: 0, retryFrom: new Date(), nextAttemptAt: new Date(0), lastError: null, ...event, claim: null, claimedUntil: 0,
    };
    this.events.set(stored.id, stored);
    return stored;
  }

  async claimDue(limit: number, claimMs: number): Promise<ClaimedUploadEvent[]> {
    const due = [...this.events.values()].filter((event) => event.state === 'pending' && event.nextAttemptAt.getTime() <= Date.now() && event.claimedUntil <= Date.now()).slice(0, limit);
    return due.map((event) => {
      event.claim = `claim-${++this.claims}`;
      event.claimedUntil = Date.now() + claimMs;
      event.attempts++;
      return { ...event, claim: event.claim };
    });
  }

  async extendClaim(id: string, claim: string, claimMs: number) {
    const event = this.held(id, claim);
    if (event) event.claimedUntil = Date.now() + claimMs;
    return event !== undefined;
  }

  async markDelivered(id: string, claim: string) {
    return this.held(id, claim) !== undefined && this.events.delete(id);
  }

  async scheduleRetry(id: string, claim: string, at: Date, error: string) {
    const event = this.held(id, claim);
    if (event) Object.assign(event, { nextAttemptAt: at, lastError: error, claim: null, claimedUntil: 0 });
    return event !== undefined;
  }

  async markDead(id: string, claim: string, error: string) {
    const event = this.held(id, claim);
    if (event) Object.assign(event, { state: 'dead', lastError: error, claim: null, claimedUntil: 0 });
    return event !== undefined;
  }

  async listForUpload(uploadId: string) {
    return [...this.events.values()].filter((event) => event.uploadId === uploadId);
  }

  async redeliverDead(): Promise<UploadEvent[]> {
    throw new Error('not used here');
  }

  async backlog() {
    return { oldestPendingAt: null, dead: 0 };
  }

  private held(id: string, claim: string) {
    const event = this.events.get(id);
    return event?.claim === claim && event.state === 'pending' ? event : undefined;
  }
}

/** A receiver that answers from a script and keeps what it was sent. */
class ScriptedTransport implements WebhookTransport {
  readonly requests: WebhookRequest[] = [];
  constructor(private readonly answers: (WebhookAnswer | Error)[]) {}

  async post(request: WebhookRequest): Promise<WebhookAnswer> {
    this.requests.push(request);
    const answer = this.answers.shift() ?? { status: 204, retryAfter: null };
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

function setup(answers: (WebhookAnswer | Error)[], retryForMs = 24 * HOUR) {
  const outbox = new InMemoryOutbox();
  const transport = new ScriptedTransport(answers);
  const config = { publicBaseUrl: 'https://uploads.example.com', webhook: { url: 'https://hooks.example.com/in', secret: KEY, retryForMs } } as AppConfig;
  return { outbox, transport, sut: new WebhookDispatcher(config, outbox, transport) };
}

async function attempt(sut: WebhookDispatcher) {
  const [event] = await sut.claimDue(10);
  return sut.deliver(event);
}

describe(WebhookDispatcher.name, () => {
  it('posts the signed event body and forgets the event once a 2xx comes back', async () => {
    const { outbox, transport, sut } = setup([{ status: 204, retryAfter: null }]);
    const event = outbox.add();

    expect(await attempt(sut)).toMatchObject({ kind: 'delivered', status: 204 });
    expect(outbox.events.size).toBe(0);
    const [request] = transport.requests;
    expect(request.url).toBe('https://hooks.example.com/in');
    const { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature } = request.headers;
    expect(id).toBe(event.id);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(5);
    expect(signature).toBe(`v1,${createHmac('sha256', KEY).update(`${id}.${timestamp}.${request.body}`).digest('base64')}`);
    expect(JSON.parse(request.body)).toMatchObject({
      type: 'upload.completed',
      timestamp: '2026-12-01T10:00:01.000Z',
      data: { uploadId: event.uploadId, status: 'completed', missingChunks: [], downloadUrl: `https://uploads.example.com/resumable-upload/uploads/${event.uploadId}/file` },
    });
  });

  it('retries a refused attempt within 10 s under the same id, with the same body', async () => {
    const { outbox, transport, sut } = setup([{ status: 500, retryAfter: null }]);
    const event = outbox.add();

    const outcome = await attempt(sut);
    expect(outcome).toMatchObject({ kind: 'retry', error: 'the receiver answered HTTP 500' });
    expect(outcome.kind === 'retry' && outcome.at.getTime() - Date.now()).toBeLessThanOrEqual(10_000);
    outbox.events.get(event.id)!.nextAttemptAt = new Date(0);
    expect(await attempt(sut)).toMatchObject({ kind: 'delivered' });
    expect(transport.requests.map((request) => request.headers['webhook-id'])).toEqual([event.id, event.id]);
    expect(transport.requests[1].body).toBe(transport.requests[0].body);
  });

  it('waits as long as Retry-After says on 429 and 503', async () => {
    const { outbox, sut } = setup([{ status: 503, retryAfter: '120' }]);
    outbox.add();
    const outcome = await attempt(sut);
    expect(outcome.kind === 'retry' && Math.round((outcome.at.getTime() - Date.now()) / 1000)).toBe(120);
  });

  it('treats a redirect and an unreachable receiver as failed attempts', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const { outbox, sut } = setup([{ status: 302, retryAfter: null }, refused]);
    const event = outbox.add();
    expect(await attempt(sut)).toMatchObject({ kind: 'retry', error: 'the receiver answered HTTP 302 (redirects are not followed)' });
    outbox.events.get(event.id)!.nextAttemptAt = new Date(0);
    expect(await attempt(sut)).toMatchObject({ kind: 'retry', error: 'the receiver could not be reached (ECONNREFUSED)' });
  });

  it('marks the event dead once WEBHOOK_RETRY_FOR is over', async () => {
    const { outbox, sut } = setup([{ status: 500, retryAfter: null }], HOUR);
    const event = outbox.add({ retryFrom: new Date(Date.now() - HOUR - 1) });
    expect(await attempt(sut)).toMatchObject({ kind: 'dead', error: 'the receiver answered HTTP 500' });
    expect(outbox.events.get(event.id)).toMatchObject({ state: 'dead', lastError: 'the receiver answered HTTP 500' });
  });

  it('drops the result of an attempt whose claim another deliverer took over', async () => {
    const { outbox, sut } = setup([{ status: 204, retryAfter: null }]);
    const event = outbox.add();
    const [claimed] = await sut.claimDue(10);
    // The claim lapsed and another deliverer took the event.
    outbox.events.get(event.id)!.claim = 'someone-else';
    expect(await sut.deliver(claimed)).toMatchObject({ kind: 'claim-lost' });
    expect(outbox.events.has(event.id)).toBe(true);
  });

  it('hands one event to one claimer at a time', async () => {
    const { outbox, sut } = setup([]);
    outbox.add();
    expect(await sut.claimDue(10)).toHaveLength(1);
    expect(await sut.claimDue(10)).toHaveLength(0);
  });
});
