import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { PartBody, PartLengthError } from './part-body';

async function* piecesOf(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function drain(stream: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(piece as Buffer);
  return Buffer.concat(pieces);
}

describe(PartBody.name, () => {
  const bytes = randomBytes(100_000);

  it('passes every byte on and knows their MD5', async () => {
    const sut = new PartBody(piecesOf(bytes, 4096), bytes.length);
    expect(sut.started).toBe(false);
    expect((await drain(sut.stream)).equals(bytes)).toBe(true);
    expect(sut.started).toBe(true);
    expect(sut.md5Hex()).toBe(createHash('md5').update(bytes).digest('hex'));
  });

  it('runs the fence before each piece it passes on', async () => {
    let checks = 0;
    const sut = new PartBody(piecesOf(bytes, 10_000), bytes.length, () => checks++);
    await drain(sut.stream);
    expect(checks).toBe(10);
  });

  it('holds the last piece back until the source has ended, so a refused body never reaches its last byte', async () => {
    const passed: number[] = [];
    async function* source(): AsyncGenerator<Buffer> {
      yield bytes.subarray(0, 50_000);
      yield bytes.subarray(50_000);
      throw new Error('refused by the caller');
    }
    const sut = new PartBody(source(), bytes.length);
    sut.stream.on('data', (piece: Buffer) => passed.push(piece.length));
    await expect(drain(sut.stream)).rejects.toThrow('refused by the caller');
    expect(passed.reduce((sum, length) => sum + length, 0)).toBeLessThan(bytes.length);
  });

  it('stops before the piece whose fence check throws', async () => {
    let checks = 0;
    const sut = new PartBody(piecesOf(bytes, 10_000), bytes.length, () => {
      if (++checks === 3) throw new Error('lease lost');
    });
    let passed = 0;
    sut.stream.on('data', (piece: Buffer) => (passed += piece.length));
    await expect(drain(sut.stream)).rejects.toThrow('lease lost');
    expect(passed).toBe(20_000);
  });

  it.each([
    ['shorter', bytes.subarray(1), /ended after 99999 of its 100000 bytes/],
    ['longer', Buffer.concat([bytes, Buffer.alloc(1)]), /longer than its 100000 bytes/],
  ])('fails a body %s than the slot', async (_how, body, message) => {
    const sut = new PartBody(piecesOf(body, 4096), bytes.length);
    const error = await drain(sut.stream).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PartLengthError);
    expect((error as Error).message).toMatch(message);
  });
});
