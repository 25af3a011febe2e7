import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { CHUNK_STORAGE, ChunkStorage } from '../ports/chunk-storage';
import { UPLOAD_REPOSITORY, UploadRepository } from '../ports/upload.repository';
import { UploadSession } from '../upload-session';
import { hashStoredFile } from '../verification/stored-file-hash';

export type AssemblyOutcome =
  | { kind: 'completed'; sha256: string; fileSize: number }
  | { kind: 'chunks-returned'; chunks: number[] }
  | { kind: 'checksum-mismatch'; sha256: string }
  | { kind: 'skipped'; reason: string }
  /** The data is gone or damaged beyond what re-sending chunks can fix; retrying cannot help. */
  | { kind: 'failed'; reason: string };

/**
 * Verifies and publishes a fully received upload. One read pass recomputes every chunk's
 * SHA-256 and the whole file's; the data is never copied. Safe to re-run at any point:
 * a run after a crash finds the part file (or, past the rename, the published file) and finishes.
 */
@Injectable()
export class AssemblyService {
  private readonly logger = new Logger(AssemblyService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(UPLOAD_REPOSITORY) private readonly uploads: UploadRepository,
    @Inject(CHUNK_STORAGE) private readonly storage: ChunkStorage,
  ) {}

  /**
   * Verifies and publishes one upload. `signal` aborts when this worker lost the job to another
   * one: the run then stops before its next change of state, so two runs never both act.
   */
  async assemble(uploadId: string, signal?: AbortSignal): Promise<AssemblyOutcome> {
    const session = await this.uploads.find(uploadId);
    if (!session) return { kind: 'skipped', reason: 'no such session' };
    if (session.status !== 'assembling') return { kind: 'skipped', reason: `session is ${session.status}` };

    // Records first: once the file is open, nothing may fail before the stream is consumed.
    const recorded = new Map((await this.uploads.listChunks(uploadId)).map((chunk) => [chunk.index, chunk.sha256]));
    const source = await this.storage.openForVerification(uploadId);
    if (!source) return this.fail(session, 'STORAGE_LOST', 'The stored bytes of this upload are gone; start a new upload.');

    const stored = await hashStoredFile(source.reader, session).finally(() => source.reader.close());
    signal?.throwIfAborted();
    const { sha256 } = stored;
    const corrupt = Array.from({ length: session.totalChunks }, (_, index) => index).filter((index) => stored.chunkDigests[index] !== recorded.get(index));

    if (corrupt.length > 0) {
      if (source.published) return this.fail(session, 'STORAGE_CORRUPT', 'The published file no longer matches its chunks; start a new upload.');
      const message = `${corrupt.length} chunk(s) did not match what was received and must be uploaded again: ${corrupt.slice(0, 20).join(', ')}${corrupt.length > 20 ? ', …' : ''}.`;
      await this.uploads.returnChunksToMissing(uploadId, corrupt, { code: 'CHUNKS_CORRUPT', message, chunks: corrupt }, this.config.uploadTtlMs);
      this.logger.warn(`Upload ${uploadId}: chunks ${corrupt.join(', ')} failed verification and went back to missing`);
      return { kind: 'chunks-returned', chunks: corrupt };
    }

    if (session.sha256 !== null && session.sha256 !== sha256) {
      await this.uploads.transition(uploadId, ['assembling'], 'failed', {
        error: { code: 'CHECKSUM_MISMATCH', message: `The assembled file's SHA-256 is ${sha256}, not the declared ${session.sha256}.` },
      });
      await this.storage.remove(uploadId);
      return { kind: 'checksum-mismatch', sha256 };
    }

    if (!source.published) await this.storage.publish(uploadId);
    signal?.throwIfAborted();
    const completed = await this.uploads.transition(uploadId, ['assembling'], 'completed', { sha256, completedAt: new Date(), error: null });
    if (!completed) {
      // Aborted while we worked: the abort may have run before our rename, so clean up after it.
      const current = await this.uploads.find(uploadId);
      if (current?.status === 'aborted') await this.storage.remove(uploadId);
      return { kind: 'skipped', reason: `session became ${current?.status ?? 'missing'} during assembly` };
    }
    return { kind: 'completed', sha256, fileSize: session.fileSize };
  }

  private async fail(session: UploadSession, code: string, message: string): Promise<AssemblyOutcome> {
    await this.uploads.transition(session.id, ['assembling'], 'failed', { error: { code, message } });
    return { kind: 'failed', reason: message };
  }
}
