import { JsonResponse } from './upload-client';

// Stack frames ("at fn (/path/file.js:1:2)"), server paths and error class names must never reach a client.
const INTERNALS = /\/(work|tmp|home|usr)\/|dist\/|node_modules|\bat \S+ \(|\bat .+:\d+:\d+|\w+Error:/;

/**
 * Every rejection as the contract wants it: the status and code, JSON, a sentence that helps
 * (matching `message` when given), and no server internals.
 */
export function expectError(response: (JsonResponse & { text?: string }) | null, status: number, code: string, message?: RegExp): void {
  expect(response).not.toBeNull();
  const answer = response!;
  const text = answer.text ?? JSON.stringify(answer.body);
  // The raw text shows up in the failure when the body is not JSON at all.
  expect({ status: answer.status, code: answer.body?.code, text: answer.body === undefined ? text : undefined }).toEqual({ status, code, text: undefined });
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.body.statusCode).toBe(status);
  expect(typeof answer.body.message).toBe('string');
  expect(answer.body.message.length).toBeGreaterThan(20);
  if (message) expect(answer.body.message).toMatch(message);
  expect(text).not.toMatch(INTERNALS);
}
