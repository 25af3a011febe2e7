import { Inject, Injectable } from '@nestjs/common';
import { createHash, Hash } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@app/config';
import { UploadError, ValidationFailedError } from '../errors';
import { CHUNK_LEASE, ChunkLease, WHOLE_UPLOAD } from '../ports/chunk-lease';
import { UPLOAD_REPOSITORY, UploadRepository } from '../ports/upload.repository';
import { UPLOAD_STORAGE, UploadStorage, copiesPublishedRanges, keepsChunkBeginnings } from '../ports/upload-storage';
import { BodySlices } from '../rules/body-slices';
import { chunkRange } from '../rules/chunk-grid';
import { TUS_VERSION, TusChecksum, TusConcat, TusMetadata, formatUploadConcat, isFinalUpload, parseTusInteger, parseUploadChecksum, parseUploadConcat, parseUploadMetadata } from '../rules/tus-headers';
import { assertAcceptsChunks, assertNotGone } from '../rules/upload-status';
import { assertUploadId } from '../rules/upload-id';
import { UploadSession } from '../upload-session';
import { ChunkReceiver, StoredGridChunk } from './chunk-receiver.service';
import { LeaseKeeper } from './lease-keeper';
import { Caller, UploadService } from './upload.service';

/** The media type tus requires of every PATCH body. */
export const TUS_PATCH_CONTENT_TYPE = 'application/offset+octet-stream';
/** The file name of a tus upload whose metadata names none. */
const UNNAMED_FILE = 'upload';
/** Most partial uploads one final upload may name (tus-js-client's parallelUploads is a handful). */
const MAX_CONCATENATED = 1000;
/** Chunks of a final upload filled at once where the store copies them by itself. */
const COPIES_AT_ONCE = 4;

export interface TusCreation {
  uploadLength: string | undefined;
  uploadDeferLength: string | undefined;
  uploadMetadata: string | undefined;
  uploadConcat: string | undefined;
  /** creation-with-upload: the request carries the first PATCH's bytes. */
  withBody: boolean;
  caller: Caller;
}

export interface TusPatch {
  uploadId: unknown;
  contentType: string | undefined;
  uploadOffset: string | undefined;
  uploadChecksum: string | undefined;
  /** The declared Content-Length, or null for a chunked body. */
  contentLength: number | null;
  body: AsyncIterable<Buffer>;
  caller: Caller;
}

/** An upload as a tus client sees it: the session and its durable offset. */
export interface TusUpload {
  session: UploadSession;
  offset: number;
}

/** What HEAD tells: no offset for a final upload until its concatenation finished, as tus says. */
export interface TusHead {
  session: UploadSession;
  offset: number | null;
}

/** Throws unless the request speaks the tus version this service serves. */
export function assertTusResumable(value: string | undefined): void {
  if (value !== TUS_VERSION) {
    throw new UploadError('TUS_VERSION_UNSUPPORTED', `This server speaks tus ${TUS_VERSION} only: send the header Tus-Resumable: ${TUS_VERSION}.`, { tusVersion: TUS_VERSION });
  }
}

/**
 * The tus 1.0 door to the same uploads as the chunk API: a tus upload is a session, and a PATCH
 * is cut at the session's grid into chunks that go through the chunk path (lease, claim, durable
 * write, fenced record) one after the other. `Upload-Offset` is the durable prefix: the bytes of
 * the chunks recorded from chunk 0 on, and the kept beginning of the next one. A PATCH that ends
 * inside a chunk leaves that beginning stored and recorded where the store keeps beginnings (a
 * disk, S3); elsewhere its bytes are dropped, and the answer's offset tells the client to send them again.
 */
