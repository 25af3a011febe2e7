import { Readable } from 'node:stream';
import { RecordedChunk } from '../upload-session';

export const UPLOAD_STORAGE = Symbol('UPLOAD_STORAGE');

/** The shape of an upload, which is all a store needs to lay its bytes out. */
export interface UploadLayout {
  id: string;
  fileSize: number;
  chunkSize: number;
}

/** Where one chunk's bytes go: grid chunk `index` covers `length` bytes from `offset`. */
export interface ChunkSlot {
  index: number;
  offset: number;
  length: number;
}

/** What a store says about a chunk it made durable; recorded with the chunk. */
export interface StoredChunk {
  /** The store's tag for the bytes it kept (an S3 part's ETag), or null when it has none. */
  etag: string | null;
}

/** A recorded chunk with what the store said when it kept it. */
export type RecordedStoredChunk = RecordedChunk & StoredChunk;

/** The SHA-256 of the whole stored file and of each grid chunk, from one read of the bytes. */
export interface StoredDigests {
  sha256: string;
  chunkDigests: string[];
}

export type StoredUpload =
  /** The bytes were read; `published` when they were already in their final place (a re-run). */
  | { kind: 'read'; digests: StoredDigests; published: boolean }
  /** The store no longer holds these recorded chunks as recorded; they must be sent again. */
  | { kind: 'chunks-lost'; chunks: number[] }
  /** Nothing of this upload is stored any more. */
  | { kind: 'gone' };

export interface StoredLeftover {
  uploadId: string;
  /** True for a finished file, false for bytes of an upload still being received. */
  published: boolean;
}

/**
 * Where upload bytes live while chunks arrive and after the upload is published. Keys and
 * paths come from the upload id only, never from client input. Every method throws
 * `InsufficientStorageError` when the store is full and `ServiceUnavailableError` when it
 * cannot be reached (after the adapter's own retries).
 */
export interface UploadStorage {
  /** Prepares a new upload's storage. Idempotent. */
  create(upload: UploadLayout): Promise<void>;

  /**
   * Streams one chunk's bytes into the store and resolves once they are durable. `body`
   * carries `slot.length` bytes (a longer body is the caller's to refuse); if it throws, the
   * error propagates and whatever was written counts for nothing. `beforeEachWrite` runs right
   * before each write reaches the store: if it throws, nothing more is written. Throws
   * `StoredDataMissingError` when the upload's storage is gone.
   */
  writeChunk(upload: UploadLayout, slot: ChunkSlot, body: AsyncIterable<Buffer>, beforeEachWrite?: () => void): Promise<StoredChunk>;

  /**
   * Reads every stored byte of a fully received upload once, as recorded in `chunks`, and
   * returns its digests; a re-run after `publish` reads the published file.
   */
  readForVerification(upload: UploadLayout, chunks: RecordedStoredChunk[]): Promise<StoredUpload>;

  /** Lets chunks that failed verification be written again; the others stay as they are. */
  reopenChunks(upload: UploadLayout, chunks: number[]): Promise<void>;

  /** Makes the verified bytes the upload's published file. Idempotent. */
  publish(upload: UploadLayout): Promise<void>;

  /**
   * A read of the published file, or of the inclusive byte range given. Resolves once the store
   * has the file open, so that a missing file (`StoredDataMissingError`) or an unreachable store
   * is known before a response starts; what fails later fails the stream.
   */
  readPublished(uploadId: string, range?: { start: number; end: number }): Promise<Readable>;

  /** Removes everything stored for the upload, or only its unpublished bytes; nothing stored is fine. */
  remove(uploadId: string, which?: 'all' | 'unpublished'): Promise<void>;

  /** What was stored and last changed before `changedBefore`, lazily; only this service's uploads. */
  listLeftovers(changedBefore: Date): AsyncIterable<StoredLeftover>;

  /** Throws unless the store can be written. */
  ping(): Promise<void>;
}

/** A store that knows how much room it has left (a disk; object stores do not). */
export interface ReportsFreeSpace {
  freeBytes(): Promise<number | null>;
}

