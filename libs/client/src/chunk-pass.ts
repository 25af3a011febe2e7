import { childController, throwIfAborted } from './abort';
import { UploadAbortedError } from './errors';
import { chunkBounds, ChunkStep, Grid } from './grid';
import { IncrementalSha256 } from './hashing';
import { ChunkOutcome } from './http';
import { UploadSource } from './source';

export interface PassContext {
  source: UploadSource;
  grid: Grid;
  parallel: number;
  /** Fed every chunk read, in file order, when the whole-file hash is being computed. */
  hasher?: IncrementalSha256;
  send(index: number, bytes: Uint8Array, signal: AbortSignal): Promise<ChunkOutcome>;
  signal?: AbortSignal;
}

/**
 * Reads the planned chunks in ascending order (one read at a time, so the whole-file hash sees
 * the file in order) and sends up to `parallel` of them at once. Each chunk is read just
 * before it is sent and dropped after, so at most `parallel` chunks are in memory. The first
 * failure stops the other senders and is what the pass throws.
 * Resolves 'not-accepting' when the server said the session had moved on to assembly.
 */
export async function runPass(steps: ChunkStep[], context: PassContext): Promise<ChunkOutcome> {
  const { controller, release } = childController(context.signal);
  const queue = [...steps];
  const readInOrder = sequentialReader(context, controller.signal);
  let movedOn = false;
  let failure: unknown;

  const sender = async () => {
    // The previous chunk's bytes: sent (or skipped) by the time the next read starts, so the
    // source may read into the same memory again.
    let released: Uint8Array | undefined;
    for (let step = queue.shift(); step !== undefined; step = queue.shift()) {
      const bytes = await readInOrder(step.index, released);
      released = bytes;
      // After the server moved on, chunks are still read when the hash needs them, never sent.
      if (!step.send || movedOn) continue;
      if ((await context.send(step.index, bytes, controller.signal)) === 'not-accepting') movedOn = true;
    }
  };
  const senders = Array.from({ length: Math.min(context.parallel, Math.max(1, steps.length)) }, () =>
    sender().catch((error: unknown) => {
      failure ??= error;
      controller.abort(error);
    }),
  );
  await Promise.all(senders);
  release();
  if (context.signal?.aborted) throw new UploadAbortedError(context.signal.reason);
  if (failure !== undefined) throw failure;
  return movedOn ? 'not-accepting' : 'stored';
}

/** Reads chunks strictly in the order they are asked for, feeding the hasher as it goes. */
function sequentialReader(context: PassContext, signal: AbortSignal): (index: number, released?: Uint8Array) => Promise<Uint8Array> {
  let previous: Promise<unknown> = Promise.resolve();
  return (index, released) => {
    const read = previous.then(async () => {
      throwIfAborted(signal);
      const { start, end } = chunkBounds(context.grid, index);
      const bytes = await context.source.read(start, end, released);
      context.hasher?.update(bytes);
      return bytes;
    });
    previous = read.catch(() => undefined);
    return read;
  };
}
