import { createHmac } from 'node:crypto';

/**
 * The `webhook-signature` header of one delivery attempt: `v1,` and the base64 HMAC-SHA256 of
 * `id.timestamp.body` under the key. The timestamp is the attempt's, so each retry is signed anew.
 */
export function signWebhook(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${mac}`;
}
