import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { eventually, freePort } from './processes';

/** A fresh `whsec_` secret for a test stack. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** Checked by the standardwebhooks package, an implementation independent of the service's. */
  verified: boolean;
  receivedAt: number;
  /** When the sender closed the connection without waiting for the answer, if it did. */
  cutAt?: number;
}

/** How the receiver answers one request: a status (and headers), or `hang` to never answer. */
export type ReceiverAnswer = { status: number; headers?: Record<string, string> } | 'hang';

/**
 * A webhook receiver on loopback. It verifies every request's signature with the standardwebhooks
 * package, answers as `answer` says (204 by default), and notices when two requests with the same
 * webhook-id are open at once.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** webhook-ids that had two requests open at the same time. */
  readonly overlapping = new Set<string>();
  answer: (request: ReceivedWebhook, attempt: number) => ReceiverAnswer | Promise<ReceiverAnswer> = () => ({ status: 204 });
  private readonly open = new Map<string, number>();
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly verifier: Webhook,
  ) {}

  static async start(secret: string): Promise<WebhookReceiver> {
    const port = await freePort();
    const server = createServer();
    const receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}/hooks/uploads`, new Webhook(secret));
    server.on('request', (request, response) => void receiver.handle(request, response));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return receiver;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const parts: Buffer[] = [];
    for await (const part of request) parts.push(part as Buffer);
    const body = Buffer.concat(parts).toString();
    const header = (name: string) => String(request.headers[name] ?? '');
    let verified = true;
    try {
      this.verifier.verify(body, { 'webhook-id': header('webhook-id'), 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') });
    } catch {
      verified = false;
    }
    const delivery: ReceivedWebhook = { id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature'), body, verified, receivedAt: Date.now() };
    this.received.push(delivery);

    const openNow = (this.open.get(delivery.id) ?? 0) + 1;
    this.open.set(delivery.id, openNow);
    if (openNow > 1) this.overlapping.add(delivery.id);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.open.set(delivery.id, (this.open.get(delivery.id) ?? 1) - 1);
    };
    response.on('close', () => {
      if (!response.writableEnded) delivery.cutAt = Date.now();
      close();
    });

    const attempt = this.received.filter((other) => other.id === delivery.id).length;
    const answer = await this.answer(delivery, attempt);
    if (answer === 'hang') {
      this.hanging.add(response);
      return;
    }
    response.writeHead(answer.status, answer.headers).end();
  }

  /** What was received for an event type of an upload, parsed. */
  deliveriesOf(uploadId: string): (ReceivedWebhook & { event: { type: string; timestamp: string; data: Record<string, any> } })[] {
    return this.received.map((delivery) => ({ ...delivery, event: JSON.parse(delivery.body) })).filter((delivery) => delivery.event.data?.uploadId === uploadId);
  }

  /** Waits until `count` requests about the upload have come in, and returns them. */
  async waitFor(uploadId: string, count = 1, timeoutMs = 30_000) {
    return eventually(async () => {
      const deliveries = this.deliveriesOf(uploadId);
      return deliveries.length >= count ? deliveries : undefined;
    }, `${count} webhook request(s) about upload ${uploadId}`, timeoutMs);
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
