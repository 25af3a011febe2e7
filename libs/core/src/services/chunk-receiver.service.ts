import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { StoredDataMissingError, UploadError } from '../errors';
import { CHUNK_LEASE, ChunkLease } from '../ports/chunk-lease';
import { UPLOAD_REPOSITORY, UploadRepository } from '../ports/upload.repository';
import { ChunkSlot, PublishedRange, StoredChunk, UPLOAD_STORAGE, UploadStorage, copiesPublishedRanges, keepsChunkBeginnings } from '../ports/upload-storage';
import { chunkIndexOf, chunkRange, formatByteRange } from '../rules/chunk-grid';
import { parseContentDigest } from '../rules/content-digest';
import { ContentRange, parseContentRange } from '../rules/content-range';
import { withIdleTimeout } from '../rules/idle-timeout';
import { meteredBody } from '../rules/metered-body';
import { assertAcceptsChunks } from '../rules/upload-status';
import { assertUploadId } from '../rules/upload-id';
import { UploadSession } from '../upload-session';
import { verifiesEarly } from './assembly.service';
import { LeaseKeeper } from './lease-keeper';
import { SessionShape, SessionShapes } from './session-shapes';
import { Caller, UploadService, assertOwnedBy } from './upload.service';

export interface IncomingChunk {
  uploadId: unknown;
  contentRange: string | string[] | undefined;
  /** The declared Content-Length, or null for a chunked body. */
  contentLength: number | null;
  contentDigest: string | string[] | undefined;
  body: AsyncIterable<Buffer>;
  caller: Caller;
}

/** How a stored chunk's body is checked: its declared length, and its expected SHA-256 (hex) if any. */
export interface StoreOptions {
  lengthDeclared: boolean;
  expectedDigest: string | null;
  /** The slot is the beginning of its chunk only (a store that keeps chunk beginnings): record it with `recordBeginning`. */
  beginning?: boolean;
}

/** A chunk whose bytes are durable (or, with `fence` null, already recorded and found equal or not), not yet counted. */
export interface StoredGridChunk {
  uploadId: string;
  index: number;
  size: number;
  sha256: string;
  etag: string | null;
  /** The claim to record under; null when the chunk was recorded before with `recordedSha256`. */
  fence: string | null;
  recordedSha256: string | null;
  keeper: LeaseKeeper;
  /** Gives the chunk's lease back; call it once, whatever happened. */
  release(): void;
}

export interface ChunkReceipt {
  session: UploadSession;
  chunkIndex: number;
}

/**
 * The chunk data path: validate the request against the session's grid, take the chunk's lease,
 * stream the body into storage while hashing it, make it durable, then record it. A chunk
 * counts only once that record exists, so any failure before it leaves the chunk missing.
 */