@Injectable()
export class TusService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(UPLOAD_REPOSITORY) private readonly uploads: UploadRepository,
    @Inject(UPLOAD_STORAGE) private readonly storage: UploadStorage,
    @Inject(CHUNK_LEASE) private readonly leases: ChunkLease,
    private readonly uploadService: UploadService,
    private readonly receiver: ChunkReceiver,
  ) {}

  /** `POST /files/`: a new session from Upload-Length and Upload-Metadata. */
  async create(request: TusCreation): Promise<UploadSession> {
    if (request.uploadDeferLength !== undefined) {
      throw new ValidationFailedError([{ field: 'Upload-Defer-Length', message: 'is not supported by this server: send Upload-Length with the file size' }]);
    }
    const concat = request.uploadConcat === undefined ? null : parseUploadConcat(request.uploadConcat);
    const { fileName, contentType, metadata } = parseUploadMetadata(request.uploadMetadata);
    if (concat?.kind === 'final') {
      if (request.withBody) throw finalTakesNoBytes();
      return this.concatenate(concat.uploadIds, { fileName, contentType, metadata }, request.caller, concat);
    }

    // A partial upload is an upload like any other, verified on its own; a final one takes its bytes.
    const fileSize = parseTusInteger('Upload-Length', request.uploadLength);
    if (fileSize > this.config.maxFileSize) {
      throw new UploadError('FILE_TOO_LARGE', `Upload-Length is ${fileSize} bytes, over this server's Tus-Max-Size of ${this.config.maxFileSize} bytes.`, { maxFileSize: this.config.maxFileSize });
    }
    const session = await this.initiate(fileSize, { fileName, contentType, metadata }, request.caller, concat);
    // An empty file is whole from the start: no PATCH will ever complete it.
    if (fileSize === 0) return (await this.finish(session)).session;
    return session;
  }

  private async initiate(fileSize: number, { fileName, contentType, metadata }: TusMetadata, caller: Caller, concat: TusConcat | null): Promise<UploadSession> {
    const initiate = { fileName: fileName ?? UNNAMED_FILE, fileSize, metadata, ...(contentType === null ? {} : { contentType }) };
    return (await this.uploadService.initiate(initiate, caller, null, concat === null ? null : formatUploadConcat(concat))).session;
  }

  /**
   * `Upload-Concat: final;…`: a new upload whose bytes are those of the caller's completed
   * uploads named, in order. They are read from their published files and go through the chunk
   * path like a PATCH, so the result is stored, recorded and verified like any upload; the
   * answer waits for that, as the last PATCH of an upload does.
   */
  private async concatenate(uploadIds: string[], described: TusMetadata, caller: Caller, concat: TusConcat): Promise<UploadSession> {
    if (uploadIds.length > MAX_CONCATENATED) {
      throw new ValidationFailedError([{ field: 'Upload-Concat', message: `names ${uploadIds.length} uploads: at most ${MAX_CONCATENATED} may be concatenated` }]);
    }
    const parts: UploadSession[] = [];
    for (const id of uploadIds) {
      const part = await this.uploadService.get(id, caller).catch((error: unknown) => {
        if (error instanceof UploadError && error.code === 'UPLOAD_NOT_FOUND') {
          throw new ValidationFailedError([{ field: 'Upload-Concat', message: `names ${id}, which is no upload of yours: name the URLs of your partial uploads` }]);
        }
        throw error;
      });
      if (part.status !== 'completed') {
        throw new ValidationFailedError([{ field: 'Upload-Concat', message: `names ${id}, which is ${part.status}, not completed: finish every partial upload first` }]);
      }
      parts.push(part);
    }
    const fileSize = parts.reduce((sum, part) => sum + part.fileSize, 0);
    if (fileSize > this.config.maxFileSize) {
      throw new UploadError('FILE_TOO_LARGE', `The uploads named add up to ${fileSize} bytes, over this server's Tus-Max-Size of ${this.config.maxFileSize} bytes.`, { maxFileSize: this.config.maxFileSize });
    }
    const session = await this.initiate(fileSize, described, caller, concat);
    if (fileSize === 0) return (await this.finish(session)).session;
    if (copiesPublishedRanges(this.storage)) return (await this.concatenateInStore(session, parts, caller)).session;
    const storage = this.storage;
    async function* bytesOfParts(): AsyncGenerator<Buffer> {
      for (const part of parts) if (part.fileSize > 0) for await (const piece of await storage.readPublished(part.id)) yield piece as Buffer;
    }
    const body = bytesOfParts();
    const done = await this.patch({ uploadId: session.id, contentType: TUS_PATCH_CONTENT_TYPE, uploadOffset: '0', uploadChecksum: undefined, contentLength: fileSize, body, caller }, true);
    return done.session;
  }

  /**
   * The final upload's chunks from its partials where the store copies by itself (S3): a chunk
   * that lies within one partial is copied inside the store, its range read once alongside to
   * hash it; a chunk across a partial's end is read and written like a PATCH's. Every chunk is
   * recorded like any, and the upload verified like any.
   */
  private async concatenateInStore(session: UploadSession, parts: UploadSession[], caller: Caller): Promise<TusUpload> {
    const placed: { id: string; start: number; end: number }[] = [];
    let at = 0;
    for (const part of parts) {
      if (part.fileSize > 0) placed.push({ id: part.id, start: at, end: at + part.fileSize - 1 });
      at += part.fileSize;
    }
    const storage = this.storage;
    async function* bytesOf(start: number, end: number): AsyncGenerator<Buffer> {
      for (const part of placed.filter((candidate) => candidate.start <= end && candidate.end >= start)) {
        const range = { start: Math.max(start, part.start) - part.start, end: Math.min(end, part.end) - part.start };
        for await (const piece of await storage.readPublished(part.id, range)) yield piece as Buffer;
      }
    }
    const queue = Array.from({ length: session.totalChunks }, (_, index) => index);
    let failure: { error: unknown } | null = null;
    const fill = async () => {
      for (let index = queue.shift(); index !== undefined && failure === null; index = queue.shift()) {
        const { start, end } = chunkRange(session, index);
        const slot = { index, offset: start, length: end - start + 1 };
        const within = placed.find((part) => part.start <= start && end <= part.end);
        const stored = within
          ? await this.receiver.copy(session, slot, { uploadId: within.id, offset: start - within.start }, caller)
          : await this.receiver.store(session, slot, bytesOf(start, end), { lengthDeclared: true, expectedDigest: null }, caller);
        try {
          await this.receiver.record(stored, caller);
        } finally {
          stored.release();
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(COPIES_AT_ONCE, queue.length) }, () =>
        fill().catch((error: unknown) => {
          failure ??= { error };
        }),
      ),
    );
    if (failure !== null) throw (failure as { error: unknown }).error;
    return this.finish(await this.uploadService.get(session.id, caller));
  }

  /** `HEAD /files/ID`: the upload and its durable offset. */
  async head(uploadId: unknown, caller: Caller): Promise<TusHead> {
    const session = await this.uploadService.get(assertUploadId(uploadId), caller);
    this.assertNotEnded(session);
    if (isFinalUpload(session) && session.status !== 'completed') return { session, offset: null };
    return { session, offset: await this.durableOffset(session) };
  }

  /**
   * `PATCH /files/ID`: appends the body at Upload-Offset, chunk by chunk. Without Upload-Checksum
   * each chunk counts as soon as it is durable, so a PATCH cut off mid-way keeps its whole
   * chunks; with it, the chunks are stored as they come but recorded only once the whole body
   * matched, so a mismatch leaves nothing of the PATCH counted. A final upload takes its bytes
   * from its partial uploads only (`concatenating`): a client's PATCH of it is refused.
   */
  async patch(request: TusPatch, concatenating = false): Promise<TusUpload> {
    const id = assertUploadId(request.uploadId);
    if (mediaType(request.contentType) !== TUS_PATCH_CONTENT_TYPE) {
      throw new UploadError('UNSUPPORTED_MEDIA_TYPE', `A PATCH body must be sent as Content-Type: ${TUS_PATCH_CONTENT_TYPE}.`);
    }
    const offset = parseTusInteger('Upload-Offset', request.uploadOffset);
    const checksum = request.uploadChecksum === undefined ? null : parseUploadChecksum(request.uploadChecksum);
    let session = await this.uploadService.get(id, request.caller);
    if (isFinalUpload(session) && !concatenating) {
      throw finalTakesNoBytes();
    }
    this.assertNotEnded(session);

    // One PATCH of an upload at a time, on any replica: the other is told to retry. The chunks'
    // own leases and fences still guard the bytes if this lease lapses under a pause.
    const lease = await this.leases.acquire(id, WHOLE_UPLOAD, this.config.chunkLeaseTtlMs);
    if (!lease) throw new UploadError('UPLOAD_IN_PROGRESS', 'Another PATCH of this upload is under way: retry after the Retry-After delay, from the offset HEAD reports.', {}, 1);
    const keeper = new LeaseKeeper(lease, this.config.chunkLeaseTtlMs, `a PATCH of ${id}`);
    try {
      session = await this.uploadService.get(id, request.caller);
      this.assertNotEnded(session);
      return await this.append(session, request, offset, checksum, keeper);
    } finally {
      void keeper.release();
    }
  }

  private async append(session: UploadSession, request: TusPatch, offset: number, checksum: TusChecksum | null, keeper: LeaseKeeper): Promise<TusUpload> {
    const id = session.id;
    const durable = await this.durableOffset(session);
    if (offset !== durable) {
      throw new UploadError('UPLOAD_OFFSET_MISMATCH', `Upload-Offset is ${offset} but the server holds ${durable} bytes of this upload: resume from offset ${durable}.`, { uploadOffset: durable });
    }
    const length = request.contentLength;
    if (length !== null && offset + length > session.fileSize) {
      throw new UploadError('CHUNK_TOO_LARGE', `The PATCH carries ${length} bytes from offset ${offset}, past the upload's Upload-Length of ${session.fileSize}: send at most ${session.fileSize - offset}.`);
    }
    if (length === 0) return { session, offset };
    assertAcceptsChunks(session.status);
    const storage = keepsChunkBeginnings(this.storage) ? this.storage : null;
    if (storage === null && length !== null && length < session.chunkSize && offset + length < session.fileSize) {
      throw new ValidationFailedError([
        {
          field: 'Content-Length',
          message: `is ${length}, less than one ${session.chunkSize}-byte chunk of this upload: send PATCHes of at least ${session.chunkSize} bytes (or the rest of the file), as tus clients do without a chunkSize option`,
        },
      ]);
    }

    const hash = checksum === null ? null : createHash(checksum.algorithm);
    // With a checksum, what was stored is recorded only once the whole body matched it.
    const pending: StoredGridChunk[] = [];
    let beginning: StoredGridChunk | null = null;
    const slices = new BodySlices(keeper.watch(observed(request.body, hash, pending)));
    let completedSet = false;
    try {
      for (let index = Math.floor(offset / session.chunkSize); index < session.totalChunks; index++) {
        const slot = { index, offset: chunkRange(session, index).start, length: Math.min(session.chunkSize, session.fileSize - index * session.chunkSize) };
        // Bytes of this chunk made durable before this PATCH (its kept beginning), then what it still needs.
        const had = offset + slices.consumed - slot.offset;
        const needed = slot.length - had;
        const remaining = length === null ? null : length - slices.consumed;
        if (!(await slices.hasMore())) break;
        // The kept beginning goes again in front of the new bytes: the chunk is hashed, and on
        // a store that writes whole chunks written, as one.
        const kept = storage !== null && had > 0 ? storage.readChunkBeginning(session, { index, offset: slot.offset, length: had }) : null;
        if (remaining !== null && remaining < needed) {
          // The PATCH ends inside this chunk: keep its beginning where the store can, else drop it below.
          if (storage === null) break;
          const part = { index, offset: slot.offset, length: had + remaining };
          beginning = await this.receiver.store(session, part, concat(kept, slices.next(remaining)), { lengthDeclared: true, expectedDigest: null, beginning: true }, request.caller);
          pending.push(beginning);
          break;
        }
        let stored: StoredGridChunk;
        try {
          stored = await this.receiver.store(session, slot, concat(kept, slices.next(needed)), { lengthDeclared: true, expectedDigest: null }, request.caller);
        } catch (error) {
          // A body without Content-Length that ended inside this chunk: the chunk stays missing.
          if (error instanceof UploadError && error.code === 'LENGTH_MISMATCH' && slices.ended) break;
          throw error;
        }
        if (hash !== null) {
          pending.push(stored);
          continue;
        }
        try {
          completedSet = (await this.receiver.record(stored, request.caller)).session.status === 'assembling';
        } finally {
          stored.release();
        }
        // The rest of the body is for chunks recorded before (a resume after verification
        // sent earlier chunks back): the upload is whole and takes no more writes.
        if (completedSet) break;
      }
      const dropped = await slices.drain();
      if (dropped > 0 && length === null && slices.consumed + dropped + offset > session.fileSize) {
        throw new UploadError('CHUNK_TOO_LARGE', `The PATCH body ran past the upload's Upload-Length of ${session.fileSize} bytes: send at most ${session.fileSize - offset} bytes from offset ${offset}.`);
      }
      if (hash !== null && checksum !== null) assertChecksum(hash, checksum);
      for (const stored of pending.filter((item) => item !== beginning)) {
        completedSet = (await this.receiver.record(stored, request.caller)).session.status === 'assembling' || completedSet;
      }
      if (beginning !== null && !completedSet) await this.receiver.recordBeginning(beginning, request.caller);
    } finally {
      for (const stored of pending) stored.release();
    }

    const after = await this.uploadService.get(id, request.caller);
    if (completedSet || after.status !== 'uploading') return this.finish(after);
    return { session: after, offset: await this.durableOffset(after) };
  }

  /** `DELETE /files/ID`: termination is abort. */
  async terminate(uploadId: unknown, caller: Caller): Promise<void> {
    await this.uploadService.abort(assertUploadId(uploadId), caller);
  }

  /**
   * The durable contiguous prefix: every byte of the chunks recorded from chunk 0 up to the
   * first missing one, and the kept beginning of that one; the whole file once all chunks are recorded.
   */
  async durableOffset(session: UploadSession): Promise<number> {
    if (session.status !== 'uploading' || session.receivedChunks === session.totalChunks) return session.fileSize;
    const [firstMissing] = await this.uploads.listMissingChunks(session.id, session.totalChunks, 1);
    if (firstMissing === undefined) return session.fileSize;
    const kept = keepsChunkBeginnings(this.storage) ? await this.uploads.findChunkBeginning(session.id, firstMissing) : 0;
    return firstMissing * session.chunkSize + kept;
  }

  /**
   * The answer to the request that made the upload whole: it waits for the verification (up to
   * COMPLETE_WAIT), so a file that fails it is answered as an error, not as a success.
   */
  private async finish(session: UploadSession): Promise<TusUpload> {
    if (session.status === 'assembling' || (session.status === 'uploading' && session.receivedChunks === session.totalChunks)) {
      await this.uploadService.complete(session.id, { keyHash: session.ownerKeyHash }, undefined).catch((error: unknown) => {
        // The state it left is read below and explained from there.
        if (!(error instanceof UploadError)) throw error;
      });
    }
    const current = await this.uploadService.get(session.id, { keyHash: session.ownerKeyHash });
    this.assertNotEnded(current);
    if (current.status === 'uploading') {
      const offset = await this.durableOffset(current);
      throw new UploadError(
        'UPLOAD_OFFSET_MISMATCH',
        `Verification found stored chunks that did not match what was received (${current.error?.message ?? 'they were sent back to missing'}): resume from offset ${offset}.`,
        { uploadOffset: offset },
      );
    }
    return { session: current, offset: current.fileSize };
  }

  /** Gone and failed uploads take nothing more and have no offset to resume from. */
  private assertNotEnded(session: UploadSession): void {
    assertNotGone(session.status);
    if (session.status === 'failed') {
      throw new UploadError('UPLOAD_FAILED', `This upload failed (${session.error?.message ?? 'unknown reason'}): start a new upload.`, { status: session.status, error: session.error });
    }
  }
}

function mediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0].trim().toLowerCase();
}

function finalTakesNoBytes(): UploadError {
  return new UploadError('UPLOAD_IS_FINAL', 'This is a final upload (Upload-Concat: final): its bytes are those of its partial uploads and it takes no PATCH; patch the partial uploads instead.');
}

/**
 * Passes the body through, feeding the Upload-Checksum hash and keeping the leases of the
 * chunks stored but not yet recorded: they wait for the end of the body.
 */
async function* observed(body: AsyncIterable<Buffer>, hash: Hash | null, pending: StoredGridChunk[]): AsyncGenerator<Buffer> {
  for await (const piece of body) {
    hash?.update(piece);
    for (const stored of pending) stored.keeper.touch();
    yield piece;
  }
}

/** The kept beginning of a chunk (when there is one), then the new bytes. */
async function* concat(first: AsyncIterable<Buffer> | null, second: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  if (first !== null) yield* first;
  yield* second;
}

function assertChecksum(hash: Hash, checksum: TusChecksum): void {
  if (!hash.digest().equals(checksum.digest)) {
    throw new UploadError('UPLOAD_CHECKSUM_MISMATCH', `The PATCH body does not match its Upload-Checksum (${checksum.algorithm}); nothing of it was recorded: send it again from the same offset.`);
  }
}
