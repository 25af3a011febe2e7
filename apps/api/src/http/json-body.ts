import type { Request } from 'express';
import { ValidationFailedError } from '@app/core';

const JSON_LIMIT_BYTES = 64 * 1024;

/**
 * Reads a small JSON body. Only the routes that take JSON call this; the chunk route reads its
 * raw stream itself, so no body parser ever runs in front of it. An empty body reads as undefined.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const contentType = request.headers['content-type'];
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const piece of request.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += piece.length;
    if (size > JSON_LIMIT_BYTES) throw new ValidationFailedError([{ field: 'body', message: `must be at most ${JSON_LIMIT_BYTES / 1024} KiB of JSON` }]);
    chunks.push(piece);
  }
  if (size === 0) return undefined;
  if (!contentType || !/^application\/(.+\+)?json\s*(;|$)/i.test(contentType)) {
    throw new ValidationFailedError([{ field: 'Content-Type', message: 'must be application/json' }]);
  }
  try {
    return JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
  } catch {
    throw new ValidationFailedError([{ field: 'body', message: 'is not valid JSON' }]);
  }
}
