import { withIdleTimeout } from './idle-timeout';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function* pieces(gapsMs: number[]): AsyncGenerator<string> {
  for (const [index, gap] of gapsMs.entries()) {
    await sleep(gap);
    yield `piece ${index}`;
  }
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of source) items.push(item);
  return items;
}

describe(withIdleTimeout.name, () => {
  const idle = () => new Error('idle');

  it('passes every piece through while each comes in time', async () => {
    await expect(collect(withIdleTimeout(pieces([0, 10, 10, 10]), 1000, idle))).resolves.toEqual(['piece 0', 'piece 1', 'piece 2', 'piece 3']);
  });

  it('fails with the given error once the source is silent for the timeout', async () => {
    const seen: string[] = [];
    const run = (async () => {
      for await (const piece of withIdleTimeout(pieces([0, 0, 1000]), 100, idle)) seen.push(piece);
    })();
    await expect(run).rejects.toThrow('idle');
    expect(seen).toEqual(['piece 0', 'piece 1']);
  });

  it('measures each wait on its own, not the whole body', async () => {
    // 6 gaps of 100 ms: 600 ms in all, over the 400 ms timeout, but no single gap comes close.
    await expect(collect(withIdleTimeout(pieces([100, 100, 100, 100, 100, 100]), 400, idle))).resolves.toHaveLength(6);
  });

  it('does not count the time the consumer spends on a piece', async () => {
    const seen: string[] = [];
    for await (const piece of withIdleTimeout(pieces([0, 0]), 100, idle)) {
      seen.push(piece);
      await sleep(500);
    }
    expect(seen).toHaveLength(2);
  });
});
