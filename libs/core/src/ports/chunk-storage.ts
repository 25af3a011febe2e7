import { Readable } from 'node:stream';

export const CHUNK_STORAGE = Symbol('CHUNK_STORAGE');

/** Positional reads of one stored file. */
export interface StoredFileReader {
  /**
   * Fills `into` from `position` on; resolves the bytes read, 0 at the end of the file. Memory
   * from `pageAlignedMemory`, at block-aligned positions, lets storage read with direct I/O.
   */
  read(into: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface StoredFile {
  uploadId: string;
  /** The published file, or else the part file. */
  published: boolean;
}

/**
 * Where upload bytes live: one part file per session while chunks arrive, then the
 * published file. Paths come from the upload id only, never from client input.
 * Every method throws `InsufficientStorageError` when the disk is full.
 */
export interface ChunkStorage {
  /** Creates the part file with its final size, without allocating it. Idempotent. */
  createPart(uploadId: string, size: number): Promise<void>;

  /**
   * Streams `body` into the part file starting at `offset`, then makes it durable
   * (fdatasync) before resolving. If `body` throws, the error propagates and the written
   * bytes must be treated as garbage. Holds at most two write batches in memory (one being
   * written while the next arrives).
   * `length` is the number of bytes the body should carry (a longer body is the caller's to
   * refuse), so the write that ends it can be kept short.
   * Calls `beforeEachWrite` right before each write to the file: if it throws, nothing more
   * is written and the error propagates. Throws `StoredDataMissingError` when the part file is gone.
   */
  writeAt(uploadId: string, offset: number, length: number, body: AsyncIterable<Buffer>, beforeEachWrite?: () => void): Promise<void>;

  /**
   * A reader of the part file, or of the published file when the part is already gone (a
   * re-run after publish), or null when neither exists. The caller closes it.
   */
  openForVerification(uploadId: string): Promise<{ reader: StoredFileReader; published: boolean } | null>;

  /** Makes the part file durable and atomically moves it to its published place. */
  publish(uploadId: string): Promise<void>;

  /** A read of the published file, or of the inclusive byte range given. */
  readPublished(uploadId: string, range?: { start: number; end: number }): Readable;

  /** Removes the part and published files (or only the part file); missing files are fine. */
  remove(uploadId: string, which?: 'all' | 'part'): Promise<void>;

  /**
   * The part and published files last changed before `changedBefore`, lazily, in no
   * particular order. Files whose names are not upload ids are not this service's and
   * never listed.
   */
  listStoredBefore(changedBefore: Date): AsyncIterable<StoredFile>;

  /** Free bytes on the storage volume, or null when unknown. */
  freeBytes(): Promise<number | null>;

  /** Throws unless the storage directories can be written. */
  ping(): Promise<void>;
}
