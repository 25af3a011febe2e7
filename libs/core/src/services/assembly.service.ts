import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { APP_CONFIG, AppConfig } from '@app/config';
import { UPLOAD_REPOSITORY, UploadRepository } from '../ports/upload.repository';
import { EarlyRead, ReadsWhileReceiving, StoredUpload, UPLOAD_STORAGE, UploadLayout, UploadStorage, readsWhileReceiving } from '../ports/upload-storage';
import { chunkRange } from '../rules/chunk-grid';
import { RecordedChunk, UploadSession } from '../upload-session';

/** Below this the read after the last chunk is short anyway, and an early read is not worth its job. */
export const EARLY_VERIFICATION_FROM_BYTES = 128 * 1024 * 1024;
/** How often an early verification looks for newly recorded chunks. */
const EARLY_POLL_MS = 20;
/** An early verification that sees no new chunk for this long gives up; the assembly then reads everything. */
const EARLY_IDLE_MS = 60_000;

/**
 * Whether an assembly job should start while the upload's chunks still arrive, so that its read
 * follows them (see `AssemblyService`): only where the store can read them then, and for files
 * large enough to gain from it.
 */
export function verifiesEarly(storage: UploadStorage, upload: UploadLayout): boolean {
  return readsWhileReceiving(storage) && upload.fileSize >= EARLY_VERIFICATION_FROM_BYTES && upload.fileSize > upload.chunkSize;
}

export type AssemblyOutcome =
  /** `earlyBytes`: how many bytes were read before the last chunk arrived. */
  | { kind: 'completed'; sha256: string; fileSize: number; earlyBytes: number }
  | { kind: 'chunks-returned'; chunks: number[] }
  | { kind: 'checksum-mismatch'; sha256: string }
  | { kind: 'skipped'; reason: string }
  /** The data is gone or damaged beyond what re-sending chunks can fix; retrying cannot help. */
  | { kind: 'failed'; reason: string };

/**
 * Verifies and publishes a fully received upload. One read of the stored bytes recomputes every
 * chunk's SHA-256 and the whole file's; the data is never copied. Safe to re-run at any point:
 * a run after a crash finds the stored bytes (or, past publishing, the published file) and finishes.
 *
 * Started while the upload is still `uploading` (on a store that can read it then), the read
 * follows the contiguous prefix of recorded chunks, so that after the last chunk only the rest
 * is left. Chunks read early that a superseded writer may have written since are read again
 * before anything is decided (see docs/architecture.md).
 */
