import { constants, createReadStream } from 'node:fs';
import { FileHandle, access, mkdir, open, opendir, rename, rm, statfs, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ChunkStorage, InsufficientStorageError, StoredDataMissingError, StoredFile, StoredFileReader, assertUploadId, isUploadId } from '@app/core';

/** Bytes gathered before each positional write: few large writes beat many small ones. */
export const WRITE_BATCH_BYTES = 1024 * 1024;
/**
 * Bytes written between flushes started while the body still arrives. The ack waits for one
 * fdatasync; flushing as the bytes land leaves it only the last few MiB to wait for.
 */
export const FLUSH_AHEAD_BYTES = 2 * 1024 * 1024;
/** Most buffers one writev takes (the kernel's IOV_MAX). */
const MAX_WRITEV_BUFFERS = 1024;
/** Read size of downloads. */
const READ_CHUNK_BYTES = 4 * 1024 * 1024;

const FULL_DISK = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** Turns "disk full" into the domain's error; everything else passes through untouched. */
async function mapDiskFull<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (FULL_DISK.has((error as NodeJS.ErrnoException).code ?? '')) throw new InsufficientStorageError();
    throw error;
  }
}

/**
 * Chunk storage on a local (or shared network) directory:
 * `tmp/<uploadId>.part` while chunks arrive, `files/<uploadId>` once published.
 * Both directories sit on one volume, so publishing is a rename, never a copy.
 */
export class LocalDiskStorage implements ChunkStorage {
  private readonly partDir: string;
  private readonly fileDir: string;

  constructor(private readonly root: string) {
    this.partDir = join(root, 'tmp');
    this.fileDir = join(root, 'files');
  }

  async init(): Promise<this> {
    await mkdir(this.partDir, { recursive: true });
    await mkdir(this.fileDir, { recursive: true });
    return this;
  }

  // Ids are checked again here: this is the last stop before the filesystem.
  private partPath(uploadId: string): string {
    return join(this.partDir, `${assertUploadId(uploadId)}.part`);
  }

  private filePath(uploadId: string): string {
    return join(this.fileDir, assertUploadId(uploadId));
  }

  async createPart(uploadId: string, size: number): Promise<void> {
    await mapDiskFull(async () => {
      const handle = await open(this.partPath(uploadId), 'a');
      try {
        // Sparse: blocks are only allocated as chunks land.
        await handle.truncate(size);
      } finally {
        await handle.close();
      }
      // The session is recorded next: its part file must survive a crash too.
      await syncDirectory(this.partDir);
    });
  }

  async writeAt(uploadId: string, offset: number, body: AsyncIterable<Buffer>, beforeEachWrite: () => void = () => undefined): Promise<void> {
    await mapDiskFull(async () => {
      // r+: never create; a part file that is gone means the session is gone.
      const handle = await open(this.partPath(uploadId), 'r+').catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'ENOENT' ? new StoredDataMissingError(uploadId) : error;
      });
      // One batch is written while the next is gathered from the socket, so the body keeps
      // flowing during disk writes. Batches are lists of the pieces as they arrived (written
      // with one writev each), never copied.
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
          writing = writeAll(handle, pieces, at, beforeEachWrite).then(() => flusher.written(bytes));
          // Its failure surfaces where it is awaited; until then it must not count as unhandled.
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
    });
  }

  async openForVerification(uploadId: string): Promise<{ reader: StoredFileReader; published: boolean } | null> {
    for (const [path, published] of [
      [this.partPath(uploadId), false],
      [this.filePath(uploadId), true],
    ] as const) {
      const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return null;
        throw error;
      });
      if (!handle) continue;
      return {
        published,
        reader: {
          read: async (into, position) => (await handle.read(into, 0, into.length, position)).bytesRead,
          close: () => handle.close(),
        },
      };
    }
    return null;
  }

  async publish(uploadId: string): Promise<void> {
    await mapDiskFull(async () => {
      const handle = await open(this.partPath(uploadId), 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(this.partPath(uploadId), this.filePath(uploadId));
      await syncDirectory(this.fileDir);
    });
  }

  readPublished(uploadId: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.filePath(uploadId), { highWaterMark: READ_CHUNK_BYTES, ...range });
  }

  async remove(uploadId: string, which: 'all' | 'part' = 'all'): Promise<void> {
    await rm(this.partPath(uploadId), { force: true });
    if (which === 'all') await rm(this.filePath(uploadId), { force: true });
  }

  async *listStoredBefore(changedBefore: Date): AsyncGenerator<StoredFile> {
    for (const [dir, suffix, published] of [
      [this.partDir, '.part', false],
      [this.fileDir, '', true],
    ] as const) {
      // opendir reads the directory a little at a time, however many files it holds.
      for await (const entry of await opendir(dir)) {
        const uploadId = entry.name.endsWith(suffix) ? entry.name.slice(0, entry.name.length - suffix.length) : '';
        if (!entry.isFile() || !isUploadId(uploadId)) continue;
        const changedAt = await stat(join(dir, entry.name)).then((stats) => stats.mtime, () => null);
        if (changedAt && changedAt < changedBefore) yield { uploadId, published };
      }
    }
  }

  async freeBytes(): Promise<number | null> {
    try {
      const stats = await statfs(this.root);
      return stats.bavail * stats.bsize;
    } catch {
      return null;
    }
  }

  async ping(): Promise<void> {
    await access(this.partDir, constants.W_OK);
    await access(this.fileDir, constants.W_OK);
  }
}

/** Writes `pieces` back to back from `position`, however many calls the kernel needs; `beforeEachWrite` runs before each. */
async function writeAll(handle: FileHandle, pieces: Buffer[], position: number, beforeEachWrite: () => void): Promise<void> {
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
 * at most one at a time: the disk writes the early part of a chunk while the rest arrives.
 * Only the final fdatasync, after the last write, makes the chunk durable.
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

/** Makes a rename durable: the directory entry is flushed, not only the file. */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
