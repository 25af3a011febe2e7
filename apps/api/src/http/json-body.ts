import type { Request } from 'express';
import { ValidationFailedError } from '@app/core';

const JSON_LIMIT_BYTES = 64 * 1024;
const TOO_LARGE = `must be at most ${JSON_LIMIT_BYTES / 1024} KiB of JSON (file bytes go to the chunk URL, not here)`;
// Fatal: a byte that is not UTF-8 must not slip into a file name as U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a small JSON body. Only the routes that take JSON call this; the chunk route reads its
 * raw stream itself, so no body parser ever runs in front of it. An empty body reads as undefined.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  // A declared length over the limit is refused before a byte of it is read.
  if (Number(request.headers['content-length']) > JSON_LIMIT_BYTES) throw new ValidationFailedError([{ field: 'body', message: TOO_LARGE }]);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const piece of request.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += piece.length;
    if (size > JSON_LIMIT_BYTES) throw new ValidationFailedError([{ field: 'body', message: TOO_LARGE }]);
    chunks.push(piece);
  }
  if (size === 0) return undefined;
  const contentType = request.headers['content-type'];
  if (!contentType || !/^application\/(.+\+)?json\s*(;|$)/i.test(contentType)) {
    throw new ValidationFailedError([{ field: 'Content-Type', message: 'must be application/json' }]);
  }
  return parseJson(Buffer.concat(chunks, size));
}

function parseJson(bytes: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ValidationFailedError([{ field: 'body', message: 'is not valid UTF-8: send JSON encoded as UTF-8' }]);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationFailedError([{ field: 'body', message: 'is not valid JSON: send a JSON object' }]);
  }
}
