import { Inject, Injectable, Logger } from '@nestjs/common';
import { UPLOAD_REPOSITORY, UploadRepository } from '../ports/upload.repository';
import { UPLOAD_STORAGE, UploadStorage } from '../ports/upload-storage';

const BATCH = 500;

/** Expires sessions that stayed `uploading` past their expiry and deletes their stored bytes. */
@Injectable()
export class ExpiryService {
  private readonly logger = new Logger(ExpiryService.name);

  constructor(
    @Inject(UPLOAD_REPOSITORY) private readonly uploads: UploadRepository,
    @Inject(UPLOAD_STORAGE) private readonly storage: UploadStorage,
  ) {}

  /** Returns how many sessions it expired. */
  async sweep(now = new Date()): Promise<number> {
    let expired = 0;
    for (;;) {
      // Mark first, then delete: a session marked expired takes no more chunks, so its bytes are safe to drop.
      const ids = await this.uploads.expireOverdue(now, BATCH);
      for (const id of ids) await this.storage.remove(id);
      expired += ids.length;
      if (ids.length < BATCH) break;
    }
    if (expired > 0) this.logger.log(`Expired ${expired} upload(s)`);
    return expired;
  }
}
