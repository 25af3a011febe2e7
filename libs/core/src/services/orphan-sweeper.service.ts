import { Inject, Injectable, Logger } from '@nestjs/common';
import { UPLOAD_REPOSITORY, UploadRepository } from '../ports/upload.repository';
import { StoredLeftover, UPLOAD_STORAGE, UploadStorage } from '../ports/upload-storage';
import { UploadStatus } from '../rules/upload-status';

const BATCH = 500;
/**
 * Initiate creates an upload's storage just before it inserts the session, so young bytes
 * without a session may be an upload being born: only leftovers untouched for this long are judged.
 */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;
/** Sessions that keep no bytes: what is stored for them is left over. */
const ENDED: UploadStatus[] = ['aborted', 'expired', 'failed'];

/**
 * Deletes stored bytes nothing will ever read: bytes left by a crash between a state change
 * and their removal (expiry, abort, a failed checksum), or an upload's storage left between
 * creating it and inserting its session. A published file with no session is never deleted (it
 * may belong to a restored or shared database), nor is anything the store does not list as an
 * upload of this service. Also drops the chunk claims of sessions that take no more chunks.
 */
@Injectable()
export class OrphanSweeper {
  private readonly logger = new Logger(OrphanSweeper.name);

  constructor(
    @Inject(UPLOAD_REPOSITORY) private readonly uploads: UploadRepository,
    @Inject(UPLOAD_STORAGE) private readonly storage: UploadStorage,
  ) {}

  /** Returns how many uploads' leftovers it removed. */
  async sweep(now = new Date()): Promise<number> {
    // Stored uploads with no session at all in an empty database say the database is the wrong
    // one (a mistyped DATABASE_URL), not that the uploads are orphans.
    const trustMissing = !(await this.uploads.isEmpty());
    const removed = new Set<string>();
    let batch: StoredLeftover[] = [];
    for await (const leftover of this.storage.listLeftovers(new Date(now.getTime() - ORPHAN_GRACE_MS))) {
      batch.push(leftover);
      if (batch.length < BATCH) continue;
      await this.removeOrphans(batch, trustMissing, removed);
      batch = [];
    }
    await this.removeOrphans(batch, trustMissing, removed);
    const claims = await this.uploads.deleteClaimsOfClosedUploads();
    if (removed.size > 0 || claims > 0) this.logger.log(`Removed the leftover bytes of ${removed.size} upload(s) and ${claims} stale chunk claim(s)`);
    return removed.size;
  }

  private async removeOrphans(leftovers: StoredLeftover[], trustMissing: boolean, removed: Set<string>): Promise<void> {
    if (leftovers.length === 0) return;
    const statuses = await this.uploads.findStatuses(leftovers.map((leftover) => leftover.uploadId));
    for (const { uploadId, published } of leftovers) {
      const status = statuses.get(uploadId);
      if (status !== undefined && ENDED.includes(status)) {
        await this.storage.remove(uploadId);
        removed.add(uploadId);
      } else if (status === undefined && !published && trustMissing) {
        await this.storage.remove(uploadId, 'unpublished');
        removed.add(uploadId);
      }
    }
  }
}
