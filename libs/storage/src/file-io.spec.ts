import { randomBytes } from 'node:crypto';
import { FileHandle, mkdtemp, open, readFile, readdir, rm, writeFile, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// By path: the core package's index also loads the services, which Jest's CommonJS cannot.
import { pageAlignedMemory } from './page-aligned-memory';
import { BatchPool, DIRECT_BATCH_BYTES, DIRECT_IO_ALIGNMENT, FLUSH_AHEAD_BYTES, FileReader, LAST_WRITE_BYTES, WRITE_BATCH_BYTES, directIoWorks, writeBody } from './file-io';

const MiB = 1024 * 1024;

/** The pieces a socket would hand over: uneven sizes, from a few bytes to 100 KiB. */
async function* piecesOf(bytes: Buffer): AsyncGenerator<Buffer> {
  let seed = 7;
  for (let at = 0; at < bytes.length; ) {
    seed = (seed * 48271) % 2147483647;
    const size = 1 + (seed % (100 * 1024));
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

/** Direct writes take their size from the pool's batches: 1 MiB here, so a few MiB of body take turns between two. */
function countingPool(capacity?: number) {
  const made = { count: 0 };
  const pool = new BatchPool(() => {
    made.count += 1;
    return Buffer.from(pageAlignedMemory(MiB), 0, MiB);
  }, capacity);
  return Object.assign(pool, { made });
}

describe('part file I/O', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ru-file-io-'));
    path = join(dir, 'upload.part');
    await writeFile(path, '');
    await truncate(path, 16 * MiB);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The 16 MiB file holds `body` at `offset` and zeros everywhere else. */
  async function expectOnlyBodyAt(offset: number, body: Buffer): Promise<void> {
    const file = await readFile(path);
    expect(file.length).toBe(16 * MiB);
    expect(file.subarray(offset, offset + body.length).equals(body)).toBe(true);
    expect(file.subarray(0, offset).every((byte) => byte === 0)).toBe(true);
    expect(file.subarray(offset + body.length).every((byte) => byte === 0)).toBe(true);
  }

  it('finds direct I/O working on a Linux disk and leaves no probe file behind', async () => {
    const works = await directIoWorks(dir, countingPool());
    // Every Linux filesystem a test directory is likely on (ext4, xfs, btrfs, tmpfs since 6.6) takes O_DIRECT.
    expect(works).toBe(process.platform === 'linux');
    expect(await readdir(dir)).toEqual(['upload.part']);
  });

  describe.each([
    ['direct I/O', true],
    ['the page cache', false],
  ])('writeBody through %s', (_name, direct) => {
    const poolFor = () => (direct ? countingPool() : null);

    it.each([
      ['a block-aligned offset, whole blocks', 4 * DIRECT_IO_ALIGNMENT, 3 * MiB],
      ['a block-aligned offset and a tail shorter than a block', 2 * MiB, 3 * MiB + 1234],
      ['less than one block', 0, 100],
      ['an offset off the block grid', 1000, 2 * MiB + 5],
      ['exactly one batch', 8 * MiB, WRITE_BATCH_BYTES],
      ['a body longer than two of the service\'s batches', 0, 5 * DIRECT_BATCH_BYTES / 2 + 12_345],
    ])('writes the body byte for byte at %s and nothing around it', async (_case, offset, length) => {
      const body = randomBytes(length);
      await writeBody(path, offset, piecesOf(body), { pool: poolFor(), beforeEachWrite: () => undefined });

      await expectOnlyBodyAt(offset, body);
    });

    it('stops writing as soon as beforeEachWrite throws, and passes its error on', async () => {
      const body = Buffer.alloc(4 * MiB, 0xab);
      let writes = 0;
      const stop = new Error('lease lost');
      const writing = writeBody(path, 0, piecesOf(body), {
        pool: poolFor(),
        beforeEachWrite: () => {
          writes += 1;
          if (writes === 2) throw stop;
        },
      });

      await expect(writing).rejects.toBe(stop);
      const file = await readFile(path);
      // The first batch landed; nothing from the second write on did.
      expect(file.subarray(0, MiB).every((byte) => byte === 0xab)).toBe(true);
      expect(file.subarray(2 * MiB).every((byte) => byte === 0)).toBe(true);
    });

    it('starts making the body durable while it still arrives, then once more after the last write', async () => {
      const probe = await open(path, 'r');
      const datasync = jest.spyOn(Object.getPrototypeOf(probe) as FileHandle, 'datasync');
      await probe.close();
      try {
        const body = randomBytes(2 * FLUSH_AHEAD_BYTES);
        await writeBody(path, 0, piecesOf(body), { pool: poolFor(), beforeEachWrite: () => undefined });
        expect(datasync.mock.calls.length).toBeGreaterThanOrEqual(2);
        expect((await readFile(path)).subarray(0, body.length).equals(body)).toBe(true);
      } finally {
        datasync.mockRestore();
      }
    });

    it('passes on a body that fails part-way', async () => {
      async function* failing(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(3 * MiB, 1);
        throw new Error('connection reset');
      }
      await expect(writeBody(path, 0, failing(), { pool: poolFor(), beforeEachWrite: () => undefined })).rejects.toThrow('connection reset');
    });

    it('throws ENOENT for a file that is gone, and never creates it', async () => {
      const gone = join(dir, 'gone.part');
      await expect(writeBody(gone, 0, piecesOf(Buffer.alloc(10)), { pool: poolFor(), beforeEachWrite: () => undefined })).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await readdir(dir)).toEqual(['upload.part']);
    });
  });

  it('reuses its page-aligned batches from one write to the next, also after a failure', async () => {
    const pool = countingPool();
    await writeBody(path, 0, piecesOf(randomBytes(3 * MiB)), { pool, beforeEachWrite: () => undefined });
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(MiB);
      throw new Error('connection reset');
    }
    await expect(writeBody(path, 0, failing(), { pool, beforeEachWrite: () => undefined })).rejects.toThrow();
    await writeBody(path, 4 * MiB, piecesOf(randomBytes(2 * MiB)), { pool, beforeEachWrite: () => undefined });
    expect(pool.made.count).toBe(2);
  });

  /** A body that sends `first`, then waits for `release()` before sending `rest`. */
  function heldBody(first: Buffer, rest: Buffer) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    async function* body(): AsyncGenerator<Buffer> {
      yield first;
      await released;
      yield rest;
    }
    return { body: body(), release };
  }

  it('admits a new write once a full pool hands a batch back, and grows no further', async () => {
    const pool = countingPool(1);
    const firstBody = randomBytes(MiB);
    const held = heldBody(firstBody.subarray(0, 1000), firstBody.subarray(1000));
    const first = writeBody(path, 0, held.body, { pool, beforeEachWrite: () => undefined });
    const secondBody = randomBytes(MiB);
    let secondWrites = 0;
    const second = writeBody(path, 4 * MiB, piecesOf(secondBody), { pool, beforeEachWrite: () => void secondWrites++ });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The first write holds the only batch and has not reached the pool's starvation limit.
    expect(secondWrites).toBe(0);
    held.release();
    await Promise.all([first, second]);
    expect(secondWrites).toBe(1);
    expect(pool.made.count).toBe(1);
    const file = await readFile(path);
    expect(file.subarray(0, MiB).equals(firstBody)).toBe(true);
    expect(file.subarray(4 * MiB, 5 * MiB).equals(secondBody)).toBe(true);
  });

  it('gives a waiting write a batch of its own when none has come back for a while', async () => {
    const pool = new BatchPool(() => Buffer.from(pageAlignedMemory(MiB), 0, MiB), 1, 100);
    const held = heldBody(Buffer.alloc(1000, 1), Buffer.alloc(MiB - 1000, 1));
    const stalled = writeBody(path, 0, held.body, { pool, beforeEachWrite: () => undefined });
    const body = randomBytes(MiB);
    const startedAt = performance.now();
    // A slow sender holds the only batch: the next write goes ahead regardless.
    await writeBody(path, 4 * MiB, piecesOf(body), { pool, beforeEachWrite: () => undefined });
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(90);
    held.release();
    await stalled;
    const file = await readFile(path);
    expect(file.subarray(4 * MiB, 5 * MiB).equals(body)).toBe(true);
    expect(file.subarray(0, MiB).every((byte) => byte === 1)).toBe(true);
  });

  it('takes a second batch for a write under way even from a full pool', async () => {
    const pool = countingPool(1);
    const bodies = [0, 1].map(() => randomBytes(3 * MiB));
    await Promise.all(bodies.map((body, i) => writeBody(path, i * 4 * MiB, piecesOf(body), { pool, beforeEachWrite: () => undefined })));
    // The first write took a second batch without waiting; the next was admitted with the two it left.
    expect(pool.made.count).toBe(2);
    const file = await readFile(path);
    bodies.forEach((body, i) => expect(file.subarray(i * 4 * MiB, i * 4 * MiB + body.length).equals(body)).toBe(true));
  });

  it.each([
    ['a whole number of batches', 0, 3 * MiB],
    ['a tail shorter than a block', 2 * MiB, 3 * MiB + 1234],
    ['no more than the last write', 4 * MiB, LAST_WRITE_BYTES],
  ])('writes a body of known length with %s byte for byte', async (_case, offset, length) => {
    const body = randomBytes(length);
    await writeBody(path, offset, piecesOf(body), { pool: countingPool(), beforeEachWrite: () => undefined, expectedLength: length });

    await expectOnlyBodyAt(offset, body);
  });

  it('keeps the last direct write of a body of known length short', async () => {
    const writes = async (expectedLength?: number) => {
      let count = 0;
      await writeBody(path, 0, piecesOf(randomBytes(3 * MiB)), { pool: countingPool(), beforeEachWrite: () => void count++, expectedLength });
      return count;
    };
    // 1 MiB batches: three full ones, or 1 MiB, 1 MiB, 1 MiB less LAST_WRITE_BYTES, then those.
    expect(await writes()).toBe(3);
    expect(await writes(3 * MiB)).toBe(4);
  });

  it('takes one batch for a body that fits one, of known length or not', async () => {
    const pool = countingPool();
    await Promise.all([0, 1, 2].map((i) => writeBody(path, i * MiB, piecesOf(randomBytes(MiB)), { pool, beforeEachWrite: () => undefined, expectedLength: i === 0 ? undefined : MiB })));
    expect(pool.made.count).toBe(3);
  });

  describe('FileReader', () => {
    let content: Buffer;

    beforeEach(async () => {
      content = randomBytes(5 * MiB + 321);
      await writeFile(path, content);
    });

    it.each([
      ['with direct I/O', true],
      ['through the page cache', false],
    ])('reads every byte %s, the last block short, then 0 at the end', async (_name, direct) => {
      const reader = await FileReader.open(path, direct);
      const block = new Uint8Array(pageAlignedMemory(2 * MiB), 0, 2 * MiB);
      const read: Buffer[] = [];
      try {
        for (let position = 0; ; ) {
          const length = await reader.read(block, position);
          if (length === 0) break;
          read.push(Buffer.from(block.subarray(0, length)));
          position += length;
        }
      } finally {
        await reader.close();
      }
      expect(read.map((part) => part.length)).toEqual([2 * MiB, 2 * MiB, MiB + 321]);
      expect(Buffer.concat(read).equals(content)).toBe(true);
    });

    it('reads into memory direct I/O refuses (not page-aligned) through the page cache instead', async () => {
      const reader = await FileReader.open(path, true);
      // Node's own large Buffers start 16 bytes past a page.
      const block = Buffer.allocUnsafeSlow(MiB + 16).subarray(16, MiB + 16);
      try {
        expect(await reader.read(block, MiB)).toBe(MiB);
        expect(block.equals(content.subarray(MiB, 2 * MiB))).toBe(true);
        expect(await reader.read(block, 5 * MiB)).toBe(321);
        expect(block.subarray(0, 321).equals(content.subarray(5 * MiB))).toBe(true);
      } finally {
        await reader.close();
      }
    });

    it('throws ENOENT for a file that does not exist', async () => {
      await expect(FileReader.open(join(dir, 'missing'), true)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });
});
