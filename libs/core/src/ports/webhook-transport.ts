export const WEBHOOK_TRANSPORT = Symbol('WEBHOOK_TRANSPORT');

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Aborts the attempt: its time is up, or its claim was lost. */
  signal: AbortSignal;
}

/** What the receiver answered; its body is not read. */
export interface WebhookAnswer {
  status: number;
  /** The Retry-After header, if any. */
  retryAfter: string | null;
}

/**
 * Sends one webhook POST. Resolves with the receiver's answer, whatever its status (a redirect
 * is an answer too: it is never followed); rejects when no answer came (refused, reset,
 * aborted by `signal`).
 */
export interface WebhookTransport {
  post(request: WebhookRequest): Promise<WebhookAnswer>;
}
