/**
 * Passes `body` through, but gives up with `onIdle()`'s error when the source yields nothing
 * for `timeoutMs`. Only the wait for the source counts: time the consumer spends on a piece
 * (writing it to disk, say) does not.
 */
export async function* withIdleTimeout<T>(body: AsyncIterable<T>, timeoutMs: number, onIdle: () => Error): AsyncGenerator<T> {
  const source = body[Symbol.asyncIterator]();
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onIdle()), timeoutMs);
    });
    let next: IteratorResult<T>;
    try {
      next = await Promise.race([source.next(), idle]);
    } finally {
      clearTimeout(timer);
    }
    if (next.done) return;
    yield next.value;
  }
}
