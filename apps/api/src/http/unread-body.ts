import type { IncomingMessage } from 'node:http';
import { MAX_CHUNK_SIZE } from '@app/config';

/** The most of a refused body read and dropped before answering: one chunk, and headroom for a JSON body. */
export const DISCARD_LIMIT = MAX_CHUNK_SIZE + 1024 * 1024;
/** A client that stops sending the rest of a refused body is not waited for. */
const DISCARD_IDLE_MS = 1_000;

/**
 * Reads and drops the rest of a request body the API refuses, up to `DISCARD_LIMIT`, so the
 * client (or a proxy streaming the body, such as nginx with request buffering off) can finish
 * sending it and read the answer. Closing the socket on an unread body instead makes the
 * kernel reset the connection under the sender, and a proxy then turns the answer into a 502.
 *
 * Resolves true once the whole body was read (the connection may be reused), false when it is
 * too large, stalls or fails (the answer must then close the connection).
 */
export function discardUnreadBody(request: IncomingMessage): Promise<boolean> {
  if (request.complete) return Promise.resolve(true);
  const declared = request.headers['content-length'];
  if (request.destroyed || (declared !== undefined && !(Number(declared) <= DISCARD_LIMIT))) return Promise.resolve(false);

  return new Promise((resolve) => {
    let discarded = 0;
    let idle: NodeJS.Timeout;
    const finish = (whole: boolean) => {
      clearTimeout(idle);
      request.off('data', onData).off('end', onEnd).off('error', onEnd).off('close', onEnd);
      if (!whole) request.pause();
      resolve(whole);
    };
    const restartIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(false), DISCARD_IDLE_MS);
    };
    const onData = (piece: Buffer) => {
      discarded += piece.length;
      if (discarded > DISCARD_LIMIT) finish(false);
      else restartIdle();
    };
    const onEnd = () => finish(request.complete);
    request.on('data', onData).on('end', onEnd).on('error', onEnd).on('close', onEnd);
    restartIdle();
    request.resume();
  });
}
