import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ClaimedUploadEvent, UPLOAD_EVENT_OUTBOX, UploadEventOutbox } from '../ports/upload-event-outbox';
import { WEBHOOK_TRANSPORT, WebhookTransport } from '../ports/webhook-transport';
import { WEBHOOK_ATTEMPT_TIMEOUT_MS, nextAttemptAt, parseRetryAfter } from './delivery-schedule';
import { uploadEventBody } from './upload-event';
import { signWebhook } from './webhook-signature';

/**
 * A claim lasts this long and is renewed every third of it while its attempt runs: a deliverer
 * that dies mid-attempt frees its events within seconds, however long the attempt could have taken.
 */
export const EVENT_CLAIM_MS = 6_000;

export type DeliveryOutcome =
  | { kind: 'delivered'; event: ClaimedUploadEvent; status: number }
  | { kind: 'retry'; event: ClaimedUploadEvent; error: string; at: Date }
  | { kind: 'dead'; event: ClaimedUploadEvent; error: string }
  /** The claim lapsed during the attempt: another deliverer has the event, and this attempt's result is dropped. */
  | { kind: 'claim-lost'; event: ClaimedUploadEvent };

/** Delivers upload events to WEBHOOK_URL: claims due events, signs and posts them, and records each attempt's outcome. */
@Injectable()
export class WebhookDispatcher {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(UPLOAD_EVENT_OUTBOX) private readonly outbox: UploadEventOutbox,
    @Inject(WEBHOOK_TRANSPORT) private readonly transport: WebhookTransport,
  ) {}

  get enabled(): boolean {
    return this.config.webhook !== null;
  }

  /** Claims up to `limit` events that are due. */
  claimDue(limit: number): Promise<ClaimedUploadEvent[]> {
    return this.outbox.claimDue(limit, EVENT_CLAIM_MS);
  }

  /** Makes one attempt at a claimed event and records its outcome. */
  async deliver(event: ClaimedUploadEvent): Promise<DeliveryOutcome> {
    const webhook = this.config.webhook;
    if (!webhook) throw new Error('Webhook delivery needs WEBHOOK_URL and WEBHOOK_SECRET');
    const body = uploadEventBody(event.type, event.occurredAt, event.upload, this.config.publicBaseUrl ?? '');
    const timestamp = Math.floor(Date.now() / 1000);

    const lost = new AbortController();
    const renewal = setInterval(() => {
      this.outbox.extendClaim(event.id, event.claim, EVENT_CLAIM_MS).then(
        (held) => held || lost.abort(new Error('claim lost')),
        // A store that cannot be reached now may be back before the claim lapses; if not, the claim is lost and the result dropped.
        () => undefined,
      );
    }, EVENT_CLAIM_MS / 3);

    let error: string;
    let retryAfterMs: number | null = null;
    try {
      const answer = await this.transport.post({
        url: webhook.url,
        headers: {
          'content-type': 'application/json',
          'webhook-id': event.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(webhook.secret, event.id, timestamp, body),
        },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(WEBHOOK_ATTEMPT_TIMEOUT_MS), lost.signal]),
      });
      if (answer.status >= 200 && answer.status < 300) {
        return (await this.outbox.markDelivered(event.id, event.claim)) ? { kind: 'delivered', event, status: answer.status } : { kind: 'claim-lost', event };
      }
      error = `the receiver answered HTTP ${answer.status}${answer.status >= 300 && answer.status < 400 ? ' (redirects are not followed)' : ''}`;
      if (answer.status === 429 || answer.status === 503) retryAfterMs = parseRetryAfter(answer.retryAfter, new Date());
    } catch (failure) {
      if (lost.signal.aborted) return { kind: 'claim-lost', event };
      error = describeFailure(failure);
    } finally {
      clearInterval(renewal);
    }

    const at = nextAttemptAt({ failedAttempts: event.attempts, retryFrom: event.retryFrom, now: new Date(), retryForMs: webhook.retryForMs, retryAfterMs });
    if (at === null) {
      return (await this.outbox.markDead(event.id, event.claim, error)) ? { kind: 'dead', event, error } : { kind: 'claim-lost', event };
    }
    return (await this.outbox.scheduleRetry(event.id, event.claim, at, error)) ? { kind: 'retry', event, error, at } : { kind: 'claim-lost', event };
  }
}

function describeFailure(failure: unknown): string {
  if (failure instanceof Error && (failure.name === 'TimeoutError' || failure.name === 'AbortError')) return `the receiver gave no answer within ${WEBHOOK_ATTEMPT_TIMEOUT_MS / 1000} s`;
  const cause = failure instanceof Error ? (failure.cause as NodeJS.ErrnoException | undefined) : undefined;
  if (cause?.code) return `the receiver could not be reached (${cause.code})`;
  return `the receiver could not be reached (${failure instanceof Error ? failure.message : String(failure)})`;
}
