import { createHash, Hash } from 'node:crypto';
import { BodyLimits, meteredBody } from './metered-body';

const CHUNK_SIZE = 16;

/** A node:crypto hash as the running SHA-256 meteredBody feeds. */
const fed = (hash: Hash) => ({ update: (bytes: Uint8Array) => void hash.update(bytes) });

/** A request body that yields `pieces` and records how far it was read and whether it was closed. */
function bodyOf(pieces: string[]) {
  const state = { pulled: 0, closed: false };
  async function* source(): AsyncGenerator<Buffer> {
    try {
      for (const piece of pieces) {
        state.pulled++;
        yield Buffer.from(piece);
      }
    } finally {
      state.closed = true;
    }
  }
  return { source: source(), state };
}

/** Drains the metered body, returning what came through (and the error, if it threw). */
async function drain(pieces: string[], limits: BodyLimits) {
  const hash = createHash('sha256');
  const body = bodyOf(pieces);
  const passed: Buffer[] = [];
  let error: unknown = null;
  try {
    for await (const piece of meteredBody(body.source, limits, fed(hash))) passed.push(piece);
  } catch (caught) {
    error = caught;
  }
  return { passed: Buffer.concat(passed).toString(), error, digest: hash.digest('hex'), state: body.state };
}

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const limitsFor = (expectedLength: number, lengthDeclared: boolean): BodyLimits => ({ expectedLength, chunkSize: CHUNK_SIZE, lengthDeclared });

describe(meteredBody.name, () => {
  it.each([true, false])('passes an exact body through unchanged and hashes it (Content-Length declared: %p)', async (lengthDeclared) => {
    const result = await drain(['0123', '4567', '89abcdef'], limitsFor(16, lengthDeclared));
    expect(result.error).toBeNull();
    expect(result.passed).toBe('0123456789abcdef');
    expect(result.digest).toBe(sha256Hex('0123456789abcdef'));
  });

  it('yields the very same pieces it receives, in order', async () => {
    const pieces = [Buffer.from('ab'), Buffer.from(''), Buffer.from('cd')];
    async function* source() {
      yield* pieces;
    }
    const passed: Buffer[] = [];
    for await (const piece of meteredBody(source(), limitsFor(4, true), fed(createHash('sha256')))) passed.push(piece);
    expect(passed).toHaveLength(3);
    passed.forEach((piece, index) => expect(piece).toBe(pieces[index]));
  });

  it('feeds each piece to the hash before handing it on, in the same pass', async () => {
    const hash = createHash('sha256');
    const updates: string[] = [];
    const update = hash.update.bind(hash) as (data: Buffer) => typeof hash;
    const recordingUpdate = (data: Buffer) => {
      updates.push(data.toString());
      return update(data);
    };
    jest.spyOn(hash, 'update').mockImplementation(recordingUpdate as typeof hash.update);
    const seenWhenYielded: string[][] = [];
    for await (const piece of meteredBody(bodyOf(['abc', 'def', 'gh']).source, limitsFor(8, false), fed(hash))) {
      seenWhenYielded.push([...updates]);
      expect(updates[updates.length - 1]).toBe(piece.toString());
    }
    expect(seenWhenYielded).toEqual([['abc'], ['abc', 'def'], ['abc', 'def', 'gh']]);
    expect(hash.digest('hex')).toBe(sha256Hex('abcdefgh'));
  });

  it('accepts an empty body for an empty range', async () => {
    const result = await drain([], limitsFor(0, true));
    expect(result.error).toBeNull();
    expect(result.digest).toBe(sha256Hex(''));
  });

  it.each([true, false])('rejects a body that ends short of the range with LENGTH_MISMATCH (Content-Length declared: %p)', async (lengthDeclared) => {
    const result = await drain(['0123', '4567'], limitsFor(16, lengthDeclared));
    expect(result.error).toMatchObject({ code: 'LENGTH_MISMATCH' });
    expect((result.error as Error).message).toMatch(/ended after 8 of the 16 bytes/);
  });

  it('rejects an empty body for a non-empty range with LENGTH_MISMATCH', async () => {
    const result = await drain([], limitsFor(16, false));
    expect(result.error).toMatchObject({ code: 'LENGTH_MISMATCH' });
  });

  it('rejects a body one byte short with LENGTH_MISMATCH only after all of it was read', async () => {
    const result = await drain(['0123456789abcde'], limitsFor(16, true));
    expect(result.error).toMatchObject({ code: 'LENGTH_MISMATCH' });
    expect(result.passed).toBe('0123456789abcde');
  });

  it('rejects a body longer than the declared Content-Length with LENGTH_MISMATCH', async () => {
    const result = await drain(['0123456789', 'abcdefg'], limitsFor(16, true));
    expect(result.error).toMatchObject({ code: 'LENGTH_MISMATCH' });
  });

  it('rejects a body with Content-Length that runs past the chunk size with LENGTH_MISMATCH, not CHUNK_TOO_LARGE', async () => {
    const result = await drain(['x'.repeat(CHUNK_SIZE * 2)], limitsFor(CHUNK_SIZE, true));
    expect(result.error).toMatchObject({ code: 'LENGTH_MISMATCH' });
  });

  it('rejects a body without Content-Length that runs past the range but not past the chunk size with LENGTH_MISMATCH', async () => {
    // A short last chunk: the range is 10 bytes, the session's chunks are 16.
    const result = await drain(['0123456789', 'ab'], limitsFor(10, false));
    expect(result.error).toMatchObject({ code: 'LENGTH_MISMATCH' });
  });

  it('rejects a body without Content-Length that runs past the chunk size with CHUNK_TOO_LARGE', async () => {
    const result = await drain(['0123456789', 'abcdef', 'g'], limitsFor(CHUNK_SIZE, false));
    expect(result.error).toMatchObject({ code: 'CHUNK_TOO_LARGE' });
  });

  it('rejects a one-piece body without Content-Length bigger than the chunk size with CHUNK_TOO_LARGE', async () => {
    const result = await drain(['x'.repeat(CHUNK_SIZE + 100)], limitsFor(10, false));
    expect(result.error).toMatchObject({ code: 'CHUNK_TOO_LARGE' });
  });

  it('never hands on or hashes the piece that overruns the range', async () => {
    const result = await drain(['0123', '456789'], limitsFor(8, true));
    expect(result.error).toMatchObject({ code: 'LENGTH_MISMATCH' });
    expect(result.passed).toBe('0123');
    expect(result.digest).toBe(sha256Hex('0123'));
  });

  it('stops reading and closes the source as soon as the body overruns', async () => {
    const result = await drain(['0123456789abcdef', 'overrun', 'never', 'read'], limitsFor(16, false));
    expect(result.error).toMatchObject({ code: 'CHUNK_TOO_LARGE' });
    expect(result.state).toEqual({ pulled: 2, closed: true });
  });

  it('passes on an error from the source itself', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('0123');
      throw new Error('socket hang up');
    }
    const consume = async () => {
      for await (const piece of meteredBody(failing(), limitsFor(16, true), fed(createHash('sha256')))) void piece;
    };
    await expect(consume()).rejects.toThrow('socket hang up');
  });
});
