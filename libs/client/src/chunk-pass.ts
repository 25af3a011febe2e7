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
  /**
   * Awaited once every chunk of the pass has been read, before its last chunk is sent: that
   * chunk may complete the set, and the server starts verifying as soon as it does.
   */
  beforeLastSend?: () => Promise<void>;
  send(index: number, bytes: Uint8Array, signal: AbortSignal): Promise<ChunkOutcome>;
  signal?: AbortSignal;
}

/**
 * Reads the planned chunks in ascending order (one read at a time, so the whole-file hash sees
 * the file in order) and sends up to `parallel` of them at once. Each chunk is read just
 * before it is sent and dropped after, so at most `parallel` chunks are in memory (one more
 * while the last one to send waits for the reads after it). The first failure stops the
 * other senders and is what the pass throws.
 * Resolves 'not-accepting' when the server said the session had moved on to assembly.
 */
export async function runPass(steps: ChunkStep[], context: PassContext): Promise<ChunkOutcome> {
  const { controller, release } = childController(context.signal);
  const queue = [...steps];
  const reader = sequentialReader(context, controller.signal);
  const lastToSend = context.beforeLastSend ? steps.findLast((step) => step.send)?.index : undefined;
  let movedOn = false;
  let failure: unknown;

  const send = async (index: number, bytes: Uint8Array) => {
    if ((await context.send(index, bytes, controller.signal)) === 'not-accepting') movedOn = true;
  };
  const sender = async () => {
    // The previous chunk's bytes: sent (or skipped) by the time the next read starts, so the
    // source may read into the same memory again.
    let released: Uint8Array | undefined;
    let held: Uint8Array | undefined;
    for (let step = queue.shift(); step !== undefined; step = queue.shift()) {
      const bytes = await reader.read(step.index, released);
      // After the server moved on, chunks are still read when the hash needs them, never sent.
      if (step.index === lastToSend && !movedOn) {
        // Kept aside, not waited for here: this sender may be the one to read the rest.
        held = bytes;
        released = undefined;
        continue;
      }
      released = bytes;
      if (step.send && !movedOn) await send(step.index, bytes);
    }
    if (held === undefined) return;
    await reader.allRead();
    // A session that moved on to assembly takes neither a declaration nor chunks.
    if (movedOn) return;
    await context.beforeLastSend!();
    throwIfAborted(controller.signal);
    await send(lastToSend!, held);
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

/**
 * Reads chunks strictly in the order they are asked for, feeding the hasher as it goes. Once a
 * read fails every later one fails too, so `allRead` never resolves over a gap in the hash.
 */
function sequentialReader(context: PassContext, signal: AbortSignal) {
  let previous: Promise<unknown> = Promise.resolve();
  return {
    read(index: number, released?: Uint8Array): Promise<Uint8Array> {
      const read = previous.then(async () => {
        throwIfAborted(signal);
        const { start, end } = chunkBounds(context.grid, index);
        const bytes = await context.source.read(start, end, released);
        context.hasher?.update(bytes);
        return bytes;
      });
      previous = read;
      return read;
    },
    /** Settles after every read asked for so far; once the queue is empty, that is all of them. */
    allRead: () => previous.then(() => undefined),
  };
}