export function reportsFreeSpace(storage: UploadStorage): storage is UploadStorage & ReportsFreeSpace {
  return typeof (storage as Partial<ReportsFreeSpace>).freeBytes === 'function';
}

/**
 * A store that can keep the beginning of a chunk whose rest has not arrived yet, so a tus PATCH
 * may end anywhere (a disk, which writes in place; an object store keeps whole parts only).
 */
export interface KeepsChunkBeginnings {
  /**
   * Like `writeChunk` for the first `slot.length` bytes of chunk `slot.index` only (`slot.offset`
   * is the chunk's start): resolves once they are durable. What the store kept of the chunk before
   * may be overwritten, so a caller that extends a beginning sends it again first.
   */
  writeChunkBeginning(upload: UploadLayout, slot: ChunkSlot, body: AsyncIterable<Buffer>, beforeEachWrite?: () => void): Promise<void>;

  /** The stored first `slot.length` bytes of chunk `slot.index`, as a beginning or whole chunk left them. */
  readChunkBeginning(upload: UploadLayout, slot: ChunkSlot): AsyncIterable<Buffer>;
}

export function keepsChunkBeginnings(storage: UploadStorage): storage is UploadStorage & KeepsChunkBeginnings {
  const candidate = storage as Partial<KeepsChunkBeginnings>;
  return typeof candidate.writeChunkBeginning === 'function' && typeof candidate.readChunkBeginning === 'function';
}

/** Where a copied chunk's bytes come from: the published file of `uploadId`, from byte `offset` on. */
export interface PublishedRange {
  uploadId: string;
  offset: number;
}

/**
 * A store that can fill a chunk from another upload's published file by itself, without the
 * bytes passing through the service (S3's UploadPartCopy), as a tus final upload takes its
 * partial uploads' bytes.
 */
export interface CopiesPublishedRanges {
  /**
   * Like `writeChunk`, with the `slot.length` bytes of `source`'s published file from
   * `source.offset` as the body: resolves once the copy is durable. `beforeEachWrite` runs
   * before the copy is asked for. Throws `StoredDataMissingError` when either upload is gone.
   */
  copyChunk(upload: UploadLayout, slot: ChunkSlot, source: PublishedRange, beforeEachWrite?: () => void): Promise<StoredChunk>;
}

export function copiesPublishedRanges(storage: UploadStorage): storage is UploadStorage & CopiesPublishedRanges {
  return typeof (storage as Partial<CopiesPublishedRanges>).copyChunk === 'function';
}

/** A read of an upload's stored bytes, in order, that may start before the last chunk arrives. */
export interface EarlyRead {
  /** Lets the read go on up to byte `end` (exclusive): bytes only of chunks already recorded. Never lowered. */
  allow(end: number): void;
  /** Where the bytes read (or being read) so far end. */
  readonly readEnd: number;
  /** Resolves once every byte was read (after `allow(fileSize)`): the same digests as `readForVerification`'s. */
  readonly digests: Promise<StoredDigests>;
  /** Stops the read and gives back what it holds; `digests` then rejects. */
  cancel(): void;
}

/**
 * A store that can read an upload's bytes while its chunks still arrive (a disk, where a
 * recorded chunk stays in place; an object store holds nothing readable before completion).
 */
export interface ReadsWhileReceiving {
  /** Starts an early read of the stored bytes from the beginning; null when the upload's bytes are not (or no longer) there. */
  startEarlyRead(upload: UploadLayout): Promise<EarlyRead | null>;
  /** The SHA-256 of each of `chunks` as stored now, in the same order. */
  readChunkDigests(upload: UploadLayout, chunks: number[]): Promise<string[]>;
}

export function readsWhileReceiving(storage: UploadStorage): storage is UploadStorage & ReadsWhileReceiving {
  const candidate = storage as Partial<ReadsWhileReceiving>;
  return typeof candidate.startEarlyRead === 'function' && typeof candidate.readChunkDigests === 'function';
}
