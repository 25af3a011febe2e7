import { Injectable } from '@nestjs/common';
import { WebhookAnswer, WebhookRequest, WebhookTransport } from '@app/core';

const USER_AGENT = 'resumable-upload-webhooks';

/** Posts with Node's fetch; a redirect is answered back as it came, never followed. */
@Injectable()
export class FetchWebhookTransport implements WebhookTransport {
  async post({ url, headers, body, signal }: WebhookRequest): Promise<WebhookAnswer> {
    // fetch refuses URLs with credentials: send them as Basic auth instead.
    const target = new URL(url);
    const credentials = target.username || target.password ? `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}` : null;
    target.username = '';
    target.password = '';
    const response = await fetch(target, {
      method: 'POST',
      headers: { ...headers, 'user-agent': USER_AGENT, ...(credentials === null ? {} : { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` }) },
      body,
      redirect: 'manual',
      signal,
    });
    // Only the status matters; dropping the body frees the connection.
    await response.body?.cancel().catch(() => undefined);
    return { status: response.status, retryAfter: response.headers.get('retry-after') };
  }
}
