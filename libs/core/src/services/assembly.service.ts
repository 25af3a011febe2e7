import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { UPLOAD_REPOSITORY, UploadRepository } from '../ports/upload.repository';
import { UPLOAD_STORAGE, UploadStorage } from '../ports/upload-storage';
import { UploadSession } from '../upload-session';

export type AssemblyOutcome =
  | { kind: 'completed'; sha256: string; fileSize: number }
  | { kind: 'chunks-returned'; chunks: number[] }
  | { kind: 'checksum-mismatch'; sha256: string }
  | { kind: 'skipped'; reason: string }
  /** The data is gone or damaged beyond what re-sending chunks can fix; retrying cannot help. */
  | { kind: 'failed'; reason: string };

/**
 * Verifies and publishes a fully received upload. One read of the stored bytes recomputes every
 * chunk's SHA-256 and the whole file's; the data is never copied. Safe to re-run at any point:
 * a run after a crash finds the stored bytes (or, past publishing, the published file) and finishes.
 */
@Injectable()
export class AssemblyService {
  private readonly logger = new Logger(AssemblyService.name);

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
    if (session.status !== 'assembling') return { kind: 'skipped', reason: `session is ${session.status}` };

    const chunks = await this.uploads.listChunks(uploadId);
    const stored = await this.storage.readForVerification(session, chunks);
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
    return { kind: 'completed', sha256, fileSize: session.fileSize };
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