@Injectable()
export class ChunkReceiver {
  private readonly shapes = new SessionShapes();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(UPLOAD_REPOSITORY) private readonly uploads: UploadRepository,
    @Inject(UPLOAD_STORAGE) private readonly storage: UploadStorage,
    @Inject(CHUNK_LEASE) private readonly leases: ChunkLease,
    private readonly uploadService: UploadService,
  ) {}

  async receive(chunk: IncomingChunk): Promise<ChunkReceipt> {
    const uploadId = assertUploadId(chunk.uploadId);
    const range = parseContentRange(chunk.contentRange);
    const expectedDigest = parseContentDigest(chunk.contentDigest);
    const session = await this.shapeOf(uploadId, chunk.caller);

    const index = this.gridIndex(session, range);
    const length = range.end - range.start + 1;
    if (chunk.contentLength !== null && chunk.contentLength !== length) {
      throw new UploadError('LENGTH_MISMATCH', `Content-Length is ${chunk.contentLength} but the Content-Range covers ${length} bytes: send exactly the bytes of the range.`);
    }

    const stored = await this.store(session, { index, offset: range.start, length }, chunk.body, { lengthDeclared: chunk.contentLength !== null, expectedDigest }, chunk.caller);
    try {
      return await this.record(stored, chunk.caller);
    } finally {
      stored.release();
    }
  }

  /**
   * Takes the chunk's lease and claim, streams `body` into the store while hashing it, and
   * resolves once its bytes are durable, before they are recorded: `record` makes them count.
   * A chunk already recorded is only compared, never rewritten. The lease is held until
   * `release`, which the caller must call whatever happens.
   */
  async store(session: SessionShape, slot: ChunkSlot, source: AsyncIterable<Buffer>, options: StoreOptions, caller: Caller): Promise<StoredGridChunk> {
    const write = (body: AsyncIterable<Buffer>, beforeEachWrite: () => void) =>
      options.beginning ? this.writeBeginning(session, slot, body, beforeEachWrite) : this.storage.writeChunk(session, slot, body, beforeEachWrite);
    return this.storeWith(session, slot, source, options, caller, write);
  }

  /**
   * Like `store`, for a chunk the store fills by itself from another upload's published file
   * (`CopiesPublishedRanges`): the range is read once, alongside the copy, to hash it, so the
   * chunk is recorded with the digest of the bytes it should hold and verification checks the copy.
   */
  async copy(session: SessionShape, slot: ChunkSlot, source: PublishedRange, caller: Caller): Promise<StoredGridChunk> {
    const storage = this.storage;
    if (!copiesPublishedRanges(storage)) throw new Error('This store copies no published ranges');
    async function* range(): AsyncGenerator<Buffer> {
      for await (const piece of await storage.readPublished(source.uploadId, { start: source.offset, end: source.offset + slot.length - 1 })) yield piece as Buffer;
    }
    const write = async (body: AsyncIterable<Buffer>, beforeEachWrite: () => void): Promise<StoredChunk> => {
      const hashed = (async () => {
        for await (const piece of body) void piece;
      })();
      // Both run to their end, so nothing of this request outlives it; the body's failure (the lease, the source) is the one to tell.
      const [read, copied] = await Promise.allSettled([hashed, storage.copyChunk(session, slot, source, beforeEachWrite)]);
      if (read.status === 'rejected') throw read.reason;
      if (copied.status === 'rejected') throw copied.reason;
      return copied.value;
    };
    return this.storeWith(session, slot, range(), { lengthDeclared: true, expectedDigest: null }, caller, write);
  }

  private async storeWith(
    session: SessionShape,
    slot: ChunkSlot,
    source: AsyncIterable<Buffer>,
    options: StoreOptions,
    caller: Caller,
    write: (body: AsyncIterable<Buffer>, beforeEachWrite: () => void) => Promise<StoredChunk>,
  ): Promise<StoredGridChunk> {
    const uploadId = session.id;
    const { index, length } = slot;
    const lease = await this.leases.acquire(uploadId, index, this.config.chunkLeaseTtlMs);
    if (!lease) {
      // A session that takes no chunks says so, rather than that this chunk is busy.
      assertAcceptsChunks((await this.uploadService.get(uploadId, caller)).status);
      throw new UploadError('CHUNK_IN_PROGRESS', `Chunk ${index} is being written by another request: retry it after the Retry-After delay.`, { chunkIndex: index }, 1);
    }
    const keeper = new LeaseKeeper(lease, this.config.chunkLeaseTtlMs, `chunk ${index} of ${uploadId}`);
    // Not awaited: the answer need not wait for Redis. This connection carries the release
    // before any later acquire of this process, and a lease never released lapses anyway.
    const release = () => void keeper.release();
    const hash = createHash('sha256');
    try {
      const arriving = withIdleTimeout(source, this.config.bodyIdleTimeoutMs, () => this.idleError(index));
      const metered = meteredBody(arriving, { expectedLength: length, chunkSize: session.chunkSize, lengthDeclared: options.lengthDeclared }, hash);
      const body = keeper.watch(metered);
      const claim = await this.uploads.claimChunk(uploadId, index);
      assertAcceptsChunks(claim.status);
      if (claim.recorded) {
        // Never rewrite stored bytes: only compare the retry with them.
        for await (const piece of body) void piece;
        const sha256 = this.verifiedDigest(hash.digest('hex'), options.expectedDigest);
        return { uploadId, index, size: length, sha256, etag: null, fence: null, recordedSha256: claim.recorded.sha256, keeper, release };
      }
      // A pause between the lease and the claim must not let this request take over the fence.
      keeper.assertHeld();
      if (claim.fence === null) throw this.takenOver(index);

      // The lease is checked again right before every write, so a request that paused past it
      // stops before its next write reaches the store.
      const { etag } = await write(body, () => keeper.assertHeld()).catch((error: unknown) => this.explainWriteFailure(error, uploadId, caller));
      const sha256 = this.verifiedDigest(hash.digest('hex'), options.expectedDigest);
      return { uploadId, index, size: length, sha256, etag, fence: claim.fence, recordedSha256: null, keeper, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Records a stored chunk (or accepts a same-bytes repeat); the last missing chunk starts the assembly. */
  async record(stored: StoredGridChunk, caller: Caller): Promise<ChunkReceipt> {
    const { uploadId, index, sha256 } = stored;
    if (stored.fence === null) {
      return await this.acceptRepeat(await this.uploadService.get(uploadId, caller), index, stored.recordedSha256 as string, sha256);
    }
    stored.keeper.assertHeld();
    const result = await this.uploads.recordChunk(uploadId, { index, sha256, etag: stored.etag, size: stored.size }, stored.fence, this.config.uploadTtlMs);
    if (!result.recorded) return await this.explainUnrecorded(uploadId, index, sha256, caller);
    if (result.completedSet) await this.uploadService.requestAssembly(uploadId);
    // Not awaited: the assembly starts early, its read following the chunks (it logs its own failure).
    else if (index === 0 && verifiesEarly(this.storage, result.session)) void this.uploadService.requestAssembly(uploadId);
    return { session: result.session, chunkIndex: index };
  }

  /**
   * Records the durable beginning of a chunk stored with `beginning` set: the chunk stays missing,
   * and the bytes count toward a tus upload's offset. Refused like a chunk's record when a newer
   * claim took the chunk over or the session moved on.
   */
  async recordBeginning(stored: StoredGridChunk, caller: Caller): Promise<void> {
    const { uploadId, index } = stored;
    if (stored.fence === null) throw this.takenOver(index);
    stored.keeper.assertHeld();
    if (await this.uploads.recordChunkBeginning(uploadId, index, stored.size, stored.fence, this.config.uploadTtlMs)) return;
    assertAcceptsChunks((await this.uploadService.get(uploadId, caller)).status);
    throw this.takenOver(index);
  }

  private async writeBeginning(session: SessionShape, slot: ChunkSlot, body: AsyncIterable<Buffer>, beforeEachWrite: () => void): Promise<{ etag: null }> {
    if (!keepsChunkBeginnings(this.storage)) throw new Error('This store keeps no chunk beginnings');
    await this.storage.writeChunkBeginning(session, slot, body, beforeEachWrite);
    return { etag: null };
  }

  /**
   * The caller's session's shape, from memory when this process took chunks for it before:
   * then its status is left to the claim to check. Otherwise the session is read and checked.
   */
  private async shapeOf(uploadId: string, caller: Caller): Promise<SessionShape> {
    const known = this.shapes.get(uploadId);
    if (known) {
      assertOwnedBy(known, caller);
      return known;
    }
    const session = await this.uploadService.get(uploadId, caller);
    assertAcceptsChunks(session.status);
    this.shapes.remember(session);
    return session;
  }

  /** The index of the one grid chunk the range names; anything else is unsatisfiable. */
  private gridIndex(session: SessionShape, range: ContentRange): number {
    if (range.total !== session.fileSize) {
      // Name the chunk the client most likely meant: the one that starts where its range does.
      const meant = range.start < session.fileSize ? chunkIndexOf(session, range) : null;
      const expectedRange = meant === null ? undefined : formatByteRange(chunkRange(session, meant), session.fileSize);
      throw new UploadError(
        'RANGE_NOT_SATISFIABLE',
        `The Content-Range total is ${range.total} but this upload's file is ${session.fileSize} bytes: use "/${session.fileSize}"${expectedRange ? `, as in "${expectedRange}"` : ''}.`,
        { fileSize: session.fileSize, ...(expectedRange ? { expectedRange } : {}) },
      );
    }
    const index = chunkIndexOf(session, range);
    if (index !== null) return index;
    if (range.start >= session.fileSize || session.totalChunks === 0) {
      throw new UploadError('RANGE_NOT_SATISFIABLE', `The range starts past the end of the ${session.fileSize}-byte file: chunks run from 0 to ${session.totalChunks - 1}.`, { fileSize: session.fileSize });
    }
    const nearest = Math.floor(range.start / session.chunkSize);
    const expected = formatByteRange(chunkRange(session, nearest), session.fileSize);
    throw new UploadError('RANGE_NOT_SATISFIABLE', `The range is not one chunk of this upload's ${session.chunkSize}-byte grid: chunk ${nearest} is "${expected}".`, {
      expectedRange: expected,
    });
  }

  private idleError(index: number): UploadError {
    const seconds = Math.round(this.config.bodyIdleTimeoutMs / 100) / 10;
    return new UploadError('REQUEST_TIMEOUT', `No bytes of chunk ${index} arrived for ${seconds} s, so the request was closed and nothing was recorded: re-send the chunk.`, { chunkIndex: index });
  }

  private verifiedDigest(actual: string, expected: string | null): string {
    if (expected !== null && actual !== expected) {
      throw new UploadError('CHECKSUM_MISMATCH', 'The body does not match its Content-Digest: the chunk was not recorded; re-send it.', { expected, actual });
    }
    return actual;
  }

  /**
   * The upload's storage vanished: the session was aborted or expired meanwhile (say which), or
   * its bytes were lost under a live session, which can only end it as failed.
   */
  private async explainWriteFailure(error: unknown, uploadId: string, caller: Caller): Promise<never> {
    if (!(error instanceof StoredDataMissingError)) throw error;
    const session = await this.uploadService.get(uploadId, caller);
    assertAcceptsChunks(session.status);
    await this.uploads.transition(uploadId, ['uploading'], 'failed', {
      error: { code: 'STORAGE_LOST', message: 'The stored bytes of this upload are gone; start a new upload.' },
    });
    throw new UploadError('UPLOAD_NOT_ACCEPTING', 'The stored bytes of this upload were lost, so it failed: start a new upload.', { status: 'failed' });
  }

  /** A retry of a recorded chunk: the same bytes are a no-op, other bytes a conflict. */
  private async acceptRepeat(session: UploadSession, index: number, recordedSha256: string, sha256: string): Promise<ChunkReceipt> {
    if (recordedSha256 !== sha256) {
      throw new UploadError('CHUNK_CONFLICT', `Chunk ${index} was already received with different bytes; the stored bytes were kept. Abort and start over to change the file.`, { chunkIndex: index });
    }
    // A previous attempt may have recorded the last chunk but failed to enqueue: finish its work.
    const current = session.receivedChunks === session.totalChunks ? await this.uploadService.startAssembly(session) : session;
    return { session: current, chunkIndex: index };
  }

  /**
   * The record was refused: another request recorded the chunk first, the session moved on,
   * or a newer request claimed the chunk while this one was writing (its lease had lapsed).
   */
  private async explainUnrecorded(uploadId: string, index: number, sha256: string, caller: Caller): Promise<ChunkReceipt> {
    const session = await this.uploadService.get(uploadId, caller);
    const recorded = await this.uploads.findChunk(uploadId, index);
    if (recorded && session.status === 'uploading') {
      if (recorded.sha256 === sha256) return this.acceptRepeat(session, index, recorded.sha256, sha256);
      // This request's bytes reached the store over the recorded ones: the record no longer
      // describes the stored bytes, so the chunk must be sent again.
      const forgotten = await this.uploads.forgetChunk(uploadId, index, recorded.sha256);
      throw new UploadError(
        'CHUNK_CONFLICT',
        `Chunk ${index} was recorded by another request with different bytes while this one was writing over it${forgotten ? ', so it is missing again' : ''}: re-send the chunk's intended bytes.`,
        { chunkIndex: index },
      );
    }
    assertAcceptsChunks(session.status);
    throw this.takenOver(index);
  }

  private takenOver(index: number): UploadError {
    return new UploadError('CHUNK_IN_PROGRESS', `Chunk ${index} was taken over by a newer request while this one was writing; nothing was recorded from this one. Retry it after the Retry-After delay.`, { chunkIndex: index }, 1);
  }
}
