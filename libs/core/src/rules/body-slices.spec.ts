import { BodySlices } from './body-slices';

async function* pieces(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

async function read(slice: AsyncIterable<Buffer>): Promise<string> {
  let text = '';
  for await (const piece of slice) text += piece.toString();
  return text;
}

describe(BodySlices.name, () => {
  it('cuts pieces that straddle a boundary and carries their rest into the next slice', async () => {
    const sut = new BodySlices(pieces('abc', 'defgh', '', 'ij'));
    expect(await read(sut.next(4))).toBe('abcd');
    expect(await read(sut.next(4))).toBe('efgh');
    expect(sut.ended).toBe(false);
    expect(await read(sut.next(4))).toBe('ij');
    expect(sut.ended).toBe(true);
    expect(sut.consumed).toBe(10);
  });

  it('drains what is left after the slices taken', async () => {
    const sut = new BodySlices(pieces('abcdef', 'gh'));
    expect(await read(sut.next(2))).toBe('ab');
    const seen: string[] = [];
    expect(await sut.drain((piece) => seen.push(piece.toString()))).toBe(6);
    expect(seen.join('')).toBe('cdefgh');
    expect(sut.ended).toBe(true);
  });

  it('gives an empty slice once the body has ended', async () => {
    const sut = new BodySlices(pieces());
    expect(await read(sut.next(3))).toBe('');
    expect(sut.ended).toBe(true);
  });
});
