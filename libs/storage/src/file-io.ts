import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { FileHandle, open, rm } from 'node:fs/promises';
import { join } from 'node:path';

// Positional writes and reads of part files. Chunk bytes are written once and read once (by
// the assembly's verification pass), so they go around the page cache where the filesystem
// allows it (O_DIRECT): no page cache to fill, no dirty pages for fdatasync to write back.

/**
 * Direct I/O: the size of each page-aligned batch, so of the largest write. Every write is a
 * hand-off to libuv's thread pool and back, which on a busy machine can cost more than the
 * copy, so batches are large; larger ones than this measured no faster and only took more
 * memory (the pool keeps what concurrent chunks took).
 */
export const DIRECT_BATCH_BYTES = 2 * 1024 * 1024;
/**
 * Direct I/O: the most bytes left for the last write of a body of known length. The
 * acknowledgement waits for that write, so the batch that would reach into these bytes stops
 * short of them (an 8 MiB chunk goes out as 2, 2, 2, 1.5 MiB and 512 KiB), and little is left
 * to write once the last byte has arrived. A body that fits one batch is one write.
 */
export const LAST_WRITE_BYTES = 512 * 1024;
/** Page-cache writes: bytes gathered before each writev. */
export const WRITE_BATCH_BYTES = 1024 * 1024;
/**
 * Bytes written between flushes started while the body still arrives. The ack waits for one
 * fdatasync, and its cost grows with what is unflushed: dirty pages, and for direct writes the
 * disk's own write cache. Flushing ahead leaves the final fdatasync only the last writes.
 */
export const FLUSH_AHEAD_BYTES = 2 * 1024 * 1024;
/** Direct I/O offsets, lengths and memory start on multiples of this: a page, the largest logical block size in common use. */
export const DIRECT_IO_ALIGNMENT = 4096;
/** Linux's O_DIRECT; 0 on platforms without it, where direct I/O is never tried. */
const O_DIRECT = constants.O_DIRECT ?? 0;
/** Most buffers one writev takes (the kernel's IOV_MAX). */
const MAX_WRITEV_BUFFERS = 1024;

/**
 * Page-aligned write batches, each a whole number of DIRECT_IO_ALIGNMENT blocks long, reused
 * from one chunk to the next: fresh memory would cost a page fault per 4 KiB on every chunk,
 * and V8 frees WebAssembly memory only when it collects it. The pool never drops a batch, so
 * new writes are admitted only while fewer than `capacity` batches exist or one is idle; the
 * others wait their turn, their bodies held back in the socket (the kernel's buffers, not
 * this process's memory). Under many concurrent chunks that is faster than writing them all
 * at once through the page cache, and it holds far fewer request bodies. A write under way
 * takes its second batch without waiting. Slow senders must not hold every other upload up:
 * when no batch has come back for `starvedAfterMs`, the longest waiter gets a new one.
 */
export class BatchPool {
  private readonly idle: Buffer[] = [];
  private readonly waiting: ((batch: Buffer) => void)[] = [];
  private allocated = 0;
  /** When a batch last came back, or the first of the current waiters began to wait. */
  private movedAt = 0;
  private starvationCheck: NodeJS.Timeout | null = null;

  constructor(
    private readonly allocate: () => Buffer,
    private readonly capacity = 8,
    private readonly starvedAfterMs = 250,
  ) {}

  /** A batch for a new direct write: at once while there is room, otherwise in turn. */
  async admit(): Promise<Buffer> {
    if (this.idle.length > 0 || this.allocated < this.capacity) return this.take();
    return await new Promise<Buffer>((resolve) => {
      if (this.waiting.length === 0) this.movedAt = performance.now();
      this.waiting.push(resolve);
      this.watchForStarvation();
    });
  }

  /** A batch now, made if none is idle: for a write under way (its second batch), or a probe. */
  take(): Buffer {
    const batch = this.idle.pop();
    if (batch) return batch;
    this.allocated += 1;
    return this.allocate();
  }

  give(batch: Buffer): void {
    this.movedAt = performance.now();
    const next = this.waiting.shift();
    if (next) next(batch);
    else this.idle.push(batch);
  }

  private watchForStarvation(): void {
    if (this.starvationCheck) return;
    this.starvationCheck = setInterval(() => {
      if (this.waiting.length === 0) {
        clearInterval(this.starvationCheck ?? undefined);
        this.starvationCheck = null;
      } else if (performance.now() - this.movedAt >= this.starvedAfterMs) {
        // Counts as a batch come back: the next waiter waits as long again.
        this.movedAt = performance.now();
        this.waiting.shift()?.(this.take());
      }
    }, this.starvedAfterMs / 5);
    // The waiting requests keep the process alive, not this check.
    this.starvationCheck.unref();
  }
}

/**
 * Whether files in `dir` take direct I/O: tmpfs before Linux 6.6, some FUSE and network
 * filesystems, and platforms other than Linux do not.
 */
