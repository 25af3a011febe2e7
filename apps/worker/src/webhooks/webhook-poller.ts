import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ClaimedUploadEvent, DeliveryOutcome, WebhookDispatcher } from '@app/core';
import { WorkerMetrics } from '../metrics/worker-metrics';

/** How often a worker looks for due events in Postgres. */
const POLL_INTERVAL_MS = 1_000;
/** Attempts one worker runs at once: a receiver that hangs holds a slot for up to 15 s. */
const MAX_IN_FLIGHT = 16;

/**
 * Delivers upload events from the Postgres outbox. It polls Postgres rather than waiting for
 * BullMQ jobs, so events survive a Redis that lost its data; claims keep workers from
 * delivering one event at the same time.
 */
@Injectable()
export class WebhookPoller implements OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private failing = false;

  constructor(
    private readonly dispatcher: WebhookDispatcher,
    private readonly metrics: WorkerMetrics,
  ) {}

  start(): void {
    if (!this.dispatcher.enabled || this.running) return;
    this.running = true;
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    let claimed = 0;
    const free = MAX_IN_FLIGHT - this.inFlight.size;
    try {
      if (free > 0) {
        const events = await this.dispatcher.claimDue(free);
        claimed = events.length;
        for (const event of events) this.track(event);
      }
      if (this.failing) this.logger.log('Events can be read again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`Could not read due events (retrying every ${POLL_INTERVAL_MS / 1000} s): ${(error as Error).message}`);
      this.failing = true;
    }
    // A full batch suggests more are due: look again at once.
    if (this.running) this.schedule(claimed > 0 && claimed === free ? 0 : POLL_INTERVAL_MS);
  }

  private track(event: ClaimedUploadEvent): void {
    const attempt = this.dispatcher
      .deliver(event)
      .then((outcome) => this.report(outcome))
      .catch((error: Error) => this.logger.warn(`Event ${event.id}: attempt ${event.attempts} could not be recorded (its claim lapses and it is tried again): ${error.message}`))
      .finally(() => this.inFlight.delete(attempt));
    this.inFlight.add(attempt);
  }

  private report(outcome: DeliveryOutcome): void {
    const { event } = outcome;
    const what = `Event ${event.id} (${event.type} of ${event.uploadId})`;
    this.metrics.recordWebhookAttempt(outcome.kind);
    switch (outcome.kind) {
      case 'delivered':
        this.logger.log(`${what} delivered on attempt ${event.attempts} (HTTP ${outcome.status})`);
        break;
      case 'retry':
        this.logger.warn(`${what}: attempt ${event.attempts} failed, ${outcome.error}; next try at ${outcome.at.toISOString()}`);
        break;
      case 'dead':
        this.logger.error(`${what} is dead after ${event.attempts} attempts (last: ${outcome.error}); re-send it once the receiver is fixed`);
        break;
      case 'claim-lost':
        this.logger.warn(`${what}: attempt ${event.attempts} outlived its claim; another worker has the event now`);
        break;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    // Attempts end within their 15 s timeout; one cut short here would be retried after its claim lapsed.
    await Promise.all(this.inFlight);
  }
}
