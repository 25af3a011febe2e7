import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { access, mkdir, open, opendir, rename, rm, statfs, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  ChunkSlot,
  EarlyRead,
  InsufficientStorageError,
  KeepsChunkBeginnings,
  RecordedStoredChunk,
  ReadsWhileReceiving,
  ReportsFreeSpace,
  StoredChunk,
  StoredDataMissingError,
  StoredLeftover,
  StoredUpload,
  UploadLayout,
  UploadStorage,
  assertUploadId,
  chunkRange,
  isUploadId,
} from '@app/core';
import { BatchPool, DIRECT_BATCH_BYTES, FileReader, directIoWorks, writeBody } from './file-io';
import { pageAlignedMemory } from './page-aligned-memory';
import { hashStoredFile, hashStoredFileAsAllowed } from './stored-file-hash';

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
 * Upload storage on a local (or shared network) directory: `tmp/<uploadId>.part`, a sparse
 * file of the upload's full size, while chunks arrive; `files/<uploadId>` once published.
 * Both directories sit on one volume, so publishing is a rename, never a copy.
 */
export class LocalDiskStorage implements UploadStorage, ReportsFreeSpace, KeepsChunkBeginnings, ReadsWhileReceiving {
  private readonly partDir: string;
  private readonly fileDir: string;
  /** Write batches for direct I/O; null when part files go through the page cache. */
  private batches: BatchPool | null = null;

  /** `directIo: false` keeps every read and write in the page cache. */
  constructor(
    private readonly root: string,
    private readonly options: { directIo?: boolean } = {},
  ) {
    this.partDir = join(root, 'tmp');
    this.fileDir = join(root, 'files');
  }

  async init(): Promise<this> {
    await mkdir(this.partDir, { recursive: true });
    await mkdir(this.fileDir, { recursive: true });
    if (this.options.directIo !== false) {
      const pool = new BatchPool(() => Buffer.from(pageAlignedMemory(DIRECT_BATCH_BYTES), 0, DIRECT_BATCH_BYTES));
      if (await directIoWorks(this.partDir, pool)) this.batches = pool;
    }
    return this;
  }

  /** Whether part files are written and read with direct I/O, around the page cache. */
  get usesDirectIo(): boolean {
    return this.batches !== null;
  }

  // Ids are checked again here: this is the last stop before the filesystem.
  private partPath(uploadId: string): string {
    return join(this.partDir, `${assertUploadId(uploadId)}.part`);
  }

  private filePath(uploadId: string): string {
    return join(this.fileDir, assertUploadId(uploadId));
  }

  /** Creates the part file with its final size, without allocating it. */
  async create(upload: UploadLayout): Promise<void> {
    await mapDiskFull(async () => {
      const handle = await open(this.partPath(upload.id), 'a');
      try {
        // Sparse: blocks are only allocated as chunks land.
        await handle.truncate(upload.fileSize);
      } finally {
        await handle.close();
      }
      // The session is recorded next: its part file must survive a crash too.
      await syncDirectory(this.partDir);
    });
  }

  /**
   * Streams the chunk into the part file at its offset, then makes it durable (fdatasync).
   * Holds at most two write batches in memory (one being written while the next arrives); the
   * chunk's length lets the write that ends it be kept short.
   */
  async writeChunk(upload: UploadLayout, slot: ChunkSlot, body: AsyncIterable<Buffer>, beforeEachWrite: () => void = () => undefined): Promise<StoredChunk> {
    await mapDiskFull(() =>
      writeBody(this.partPath(upload.id), slot.offset, body, { pool: this.batches, beforeEachWrite, expectedLength: slot.length }).catch((error: NodeJS.ErrnoException) => {
        // The part file is opened, never created: one that is gone means the session is gone.
        throw error.code === 'ENOENT' ? new StoredDataMissingError(upload.id) : error;
      }),
    );
    return { etag: null };
  }

  /** A beginning is written in place, as any chunk is. */
  async writeChunkBeginning(upload: UploadLayout, slot: ChunkSlot, body: AsyncIterable<Buffer>, beforeEachWrite: () => void = () => undefined): Promise<void> {
    await this.writeChunk(upload, slot, body, beforeEachWrite);
  }

  /** Through the page cache: the kernel drops cached pages a direct write replaced, so this reads what was written. */
  async *readChunkBeginning(upload: UploadLayout, slot: ChunkSlot): AsyncGenerator<Buffer> {
    if (slot.length === 0) return;
    const stream = createReadStream(this.partPath(upload.id), { start: slot.offset, end: slot.offset + slot.length - 1, highWaterMark: 1024 * 1024 });
    try {
      for await (const piece of stream) yield piece as Buffer;
    } catch (error) {
      throw (error as NodeJS.ErrnoException).code === 'ENOENT' ? new StoredDataMissingError(upload.id) : error;
    }
  }

  /**
   * One read pass over the part file, or over the published file when the part is already gone
   * (a re-run after publish). A disk keeps no tag per chunk, so damage shows in the digests.
   */
  async readForVerification(upload: UploadLayout, _chunks: RecordedStoredChunk[]): Promise<StoredUpload> {
    for (const [path, published] of [
      [this.partPath(upload.id), false],
      [this.filePath(upload.id), true],
    ] as const) {
      const reader = await FileReader.open(path, this.usesDirectIo).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return null;
        throw error;
      });
      if (!reader) continue;
      const { sha256, chunkDigests } = await hashStoredFile(reader, upload).finally(() => reader.close());
      return { kind: 'read', digests: { sha256, chunkDigests }, published };
    }
    return { kind: 'gone' };
  }

  /** The verification's read pass over the part file, held back at what is allowed: a recorded chunk stays in place. */
  async startEarlyRead(upload: UploadLayout): Promise<EarlyRead | null> {
    const reader = await FileReader.open(this.partPath(upload.id), this.usesDirectIo).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    return reader && hashStoredFileAsAllowed(reader, upload);
  }

  /** Through the page cache, as a chunk's beginning is read: these are few. */
  async readChunkDigests(upload: UploadLayout, chunks: number[]): Promise<string[]> {
    const digests: string[] = [];
    for (const index of chunks) {
      const { start, end } = chunkRange(upload, index);
      const hash = createHash('sha256');
      for await (const piece of this.readChunkBeginning(upload, { index, offset: start, length: end - start + 1 })) hash.update(piece);
      digests.push(hash.digest('hex'));
    }
    return digests;
  }

  /** A chunk's region of the part file can simply be written again. */
  async reopenChunks(_upload: UploadLayout, _chunks: number[]): Promise<void> {}

  /** Makes the part file durable and atomically moves it to its published place. */
  async publish(upload: UploadLayout): Promise<void> {
    const uploadId = upload.id;
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

  async readPublished(uploadId: string, range?: { start: number; end: number }): Promise<Readable> {
    const file = await open(this.filePath(uploadId), 'r').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new StoredDataMissingError(uploadId) : error;
    });
    // The stream closes the file when it ends or is destroyed.
    return file.createReadStream({ highWaterMark: READ_CHUNK_BYTES, ...range });
  }

  async remove(uploadId: string, which: 'all' | 'unpublished' = 'all'): Promise<void> {
    await rm(this.partPath(uploadId), { force: true });
    if (which === 'all') await rm(this.filePath(uploadId), { force: true });
  }

  /** Part and published files, in no particular order; files whose names are not upload ids are not this service's. */
  async *listLeftovers(changedBefore: Date): AsyncGenerator<StoredLeftover> {
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

  /** Free bytes on the storage volume, or null when unknown. */
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

/** Makes a rename durable: the directory entry is flushed, not only the file. */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