export async function directIoWorks(dir: string, pool: BatchPool): Promise<boolean> {
  if (!O_DIRECT) return false;
  // Not an upload id: the sweeps never take it for an upload's file.
  const probe = join(dir, `.direct-io-probe-${randomUUID()}`);
  const batch = pool.take();
  try {
    const handle = await open(probe, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | O_DIRECT);
    try {
      await handle.write(batch, 0, DIRECT_IO_ALIGNMENT, 0);
      await handle.read(batch, 0, DIRECT_IO_ALIGNMENT, 0);
    } finally {
      await handle.close();
    }
    return true;
  } catch {
    return false;
  } finally {
    pool.give(batch);
    await rm(probe, { force: true });
  }
}

export interface BodyWriteOptions {
  /** Batches for direct I/O; null writes through the page cache. */
  pool: BatchPool | null;
  /** Runs right before each write; if it throws, nothing more is written. */
  beforeEachWrite: () => void;
  /** The bytes the body should carry, when known: lets the last direct write be a short one. */
  expectedLength?: number;
}

/**
 * Streams `body` into the existing file at `path` from `offset` on, then makes it durable
 * (fdatasync). One batch is written while the next is gathered from the socket, so the body
 * keeps flowing during disk writes. Throws ENOENT when the file is gone.
 */
export async function writeBody(path: string, offset: number, body: AsyncIterable<Buffer>, options: BodyWriteOptions): Promise<void> {
  const { pool, beforeEachWrite, expectedLength } = options;
  // A chunk that does not start on a block boundary (chunk sizes need not be multiples of
  // 4 KiB) goes through the page cache.
  const firstBatch = pool && offset % DIRECT_IO_ALIGNMENT === 0 ? await pool.admit() : null;
  if (pool && firstBatch) await writeDirect(path, offset, body, pool, firstBatch, beforeEachWrite, expectedLength);
  else await writeThroughPageCache(path, offset, body, beforeEachWrite);
}

/**
 * Direct I/O: pieces are copied into two page-aligned batches that take turns (one is written
 * while the other fills), and the disk's cache is flushed ahead as batches land. The last piece
 * of a file, when its length is not a whole number of blocks, goes through the page cache, and
 * the final fdatasync covers it too.
 */
async function writeDirect(
  path: string,
  offset: number,
  body: AsyncIterable<Buffer>,
  pool: BatchPool,
  firstBatch: Buffer,
  beforeEachWrite: () => void,
  expectedLength: number | undefined,
): Promise<void> {
  const handle = await open(path, constants.O_RDWR | O_DIRECT).catch((error: unknown) => {
    pool.give(firstBatch);
    throw error;
  });
  // The second batch is taken only once the first is full: a chunk that fits one needs only one.
  const batches: Buffer[] = [firstBatch];
  let tailHandle: FileHandle | null = null;
  let writing: Promise<void> = Promise.resolve();
  const flusher = new FlushAhead(handle);
  try {
    let filling = 0;
    let filled = 0;
    let position = offset;
    const startWrite = async (bytes: number) => {
      // The write in flight uses the other batch; once it is done that batch can fill.
      await writing;
      writing = writeFully(handle, batches[filling].subarray(0, bytes), position, beforeEachWrite).then(() => flusher.written(bytes));
      // Its failure surfaces where it is awaited; until then it must not count as unhandled.
      writing.catch(() => undefined);
      position += bytes;
      filling = 1 - filling;
      filled = 0;
    };
    // Where the last write of the body begins (on a block boundary); -1 when its length is
    // unknown or it fits one batch, which then takes a single write and never a second batch.
    const lastWriteAt = expectedLength === undefined || expectedLength <= firstBatch.length ? -1 : offset + alignDown(expectedLength - LAST_WRITE_BYTES);
    for await (const piece of body) {
      for (let from = 0; from < piece.length; ) {
        const batch = (batches[filling] ??= pool.take());
        const fillTo = position < lastWriteAt && lastWriteAt < position + batch.length ? lastWriteAt - position : batch.length;
        const copied = piece.copy(batch, filled, from, from + Math.min(piece.length - from, fillTo - filled));
        filled += copied;
        from += copied;
        if (filled === fillTo) await startWrite(filled);
      }
    }
    // Whenever there is a tail, this batch holds it (it is the one that took the last bytes).
    const last = batches[filling];
    const tailBytes = filled % DIRECT_IO_ALIGNMENT;
    const alignedBytes = filled - tailBytes;
    if (alignedBytes > 0) await startWrite(alignedBytes);
    await writing;
    await flusher.settled();
    if (tailBytes > 0) {
      tailHandle = await open(path, 'r+');
      await writeFully(tailHandle, last.subarray(alignedBytes, alignedBytes + tailBytes), position, beforeEachWrite);
    }
    // Flushes the tail's page and the disk's own cache: only now is every byte durable.
    await (tailHandle ?? handle).datasync();
  } finally {
    // Never close under a write or flush still in flight, nor hand a batch back under a write.
    await writing.catch(() => undefined);
    await flusher.settled().catch(() => undefined);
    await tailHandle?.close();
    await handle.close();
    for (const batch of batches) pool.give(batch);
  }
}

