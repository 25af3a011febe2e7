import { Inject, Injectable, Logger } from '@nestjs/common';
import { CHUNK_STORAGE, ChunkStorage, StoredFile } from '../ports/chunk-storage';
import { UPLOAD_REPOSITORY, UploadRepository } from '../ports/upload.repository';
import { UploadStatus } from '../rules/upload-status';

const BATCH = 500;
/**
 * Initiate creates the part file just before it inserts the session, so a young file without a
 * session may be one being born: only files untouched for this long are judged.
 */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;
/** Sessions that keep no bytes: their files are leftovers. */
const ENDED: UploadStatus[] = ['aborted', 'expired', 'failed'];

/**
 * Deletes stored bytes nothing will ever read: files left by a crash between a state change
 * and its file delete (expiry, abort, a failed checksum), or part files left between creating
 * them and inserting their session. A published file with no session is never deleted (it may
 * belong to a restored or shared database), nor is a file whose name is not an upload id.
 * Also drops the chunk claims of sessions that take no more chunks.
 */
@Injectable()
export class OrphanSweeper {
  private readonly logger = new Logger(OrphanSweeper.name);

  constructor(
    @Inject(UPLOAD_REPOSITORY) private readonly uploads: UploadRepository,
    @Inject(CHUNK_STORAGE) private readonly storage: ChunkStorage,
  ) {}

  /** Returns how many uploads' files it removed. */
  async sweep(now = new Date()): Promise<number> {
    // Part files with no session at all in an empty database say the database is the wrong
    // one (a mistyped DATABASE_URL), not that the files are orphans.
    const trustMissing = !(await this.uploads.isEmpty());
    const removed = new Set<string>();
    let batch: StoredFile[] = [];
    for await (const file of this.storage.listStoredBefore(new Date(now.getTime() - ORPHAN_GRACE_MS))) {
      batch.push(file);
      if (batch.length < BATCH) continue;
      await this.removeOrphans(batch, trustMissing, removed);
      batch = [];
    }
    await this.removeOrphans(batch, trustMissing, removed);
    const claims = await this.uploads.deleteClaimsOfClosedUploads();
    if (removed.size > 0 || claims > 0) this.logger.log(`Removed the leftover files of ${removed.size} upload(s) and ${claims} stale chunk claim(s)`);
    return removed.size;
  }

  private async removeOrphans(files: StoredFile[], trustMissing: boolean, removed: Set<string>): Promise<void> {
    if (files.length === 0) return;
    const statuses = await this.uploads.findStatuses(files.map((file) => file.uploadId));
    for (const { uploadId, published } of files) {
      const status = statuses.get(uploadId);
      if (status !== undefined && ENDED.includes(status)) {
        await this.storage.remove(uploadId);
        removed.add(uploadId);
      } else if (status === undefined && !published && trustMissing) {
        await this.storage.remove(uploadId, 'part');
        removed.add(uploadId);
      }
    }
  }
}
