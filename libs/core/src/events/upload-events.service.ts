import { Inject, Injectable } from '@nestjs/common';
import { UPLOAD_EVENT_OUTBOX, UploadEvent, UploadEventOutbox } from '../ports/upload-event-outbox';
import { UPLOAD_REPOSITORY, UploadRepository } from '../ports/upload.repository';
import { Caller, assertOwnedBy } from '../services/upload.service';

/** An upload's undelivered events, for its owner: to see why they are stuck, and to send dead ones again. */
@Injectable()
export class UploadEventsService {
  constructor(
    @Inject(UPLOAD_REPOSITORY) private readonly uploads: UploadRepository,
    @Inject(UPLOAD_EVENT_OUTBOX) private readonly outbox: UploadEventOutbox,
  ) {}

  async list(uploadId: string, caller: Caller): Promise<UploadEvent[]> {
    assertOwnedBy(await this.uploads.find(uploadId), caller);
    return this.outbox.listForUpload(uploadId);
  }

  /** Sends the upload's dead events again, with a new delivery window; returns them. */
  async redeliver(uploadId: string, caller: Caller): Promise<UploadEvent[]> {
    assertOwnedBy(await this.uploads.find(uploadId), caller);
    return this.outbox.redeliverDead(uploadId);
  }
}