@Injectable()
export class AssemblyService {
  private readonly logger = new Logger(AssemblyService.name);
  /** Early reads running in this process; each holds a job's slot and a read's memory while its upload arrives. */
  private earlyReads = 0;
  /** Files from this size on are verified early where the store can; tests lower it. */
  earlyFromBytes = EARLY_VERIFICATION_FROM_BYTES;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(UPLOAD_REPOSITORY) private readonly uploads: UploadRepository,
    @Inject(UPLOAD_STORAGE) private readonly storage: UploadStorage,
  ) {}

  /**
   * Verifies and publishes one upload. `signal` aborts when this worker lost the job to another
   * one: the run then stops before its next change of state, so two runs never both act.
   */
  async assemble(uploadId: string, signal?: AbortSignal): Promise<AssemblyOutcome> {
    const session = await this.uploads.find(uploadId);
    if (!session) return { kind: 'skipped', reason: 'no such session' };
    if (session.status === 'uploading' && readsWhileReceiving(this.storage) && session.fileSize >= this.earlyFromBytes) {
      return this.verifyWhileReceiving(this.storage, session, signal);
    }
    if (session.status !== 'assembling') return { kind: 'skipped', reason: `session is ${session.status}` };

    const chunks = await this.uploads.listChunks(uploadId);
    return this.decide(session, chunks, await this.storage.readForVerification(session, chunks), 0, signal);
  }

  /**
   * The early assembly: reads the recorded prefix as it grows, then, once the last chunk is in,
   * the rest. At most `workerConcurrency - 1` (up to 2) run at once in a process, so that one
   * job slot stays for uploads already complete; a job past that limit, or whose upload stops
   * arriving, ends and the assembly enqueued with the last chunk reads everything.
   */
  private async verifyWhileReceiving(storage: UploadStorage & ReadsWhileReceiving, session: UploadSession, signal?: AbortSignal): Promise<AssemblyOutcome> {
    if (this.earlyReads >= Math.min(2, this.config.workerConcurrency - 1)) return { kind: 'skipped', reason: 'no room for another early verification' };
    this.earlyReads += 1;
    let early: { read: EarlyRead; earlyBytes: number } | null = null;
    try {
      const read = await storage.startEarlyRead(session);
      if (!read) return { kind: 'skipped', reason: 'nothing stored to read early' };
      try {
        const earlyBytes = await this.followArrivals(session, read, signal);
        if (earlyBytes !== null) {
          read.allow(session.fileSize);
          await read.digests;
          early = { read, earlyBytes };
        }
      } finally {
        read.cancel();
      }
    } finally {
      this.earlyReads -= 1;
    }
    if (!early) return { kind: 'skipped', reason: 'the upload stopped arriving before its last chunk' };

    const assembling = await this.uploads.find(session.id);
    if (assembling?.status !== 'assembling') return { kind: 'skipped', reason: `session is ${assembling?.status ?? 'missing'}` };
    const chunks = await this.uploads.listChunks(session.id);
    const digests = await early.read.digests;
    // A chunk read before the last one arrived whose record is contested may have been written since by a
    // superseded writer: read it again. The same digest means the same bytes, so the whole file's hash holds.
    const readEarly = (index: number) => chunkRange(session, index).start < early.earlyBytes;
    const again = (await this.uploads.listContestedChunks(session.id)).filter(readEarly);
    const now = again.length > 0 ? await storage.readChunkDigests(session, again) : [];
    signal?.throwIfAborted();
    if (again.some((index, at) => now[at] !== digests.chunkDigests[index])) {
      this.logger.warn(`Upload ${session.id}: chunks changed after they were read early; reading the whole file again`);
      return this.decide(assembling, chunks, await this.storage.readForVerification(assembling, chunks), 0, signal);
    }
    return this.decide(assembling, chunks, { kind: 'read', digests, published: false }, early.earlyBytes, signal);
  }

  /**
   * Lets `read` through every chunk recorded so far, contiguously from the start, until the upload
   * is `assembling`: resolves how far the read had got by then, or null when the upload stopped
   * taking chunks or none came for a long while.
   */
  private async followArrivals(session: UploadSession, read: EarlyRead, signal?: AbortSignal): Promise<number | null> {
    let received = -1;
    let progressAt = Date.now();
    for (;;) {
      signal?.throwIfAborted();
      const current = await this.uploads.find(session.id);
      if (current?.status === 'assembling') return read.readEnd;
      if (current?.status !== 'uploading') return null;
      if (current.receivedChunks !== received) {
        received = current.receivedChunks;
        progressAt = Date.now();
        const [firstMissing] = await this.uploads.listMissingChunks(session.id, session.totalChunks, 1);
        read.allow(firstMissing === undefined ? session.fileSize : firstMissing * session.chunkSize);
      } else if (Date.now() - progressAt > EARLY_IDLE_MS) {
        return null;
      }
      await sleep(EARLY_POLL_MS, undefined, { signal });
    }
  }

  /** Compares what was read with the records and the declared SHA-256, then publishes or sends chunks back. */
  private async decide(session: UploadSession, chunks: RecordedChunk[], stored: StoredUpload, earlyBytes: number, signal?: AbortSignal): Promise<AssemblyOutcome> {
    const uploadId = session.id;
    signal?.throwIfAborted();
    if (stored.kind === 'gone') return this.fail(session, 'STORAGE_LOST', 'The stored bytes of this upload are gone; start a new upload.');
    if (stored.kind === 'chunks-lost') {
      const message = `${stored.chunks.length} chunk(s) were no longer stored as received and must be uploaded again: ${firstIndexes(stored.chunks)}.`;
      return this.returnChunks(session, stored.chunks, { code: 'CHUNKS_LOST', message }, 'were no longer stored as received');
    }

    const { sha256, chunkDigests } = stored.digests;
    const recorded = new Map(chunks.map((chunk) => [chunk.index, chunk.sha256]));
    const corrupt = Array.from({ length: session.totalChunks }, (_, index) => index).filter((index) => chunkDigests[index] !== recorded.get(index));

    if (corrupt.length > 0) {
      if (stored.published) return this.fail(session, 'STORAGE_CORRUPT', 'The published file no longer matches its chunks; start a new upload.');
      // The store must take these chunks again before the client is told to re-send them.
      await this.storage.reopenChunks(session, corrupt);
      signal?.throwIfAborted();
      const message = `${corrupt.length} chunk(s) did not match what was received and must be uploaded again: ${firstIndexes(corrupt)}.`;
      return this.returnChunks(session, corrupt, { code: 'CHUNKS_CORRUPT', message }, 'failed verification');
    }

    if (session.sha256 !== null && session.sha256 !== sha256) {
      await this.uploads.transition(uploadId, ['assembling'], 'failed', {
        error: { code: 'CHECKSUM_MISMATCH', message: `The assembled file's SHA-256 is ${sha256}, not the declared ${session.sha256}.` },
      });
      await this.storage.remove(uploadId);
      return { kind: 'checksum-mismatch', sha256 };
    }

    if (!stored.published) await this.storage.publish(session);
    signal?.throwIfAborted();
    const completed = await this.uploads.transition(uploadId, ['assembling'], 'completed', { sha256, completedAt: new Date(), error: null });
    if (!completed) {
      // Aborted while we worked: the abort may have removed the bytes before we published them, so clean up after it.
      const current = await this.uploads.find(uploadId);
      if (current?.status === 'aborted') await this.storage.remove(uploadId);
      return { kind: 'skipped', reason: `session became ${current?.status ?? 'missing'} during assembly` };
    }
    return { kind: 'completed', sha256, fileSize: session.fileSize, earlyBytes };
  }

  /** Sends chunks back to missing and the session back to `uploading`, for the client to re-send them. */
  private async returnChunks(session: UploadSession, chunks: number[], problem: { code: string; message: string }, why: string): Promise<AssemblyOutcome> {
    await this.uploads.returnChunksToMissing(session.id, chunks, { ...problem, chunks }, this.config.uploadTtlMs);
    this.logger.warn(`Upload ${session.id}: chunks ${chunks.join(', ')} ${why} and went back to missing`);
    return { kind: 'chunks-returned', chunks };
  }

  private async fail(session: UploadSession, code: string, message: string): Promise<AssemblyOutcome> {
    await this.uploads.transition(session.id, ['assembling'], 'failed', { error: { code, message } });
    return { kind: 'failed', reason: message };
  }
}

/** The first few chunk indexes of a message. */
function firstIndexes(chunks: number[]): string {
  return `${chunks.slice(0, 20).join(', ')}${chunks.length > 20 ? ', …' : ''}`;
}