/** Page-cache writes: batches are lists of the pieces as they arrived (one writev each), never copied. */
async function writeThroughPageCache(path: string, offset: number, body: AsyncIterable<Buffer>, beforeEachWrite: () => void): Promise<void> {
  const handle = await open(path, 'r+');
  let writing: Promise<void> = Promise.resolve();
  const flusher = new FlushAhead(handle);
  try {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let position = offset;
    const startWrite = async () => {
      await writing;
      const pieces = batch;
      const at = position;
      const bytes = batchBytes;
      position += batchBytes;
      batch = [];
      batchBytes = 0;
      writing = writevAll(handle, pieces, at, beforeEachWrite).then(() => flusher.written(bytes));
      writing.catch(() => undefined);
    };
    for await (const piece of body) {
      batch.push(piece);
      batchBytes += piece.length;
      if (batchBytes >= WRITE_BATCH_BYTES) await startWrite();
    }
    if (batchBytes > 0) await startWrite();
    await writing;
    await flusher.settled();
    await handle.datasync();
  } finally {
    // Never close under a write or flush still in flight.
    await writing.catch(() => undefined);
    await flusher.settled().catch(() => undefined);
    await handle.close();
  }
}

/** Writes all of `bytes` from `position`, however many calls the kernel needs; `beforeEachWrite` runs before each. */
async function writeFully(handle: FileHandle, bytes: Buffer, position: number, beforeEachWrite: () => void): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    beforeEachWrite();
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/** Writes `pieces` back to back from `position`, however many calls the kernel needs; `beforeEachWrite` runs before each. */
async function writevAll(handle: FileHandle, pieces: Buffer[], position: number, beforeEachWrite: () => void): Promise<void> {
  let at = position;
  for (let first = 0; first < pieces.length; ) {
    const group = pieces.slice(first, first + MAX_WRITEV_BUFFERS);
    const groupBytes = group.reduce((sum, piece) => sum + piece.length, 0);
    beforeEachWrite();
    const { bytesWritten } = await handle.writev(group, at);
    at += bytesWritten;
    if (bytesWritten === groupBytes) {
      first += group.length;
      continue;
    }
    // A short write: carry on from the first byte the kernel did not take.
    let skipped = bytesWritten;
    while (skipped >= pieces[first].length) skipped -= pieces[first++].length;
    pieces[first] = pieces[first].subarray(skipped);
  }
}

/**
 * Starts an fdatasync, without waiting for it, once FLUSH_AHEAD_BYTES more have been written,
 * at most one at a time: the disk makes the early part of a chunk durable while the rest
 * arrives. Only the final fdatasync, after the last write, makes the chunk durable.
 */
class FlushAhead {
  private unflushedBytes = 0;
  private flushing: Promise<void> | null = null;
  private failure: unknown = null;

  constructor(private readonly handle: FileHandle) {}

  written(bytes: number): void {
    this.unflushedBytes += bytes;
    if (this.flushing || this.unflushedBytes < FLUSH_AHEAD_BYTES) return;
    this.unflushedBytes = 0;
    this.flushing = this.handle.datasync().then(
      () => {
        this.flushing = null;
      },
      (error: unknown) => {
        this.flushing = null;
        this.failure ??= error;
      },
    );
  }

  /** Waits for the flush in flight; rethrows the first flush that failed (an I/O error, a full disk). */
  async settled(): Promise<void> {
    await this.flushing;
    if (this.failure) throw this.failure;
  }
}

/**
 * Positional reads of one file, with direct I/O where it works: at block-aligned positions and
 * lengths into page-aligned memory. Any other read, or memory direct I/O refuses, goes through
 * the page cache.
 */
export class FileReader {
  private constructor(
    private readonly path: string,
    private direct: FileHandle | null,
    private cached: FileHandle | null,
  ) {}

  /** Opens `path` for reading; throws ENOENT when it does not exist. */
  static async open(path: string, direct: boolean): Promise<FileReader> {
    if (direct && O_DIRECT) {
      const handle = await open(path, constants.O_RDONLY | O_DIRECT).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EINVAL') return null;
        throw error;
      });
      if (handle) return new FileReader(path, handle, null);
    }
    return new FileReader(path, null, await open(path, 'r'));
  }

  /** Fills `into` from `position` on; resolves the bytes read, 0 at the end of the file. */
  async read(into: Uint8Array, position: number): Promise<number> {
    if (this.direct && position % DIRECT_IO_ALIGNMENT === 0 && into.byteLength % DIRECT_IO_ALIGNMENT === 0) {
      try {
        return (await this.direct.read(into, 0, into.byteLength, position)).bytesRead;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
        // Memory that is not page-aligned: the page cache from here on.
        await this.direct.close();
        this.direct = null;
      }
    }
    this.cached ??= await open(this.path, 'r');
    return (await this.cached.read(into, 0, into.byteLength, position)).bytesRead;
  }

  async close(): Promise<void> {
    await this.direct?.close();
    await this.cached?.close();
  }
}

/** `bytes` rounded down to whole DIRECT_IO_ALIGNMENT blocks. */
function alignDown(bytes: number): number {
  return bytes - (bytes % DIRECT_IO_ALIGNMENT);
}
